"""Find the figures of the Markdown docs and hold them against measured values.

The conventions the docs follow (tests/examples/test_doc_figures.py enforces them):

- A deterministic figure (gas, sizes, counts, parameters, accuracy, versions) is listed in that
  test's table with a regex that finds it and the name of what the code measures. It must be
  found exactly once, and it fails with the file, the line, the figure as written and the value
  measured. A figure written with "~" (or with decimals) stands for its rounding: "~71k" is any
  value from 70,500 to 71,499; "57.69" is 57.685 to 57.695.
- A figure of one run that another run need not repeat (a timing, a rate, a count a fuzzer drew,
  EZKL's proving figures) sits in a paragraph or table that names its run: "run of YYYY-MM-DD",
  then the command in backticks, e.g. "run of 2026-11-23: `vcp bench`". A figure measured by
  others says so instead ("measured outside vcp", with its source on docs/anchors.md). A table may
  carry its label in the paragraph just above it. Code blocks are not checked.
- A file path (`docs/x.md`, `tests/...py`, a [link](path)) exists, and an import name
  (`vcp_toolkit.a.b`) imports: the old spellings (`vcp/...`, `vcp.a.b`) are reported.
"""

from __future__ import annotations

import datetime
import importlib
import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NUMBER = r"(~?\d[\d,]*(?:\.\d+)?k?%?)"  # one figure as the docs write it: 2,083,651  57.69  ~71k  97.21%
RUN_LABEL = re.compile(r"run of (\d{4}-\d{2}-\d{2})\W{1,3}`[^`]+`")
EXTERNAL_LABEL = "measured outside vcp"
TIMING = re.compile(r"\d[\d,.]*\s?(?:ms|µs|s|min|minutes|seconds)\b|per second|/s\b")
TIMED_HEADER = re.compile(r"\btime\b|\bprove s\b|per second|\bms\b|µs")


@dataclass(frozen=True)
class Figure:
    """One figure in one file: ``pattern`` has one group, the figure; ``key`` names the measurement."""

    file: str
    pattern: str
    key: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}"


@dataclass(frozen=True)
class Measured:
    """A measured value, and how far a run may move it (random calldata bytes, CPU-dependent floats)."""

    value: float | str
    spread: float = 0.0


@dataclass(frozen=True)
class Written:
    """A figure as the doc writes it: its value, and half the unit of its last written digit."""

    text: str
    line: int
    value: float | str
    half_unit: float


def locate(figure: Figure) -> Written:
    """The one place ``figure.pattern`` matches in its file (AssertionError if none or several)."""
    text = (REPO / figure.file).read_text()
    matches = list(re.finditer(figure.pattern, text, flags=re.M))
    assert len(matches) == 1, (f"{figure.file}: the pattern for {figure.key} matches {len(matches)} times "
                               f"(the text moved? update FIGURES in tests/examples/test_doc_figures.py): "
                               f"{figure.pattern}")
    match = matches[0]
    line = text.count("\n", 0, match.start(1)) + 1
    return parse(match.group(1), line)


def parse(written: str, line: int = 0) -> Written:
    """``2,083,651`` -> 2083651 (exact); ``~9,600`` -> 9600 +- 50; ``57.69`` -> +- 0.005; ``97.21%`` -> 0.9721."""
    if not re.fullmatch(NUMBER, written):
        return Written(written, line, written, 0.0)  # a version or a name: compared as text
    body = written.lstrip("~").replace(",", "")
    scale = 1000.0 if body.endswith("k") else 0.01 if body.endswith("%") else 1.0
    digits = body.rstrip("k%")
    if "." in digits:
        unit = 10.0 ** -len(digits.split(".")[1])
    elif written.startswith("~"):
        unit = 10.0 ** (len(digits) - len(digits.rstrip("0"))) if scale == 1.0 else 1.0
    else:
        unit = 0.0 if scale == 1.0 else 1.0  # a plain integer is exact; "71k" means its rounding
    return Written(written, line, float(digits) * scale, unit * scale / 2)


def mismatch(figure: Figure, written: Written, measured: Measured) -> str | None:
    """None when the doc's figure stands for the measured value; otherwise what to fix, and where."""
    if isinstance(measured.value, str) or isinstance(written.value, str):
        ok = str(written.value) == str(measured.value)
    else:
        ok = abs(written.value - measured.value) <= written.half_unit + measured.spread + 1e-9
    if ok:
        return None
    spread = f" (a run may move it by {measured.spread:g})" if measured.spread else ""
    return (f"{figure.file}:{written.line}: {figure.key}: the doc says {written.text}, "
            f"the code measures {measured.value:,}{spread}" if not isinstance(measured.value, str) else
            f"{figure.file}:{written.line}: {figure.key}: the doc says {written.text}, the code has {measured.value}")


def blocks(text: str) -> list[tuple[int, list[str]]]:
    """Paragraphs, list items and tables outside code fences: (first line number, lines)."""
    found: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start, fenced = 0, False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("```"):
            fenced = not fenced
            line = ""
        if fenced or not line.strip() or line.startswith("#"):
            if current:
                found.append((start, current))
            current = []
            continue
        if not current:
            start = number
        current.append(line)
    if current:
        found.append((start, current))
    return found


def unlabelled_timings(file: str, text: str | None = None) -> list[str]:
    """Every paragraph or table of ``file`` (or of ``text``) with a timing but without a run label
    (for a table, the paragraph above it may carry the label): 'file:line: the text' for each."""
    problems = []
    previous: list[str] = []
    for start, lines in blocks((REPO / file).read_text() if text is None else text):
        is_table = lines[0].startswith("|")
        timed = any(TIMING.search(line) for line in lines) or (is_table and TIMED_HEADER.search(lines[0]))
        label_text = "\n".join(lines + (previous if is_table else []))
        if timed and not _labelled(label_text):
            problems.append(f"{file}:{start}: {lines[0][:90]}")
        previous = lines
    return problems


def _labelled(text: str) -> bool:
    """A run label with a real date, not in the future (or the external figures' label)."""
    flat = " ".join(text.split())
    return EXTERNAL_LABEL in flat or any(_valid_date(m.group(1)) for m in RUN_LABEL.finditer(flat))


def _valid_date(text: str) -> bool:
    try:
        return datetime.date.fromisoformat(text) <= datetime.date.today()
    except ValueError:
        return False


def missing_references(file: str) -> list[str]:
    """Paths and import names in ``file`` that do not exist: 'file: name' for each."""
    text = (REPO / file).read_text()
    missing = []
    for link, path in re.findall(r"\]\(([^)#:]+)\)|`((?:docs|tests|contracts|examples|vcp_toolkit|vcp|prover|verifier)"
                                 r"/[^`\s:]+\.\w+)", text):
        base = (REPO / file).parent if link else REPO
        if not any(base.glob(link or path)):
            missing.append(f"{file}: {link or path}")
    for name in re.findall(r"`(vcp(?:_toolkit)?(?:\.\w+)+)(?![\w-])", text):
        if name.startswith("vcp_toolkit.") and not _imports(name):
            missing.append(f"{file}: {name}")
        elif name.startswith("vcp.") and _imports("vcp_toolkit." + name[4:]):
            missing.append(f"{file}: {name} (the import name is vcp_toolkit.{name[4:]})")
    return missing + [f"{file}: ANCHORS.md (see docs/anchors.md)" for _ in re.findall(r"\bANCHORS\.md\b", text)]


def _imports(dotted: str) -> bool:
    """Whether ``a.b.c`` names a module, or an attribute of one."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            if not hasattr(found, attr):
                return False
            found = getattr(found, attr)
        return True
    return False
