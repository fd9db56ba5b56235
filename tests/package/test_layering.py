"""The layers stay apart: the library under vcp/ does not reach up into prover/ or verifier/
(only the CLI, the demos and the benchmark, which drive both sides, may), and examples/ use only
the public API: every name they import is listed in its module's ``__all__``."""

from __future__ import annotations

import ast
import re
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VCP = ROOT / "vcp"
DRIVERS = ("cli", "demo", "bench")  # vcp/<these>/ run both sides, so they may import prover and verifier
UPPER = ("prover", "verifier")


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """Every module an ``import`` or ``from ... import`` names, at any depth (inside functions too)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _library_modules() -> list[Path]:
    return sorted(p for p in VCP.rglob("*.py") if p.relative_to(VCP).parts[0] not in DRIVERS)


def test_the_library_does_not_import_prover_or_verifier():
    offending = []
    for path in _library_modules():
        for line, module in _imported_modules(ast.parse(path.read_text(), str(path))):
            if module.split(".")[0] in UPPER:
                offending.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not offending, "vcp/ must not depend on prover/ or verifier/:\n" + "\n".join(offending)


def test_the_check_sees_imports_inside_functions():
    tree = ast.parse("def f():\n    from verifier import x\n    import prover._zk\n")
    assert [m for _, m in _imported_modules(tree)] == ["verifier", "prover._zk"]


def _example_imports() -> list[tuple[str, int, str, str]]:
    """(script, line, module, name) for every ``from module import name`` of a project package."""
    rows = []
    for script in sorted((ROOT / "examples").glob("*.py")):
        for node in ast.walk(ast.parse(script.read_text(), str(script))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and \
                    node.module.split(".")[0] in ("vcp", "prover", "verifier", "contracts"):
                rows.extend((script.name, node.lineno, node.module, alias.name) for alias in node.names)
    return rows


def _not_public(rows: list[tuple[str, int, str, str]]) -> list[str]:
    bad = []
    for script, line, module, name in rows:
        public = getattr(importlib.import_module(module), "__all__", None)
        if public is None or name not in public:
            bad.append(f"examples/{script}:{line} from {module} import {name}"
                       + (f" ({module} has no __all__)" if public is None else ""))
    return bad


def test_the_public_api_check_flags_private_names():
    assert _not_public([("x.py", 1, "prover", "Prover"), ("x.py", 2, "verifier", "verify_files")]) == []
    assert _not_public([("x.py", 3, "prover._zk", "prove_zk")]) == ["examples/x.py:3 from prover._zk import prove_zk "
                                                                     "(prover._zk has no __all__)"]
    assert _not_public([("x.py", 4, "vcp", "hex32")]) == ["examples/x.py:4 from vcp import hex32"]


def test_examples_import_only_names_in_all():
    bad = _not_public(_example_imports())
    assert not bad, "examples/ must use only names listed in __all__:\n" + "\n".join(bad)


@pytest.mark.parametrize("package", ["vcp", "vcp.model", "vcp.commit", "vcp.attest", "vcp.chain", "vcp.ops", "vcp.bench",
                                     "vcp.zk", "prover", "verifier", "contracts"])
def test_every_public_name_resolves(package):
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{package}.{name}"


def test_tests_reach_no_private_member_of_another_package():
    """Tests use the packages' public names: no ``from pkg._module import``, no ``obj._method(`` of
    vcp, prover or verifier objects (a test's own helpers may be private)."""
    pattern = re.compile(r"from (vcp|prover|verifier)(\.\w+)*\._\w+ import|import (vcp|prover|verifier)(\.\w+)*\._\w+"
                         r"|\.(contract|registry|submitter|service|watcher|sender)\._\w+")
    offending = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
                 for path in sorted((ROOT / "tests").rglob("test_*.py")) if path.name != "test_layering.py"
                 for n, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert not offending, "tests reach into private members:\n" + "\n".join(offending)
