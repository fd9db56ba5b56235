"""Writing benchmark results: JSON (everything) and CSV (one flat line per row), and the one way
numbers are written for people (CLI tables, the report's tables)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from vcp_toolkit.attest.files import write_atomic

BENCH_JSON, BENCH_CSV = "bench.json", "bench.csv"


def human(value: Any) -> str:
    """A number as people read it: integers and values of 1,000 or more with thousands separators
    and no exponent (``36,570``), smaller values with 4 significant digits (``1.234``, ``0.01235``),
    scientific notation only below 0.0001; None is ``n/a``, anything else its ``str``."""
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if value == 0:
        return "0"
    if abs(value) >= 999.5:  # what would round to 1000 gets its separator too
        return f"{value:,.0f}"
    return f"{value:.4g}" if abs(value) >= 1e-4 else f"{value:.3e}"


def flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def to_csv(rows: list[dict[str, Any]]) -> str:
    flat = [flatten(r) for r in rows]
    columns: list[str] = []
    for row in flat:
        columns += [c for c in row if c not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(flat)
    return buffer.getvalue()


def write_results(result: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    out_dir = Path(out_dir)
    json_path, csv_path = out_dir / BENCH_JSON, out_dir / BENCH_CSV
    write_atomic(json_path, (json.dumps(result, indent=1, default=str) + "\n").encode())
    rows = result["rows"] + [{"mode": "dispute_by_width", **d} for d in result.get("disputes", [])]
    write_atomic(csv_path, to_csv(rows).encode())
    return json_path, csv_path
