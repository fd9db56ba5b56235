"""Foundry: `forge test --offline` passes on vcp's contracts, compiled by the pinned solcjs through
contracts/foundry/solc, and the gas snapshot (contracts/.gas-snapshot) is current. docs/foundry.md."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

import vcp_toolkit.contracts
from vcp_toolkit.chain.nodes import find_tool
from vcp_toolkit.contracts import EVM_VERSION, load_artifact

pytestmark = pytest.mark.node

ROOT = Path(__file__).resolve().parents[2]
SOLC_WRAPPER = ROOT / "contracts" / "foundry" / "solc"
SNAPSHOT = "contracts/.gas-snapshot"
GAS_TESTS = "contracts/test/Gas.t.sol"
FORGE_TIMEOUT_S = 900
RENEW = "run `make gas-snapshot` if the change is deliberate, and commit contracts/.gas-snapshot"


@pytest.fixture(scope="module")
def forge() -> Path:
    """The native forge binary: the npm wrapper (node_modules/.bin/forge) exits 0 even when forge fails."""
    path = find_tool("forge")
    assert path.name == "forge" and path.parent.name == "bin" and "@foundry-rs" in path.parts, (
        f"expected the native forge from @foundry-rs/forge-<platform>, got {path}: run `make npm`")
    return path


def run_forge(forge: Path, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    # FOUNDRY_OFFLINE as well as --offline: no compiler download, whatever a user's environment says.
    env = {**os.environ, "FOUNDRY_OFFLINE": "true", "NO_COLOR": "1"}
    return subprocess.run([str(forge), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=FORGE_TIMEOUT_S)


def failure_report(proc: subprocess.CompletedProcess) -> str:
    """The lines that say what failed (forge prints every passing test too), then the output's end."""
    out = proc.stdout + proc.stderr
    wanted = [line for line in out.splitlines()
              if line.startswith(("[FAIL", "Error", "Diff in")) or "error" in line.lower()]
    return "\n".join(wanted[:60]) + "\n--- last lines ---\n" + "\n".join(out.splitlines()[-25:])


def test_foundry_toml_matches_the_artifacts_settings():
    config = tomllib.loads((ROOT / "foundry.toml").read_text())["profile"]["default"]
    settings = load_artifact("OptimisticInference")["compiler"]["settings"]
    assert config["evm_version"] == EVM_VERSION == settings["evmVersion"]
    assert config["optimizer"] is settings["optimizer"]["enabled"] is True
    assert config["optimizer_runs"] == settings["optimizer"]["runs"]
    assert config["offline"] is True and config["auto_detect_solc"] is False
    assert (ROOT / config["solc"]).resolve() == SOLC_WRAPPER
    # The tests read the shared vectors and nothing else, and write nothing.
    assert config["fs_permissions"] == [{"access": "read", "path": "./tests/vectors"}]


