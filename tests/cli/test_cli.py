"""The ``vcp`` command line, run as a user runs it: a subprocess, exit codes, one-line errors,
and no private key in any output or file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from eth_account import Account

from vcp_toolkit.attest.eip712 import Attestation, Domain
from vcp_toolkit.chain.nodes import LocalNode
from vcp_toolkit.cli import COMMANDS, build_parser
from vcp_toolkit.attest.keys import SigningKey

VCP = Path(sys.executable).parent / "vcp"
PASSWORD = "correct horse battery staple"
REGISTRY = "0x" + "5a" * 20
TIMEOUT_S = 240


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VCP_")}
    env.update(extra)
    return env


def vcp(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    assert VCP.exists(), f"{VCP} missing: is the package installed in the venv?"
    return subprocess.run([str(VCP), *map(str, args)], cwd=cwd, env=env or clean_env(), capture_output=True,
                          text=True, timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {proc.stderr!r}"
    return lines[0]


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys, monkeypatch, tmp_path):
    """``vcp.cli.main`` in this process (same code path as the script, without the ~1 s start-up):
    for the many argument variants. The script itself is exercised by the subprocess tests."""
    import signal

    from vcp_toolkit.cli import main

    for name in list(os.environ):
        if name.startswith("VCP_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", open(os.devnull))  # not a terminal

    def run(*args, **env: str) -> Result:
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        old = signal.getsignal(signal.SIGTERM)
        capsys.readouterr()
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # --help / --version
            code = exc.code
        finally:
            signal.signal(signal.SIGTERM, old)
            for k in env:
                monkeypatch.delenv(k)
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    return run


def subcommands() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return sorted(action.choices)


# ---------------------------------------------------------------- help and usage


def test_every_command_is_wired():
    assert subcommands() == sorted(COMMANDS)


def test_help_script():
    proc = vcp("--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: vcp")
    assert proc.stderr == ""
    for command in subcommands():
        assert command in proc.stdout


@pytest.mark.parametrize("command", subcommands())
def test_help(cli, command):
    res = cli(command, "--help")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(f"usage: vcp {command}")
    assert res.stderr == ""


def test_version():
    proc = vcp("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == "vcp 0.1.0"


OFFLINE = ["--chain-id", "31337", "--registry", REGISTRY]

BAD_USAGE = {
    "no-command": [],
    "unknown-command": ["frobnicate"],
    "unknown-option": ["verify", "a.json", "--frobnicate"],
    "demo-bad-chain": ["demo", "--chain", "mainnet"],
    "demo-bad-repeats": ["demo", "--repeats", "many"],
    "demo-zero-repeats": ["demo", "--repeats", "0"],
    "prove-no-input": ["prove", "--out", "a.json"],
    "prove-no-domain": ["prove", "--input", "digits:0", "--out", "a.json"],
    "prove-bad-digit": ["prove", "--input", "digits:100000", "--out", "a.json", *OFFLINE],
    "prove-digit-not-int": ["prove", "--input", "digits:x", "--out", "a.json", *OFFLINE],
    "prove-bad-input-file": ["prove", "--input", "input.txt", "--out", "a.json", *OFFLINE],
    "prove-missing-input-file": ["prove", "--input", "missing.npy", "--out", "a.json", *OFFLINE],
    "prove-zero-chain": ["prove", "--input", "digits:0", "--out", "a.json", "--chain-id", "0", "--registry", REGISTRY],
    "prove-bad-registry": ["prove", "--input", "digits:0", "--out", "a.json", "--chain-id", "1", "--registry", "0x12"],
    "prove-bad-job": ["prove", "--input", "digits:0", "--out", "a.json", *OFFLINE, "--job-id", "0x12"],
    "prove-missing-model": ["prove", "--input", "digits:0", "--out", "a.json", *OFFLINE, "--model", "missing.q.npz"],
    "verify-no-file": ["verify"],
    "submit-no-rpc": ["submit", "a.json"],
    "deploy-no-rpc": ["deploy"],
    "keygen-no-out": ["keygen"],
    "keygen-bad-kdf": ["keygen", "--out", "k.json", "--kdf", "argon2"],
    "keygen-no-password": ["keygen", "--out", "k.json"],  # no $VCP_KEYSTORE_PASSWORD, stdin not a terminal
    "node-bad-kind": ["node", "hardhat"],
}


@pytest.mark.parametrize("name", sorted(BAD_USAGE))
def test_bad_usage(cli, name, tmp_path):
    res = cli(*BAD_USAGE[name])
    line = one_line_error(res)
    assert res.returncode == 2, line
    assert line.startswith("vcp: error: ")
    assert not (tmp_path / "a.json").exists() and not (tmp_path / "k.json").exists()


@pytest.mark.parametrize("name", ["no-command", "demo-bad-chain", "prove-no-input"])
def test_bad_usage_script(name, tmp_path):
    proc = vcp(*BAD_USAGE[name], cwd=tmp_path)
    line = one_line_error(proc)
    assert proc.returncode == 2, line
    assert line.startswith("vcp: error: ")


# ---------------------------------------------------------------- demo


def check_demo(proc: subprocess.CompletedProcess, kind: str) -> dict:
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    result = json.loads(proc.stdout)
    assert result["chain"] == kind
    model = result["model"]
    assert model["params"] == 2410
    assert model["accuracy_float"] >= 0.95 and model["accuracy_quantized"] >= 0.95
    assert abs(model["accuracy_float"] - model["accuracy_quantized"]) <= 0.02
    for key in ("inference", "commit", "sign", "verify_offchain"):
        assert isinstance(result["timings_s"][key], float) and result["timings_s"][key] >= 0
    gas = result["gas"]
    for key in ("deploy", "register_model", "submit_attestation"):
        assert isinstance(gas[key], int) and gas[key] > 21_000
    floor = result["gas_floor_submit"]
    assert isinstance(floor, int) and floor < gas["submit_attestation"] <= 1.25 * floor
    assert result["tamper_rejected_offchain"] is True
    assert result["tamper_rejected_onchain"] is True
    assert result["verified_offchain"] is True and result["recorded_onchain"] is True
    return result


@pytest.mark.chain
def test_demo_embedded(tmp_path):
    result = check_demo(vcp("demo", "--json", "--repeats", "3", "--out", tmp_path / "out", cwd=tmp_path), "embedded")
    assert result["tamper_error_onchain"] == "RegistrySignerMismatch"
    assert result["signed_wrong_output"]["rejected_offchain"] is True


@pytest.mark.chain
@pytest.mark.node
@pytest.mark.parametrize("kind", ["anvil", "ganache"])
def test_demo_on_node(kind, tmp_path):
    result = check_demo(vcp("demo", "--chain", kind, "--json", "--repeats", "3", "--out", tmp_path / "out",
                            cwd=tmp_path), kind)
    assert result["chain_id"] == {"anvil": 31337, "ganache": 1337}[kind]


# ---------------------------------------------------------------- offline prove and verify


@pytest.fixture(scope="module")
def env_key():
    return "9f" * 31 + "01"


@pytest.fixture(scope="module")
def offline(tmp_path_factory, env_key):
    """An attestation proven offline (the script, with a key from $VCP_PRIVATE_KEY)."""
    d = tmp_path_factory.mktemp("offline")
    proc = vcp("prove", "--input", "digits:7", "--out", d / "att.json", *OFFLINE, cwd=d,
               env=clean_env(VCP_PRIVATE_KEY="0x" + env_key))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert env_key not in proc.stdout
    return d


def test_offline_prove_and_verify(cli, offline, env_key):
    data = json.loads((offline / "att.json").read_text())
    assert {k: data["domain"][k] for k in ("name", "version", "chainId")} == {"name": "vcp", "version": "1",
                                                                             "chainId": 31337}
    assert data["domain"]["verifyingContract"].lower() == REGISTRY
    assert (offline / "att.trace.json").exists()
    res = cli("verify", offline / "att.json")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("valid: label ")
    res = cli("verify", offline / "att.json", "--json")
    assert res.returncode == 0
    report = json.loads(res.stdout)
    assert report["valid"] is True and report["reason"] is None
    assert report["digest"] == data["digest"]
    assert report["checks_passed"] == ["domain", "model root", "model section", "trace bundle model",
                                       "input commitment", "re-execution", "trace root", "output commitment",
                                       "signature"]
    assert report["kind"] == "signed"
    written = [p for p in offline.rglob("*") if p.is_file()]
    assert any(p.suffix == ".sqlite" for p in written)  # the journal, which must not hold the key either
    for path in written:
        raw = path.read_bytes().lower()
        assert env_key.encode() not in raw and bytes.fromhex(env_key.removeprefix("0x")) not in path.read_bytes()


def test_prove_input_files(cli, tmp_path, env_key):
    import numpy as np

    from vcp_toolkit.model.datasets import load_digits_split

    x = load_digits_split().x_test[7]
    np.save(tmp_path / "x.npy", x)
    (tmp_path / "x.json").write_text(json.dumps(x.tolist()))
    for spec in ("x.npy", "x.json", "digits:7"):
        res = cli("prove", "--input", spec, "--out", f"{spec}.att.json", *OFFLINE, VCP_PRIVATE_KEY=env_key)
        assert res.returncode == 0, res.stderr
    traces = {json.dumps(json.loads((tmp_path / f"{spec}.att.trace.json").read_text())["trace"])
              for spec in ("x.npy", "x.json", "digits:7")}
    assert len(traces) == 1  # the same int8 input whichever way it came in
    codes = json.loads(traces.pop())[0]
    (tmp_path / "codes.json").write_text(json.dumps(codes))
    res = cli("prove", "--input", "codes.json", "--int8", "--out", "int8.json", *OFFLINE, VCP_PRIVATE_KEY=env_key)
    assert res.returncode == 0, res.stderr
    assert json.loads((tmp_path / "int8.trace.json").read_text())["trace"][0] == codes
    (tmp_path / "bad.json").write_text(json.dumps([0.5] * 64))
    res = cli("prove", "--input", "bad.json", "--int8", "--out", "bad.att.json", *OFFLINE, VCP_PRIVATE_KEY=env_key)
    assert res.returncode == 2
    one_line_error(res)
    (tmp_path / "short.json").write_text(json.dumps([0.5] * 63))
    res = cli("prove", "--input", "short.json", "--out", "short.att.json", *OFFLINE, VCP_PRIVATE_KEY=env_key)
    assert res.returncode == 2
    one_line_error(res)


def test_prove_rejects_short_job_id_with_spaces(cli, tmp_path, env_key):
    res = cli("prove", "--input", "digits:1", "--out", "att.json", *OFFLINE, "--job-id", "0x" + "00" * 31 + "  ",
              VCP_PRIVATE_KEY=env_key)
    assert res.returncode == 2, res.stdout
    one_line_error(res)


def test_verify_deeply_nested_json(tmp_path):
    (tmp_path / "deep.json").write_text("[" * 100_000)
    proc = vcp("verify", tmp_path / "deep.json")  # a subprocess: the crash must not take pytest down
    assert proc.returncode == 1, proc.returncode  # not an attestation: invalid
    one_line_error(proc)


def test_verify_missing_and_garbage(cli, tmp_path):
    """A file that cannot be read: could not check (3). A file that is no attestation: invalid (1)."""
    res = cli("verify", "missing.json")
    assert res.returncode == 3
    assert "missing.json" in one_line_error(res)
    for i, raw in enumerate(["garbage", "", "{}", "[]", '{"format": "vcp.attestation", "version": 1}', "\x00\x01",
                             "[" * 200]):
        path = tmp_path / f"garbage{i}.json"
        path.write_text(raw)
        res = cli("verify", path)
        assert res.returncode == 1, (raw, res.stderr)
        one_line_error(res)
    (tmp_path / "dir.json").mkdir()
    res = cli("verify", "dir.json")
    assert res.returncode == 1
    assert "not a regular file" in one_line_error(res)


# ---------------------------------------------------------------- issue 10: vcp verify, any file


def _offline_batch(model, directory: Path, count: int = 7) -> Path:
    from vcp_toolkit.prover import Prover, prove_batch
    from vcp_toolkit.model.synthetic import random_inputs

    key = SigningKey(bytes.fromhex("5c" * 32))
    proven = prove_batch(Prover(model, key, Domain(31337, REGISTRY)), random_inputs(model, count, seed=count))
    return proven.save(directory / "batch.json")[0]


def test_verify_batch_file(cli, model, tmp_path):
    """Point 7: `vcp verify` took no batch file (exit 2), though `vcp submit` does."""
    path = _offline_batch(model, tmp_path)
    res = cli("verify", path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("valid: 7 records, signed by 0x")
    res = cli("verify", path, "--json")
    report = json.loads(res.stdout)
    assert res.returncode == 0 and report["kind"] == "batch" and report["count"] == 7
    assert report["checks_passed"] == ["domain", "model root", "re-execution", "records root", "signature"]
    assert cli("verify", path, "--backend", "signed").returncode == 0
    assert "not the expected" in one_line_error(cli("verify", path, "--prover", "0x" + "77" * 20))
    assert cli("verify", path, "--backend", "zk").returncode == 2
    from vcp_toolkit.chain.nodes import free_port

    res = cli("verify", path, "--rpc-url", f"http://127.0.0.1:{free_port()}")
    assert res.returncode == 3 and one_line_error(res).startswith("vcp: could not check: ")
    import numpy as np

    from vcp_toolkit.attest.files import BatchBundle

    bundle = BatchBundle.load(tmp_path / "batch.bundle.npz")
    traces = [t.copy() for t in bundle.traces]
    traces[1][3, 0] ^= 1
    import dataclasses

    sha = dataclasses.replace(bundle, traces=tuple(traces)).save(tmp_path / "batch.bundle.npz")
    data = json.loads(path.read_text())
    res = cli("verify", path)
    assert res.returncode == 1 and "sha256" in one_line_error(res)
    data["bundle"]["sha256"] = sha  # the hash is not signed: re-execution catches the change
    path.write_text(json.dumps(data))
    res = cli("verify", path)
    assert res.returncode == 1 and "record 3, layer 1" in one_line_error(res)
    assert np.array_equal(BatchBundle.load(tmp_path / "batch.bundle.npz").traces[1], traces[1])


def _zk_file(model, path: Path, name: str = "vcp") -> Path:
    import numpy as np

    from vcp_toolkit.commit.commitments import ModelCommitment, input_commitment
    from vcp_toolkit.commit.encoding import keccak256, zk_output_commitment
    from vcp_toolkit.attest.files import ZkAttestationFile

    x = model.quantize_input(np.full(64, 0.5))
    instances = tuple(range(1, 75))
    att = Attestation(prover="0x" + "12" * 20, model_root=ModelCommitment(model).root,
                      input_commitment=input_commitment(b"\x01" * 32, x),
                      output_commitment=zk_output_commitment(b"\x02" * 32, list(instances[64:])),
                      trace_root=keccak256(b"\x03" * 32), nonce=11)
    ZkAttestationFile(att, Domain(31337, REGISTRY, name=name), model.name, b"\x03" * 32, instances, x, b"\x01" * 32,
                      b"\x02" * 32, {}).save(path)
    return path


@pytest.fixture
def zk_verdict(monkeypatch):
    """verifier.check_zk_attestation, stubbed (EZKL is exercised in tests/zk/test_zk.py): records calls."""
    from vcp_toolkit import verifier

    calls, verdict = [], {"value": (True, None)}

    def check(signed, model, circuit=None):
        calls.append(signed)
        return verdict["value"]

    monkeypatch.setattr(verifier, "check_zk_attestation", check)
    return calls, verdict


def test_verify_routes_a_zk_file_by_its_header(cli, model, tmp_path, zk_verdict):
    """Point 7: a zk file is recognised by its format header and checked by vcp.zk, --backend or not."""
    calls, verdict = zk_verdict
    path = _zk_file(model, tmp_path / "zk.json")
    res = cli("verify", path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("valid: the zk proof verifies") and len(calls) == 1
    report = json.loads(cli("verify", path, "--backend", "zk", "--json").stdout)
    assert report["kind"] == "zk" and report["valid"] is True and report["checks_passed"][-1] == "zk proof"
    verdict["value"] = (False, "proof: EZKL's verifier rejects it")
    res = cli("verify", path)
    assert res.returncode == 1 and "EZKL's verifier rejects it" in one_line_error(res)
    assert cli("verify", path, "--backend", "signed").returncode == 2
    assert cli("verify", path, "--prover", "0x" + "12" * 20).returncode == 2  # a zk file has no signer
    res = cli("verify", _zk_file(model, tmp_path / "other.json", name="other"))
    assert res.returncode == 1 and "domain" in one_line_error(res)


def test_verify_zk_does_not_ignore_rpc_url_or_json(cli, model, tmp_path, zk_verdict):
    """Point 11: with --rpc-url and nothing listening, `verify --backend zk` printed "valid" and
    exited 0. Now the chain check runs, and an unreachable node is "could not check" (exit 3)."""
    from vcp_toolkit.chain.nodes import free_port

    path = _zk_file(model, tmp_path / "zk.json")
    url = f"http://127.0.0.1:{free_port()}"
    for extra in ((), ("--json",)):
        res = cli("verify", path, "--backend", "zk", "--rpc-url", url, *extra)
        assert res.returncode == 3, (res.stdout, res.stderr)
        assert one_line_error(res).startswith("vcp: could not check: ") and "valid" not in res.stdout


def test_verify_exit_codes_are_documented(cli):
    res = cli("verify", "--help")
    assert res.returncode == 0
    text = " ".join(res.stdout.split())
    assert "0 valid; 1 invalid" in text and "2 usage error; 3 could not check" in text
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    line = next(line for line in readme.splitlines() if line.startswith("vcp verify att.json "))
    assert "3 could not check" in line


def test_verify_signed_under_another_domain_name(cli, offline, tmp_path):
    """Point 8 from the command line: a genuine signature under name "vcp2" is invalid."""
    from vcp_toolkit.attest.eip712 import sign_attestation

    att = _copy(offline, tmp_path / "a")
    data = json.loads(att.read_text())
    attestation = Attestation.from_message(data["attestation"])
    domain = Domain(31337, REGISTRY, name="vcp2")
    key = SigningKey(bytes.fromhex("9f" * 31 + "01"))
    data.update(domain=domain.as_json(), typed_data=attestation.typed_data(domain),
                digest="0x" + attestation.digest(domain).hex(),
                signature=sign_attestation(attestation, domain, key.reveal()).to_hex())
    att.write_text(json.dumps(data))
    res = cli("verify", att)
    assert res.returncode == 1 and "domain: name 'vcp2'" in one_line_error(res)


def _copy(src_dir: Path, dst_dir: Path) -> Path:
    dst_dir.mkdir()
    for name in ("att.json", "att.trace.json"):
        shutil.copy(src_dir / name, dst_dir / name)
    return dst_dir / "att.json"


def _tamper_output(att_path: Path, fix_digest: bool, bump_nonce: bool = False) -> None:
    data = json.loads(att_path.read_text())
    forged = "0x" + bytes.fromhex(data["attestation"]["outputCommitment"][2:])[::-1].hex()
    data["attestation"]["outputCommitment"] = forged
    data["typed_data"]["message"]["outputCommitment"] = forged
    if bump_nonce:  # so that the registry gets as far as the signature check
        nonce = str(int(data["attestation"]["nonce"]) + 1)
        data["attestation"]["nonce"] = data["typed_data"]["message"]["nonce"] = nonce
    if fix_digest:
        att = Attestation.from_message(data["attestation"])
        data["digest"] = "0x" + att.digest(Domain.from_json(data["domain"])).hex()
    att_path.write_text(json.dumps(data))


def _tamper_bundle(att_path: Path) -> None:
    bundle = att_path.with_name("att.trace.json")
    data = json.loads(bundle.read_text())
    data["trace"][1][0] = data["trace"][1][0] + 1 if data["trace"][1][0] < 127 else 126
    bundle.write_text(json.dumps(data, indent=2) + "\n")


def test_verify_tampered_output(cli, offline, tmp_path):
    att = _copy(offline, tmp_path / "a")
    _tamper_output(att, fix_digest=True)
    res = cli("verify", att)
    assert res.returncode == 1
    assert one_line_error(res).startswith("invalid: output commitment mismatch")


def test_verify_tampered_output_inconsistent_file(cli, offline, tmp_path):
    """Editing the output commitment in "attestation" and "typed_data" but not "digest" leaves the
    file internally inconsistent: vcp refuses it as malformed (invalid, exit 1) before any check."""
    att = _copy(offline, tmp_path / "a")
    _tamper_output(att, fix_digest=False)
    res = cli("verify", att)
    line = one_line_error(res)
    assert res.returncode == 1, line
    assert "digest" in line


def test_verify_tampered_bundle(cli, offline, tmp_path):
    import hashlib

    att = _copy(offline, tmp_path / "a")
    _tamper_bundle(att)
    bundle = att.with_name("att.trace.json")
    res = cli("verify", att)
    assert res.returncode == 1
    assert "sha256" in one_line_error(res)
    res = cli("verify", offline / "att.json", "--bundle", bundle)  # --bundle is checked against the hash too
    assert res.returncode == 1
    one_line_error(res)
    # with the bundle hash updated as well (it is not signed), re-execution catches it
    meta = json.loads(att.read_text())
    meta["trace_bundle"]["sha256"] = hashlib.sha256(bundle.read_bytes()).hexdigest()
    att.write_text(json.dumps(meta))
    res = cli("verify", att)
    assert res.returncode == 1
    assert "re-execution" in one_line_error(res)
    # an out-of-range value is a malformed bundle
    data = json.loads(bundle.read_text())
    data["trace"][1][0] = 300
    bundle.write_text(json.dumps(data))
    meta["trace_bundle"]["sha256"] = hashlib.sha256(bundle.read_bytes()).hexdigest()
    att.write_text(json.dumps(meta))
    res = cli("verify", att)
    assert res.returncode == 1
    one_line_error(res)
    bundle.unlink()  # no bundle to check against: could not check
    res = cli("verify", att)
    assert res.returncode == 3
    one_line_error(res)


def test_verify_other_prover(cli, offline):
    res = cli("verify", offline / "att.json", "--prover", "0x" + "77" * 20)
    assert res.returncode == 1
    assert "not the expected" in one_line_error(res)


@pytest.mark.parametrize("garbage", ["zzzz-not-a-key-zzzz", "0x1234", "ff" * 32, "0x" + "00" * 32,
                                     "g" + "1" * 63, "12" * 33])
def test_env_key_garbage(cli, tmp_path, garbage):
    res = cli("prove", "--input", "digits:0", "--out", "att.json", *OFFLINE, VCP_PRIVATE_KEY=garbage)
    assert res.returncode == 1
    line = one_line_error(res)
    assert "VCP_PRIVATE_KEY" in line
    bare = garbage.removeprefix("0x")
    assert bare not in res.stderr and bare not in res.stdout
    assert not (tmp_path / "att.json").exists()


def test_no_key_offline(cli, tmp_path):
    res = cli("prove", "--input", "digits:0", "--out", "att.json", *OFFLINE)
    assert res.returncode == 1
    assert "no key" in one_line_error(res)


def test_keygen(cli, tmp_path):
    res = cli("keygen", "--out", "k.json", "--kdf", "pbkdf2", VCP_KEYSTORE_PASSWORD=PASSWORD)
    assert res.returncode == 0, res.stderr
    keyfile = json.loads((tmp_path / "k.json").read_text())
    key = SigningKey(bytes(Account.decrypt(keyfile, PASSWORD)))
    assert res.stdout.strip() == f"wrote k.json for address {key.address}"
    assert key.reveal().hex() not in res.stdout + res.stderr
    assert ((tmp_path / "k.json").stat().st_mode & 0o777) == 0o600
    res = cli("keygen", "--out", "k.json", "--kdf", "pbkdf2", VCP_KEYSTORE_PASSWORD=PASSWORD)
    assert res.returncode == 2
    assert "refusing to overwrite" in one_line_error(res)
    assert json.loads((tmp_path / "k.json").read_text()) == keyfile
    res = cli("keygen", "--out", "k2.json", "--kdf", "pbkdf2", VCP_KEYSTORE_PASSWORD="")
    assert res.returncode == 2
    one_line_error(res)


# ---------------------------------------------------------------- the full flow on Anvil


@dataclass
class Flow:
    dir: Path
    url: str
    keystore: Path
    address: str
    key_hex: str
    outputs: list[str] = field(default_factory=list)

    def run(self, *args, env=None) -> subprocess.CompletedProcess:
        """The script, in the flow's directory, with the keystore password set."""
        proc = vcp(*args, cwd=self.dir, env=env or clean_env(VCP_KEYSTORE_PASSWORD=PASSWORD))
        self.outputs.append(proc.stdout + proc.stderr)
        return proc

    def record(self, res: Result) -> Result:
        self.outputs.append(res.stdout + res.stderr)
        return res


