"""The committed contract artifacts match the sources (compiled with the pinned solcjs)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from vcp_toolkit.contracts import EVM_EXCEPTIONS, EVM_VERSION, artifact_names, load_artifact
from vcp_toolkit.chain.nodes import HARDFORK, open_chain

pytestmark = pytest.mark.node

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "node_modules"


def node_binary() -> str:
    node = shutil.which("node")
    assert node is not None, "Node.js is required for these tests (see the Makefile: make test)"
    assert (NODE_MODULES / "solc").is_dir(), "run `npm ci` in the project"
    return node


def check(contracts_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([node_binary(), str(contracts_dir / "compile.mjs"), "--check"], cwd=contracts_dir.parent,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def contracts_copy(tmp_path) -> Path:
    """contracts/ copied to tmp, with node_modules beside it so that `import 'solc'` resolves."""
    dst = tmp_path / "contracts"
    shutil.copytree(ROOT / "contracts", dst, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    (tmp_path / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)
    return dst


def test_artifacts_up_to_date():
    proc = check(ROOT / "contracts")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert "up to date" in proc.stdout


def test_artifact_settings():
    names = artifact_names(include_test=True)
    assert "AttestationRegistry" in names
    for name in names:
        artifact = load_artifact(name)
        # Only evm.json's exceptions (BlobAnchor: BLOBHASH is Cancun's) are compiled for another EVM.
        expected = EVM_EXCEPTIONS.get(artifact["sourceName"].removeprefix("contracts/"), HARDFORK)
        assert artifact["compiler"]["settings"]["evmVersion"] == expected, name
        assert artifact["compiler"]["version"].startswith("0.8.")
        assert artifact["contractName"] == name.split("/")[-1]
        assert artifact["bytecode"].startswith("0x") and len(artifact["bytecode"]) > 2
        assert artifact["deployedBytecode"].startswith("0x")


def compile_file(contracts_dir: Path, source: Path) -> dict:
    proc = subprocess.run([node_binary(), str(contracts_dir / "compile_file.mjs"), str(source)],
                          cwd=contracts_dir.parent, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


TINY = "pragma solidity ^0.8.0;\ncontract T { function f() external pure returns (uint256) { return 0; } }\n"


def test_one_evm_version_everywhere(contracts_copy, tmp_path):
    """contracts/evm.json names the EVM version once: Python (the oldest schedule a chain vcp
    starts may run), both compile scripts (solc's evmVersion) and the embedded chain's VM on that
    schedule all take it from there."""
    named = json.loads((ROOT / "contracts" / "evm.json").read_text())["evmVersion"]
    assert named == EVM_VERSION == HARDFORK
    assert named == "shanghai"  # the newest fork Ganache 7.9 runs: change it on purpose only
    for script in ("compile.mjs", "compile_file.mjs"):
        text = (ROOT / "contracts" / script).read_text()
        assert "evm.json" in text and named not in text, f"{script} names the EVM version itself"
    # The contracts run on the compiled-for schedule and newer ones (vcp.chain.hardfork); the
    # embedded chain runs the compiled-for one when asked.
    with open_chain("embedded", hardfork=named) as chain:
        assert chain.tester.backend.chain.get_vm().fork == named
    source = tmp_path / "T.sol"
    source.write_text(TINY)
    assert compile_file(ROOT / "contracts", source)["evmVersion"] == named  # from solc's own metadata
    # Another EVM version in evm.json reaches both scripts: every artifact but the exceptions' is
    # stale, and a file compiles for that version.
    evm = json.loads((ROOT / "contracts" / "evm.json").read_text())
    (contracts_copy / "evm.json").write_text(json.dumps({**evm, "evmVersion": "paris"}))
    assert compile_file(contracts_copy, source)["evmVersion"] == "paris"
    proc = check(contracts_copy)
    assert proc.returncode == 1, proc.stderr + proc.stdout
    exceptional = [n for n in artifact_names(include_test=True)
                   if load_artifact(n)["sourceName"].removeprefix("contracts/") in EVM_EXCEPTIONS]
    assert exceptional == ["BlobAnchor"]
    assert proc.stderr.count("stale artifact") == len(artifact_names(include_test=True)) - 1, proc.stderr
    assert "stale artifact: contracts/artifacts/BlobAnchor.json" not in proc.stderr


def test_an_exception_compiles_for_its_own_evm(contracts_copy):
    """evm.json's exceptions: BlobAnchor alone is compiled for Cancun (BLOBHASH); named for Shanghai
    instead, solc refuses it, so the exception is what lets it build at all."""
    assert EVM_EXCEPTIONS == {"src/BlobAnchor.sol": "cancun"}
    evm = json.loads((ROOT / "contracts" / "evm.json").read_text())
    (contracts_copy / "evm.json").write_text(json.dumps({**evm, "exceptions": {}}))
    proc = check(contracts_copy)
    assert proc.returncode == 2 and "blobhash" in proc.stderr.lower(), proc.stderr[-2000:]


def test_modified_source_is_stale(contracts_copy):
    source = contracts_copy / "src" / "AttestationRegistry.sol"
    source.write_text(source.read_text() + "\n// a comment changes the metadata hash\n")
    proc = check(contracts_copy)
    assert proc.returncode == 1, proc.stderr + proc.stdout
    assert "stale artifact: contracts/artifacts/AttestationRegistry.json" in proc.stderr
    assert proc.stderr.count("stale artifact") == 1  # only the contract whose source changed


def test_orphan_and_missing_artifacts(contracts_copy):
    (contracts_copy / "artifacts" / "Orphan.json").write_text("{}\n")
    (contracts_copy / "artifacts" / "AttestationRegistry.json").unlink()
    proc = check(contracts_copy)
    assert proc.returncode == 1, proc.stderr + proc.stdout
    assert "orphan artifact: contracts/artifacts/Orphan.json" in proc.stderr
    assert "stale artifact: contracts/artifacts/AttestationRegistry.json" in proc.stderr
    assert not (contracts_copy / "artifacts" / "AttestationRegistry.json").exists()  # --check writes nothing
