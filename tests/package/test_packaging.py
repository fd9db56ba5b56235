"""Packaging: the committed constraints pin every dependency inside pyproject.toml's ranges, and the
wheel, installed in a fresh venv outside the repository, is complete enough to run vcp."""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from wheelenv import tracked_files

REPO = Path(__file__).resolve().parents[2]
CONSTRAINTS = REPO / "constraints.txt"
# source folder -> where it installs (setup.py maps the three required top-level folders)
INSTALLED_AS = {"vcp_toolkit": "vcp_toolkit", "prover": "vcp_toolkit/prover", "verifier": "vcp_toolkit/verifier",
                "contracts": "vcp_toolkit/contracts"}
EXTRAS = ("test", "zk")


def pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def pins() -> dict[str, str]:
    """{canonical name: version} of constraints.txt; every line must be an exact `name==version`."""
    found = {}
    for line in CONSTRAINTS.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        req = Requirement(line)
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==" and not (req.url or req.marker or req.extras), line
        assert canonicalize_name(req.name) not in found, f"pinned twice: {req.name}"
        found[canonicalize_name(req.name)] = specs[0].version
    return found


def declared_requirements() -> list[Requirement]:
    data = pyproject()
    texts = data["project"]["dependencies"] + data["build-system"]["requires"]
    texts += [r for extra in EXTRAS for r in data["project"]["optional-dependencies"][extra]]
    return [Requirement(t) for t in texts]


def test_constraints_pin_every_dependency_within_its_range():
    pinned = pins()
    assert "vcp-toolkit" not in pinned, "the project itself must not be pinned"
    for name in ("pip", "setuptools"):  # the installer and the build backend are pinned too
        assert name in pinned, name
    for req in declared_requirements():
        name = canonicalize_name(req.name)
        assert name in pinned, f"{req} is not in constraints.txt: run `make lock`"
        assert req.specifier.contains(pinned[name], prereleases=True), \
            f"constraints.txt pins {req.name}=={pinned[name]}, outside pyproject.toml's {req}: run `make lock`"


def _wanted(req: Requirement, extras: set[str]) -> bool:
    return req.marker is None or any(req.marker.evaluate({"extra": e}) for e in extras | {""})


def _requires(req: Requirement) -> list[Requirement]:
    try:
        texts = metadata.requires(req.name) or []
    except metadata.PackageNotFoundError:
        pytest.fail(f"{req} is not installed: run `make venv`")
    return [sub for sub in map(Requirement, texts) if _wanted(sub, set(req.extras))]


def _closure() -> dict[str, Requirement]:
    """Every distribution the project needs (with the test and zk extras), transitively."""
    todo = [r for r in declared_requirements() if canonicalize_name(r.name) not in ("pip", "setuptools")]
    needed: dict[str, Requirement] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        req = todo.pop()
        key = (canonicalize_name(req.name), frozenset(req.extras))
        if key not in seen:
            seen.add(key)
            needed.setdefault(key[0], req)
            todo.extend(_requires(req))
    return needed


def test_installed_environment_is_the_locked_one():
    """Everything the tests import was installed at the pinned version: `make test` tests the lock."""
    pinned = pins()
    for name, req in sorted(_closure().items()):
        assert name in pinned, f"{name} (needed by {req}) is not pinned in constraints.txt: run `make lock`"
        installed = metadata.version(req.name)
        assert installed == pinned[name], \
            f"{name} {installed} is installed but constraints.txt pins {pinned[name]}: run `make venv`"


def test_makefile_installs_from_the_constraints():
    makefile = (REPO / "Makefile").read_text()
    assert "--constraint $(CONSTRAINTS)" in makefile and "CONSTRAINTS := constraints.txt" in makefile
    assert "\nlock:" in makefile


# ---------------------------------------------------------------- the wheel (tests/package/conftest.py)


def test_wheel_ships_every_package_and_data_file(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = {n for n in archive.namelist() if ".dist-info/" not in n}
        entry_points = next(archive.read(n).decode() for n in archive.namelist() if n.endswith("entry_points.txt"))
    expected = {INSTALLED_AS[top] + "/" + rest for top, _, rest in (n.partition("/") for n in tracked_files())
                if top in INSTALLED_AS}
    assert not expected - names, f"missing from the wheel: {sorted(expected - names)}"
    assert not names - expected, f"in the wheel but not in the source tree: {sorted(names - expected)}"
    assert {"vcp_toolkit/bench/__init__.py", "vcp_toolkit/contracts/compile_file.mjs",
            "vcp_toolkit/model/builtin/digits_mlp.q.npz", "vcp_toolkit/prover/__init__.py"} <= names
    assert {n.split("/")[0] for n in names} == {"vcp_toolkit"}, "one import name, nothing generic at the top"
    assert "vcp = vcp_toolkit.cli:main" in entry_points


def _run(installed, *args: str, timeout: int = 300) -> str:
    venv, work, env = installed
    proc = subprocess.run([str(venv / "bin" / args[0]), *args[1:]], cwd=work, env=env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"{args}: {proc.stderr[-3000:]}"
    assert "Traceback" not in proc.stderr
    return proc.stdout


@pytest.mark.slow
@pytest.mark.chain
@pytest.mark.node
def test_installed_wheel_runs_demo_bench_and_inspect(installed):
    venv, work, _ = installed
    where = _run(installed, "python", "-c", "import vcp_toolkit, vcp_toolkit.contracts, vcp_toolkit.prover, vcp_toolkit.verifier, "
                 "vcp_toolkit.bench; print(vcp_toolkit.__file__)")
    assert Path(where.strip()).is_relative_to(venv) and not Path(where.strip()).is_relative_to(REPO)

    demo = json.loads(_run(installed, "vcp", "demo", "--json", "--repeats", "3"))
    assert demo["verified_offchain"] is True and demo["recorded_onchain"] is True
    assert demo["model"]["params"] == 2410 and (work / ".vcp" / "demo").is_dir()

    bench = json.loads(_run(installed, "vcp", "bench", "--quick", "--repeats", "1", "--json", timeout=600))
    assert {(r["chain"], r["mode"]) for r in bench["rows"]} >= {("embedded", "signed_single"), ("anvil", "throughput")}
    assert all(t["value"] is not None for t in bench["targets"])
    assert (work / ".vcp" / "bench" / "bench.json").exists()

    shutil.copy(REPO / "tests" / "fixtures" / "onnx" / "sklearn_mlp.onnx", work / "model.onnx")
    report = json.loads(_run(installed, "vcp", "inspect", "model.onnx", "--json"))
    assert report["params"] == 2410 and report["agreement"]["top1"] >= 0.9


@pytest.mark.slow
@pytest.mark.node
def test_installed_wheel_compiles_a_zk_verifier(installed):
    """zk deployment compiles EZKL's verifier with the shipped compile_file.mjs and the project's solcjs."""
    _, work, _ = installed
    (work / "T.sol").write_text("pragma solidity ^0.8.0;\ncontract T { function f() external pure returns (uint) "
                                "{ return 1; } }\n")
    code = ("import json, pathlib, vcp_toolkit.zk as zk; "
            "print(json.dumps(zk.compile_verifier(pathlib.Path('T.sol'))))")  # what `vcp deploy --zk` runs
    compiled = json.loads(_run(installed, "python", "-c", code))
    assert compiled["contractName"] == "T" and len(compiled["bytecode"]) > 2
