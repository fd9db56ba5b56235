"""The report writes numbers the one way vcp writes them for people (vcp_toolkit.bench.output.human,
as the CLI's tables do): the same value reads the same in `vcp bench`, the HTML report and the
README's Markdown tables."""

from __future__ import annotations

import json
from pathlib import Path

from vcp_toolkit.bench.output import human
from vcp_toolkit.bench.report import headline_markdown, html_table

FIXTURE = Path(__file__).parent / "fixtures" / "bench_full.json"
VALUES = [1.2e-05, 0.000123456, 0.5, 57.65234375, 999.6, 36_570.4, 1_383_003, None, 0.0]


def test_markdown_targets_use_human():
    result = json.loads(FIXTURE.read_text())
    targets = result["targets"][:1]
    result["targets"] = [{**targets[0], "name": f"t{i}", "value": v, "limit": v} for i, v in enumerate(VALUES)]
    lines = {line.split(" | ")[0].removeprefix("| "): line for line in headline_markdown(result).splitlines()}
    for i, value in enumerate(VALUES):
        cells = lines[f"t{i}"].split(" | ")
        assert cells[1] == human(value) and cells[2].endswith(" " + human(value)), (value, cells)
    assert "1.200e-05" in lines["t0"] and "36,570" in lines["t5"]  # tiny: exponent; large: separators


def test_html_cells_use_human():
    text = html_table(["value"], [[v] for v in VALUES])
    for value in VALUES:
        assert f">{human(value)}</td>" in text, value