@pytest.fixture(scope="module")
def node():
    with LocalNode("anvil") as n:
        yield n


@pytest.fixture(scope="module")
def flow(tmp_path_factory, node):
    d = tmp_path_factory.mktemp("flow")
    keystore = d / "key.json"
    proc = vcp("keygen", "--out", keystore, "--kdf", "pbkdf2", cwd=d, env=clean_env(VCP_KEYSTORE_PASSWORD=PASSWORD))
    assert proc.returncode == 0, proc.stderr
    key = SigningKey(bytes(Account.decrypt(json.loads(keystore.read_text()), PASSWORD)))
    assert key.address in proc.stdout
    f = Flow(d, node.rpc_url, keystore, key.address, key.reveal().hex(), [proc.stdout + proc.stderr])
    proc = f.run("deploy", "--rpc-url", f.url, "--deployments", d / "deployments.json", "--prover", f.address,
                 "--keystore", keystore)
    assert proc.returncode == 0, proc.stderr
    deployments = json.loads((d / "deployments.json").read_text())
    assert deployments["31337"]["AttestationRegistry"]["deployer"] == f.address
    proc = f.run("prove", "--rpc-url", f.url, "--deployments", d / "deployments.json", "--input", "digits:5",
                 "--out", d / "att.json", "--keystore", keystore)
    assert proc.returncode == 0, proc.stderr
    assert f"prover {f.address}" in proc.stdout
    return f


