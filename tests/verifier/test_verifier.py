"""Off-chain verification (verifier.verify_attestation / verify_files): each check fails on its own
tampering, and the prover's output is what the verifier recomputes."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import numpy as np
import pytest
from eth_utils import to_checksum_address

from vcp_toolkit.prover import Prover
from vcp_toolkit.attest.eip712 import Domain, sign_attestation
from vcp_toolkit.commit.commitments import output_commitment, trace_root
from vcp_toolkit.model.datasets import load_digits_split
from vcp_toolkit.errors import InvalidAttestationFile, InvalidInput
from vcp_toolkit.attest.files import AttestationFile, TraceBundle
from vcp_toolkit.attest.keys import SigningKey
from vcp_toolkit.model.quantize import QuantizedModel
from vcp_toolkit.verifier import CHECKS, verify_attestation, verify_files

KEY = SigningKey(bytes.fromhex("31" * 32))
DOMAIN = Domain(31337, to_checksum_address("0x" + "ab" * 20))


@pytest.fixture(scope="module")
def proven(model):
    x = model.quantize_input(load_digits_split().x_test[11])
    return Prover(model, KEY, DOMAIN).prove(x, nonce=5)


def signed_file(p, attestation=None, signature=None) -> AttestationFile:
    att = attestation or p.attestation
    return AttestationFile(att, p.domain, signature or p.signature, p.model_name, p.model_params, "b.json", "0" * 64)


def resign(p, attestation):
    return signed_file(p, attestation, sign_attestation(attestation, p.domain, KEY.reveal()))


def test_prover_output(proven, model):
    x = proven.bundle.input
    trace = [v[0] for v in model.trace(x)]
    assert [t.tobytes() for t in proven.bundle.trace] == [t.tobytes() for t in trace]
    assert proven.attestation.trace_root == trace_root(trace)
    assert proven.attestation.prover == KEY.address
    assert proven.label == int(np.argmax(trace[-1]))
    assert proven.attestation.nonce == 5
    assert proven.timings.total_s >= 0
    with pytest.raises(InvalidInput):
        Prover(model, KEY, DOMAIN).prove(np.zeros((2, model.input_width), dtype=np.int8))
    with pytest.raises(InvalidInput):
        Prover(model, KEY, DOMAIN).prove(np.zeros(model.input_width + 1, dtype=np.int8))


def test_random_nonces_and_salts_differ(proven, model):
    again = Prover(model, KEY, DOMAIN).prove(proven.bundle.input)
    assert again.attestation.nonce != proven.attestation.nonce
    assert again.bundle.input_salt != proven.bundle.input_salt
    assert again.attestation.input_commitment != proven.attestation.input_commitment
    assert again.attestation.trace_root == proven.attestation.trace_root  # same computation


def test_valid(proven, model, model_commitment):
    report = verify_attestation(signed_file(proven), proven.bundle, model)
    assert report.valid and report.reason is None
    assert report.checks_passed == CHECKS
    assert report.signer == KEY.address and report.label == proven.label
    assert report.digest == "0x" + proven.digest.hex()
    report = verify_attestation(signed_file(proven), proven.bundle, model, expected_prover=KEY.address.lower(),
                                model_commitment=model_commitment)
    assert report.valid


def _fail(report, check: str):
    assert not report.valid
    assert report.reason.startswith(check), report.reason
    assert check not in report.checks_passed
    assert report.checks_passed == CHECKS[:CHECKS.index(check)]


def test_wrong_model(proven, model):
    layers = list(model.layers)
    b = layers[1].bias.copy()
    b[0] += 1
    layers[1] = dataclasses.replace(layers[1], bias=b)
    other = dataclasses.replace(model, layers=tuple(layers))
    _fail(verify_attestation(signed_file(proven), proven.bundle, other), "model root")


def test_bundle_for_other_model(proven, model):
    bundle = dataclasses.replace(proven.bundle, model_root=b"\x01" * 32)
    _fail(verify_attestation(signed_file(proven), bundle, model), "trace bundle model")


def test_input_commitment(proven, model):
    trace = list(proven.bundle.trace)
    trace[0] = trace[0].copy()
    trace[0][0] ^= 1
    _fail(verify_attestation(signed_file(proven), dataclasses.replace(proven.bundle, trace=tuple(trace)), model),
          "input commitment")
    bundle = dataclasses.replace(proven.bundle, input_salt=b"\x00" * 32)
    _fail(verify_attestation(signed_file(proven), bundle, model), "input commitment")


@pytest.mark.parametrize("layer", [1, 2])
def test_reexecution(proven, model, layer):
    trace = list(proven.bundle.trace)
    trace[layer] = trace[layer].copy()
    trace[layer][-1] = 127 if trace[layer][-1] != 127 else 0
    _fail(verify_attestation(signed_file(proven), dataclasses.replace(proven.bundle, trace=tuple(trace)), model),
          "re-execution")


def test_reexecution_wrong_length(proven, model):
    trace = proven.bundle.trace + (proven.bundle.trace[-1],)
    _fail(verify_attestation(signed_file(proven), dataclasses.replace(proven.bundle, trace=trace), model),
          "re-execution")
    trace = (proven.bundle.trace[0], proven.bundle.trace[1][:-1], proven.bundle.trace[2])
    _fail(verify_attestation(signed_file(proven), dataclasses.replace(proven.bundle, trace=trace), model),
          "re-execution")


def test_trace_root(proven, model):
    att = dataclasses.replace(proven.attestation, trace_root=b"\x05" * 32)
    _fail(verify_attestation(resign(proven, att), proven.bundle, model), "trace root")


def test_output_commitment_signed_lie(proven, model):
    """A prover that signs a wrong output: the signature is genuine, re-execution catches it."""
    wrong = proven.bundle.output.copy()
    wrong[(proven.label + 1) % len(wrong)] = 127
    att = dataclasses.replace(proven.attestation, output_commitment=output_commitment(proven.bundle.output_salt, wrong))
    _fail(verify_attestation(resign(proven, att), proven.bundle, model), "output commitment")


def test_signature(proven, model):
    other = SigningKey(bytes.fromhex("32" * 32))
    sig = sign_attestation(proven.attestation, DOMAIN, other.reveal())
    report = verify_attestation(signed_file(proven, signature=sig), proven.bundle, model)
    _fail(report, "signature")
    assert report.signer == other.address
    high = dataclasses.replace(proven.signature, v=29)
    _fail(verify_attestation(signed_file(proven, signature=high), proven.bundle, model), "signature")
    report = verify_attestation(signed_file(proven), proven.bundle, model, expected_prover="0x" + "77" * 20)
    _fail(report, "signature")
    other_domain = dataclasses.replace(signed_file(proven), domain=Domain(1, DOMAIN.verifying_contract))
    _fail(verify_attestation(other_domain, proven.bundle, model), "signature")


def test_bundle_too_short_for_model(proven, model):
    bundle = TraceBundle(proven.bundle.model_root, proven.bundle.input_salt, proven.bundle.output_salt,
                         (proven.bundle.trace[0][:10], proven.bundle.trace[-1]))
    report = verify_attestation(signed_file(proven), bundle, model)
    assert not report.valid  # the input commitment no longer matches, checked first


def test_verify_files(proven, model, tmp_path):
    att_path, bundle_path = proven.save(tmp_path / "att.json")
    assert verify_files(att_path, model).valid
    assert verify_files(att_path, model, bundle_path).valid
    assert verify_files(att_path, model, expected_prover=KEY.address).valid
    assert not verify_files(att_path, model, expected_prover="0x" + "77" * 20).valid
    # a bundle that is not the one named (sha256 differs) is refused before anything else
    data = json.loads(bundle_path.read_text())
    data["trace"][2][0] = (data["trace"][2][0] + 1) % 128
    other = tmp_path / "other.trace.json"
    other.write_text(json.dumps(data))
    report = verify_files(att_path, model, other)
    assert not report.valid and "sha256" in report.reason and report.checks_passed == ()
    with pytest.raises(InvalidInput):
        verify_files(att_path, model, tmp_path / "missing.json")
    # moving both files together keeps them valid (the bundle path is relative)
    moved = tmp_path / "moved"
    moved.mkdir()
    (moved / "att.json").write_bytes(att_path.read_bytes())
    (moved / bundle_path.name).write_bytes(bundle_path.read_bytes())
    assert verify_files(moved / "att.json", model).valid
    assert hashlib.sha256((moved / bundle_path.name).read_bytes()).hexdigest() == \
        json.loads(att_path.read_text())["trace_bundle"]["sha256"]


def test_other_model_file(proven, model, tmp_path):
    """A verifier given another model file rejects at the model root."""
    path = tmp_path / "m.q.npz"
    renamed = QuantizedModel("other-name", model.layers, model.input_scale, model.output_scale, model.metadata)
    renamed.save(path)
    report = verify_attestation(signed_file(proven), proven.bundle, QuantizedModel.load(path))
    _fail(report, "model root")


@pytest.mark.parametrize("address", ["0x" + "ab" * 20, "0x" + "AB" * 20])
def test_non_checksummed_domain_roundtrips(model, tmp_path, address):
    x = model.quantize_input(load_digits_split().x_test[0])
    proven = Prover(model, KEY, Domain(31337, address)).prove(x, nonce=1)
    att_path, _ = proven.save(tmp_path / "att.json")
    assert verify_files(att_path, model).valid


# ---------------------------------------------------------------- issue 10


@pytest.mark.parametrize("change", [{"name": "other"}, {"version": "2"}, {"name": "VCP"}, {"version": "1.0"}])
def test_domain_name_and_version_must_be_the_registrys(model, proven, change):
    """Point 8: a genuine signature under another EIP-712 name or version verified off-chain, though
    the registry (name "vcp", version "1") can never accept it."""
    domain = dataclasses.replace(DOMAIN, **change)
    other = Prover(model, KEY, domain).prove(proven.bundle.input, nonce=9)
    signed = AttestationFile(other.attestation, domain, other.signature, other.model_name, other.model_params,
                             "b.json", "0" * 64)
    report = verify_attestation(signed, other.bundle, model)
    assert not report.valid and report.reason.startswith("domain: ") and report.checks_passed == ()


def test_model_section_must_describe_the_model(proven, model):
    """Point 9: the unsigned model name and params are checked against the model the signed root names."""
    for name, params in (("other-model", proven.model_params), (proven.model_name, proven.model_params + 1)):
        signed = dataclasses.replace(signed_file(proven), model_name=name, model_params=params)
        _fail(verify_attestation(signed, proven.bundle, model), "model section")


def test_bundle_path_must_stay_in_the_attestations_folder(proven, model, tmp_path):
    """Point 10: the bundle path is relative and resolves inside the attestation's folder; the
    same files verify when they sit side by side, and --bundle (the user's own choice) still works."""
    att_path, bundle_path = proven.save(tmp_path / "att.json")
    sub = tmp_path / "sub"
    sub.mkdir()
    data = json.loads(att_path.read_text())
    for path in ("../att.trace.json", str(bundle_path), "x/../../att.trace.json"):
        data["trace_bundle"]["path"] = path
        (sub / "att.json").write_text(json.dumps(data))
        with pytest.raises(InvalidAttestationFile):
            verify_files(sub / "att.json", model)
    (sub / "link.json").symlink_to(bundle_path)  # a symlink leading out of the folder
    data["trace_bundle"]["path"] = "link.json"
    (sub / "att.json").write_text(json.dumps(data))
    with pytest.raises(InvalidAttestationFile, match="outside"):
        verify_files(sub / "att.json", model)
    (sub / "att.trace.json").write_bytes(bundle_path.read_bytes())
    data["trace_bundle"]["path"] = "./att.trace.json"
    (sub / "att.json").write_text(json.dumps(data))
    assert verify_files(sub / "att.json", model).valid


def test_unreadable_bundle_is_file_unreadable(proven, model, tmp_path):
    """Point 11: a bundle that cannot be read is 'could not check' (FileUnreadable), not invalid."""
    from vcp_toolkit.errors import FileUnreadable

    att_path, bundle_path = proven.save(tmp_path / "att.json")
    bundle_path.unlink()
    with pytest.raises(FileUnreadable):
        verify_files(att_path, model)
