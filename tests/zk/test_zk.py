"""The zk baseline: the same model proven with EZKL, verified off-chain and on-chain, and bound to
vcp's commitments. Runs on the smallest anchor model (64 -> 16 -> 10); `make test` installs the
`zk` extra, so nothing here is skipped."""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import subprocess
import sys

import numpy as np
import pytest

from vcp_toolkit.prover import prove_zk, zk_attestation_for
from vcp_toolkit.verifier import check_zk_attestation, verify_zk_proof
from vcp_toolkit import zk
from vcp_toolkit.attest.eip712 import Domain
from vcp_toolkit.chain import reverts as r
from vcp_toolkit.chain.nodes import LocalNode
from vcp_toolkit.chain.registry import Registry
from vcp_toolkit.chain.tx import Sender
from vcp_toolkit.commit.commitments import ModelCommitment, input_commitment
from vcp_toolkit.commit.encoding import BN254_R, int8_bytes, keccak256, zk_output_commitment
from vcp_toolkit.errors import ToolMissing
from vcp_toolkit.attest.files import ZkAttestationFile
from vcp_toolkit.model.synthetic import random_inputs, random_model

pytestmark = [pytest.mark.chain, pytest.mark.node]


@pytest.fixture(scope="session")
def zk_cache():
    return zk.cache_root()  # set for the whole test session by conftest.py


@pytest.fixture(scope="session")
def small(zk_cache):
    model = random_model([64, 16, 10], seed=90)
    circuit = zk.prepare_circuit(model)
    return model, circuit


@pytest.fixture(scope="module")
def proven(small):
    model, circuit = small
    x = random_inputs(model, 2, seed=3)
    return prove_zk(circuit, x[0]), x


def test_circuit_is_cached_and_labelled(small, zk_cache):
    model, circuit = small
    again = zk.prepare_circuit(model)
    assert again.setup_s == 0.0 and again.verifier_bytecode == circuit.verifier_bytecode
    assert again.directory.parent == zk_cache
    assert circuit.srs_unsafe and (zk_cache / "srs" / "UNSAFE-LOCAL-SRS.txt").read_text().startswith("UNSAFE")
    assert circuit.pk_bytes > 10**6  # proving keys live in the cache, never in git


def test_public_inputs_are_the_int8_codes(proven, small):
    proof, x = proven
    _, circuit = small
    assert [zk.decode_field(v) >> circuit.input_scale for v in proof.instances[:64]] == x[0].astype(int).tolist()
    assert len(proof.proof) == 3072 and verify_zk_proof(circuit, proof)
    flipped = dataclasses.replace(proof, proof=bytes([proof.proof[0] ^ 1]) + proof.proof[1:])
    assert not verify_zk_proof(circuit, flipped)
    changed = list(proof.instances)
    changed[-1] = (changed[-1] + 1) % BN254_R
    assert not verify_zk_proof(circuit, dataclasses.replace(proof, instances=tuple(changed)))


def test_offchain_binding_checks(proven, small, tmp_path):
    model, circuit = small
    proof, x = proven
    si, so = secrets.token_bytes(32), secrets.token_bytes(32)
    att = zk_attestation_for(proof, "0x" + "12" * 20, ModelCommitment(model).root, si, so, 1)
    f = ZkAttestationFile(att, Domain(31337, "0x" + "34" * 20), model.name, proof.proof, proof.instances, proof.input,
                          si, so, {})
    f.save(tmp_path / "zk.json")
    loaded = ZkAttestationFile.load(tmp_path / "zk.json")
    assert check_zk_attestation(loaded, model, circuit) == (True, None)
    other = dataclasses.replace(loaded, input=x[1], attestation=dataclasses.replace(
        att, input_commitment=input_commitment(si, x[1])))
    assert "another input" in check_zk_attestation(other, model, circuit)[1]
    wrong_out = dataclasses.replace(loaded, attestation=dataclasses.replace(att, output_commitment=bytes(32)))
    assert "output commitment" in check_zk_attestation(wrong_out, model, circuit)[1]
    flipped = proof.proof[:5] + bytes([proof.proof[5] ^ 1]) + proof.proof[6:]
    forged = dataclasses.replace(loaded, proof=flipped, attestation=dataclasses.replace(
        att, trace_root=keccak256(flipped)))
    assert "rejects" in check_zk_attestation(forged, model, circuit)[1]
    assert not check_zk_attestation(loaded, random_model([64, 16, 10], seed=91), circuit)[0]