@pytest.mark.chain
@pytest.mark.node
def test_flow_verify_submit_verify_onchain(flow, cli):
    d = flow.dir
    deployments = ("--deployments", d / "deployments.json")
    proc = flow.run("verify", d / "att.json")
    assert proc.returncode == 0, proc.stderr
    assert f"signed by {flow.address}" in proc.stdout
    res = flow.record(cli("verify", d / "att.json", "--prover", flow.address.lower()))
    assert res.returncode == 0, res.stderr
    res = flow.record(cli("verify", d / "att.json", "--rpc-url", flow.url, *deployments))
    assert res.returncode == 1
    assert "not recorded" in one_line_error(res)
    proc = flow.run("submit", d / "att.json", "--rpc-url", flow.url, *deployments, "--keystore", flow.keystore,
                    "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["digest"] == json.loads((d / "att.json").read_text())["digest"]
    assert result["gas_floor"] < result["gas_used"] <= 1.25 * result["gas_floor"]
    proc = flow.run("verify", d / "att.json", "--rpc-url", flow.url, *deployments)
    assert proc.returncode == 0, proc.stderr
    assert "recorded on-chain" in proc.stdout
    res = flow.record(cli("verify", d / "att.json", "--rpc-url", flow.url, *deployments, "--json"))
    assert res.returncode == 0 and json.loads(res.stdout)["recorded_onchain"] is True
    # Submitting again is idempotent: the journal and the chain both say it landed, nothing is sent.
    res = flow.record(cli("submit", d / "att.json", "--rpc-url", flow.url, *deployments, "--keystore", flow.keystore,
                          VCP_KEYSTORE_PASSWORD=PASSWORD))
    assert res.returncode == 0 and "nothing sent" in res.stdout
    # With a fresh journal the chain alone still prevents a second landing.
    res = flow.record(cli("submit", d / "att.json", "--rpc-url", flow.url, *deployments, "--keystore", flow.keystore,
                          "--journal", d / "other.sqlite", VCP_KEYSTORE_PASSWORD=PASSWORD))
    assert res.returncode == 0 and "found on-chain" in res.stdout


@pytest.mark.chain
@pytest.mark.node
def test_flow_bad_files(flow, cli, tmp_path):
    att = _copy(flow.dir, tmp_path / "tampered")
    _tamper_output(att, fix_digest=True)
    proc = flow.run("verify", att)
    assert proc.returncode == 1
    assert "output commitment" in one_line_error(proc)
    bundle = _copy(flow.dir, tmp_path / "bundle")
    _tamper_bundle(bundle)
    proc = flow.run("verify", bundle)
    assert proc.returncode == 1
    one_line_error(proc)
    proc = flow.run("verify", tmp_path / "missing.json")
    assert proc.returncode == 3
    one_line_error(proc)
    (tmp_path / "garbage.json").write_text("{not json")
    proc = flow.run("verify", tmp_path / "garbage.json")
    assert proc.returncode == 1
    one_line_error(proc)
    proc = flow.run("verify", flow.dir / "att.json", "--prover", "0x" + "77" * 20)
    assert proc.returncode == 1
    assert "not the expected" in one_line_error(proc)
    # the registry refuses a forged copy too (the signature is the prover's, the claim is not)
    forged = _copy(flow.dir, tmp_path / "forged")
    _tamper_output(forged, fix_digest=True, bump_nonce=True)
    res = flow.record(cli("submit", forged, "--rpc-url", flow.url, "--deployments", flow.dir / "deployments.json",
                          "--keystore", flow.keystore, VCP_KEYSTORE_PASSWORD=PASSWORD))
    assert res.returncode == 1
    assert "RegistrySignerMismatch" in one_line_error(res)


@pytest.mark.chain
@pytest.mark.node
def test_flow_bad_keys(flow, cli, tmp_path):
    deployments = ("--deployments", flow.dir / "deployments.json")
    wrong = clean_env(VCP_KEYSTORE_PASSWORD="not the password")
    proc = flow.run("prove", "--rpc-url", flow.url, *deployments, "--input", "digits:1", "--out", tmp_path / "a.json",
                    "--keystore", flow.keystore, env=wrong)
    assert proc.returncode == 1, proc.stderr
    assert "keystore" in one_line_error(proc)
    for args in (["submit", flow.dir / "att.json", "--rpc-url", flow.url, *deployments, "--keystore", flow.keystore],
                 ["deploy", "--rpc-url", flow.url, "--deployments", tmp_path / "d.json", "--keystore", flow.keystore]):
        res = flow.record(cli(*args, VCP_KEYSTORE_PASSWORD="not the password"))
        assert res.returncode == 1, res.stderr
        assert "keystore" in one_line_error(res)
    garbage = "this-is-not-a-key-" + "5" * 20
    proc = flow.run("prove", "--rpc-url", flow.url, *deployments, "--input", "digits:1", "--out", tmp_path / "b.json",
                    env=clean_env(VCP_PRIVATE_KEY=garbage))
    assert proc.returncode != 0
    line = one_line_error(proc)
    assert "VCP_PRIVATE_KEY" in line and garbage not in proc.stdout + proc.stderr
    assert not any(tmp_path.iterdir())


@pytest.mark.chain
@pytest.mark.node
def test_flow_errors_talking_to_the_node(flow, cli, tmp_path):
    from vcp_toolkit.chain.nodes import free_port

    res = flow.record(cli("prove", "--rpc-url", flow.url, "--deployments", "none.json", "--input", "digits:1",
                          "--out", "att.json", "--keystore", flow.keystore, VCP_KEYSTORE_PASSWORD=PASSWORD))
    assert res.returncode == 1
    assert "vcp deploy" in one_line_error(res)  # DeploymentNotFound says what to do
    # an attestation for another chain is refused before anything is sent
    other = _copy(flow.dir, tmp_path / "other")
    data = json.loads(other.read_text())
    att = Attestation.from_message(data["attestation"])
    domain = Domain(1, data["domain"]["verifyingContract"])
    data["domain"] = domain.as_json()
    data["typed_data"] = att.typed_data(domain)
    data["digest"] = "0x" + att.digest(domain).hex()
    other.write_text(json.dumps(data))
    res = flow.record(cli("submit", other, "--rpc-url", flow.url, "--deployments", flow.dir / "deployments.json",
                          "--keystore", flow.keystore, VCP_KEYSTORE_PASSWORD=PASSWORD))
    assert res.returncode == 2
    assert "is for chain 1" in one_line_error(res)
    res = flow.record(cli("verify", flow.dir / "att.json", "--rpc-url", f"http://127.0.0.1:{free_port()}",
                          "--deployments", flow.dir / "deployments.json"))
    assert res.returncode == 3  # nobody listening: could not check, which is not "invalid"
    assert one_line_error(res).startswith("vcp: could not check: ")


@pytest.mark.chain
@pytest.mark.node
def test_flow_batch_verify_submit_verify_onchain(flow, cli, model, tmp_path):
    """Point 7 with --rpc-url: a batch is checked against the registry's record too."""
    from vcp_toolkit.prover import Prover, prove_batch
    from vcp_toolkit.model.synthetic import random_inputs

    deployments = ("--deployments", flow.dir / "deployments.json")
    registry = json.loads((flow.dir / "deployments.json").read_text())["31337"]["AttestationRegistry"]["address"]
    key = SigningKey(bytes.fromhex(flow.key_hex))
    path, _ = prove_batch(Prover(model, key, Domain(31337, registry)), random_inputs(model, 9, seed=9)).save(
        tmp_path / "batch.json")
    res = flow.record(cli("verify", path, "--rpc-url", flow.url, *deployments))
    assert res.returncode == 1 and "not recorded" in one_line_error(res)
    res = flow.record(cli("submit", path, "--rpc-url", flow.url, *deployments, "--keystore", flow.keystore,
                          "--journal", tmp_path / "j.sqlite", VCP_KEYSTORE_PASSWORD=PASSWORD))
    assert res.returncode == 0, res.stderr
    res = flow.record(cli("verify", path, "--rpc-url", flow.url, *deployments))
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("valid: 9 records, signed by") and "recorded on-chain" in res.stdout
    report = json.loads(flow.record(cli("verify", path, "--rpc-url", flow.url, *deployments, "--json")).stdout)
    assert report["recorded_onchain"] is True and report["kind"] == "batch"


@pytest.mark.chain
@pytest.mark.node
def test_flow_key_never_leaks(flow):
    """Runs last in this module: the keystore's key is in no output of any command run above, and in
    no file written (the keystore holds it encrypted only)."""
    key_hex = flow.key_hex.lower()
    assert len(key_hex) == 64
    assert len(flow.outputs) >= 3
    for out in flow.outputs:
        assert key_hex not in out.lower()
        assert key_hex[:32] not in out.lower() and key_hex[32:] not in out.lower()
    files = [p for p in flow.dir.rglob("*") if p.is_file()]
    assert flow.keystore in files and len(files) >= 4
    for path in files:
        raw = path.read_bytes()
        assert bytes.fromhex(key_hex) not in raw, path
        assert key_hex not in raw.decode(errors="replace").lower(), path
    keystore = json.loads(flow.keystore.read_text())
    assert keystore["crypto"]["kdf"] == "pbkdf2"
    assert (flow.keystore.stat().st_mode & 0o777) == 0o600