def test_solc_wrapper_is_the_pinned_solcjs():
    assert os.access(SOLC_WRAPPER, os.X_OK), "contracts/foundry/solc must be executable (git mode 100755)"
    proc = subprocess.run([str(SOLC_WRAPPER), "--version"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    version = proc.stdout.strip().splitlines()[-1]
    assert version == "Version: " + load_artifact("OptimisticInference")["compiler"]["version"]


@pytest.mark.parametrize("args, stdin", [([], ""), (["--bin", "x.sol"], ""), (["--version\u200b"], "")])
def test_solc_wrapper_refuses_other_uses(args, stdin):
    proc = subprocess.run([str(SOLC_WRAPPER), *args], input=stdin, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "only --version and --standard-json" in proc.stderr


@pytest.mark.parametrize("stdin", ["", "{", "{}", '{"language": "Solidity", "sources": {}}', "\x00" * 64,
                                   '{"language": "Solidity", "sources": {"a.sol": {"content": "import \\"b.sol\\";"}}}'])
def test_solc_wrapper_answers_bad_input_with_json_errors(stdin):
    """Truncated, empty or NUL input, or an import forge did not inline: solc's JSON errors, no crash."""
    proc = subprocess.run([str(SOLC_WRAPPER), "--standard-json"], input=stdin, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    errors = json.loads(proc.stdout)["errors"]
    assert any(e["severity"] == "error" for e in errors), errors


def test_forge_test_offline(forge):
    proc = run_forge(forge, "test", "--offline")
    assert proc.returncode == 0, "forge test --offline failed:\n" + failure_report(proc)
    suites = set(re.findall(r"^Ran \d+ tests? for (contracts/test/\S+\.t\.sol):", proc.stdout, re.M))
    expected = {str(p.relative_to(ROOT)) for p in (ROOT / "contracts" / "test").glob("*.t.sol")}
    assert suites == expected, f"suites run {sorted(suites)} != test files {sorted(expected)}"
    summary = re.findall(r"(\d+) tests passed, (\d+) failed, (\d+) skipped", proc.stdout)
    assert summary and summary[-1][1] == "0" and summary[-1][2] == "0", proc.stdout[-2000:]


def test_gas_snapshot_is_current(forge):
    proc = run_forge(forge, "snapshot", "--offline", "--match-path", GAS_TESTS, "--check", SNAPSHOT)
    assert proc.returncode == 0, (f"gas differs from {SNAPSHOT}: {RENEW}\n" + failure_report(proc))


def test_gas_snapshot_check_fails_on_a_changed_figure(forge, tmp_path):
    """The check bites: one figure off by one gas, and forge snapshot --check exits 1 naming the test."""
    lines = (ROOT / SNAPSHOT).read_text().splitlines()
    name, gas = re.fullmatch(r"(\S+) \(gas: (\d+)\)", lines[0]).groups()
    lines[0] = f"{name} (gas: {int(gas) + 1})"
    stale = tmp_path / "stale.gas-snapshot"
    stale.write_text("\n".join(lines))
    proc = run_forge(forge, "snapshot", "--offline", "--match-path", GAS_TESTS, "--check", str(stale))
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr
    assert name.split(":")[1] in proc.stdout + proc.stderr


CONSUMER_CONTRACT = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {MerkleProofs} from "@vcp/MerkleProofs.sol";
import {VcpEncoding} from "@vcp/VcpEncoding.sol";

contract MyBatchCheck {
    function includes(bytes32 batchRoot, bytes32 inputCommit, bytes32 outputCommit, bytes32 traceRoot,
                      uint256 index, uint256 count, bytes32[] calldata proof) external pure returns (bool) {
        bytes32 leaf = VcpEncoding.recordLeaf(inputCommit, outputCommit, traceRoot);
        return MerkleProofs.verifyInTree(batchRoot, leaf, index, count, proof);
    }
}
"""

CONSUMER_TEST = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {MyBatchCheck} from "../src/MyBatchCheck.sol";

contract MyBatchCheckTest {
    function test_twoRecordBatch() external {
        MyBatchCheck check = new MyBatchCheck();
        bytes32 a = keccak256(abi.encodePacked(hex"0052", bytes32(uint256(1)), bytes32(uint256(2)), bytes32(uint256(3))));
        bytes32 b = keccak256(abi.encodePacked(hex"0052", bytes32(uint256(4)), bytes32(uint256(5)), bytes32(uint256(6))));
        bytes32 root = keccak256(abi.encodePacked(hex"01", a, b));
        bytes32[] memory proof = new bytes32[](1);
        proof[0] = a;
        require(check.includes(root, bytes32(uint256(4)), bytes32(uint256(5)), bytes32(uint256(6)), 1, 2, proof), "in");
        require(!check.includes(root, bytes32(uint256(4)), bytes32(uint256(5)), bytes32(uint256(6)), 0, 2, proof), "index");
    }
}
"""


def test_a_foundry_project_consumes_the_installed_contracts(forge, tmp_path):
    """docs/foundry.md's recipe: remap @vcp/ into the package's contracts/src and build offline."""
    package_src = Path(vcp_toolkit.contracts.__file__).parent / "src"
    (tmp_path / "src").mkdir()
    (tmp_path / "test").mkdir()
    (tmp_path / "src" / "MyBatchCheck.sol").write_text(CONSUMER_CONTRACT)
    (tmp_path / "test" / "MyBatchCheck.t.sol").write_text(CONSUMER_TEST)
    (tmp_path / "foundry.toml").write_text(
        '[profile.default]\nsrc = "src"\ntest = "test"\nlibs = []\n'
        f'solc = {json.dumps(str(SOLC_WRAPPER))}\noffline = true\nevm_version = "{EVM_VERSION}"\n'
        f'remappings = [{json.dumps(f"@vcp/={package_src}/")}]\n')
    proc = run_forge(forge, "test", "--offline", cwd=tmp_path)
    assert proc.returncode == 0, failure_report(proc)
    assert "[PASS] test_twoRecordBatch()" in proc.stdout
