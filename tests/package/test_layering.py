"""The layers stay apart: the library under vcp_toolkit/ does not reach up into prover/ or verifier/
(only the CLI, the demos and the benchmark, which drive both sides, may), and examples/ use only
the public API: every name they import is listed in its module's ``__all__``."""

from __future__ import annotations

import ast
import re
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VCP = ROOT / "vcp_toolkit"
DRIVERS = ("cli", "demo", "bench")  # vcp_toolkit/<these>/ run both sides, so they may import prover and verifier
UPPER = ("vcp_toolkit.prover", "vcp_toolkit.verifier")
PROJECT = "vcp_toolkit"


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
            if any(module == upper or module.startswith(upper + ".") for upper in UPPER):
                offending.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not offending, "vcp_toolkit/ must not depend on prover/ or verifier/:\n" + "\n".join(offending)


def test_the_check_sees_imports_inside_functions():
    tree = ast.parse("def f():\n    from vcp_toolkit.verifier import x\n    import vcp_toolkit.prover._zk\n")
    assert [m for _, m in _imported_modules(tree)] == ["vcp_toolkit.verifier", "vcp_toolkit.prover._zk"]


def _example_imports() -> list[tuple[str, int, str, str]]:
    """(script, line, module, name) for every ``from module import name`` of a project package."""
    rows = []
    for script in sorted((ROOT / "examples").glob("*.py")):
        for node in ast.walk(ast.parse(script.read_text(), str(script))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and \
                    node.module.split(".")[0] == PROJECT:
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
    assert _not_public([("x.py", 1, "vcp_toolkit.prover", "Prover"), ("x.py", 2, "vcp_toolkit.verifier", "verify_files")]) == []
    assert _not_public([("x.py", 3, "vcp_toolkit.prover._zk", "prove_zk")]) == [
        "examples/x.py:3 from vcp_toolkit.prover._zk import prove_zk (vcp_toolkit.prover._zk has no __all__)"]
    assert _not_public([("x.py", 4, "vcp_toolkit", "hex32")]) == ["examples/x.py:4 from vcp_toolkit import hex32"]


def test_examples_import_only_names_in_all():
    bad = _not_public(_example_imports())
    assert not bad, "examples/ must use only names listed in __all__:\n" + "\n".join(bad)


@pytest.mark.parametrize("package", ["vcp_toolkit", *(f"vcp_toolkit.{stage}" for stage in (
    "model", "commit", "attest", "chain", "ops", "bench", "zk", "prover", "verifier", "contracts"))])
def test_every_public_name_resolves(package):
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{package}.{name}"


def test_tests_reach_no_private_member_of_another_package():
    """Tests use the packages' public names: no ``from pkg._module import``, no ``obj._method(`` of
    vcp, prover or verifier objects (a test's own helpers may be private)."""
    pattern = re.compile(r"from vcp_toolkit(\.\w+)*\._\w+ import|import vcp_toolkit(\.\w+)*\._\w+"
                         r"|\.(contract|registry|submitter|service|watcher|sender)\._\w+")
    offending = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
                 for path in sorted((ROOT / "tests").rglob("test_*.py")) if path.name != "test_layering.py"
                 for n, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert not offending, "tests reach into private members:\n" + "\n".join(offending)


def test_one_conftest_and_unique_test_module_names():
    """Tests run without packages (rootdir imports): a second conftest.py would shadow
    `from conftest import ...`, and two test modules with one name would collide."""
    tests = ROOT / "tests"
    assert sorted(p.relative_to(tests).as_posix() for p in tests.rglob("conftest.py")) == ["conftest.py"]
    names = [p.name for p in tests.rglob("*.py")]
    assert sorted({n for n in names if names.count(n) > 1}) == []
