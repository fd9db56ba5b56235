"""Issue 11, "How it is checked": the ``vcp.cli`` package keeps every module under ~300 lines, and
no function in ``vcp/``, ``prover/`` or ``verifier/`` runs over 60 lines, unless it is allow-listed
below by name with its line count at the time."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "vcp_toolkit" / "cli"
MAX_CLI_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60

# Functions over the limit in code other engineers are shortening (vcp/demo, vcp/bench,
# vcp/model/onnx_import.py, vcp/zk), by qualified name with their line count when listed. Prune an
# entry when its function is shortened; the test warns (never fails) when a listed function grows
# past its count or is no longer over the limit. When this test was written the offenders were
# import_onnx (122 lines), ChainBench.run_model (94), bench render (85), run_demo (104),
# run_optimistic_demo (85), run_zk_demo (81); all were shortened before it was committed, e.g.
#     "vcp/model/onnx_import.py::import_onnx": 122,
ALLOWED_LONG_FUNCTIONS: dict[str, int] = {}
# In vcp/cli and vcp/chain/deploy.py (this layout's own files): none.


def _functions(tree: ast.AST, prefix: str = ""):
    """(qualified name, node) of every function and method, nested ones included."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            name = f"{prefix}{node.name}"
            if not isinstance(node, ast.ClassDef):
                yield name, node
            yield from _functions(node, name + ".")
        else:
            yield from _functions(node, prefix)


def _long_functions() -> dict[str, int]:
    found = {}
    for top in ("vcp_toolkit", "prover", "verifier"):
        for path in sorted((ROOT / top).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for name, node in _functions(tree):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    found[f"{path.relative_to(ROOT).as_posix()}::{name}"] = lines
    return found


@pytest.mark.parametrize("path", sorted(CLI.glob("*.py")), ids=lambda p: p.name)
def test_cli_modules_are_small(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_CLI_MODULE_LINES, f"{path.relative_to(ROOT)} has {lines} lines (limit {MAX_CLI_MODULE_LINES})"


def test_cli_init_only_dispatches():
    """vcp/cli/__init__.py holds main and its dispatch table, no command."""
    tree = ast.parse((CLI / "__init__.py").read_text(encoding="utf-8"))
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assert defined <= {"main", "_exit_on_sigterm"}, defined


def test_no_long_functions():
    found = _long_functions()
    new = {k: v for k, v in found.items() if k not in ALLOWED_LONG_FUNCTIONS}
    assert not new, f"functions over {MAX_FUNCTION_LINES} lines: {new}"
    # Allow-listed code is being worked on elsewhere: note changes, never fail on them.
    grown = {k: (v, ALLOWED_LONG_FUNCTIONS[k]) for k, v in found.items()
             if k in ALLOWED_LONG_FUNCTIONS and v > ALLOWED_LONG_FUNCTIONS[k]}
    stale = sorted(set(ALLOWED_LONG_FUNCTIONS) - set(found))
    if grown:
        warnings.warn(f"allow-listed functions grew (now, listed): {grown}", stacklevel=1)
    if stale:
        warnings.warn(f"shortened or gone, remove from ALLOWED_LONG_FUNCTIONS: {stale}", stacklevel=1)