def test_onchain_verification_and_rejections(proven, small):
    model, circuit = small
    proof, x = proven
    root = ModelCommitment(model).root
    with LocalNode("anvil") as chain:
        owner = Sender(chain)
        owner.ensure_funded()
        registry, _ = Registry.deploy(owner)
        registry.register_model(owner, root)
        with pytest.raises(r.RegistryZkVerifierNotSet):
            registry.submit_zk(owner, zk_attestation_for(proof, owner.address, root, b"\x01" * 32, b"\x02" * 32, 9),
                               proof.proof, list(proof.instances), int8_bytes(x[0]), b"\x01" * 32, b"\x02" * 32)
        deployed = registry.deploy_zk_verifier(owner, circuit.verifier_bytecode)
        verifier = deployed.contract_address
        with pytest.raises(r.RegistryUnauthorizedAccount):
            stranger = Sender(chain)
            stranger.ensure_funded()
            registry.set_zk_verifier(stranger, root, verifier, circuit.input_scale, 64, 10)
        registry.set_zk_verifier(owner, root, verifier, circuit.input_scale, 64, 10)
        si, so = secrets.token_bytes(32), secrets.token_bytes(32)
        att = zk_attestation_for(proof, owner.address, root, si, so, nonce=1)
        args = (proof.proof, list(proof.instances), int8_bytes(x[0]), si, so)

        sub = registry.submit_zk(owner, att, *args)
        assert registry.recorded_digest(owner.address, 1) == att.digest(registry.domain) == sub.digest
        assert 400_000 < sub.tx.gas_used < 1_383_003  # a real pairing check, under the 784-wide anchor
        with pytest.raises(r.RegistryNonceUsed):
            registry.submit_zk(owner, att, *args)

        flipped = bytes([proof.proof[0] ^ 1]) + proof.proof[1:]
        with pytest.raises(r.RegistryZkProofRejected):
            registry.submit_zk(owner, dataclasses.replace(att, nonce=2, trace_root=keccak256(flipped)),
                               flipped, *args[1:])
        changed = list(proof.instances)
        changed[-1] = (changed[-1] + 1) % BN254_R  # a changed public output, consistently committed
        with pytest.raises(r.RegistryZkProofRejected):
            registry.submit_zk(owner, dataclasses.replace(att, nonce=3, output_commitment=zk_output_commitment(
                so, changed[64:])), proof.proof, changed, int8_bytes(x[0]), si, so)
        moved = list(proof.instances)
        moved[0] = (moved[0] + (1 << circuit.input_scale)) % BN254_R  # a changed public input
        with pytest.raises(r.RegistryZkInputMismatch):
            registry.submit_zk(owner, dataclasses.replace(att, nonce=4), proof.proof, moved, int8_bytes(x[0]), si, so)
        with pytest.raises(r.RegistryZkInputMismatch):  # a proof for another input than the committed one
            registry.submit_zk(owner, dataclasses.replace(att, nonce=5, input_commitment=input_commitment(si, x[1])),
                               proof.proof, list(proof.instances), int8_bytes(x[1]), si, so)
        with pytest.raises(r.RegistryZkSubmitterMismatch):
            registry.submit_zk(owner, dataclasses.replace(att, nonce=6, prover=verifier), *args)
        with pytest.raises(r.RegistryZkOutputCommitment):
            registry.submit_zk(owner, dataclasses.replace(att, nonce=7, output_commitment=bytes(32)), *args)
        with pytest.raises(r.RegistryZkProofHash):
            registry.submit_zk(owner, dataclasses.replace(att, nonce=8, trace_root=bytes(32)), *args)
        with pytest.raises(r.RegistryZkInstanceCount):
            registry.submit_zk(owner, dataclasses.replace(att, nonce=10), proof.proof, list(proof.instances)[:-1],
                               int8_bytes(x[0]), si, so)


def test_a_copied_zk_proof_neither_squats_the_nonce_nor_rebinds_the_job(proven, small):
    """A copier who lands the victim's proof first records it under its own address only."""
    model, circuit = small
    proof, x = proven
    root = ModelCommitment(model).root
    with LocalNode("anvil") as chain:
        owner, victim, copier = Sender(chain), Sender(chain), Sender(chain)
        for s in (owner, victim, copier):
            s.ensure_funded()
        registry, _ = Registry.deploy(owner)
        registry.register_model(owner, root)
        verifier = registry.deploy_zk_verifier(owner, circuit.verifier_bytecode).contract_address
        registry.set_zk_verifier(owner, root, verifier, circuit.input_scale, 64, 10)
        si, so = secrets.token_bytes(32), secrets.token_bytes(32)
        job = b"\x07" * 32
        att = zk_attestation_for(proof, victim.address, root, si, so, nonce=5, job_id=job)
        args = (proof.proof, list(proof.instances), int8_bytes(x[0]), si, so)
        with pytest.raises(r.RegistryZkSubmitterMismatch):  # the victim's own file, sent first by the copier
            registry.submit_zk(copier, att, *args)
        for nonce, other_job in ((5, b"\x08" * 32), (6, b"\x09" * 32)):  # re-bound: only in the copier's name
            copied = dataclasses.replace(att, prover=copier.address, job_id=other_job, nonce=nonce)
            registry.submit_zk(copier, copied, *args)
            assert registry.recorded_digest(copier.address, nonce) == copied.digest(registry.domain)
            with pytest.raises(r.RegistryNonceUsed):
                registry.submit_zk(copier, dataclasses.replace(copied, job_id=b"\x0a" * 32), *args)
        assert registry.recorded_digest(victim.address, 5) == bytes(32)
        sub = registry.submit_zk(victim, att, *args)  # the victim's nonce is still its own
        assert registry.recorded_digest(victim.address, 5) == att.digest(registry.domain) == sub.digest


def _vcp(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "vcp_toolkit.cli", *args], capture_output=True, text=True, timeout=900,
                          env={**os.environ, **(env or {})}, cwd=cwd)


def test_cli_zk_flow(small, tmp_path):
    model, _ = small
    model.save(tmp_path / "small.q.npz")
    common = ["--model", str(tmp_path / "small.q.npz")]
    key = {"VCP_PRIVATE_KEY": "0x" + "5a" * 32}
    with LocalNode("anvil") as node:
        url = node.rpc_url
        dep = ["--rpc-url", url, "--deployments", str(tmp_path / "d.json")]
        proc = _vcp("deploy", *dep, *common, "--zk", "--json", env=key)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["zk"]["verifier"].startswith("0x")
        proc = _vcp("prove", "--backend", "zk", *dep, *common, "--input", "digits:4", "--out",
                    str(tmp_path / "zk.json"), env=key)
        assert proc.returncode == 0, proc.stderr
        proc = _vcp("verify", str(tmp_path / "zk.json"), *common)  # its format header says zk: no --backend needed
        assert proc.returncode == 0 and proc.stdout.startswith("valid: the zk proof verifies"), proc.stderr
        proc = _vcp("submit", "--backend", "zk", str(tmp_path / "zk.json"), *dep, env=key)
        assert proc.returncode == 0, proc.stderr
        data = json.loads((tmp_path / "zk.json").read_text())
        data["zk"]["instances"][0] = str(int(data["zk"]["instances"][0]) + 1)
        (tmp_path / "bad.json").write_text(json.dumps(data))
        proc = _vcp("verify", "--backend", "zk", str(tmp_path / "bad.json"), *common)
        assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1


def test_without_ezkl_everything_says_how_to_enable_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ezkl", None)
    with pytest.raises(ToolMissing, match=r"pip install 'vcp-toolkit\[zk\]'"):
        zk.require_ezkl()
    code = ("import sys; sys.modules['ezkl'] = None; from vcp_toolkit.cli import main; "
            "sys.exit(main(['prove', '--backend', 'zk', '--input', 'digits:1', '--out', 'x.json', "
            "'--chain-id', '1', '--registry', '0x' + '11' * 20]))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and "pip install 'vcp-toolkit[zk]'" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_zk_demo_compares_all_three_modes(zk_cache):
    from vcp_toolkit.demo.zk import run_zk_demo

    result = run_zk_demo("anvil")
    assert result["verified_offchain"] and result["recorded_onchain"]
    assert result["rejected"] == {"flipped_proof_bit": "RegistryZkProofRejected",
                                  "changed_public_output": "RegistryZkProofRejected",
                                  "proof_for_another_input": "RegistryZkInputMismatch"}
    modes = {c["mode"]: c for c in result["comparison"]}
    assert set(modes) == {"signed", "optimistic", "zk"}
    assert modes["zk"]["proof_bytes"] == 3072
    assert modes["optimistic"]["dispute_gas"] < modes["zk"]["verify_gas"]
    assert modes["signed"]["verify_gas"] < modes["zk"]["verify_gas"]
