"""AttestationRegistry on the embedded chain: every revert as its exact Python class, events,
ownership, and the mapping of every contract error to a class."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from eth_abi import encode as abi_encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from vcp_toolkit.contracts import artifact_names, load_artifact
from vcp_toolkit.prover import Prover
from vcp_toolkit.attest.eip712 import SECP256K1_HALF_N, Domain, Signature, sign_attestation
from vcp_toolkit.chain import reverts
from vcp_toolkit.chain.nodes import open_chain
from vcp_toolkit.chain.registry import RECORDED_TOPIC, ModelStatus, Registry
from vcp_toolkit.chain.reverts import (
    ERROR_CLASSES,
    ErrorString,
    PanicError,
    RegistryInvalidSignature,
    RegistryModelAlreadyRegistered,
    RegistryModelNotActive,
    RegistryNonceUsed,
    RegistryProverNotAuthorized,
    RegistrySignerMismatch,
    RegistryUnauthorizedAccount,
    RegistryZeroAddress,
    abi_errors,
    decode_revert,
    revert_data_from,
)
from vcp_toolkit.chain.tx import Sender
from vcp_toolkit.errors import ContractReverted
from vcp_toolkit.attest.files import AttestationFile
from vcp_toolkit.attest.keys import SigningKey
from vcp_toolkit.verifier import check_onchain

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
ZERO_ADDRESS = "0x" + "00" * 20
OTHER_ROOT = b"\xab" * 32


@pytest.fixture(scope="module")
def chain():
    with open_chain("embedded") as c:
        yield c


@dataclasses.dataclass
class Setup:
    chain: object
    registry: Registry
    operator: Sender
    prover_key: SigningKey
    prover: Prover
    stranger: Sender


def funded(chain) -> Sender:
    sender = Sender(chain)
    sender.ensure_funded()
    return sender


@pytest.fixture
def setup(chain, model, model_commitment):
    from conftest import deploy_registry

    registry, operator, prover_key = deploy_registry(chain, model_commitment)
    return Setup(chain, registry, operator, prover_key, Prover(model, prover_key, registry.domain), funded(chain))


_X = None


def sample_input(model):
    global _X
    if _X is None:
        _X = model.quantize_input(np.linspace(0.0, 1.0, model.input_width))
    return _X


def prove(s: Setup, nonce: int = 1, **kw):
    return s.prover.prove(sample_input(s.prover.model), nonce=nonce, **kw)


def raises_exactly(cls, fn):
    with pytest.raises(ContractReverted) as info:
        fn()
    assert type(info.value) is cls, f"{type(info.value).__name__}: {info.value}"
    assert info.value.error_name == cls.__name__
    return info.value


def checksummed(args):
    return tuple(to_checksum_address(a) if isinstance(a, str) else a for a in args)


# ---------------------------------------------------------------- the happy path


def test_submit_records(setup, model_commitment):
    s = setup
    assert s.registry.owner() == s.operator.address
    assert s.registry.model_status(model_commitment.root) == ModelStatus.ACTIVE
    assert s.registry.model_status(OTHER_ROOT) == ModelStatus.UNREGISTERED
    assert s.registry.is_prover(s.prover_key.address)
    assert not s.registry.is_prover(s.stranger.address)
    proven = prove(s, nonce=42)
    assert s.registry.recorded_digest(s.prover_key.address, 42) == b"\x00" * 32
    sub = s.registry.submit(s.stranger, proven.attestation, proven.signature)  # anyone may relay
    assert sub.digest == proven.digest
    assert s.registry.recorded_digest(s.prover_key.address, 42) == proven.digest
    signed = AttestationFile(proven.attestation, proven.domain, proven.signature, "m", 1, "b.json", "0" * 64)
    status = check_onchain(s.registry, signed)
    assert status.recorded and status.reason is None
    assert status.model_status == ModelStatus.ACTIVE and status.prover_authorized


def test_attestation_recorded_event(setup, model_commitment):
    s = setup
    proven = prove(s, nonce=2**200)
    sub = s.registry.submit(s.operator, proven.attestation, proven.signature)
    logs = [log for log in sub.tx.logs if log["address"] == s.registry.address]
    assert len(logs) == 1
    topics = [bytes(t) for t in logs[0]["topics"]]
    assert topics[0] == RECORDED_TOPIC == keccak(text="AttestationRecorded(bytes32,address,bytes32,uint256)")
    assert topics[1] == proven.digest
    assert topics[2] == bytes(12) + bytes.fromhex(s.prover_key.address[2:])
    assert topics[3] == model_commitment.root
    assert int.from_bytes(bytes(logs[0]["data"]), "big") == 2**200


def _events(outcome, registry, name):
    event = getattr(registry.contract.events, name)()
    return [event.process_log(log) for log in outcome.logs if log["address"] == registry.address]


def test_admin_events(chain, model_commitment):
    op = funded(chain)
    registry, deploy_tx = Registry.deploy(op)
    (ev,) = _events(deploy_tx, registry, "OwnershipTransferred")
    assert ev["args"]["previousOwner"] == ZERO_ADDRESS and ev["args"]["newOwner"] == op.address
    (ev,) = _events(registry.register_model(op, model_commitment.root), registry, "ModelRegistered")
    assert bytes(ev["args"]["modelRoot"]) == model_commitment.root
    key = SigningKey.generate()
    (ev,) = _events(registry.set_prover(op, key.address), registry, "ProverAuthorizationChanged")
    assert ev["args"]["prover"] == key.address and ev["args"]["authorized"] is True
    (ev,) = _events(registry.set_prover(op, key.address, False), registry, "ProverAuthorizationChanged")
    assert ev["args"]["authorized"] is False
    (ev,) = _events(registry.retire_model(op, model_commitment.root), registry, "ModelRetired")
    assert bytes(ev["args"]["modelRoot"]) == model_commitment.root


def test_ownership_transfer(setup, model_commitment):
    s = setup
    new_owner = s.stranger
    tx = s.registry.transfer_ownership(s.operator, new_owner.address)
    (ev,) = _events(tx, s.registry, "OwnershipTransferred")
    assert ev["args"]["previousOwner"] == s.operator.address and ev["args"]["newOwner"] == new_owner.address
    assert s.registry.owner() == new_owner.address
    err = raises_exactly(RegistryUnauthorizedAccount, lambda: s.registry.register_model(s.operator, OTHER_ROOT))
    assert checksummed(err.error_args) == (s.operator.address,)
    s.registry.register_model(new_owner, OTHER_ROOT)
    assert s.registry.model_status(OTHER_ROOT) == ModelStatus.ACTIVE
    s.registry.set_prover(new_owner, s.operator.address)
    s.registry.transfer_ownership(new_owner, s.operator.address)  # and back
    assert s.registry.owner() == s.operator.address


# ---------------------------------------------------------------- owner-only


@pytest.mark.parametrize("call", ["register", "retire", "set_prover", "revoke", "transfer"])
def test_non_owner_rejected(setup, model_commitment, call):
    s = setup
    fns = {
        "register": lambda: s.registry.register_model(s.stranger, OTHER_ROOT),
        "retire": lambda: s.registry.retire_model(s.stranger, model_commitment.root),
        "set_prover": lambda: s.registry.set_prover(s.stranger, s.stranger.address),
        "revoke": lambda: s.registry.set_prover(s.stranger, s.prover_key.address, False),
        "transfer": lambda: s.registry.transfer_ownership(s.stranger, s.stranger.address),
    }
    err = raises_exactly(RegistryUnauthorizedAccount, fns[call])
    assert checksummed(err.error_args) == (s.stranger.address,)
    # nothing changed
    assert s.registry.owner() == s.operator.address
    assert s.registry.model_status(OTHER_ROOT) == ModelStatus.UNREGISTERED
    assert s.registry.model_status(model_commitment.root) == ModelStatus.ACTIVE
    assert s.registry.is_prover(s.prover_key.address) and not s.registry.is_prover(s.stranger.address)


def test_zero_address_rejected(setup, chain):
    s = setup
    err = raises_exactly(RegistryZeroAddress, lambda: s.registry.set_prover(s.operator, ZERO_ADDRESS))
    assert err.error_args == ()
    raises_exactly(RegistryZeroAddress, lambda: s.registry.set_prover(s.operator, ZERO_ADDRESS, False))
    raises_exactly(RegistryZeroAddress, lambda: s.registry.transfer_ownership(s.operator, ZERO_ADDRESS))
    raises_exactly(RegistryZeroAddress, lambda: Registry.deploy(s.operator, owner=ZERO_ADDRESS))
    assert s.registry.owner() == s.operator.address


def test_model_already_registered(setup, model_commitment):
    s = setup
    err = raises_exactly(RegistryModelAlreadyRegistered,
                         lambda: s.registry.register_model(s.operator, model_commitment.root))
    assert err.error_args == (model_commitment.root,)
    s.registry.retire_model(s.operator, model_commitment.root)
    raises_exactly(RegistryModelAlreadyRegistered, lambda: s.registry.register_model(s.operator, model_commitment.root))
    assert s.registry.model_status(model_commitment.root) == ModelStatus.RETIRED


# ---------------------------------------------------------------- model status


def test_model_not_active_unregistered(setup):
    s = setup
    att = dataclasses.replace(prove(s, nonce=3).attestation, model_root=OTHER_ROOT)
    sig = sign_attestation(att, s.registry.domain, s.prover_key.reveal())
    err = raises_exactly(RegistryModelNotActive, lambda: s.registry.submit(s.operator, att, sig))
    assert err.error_args == (OTHER_ROOT, int(ModelStatus.UNREGISTERED))
    err = raises_exactly(RegistryModelNotActive, lambda: s.registry.retire_model(s.operator, OTHER_ROOT))
    assert err.error_args == (OTHER_ROOT, 0)


def test_model_not_active_retired(setup, model_commitment):
    s = setup
    earlier = prove(s, nonce=1)
    s.registry.submit(s.operator, earlier.attestation, earlier.signature)
    s.registry.retire_model(s.operator, model_commitment.root)
    assert s.registry.model_status(model_commitment.root) == ModelStatus.RETIRED
    later = prove(s, nonce=2)
    err = raises_exactly(RegistryModelNotActive,
                         lambda: s.registry.submit(s.operator, later.attestation, later.signature))
    assert err.error_args == (model_commitment.root, int(ModelStatus.RETIRED))
    err = raises_exactly(RegistryModelNotActive, lambda: s.registry.retire_model(s.operator, model_commitment.root))
    assert err.error_args == (model_commitment.root, 2)
    # records made before retirement stay
    assert s.registry.recorded_digest(s.prover_key.address, 1) == earlier.digest
    assert s.registry.recorded_digest(s.prover_key.address, 2) == b"\x00" * 32


# ---------------------------------------------------------------- provers


def test_prover_not_authorized(setup, model):
    s = setup
    outsider = SigningKey.generate()
    proven = Prover(model, outsider, s.registry.domain).prove(sample_input(model), nonce=1)
    err = raises_exactly(RegistryProverNotAuthorized,
                         lambda: s.registry.submit(s.operator, proven.attestation, proven.signature))
    assert checksummed(err.error_args) == (outsider.address,)


def test_prover_revoked(setup):
    s = setup
    first = prove(s, nonce=1)
    s.registry.submit(s.operator, first.attestation, first.signature)
    s.registry.set_prover(s.operator, s.prover_key.address, False)
    assert not s.registry.is_prover(s.prover_key.address)
    second = prove(s, nonce=2)
    err = raises_exactly(RegistryProverNotAuthorized,
                         lambda: s.registry.submit(s.operator, second.attestation, second.signature))
    assert checksummed(err.error_args) == (s.prover_key.address,)
    s.registry.set_prover(s.operator, s.prover_key.address, True)  # re-authorised: works again
    s.registry.submit(s.operator, second.attestation, second.signature)


# ---------------------------------------------------------------- nonces


def test_replay_rejected(setup):
    s = setup
    proven = prove(s, nonce=7)
    s.registry.submit(s.operator, proven.attestation, proven.signature)
    for relayer in (s.operator, s.stranger):
        err = raises_exactly(RegistryNonceUsed,
                             lambda: s.registry.submit(relayer, proven.attestation, proven.signature))
        assert checksummed(err.error_args) == (s.prover_key.address, 7)


def test_nonce_reuse_rejected(setup):
    s = setup
    first = prove(s, nonce=0)
    s.registry.submit(s.operator, first.attestation, first.signature)
    other = s.prover.prove(sample_input(s.prover.model)[::-1].copy(), nonce=0)  # different input, same nonce
    assert other.digest != first.digest
    err = raises_exactly(RegistryNonceUsed, lambda: s.registry.submit(s.operator, other.attestation, other.signature))
    assert checksummed(err.error_args) == (s.prover_key.address, 0)
    assert s.registry.recorded_digest(s.prover_key.address, 0) == first.digest


# ---------------------------------------------------------------- signatures


def _malformed(sig: Signature) -> dict[str, Signature]:
    s_int = int.from_bytes(sig.s, "big")
    return {
        "high-s": Signature(v=55 - sig.v, r=sig.r, s=(SECP256K1_N - s_int).to_bytes(32, "big")),
        "half-n+1": dataclasses.replace(sig, s=(SECP256K1_HALF_N + 1).to_bytes(32, "big")),
        "v=29": dataclasses.replace(sig, v=29),
        "v=0": dataclasses.replace(sig, v=0),
        "v=1": dataclasses.replace(sig, v=1),
        "s=0": dataclasses.replace(sig, s=b"\x00" * 32),
        "r=0": dataclasses.replace(sig, r=b"\x00" * 32),
    }


@pytest.mark.parametrize("kind", ["high-s", "half-n+1", "v=29", "v=0", "v=1", "s=0", "r=0"])
def test_invalid_signature(setup, kind):
    s = setup
    proven = prove(s, nonce=11)
    bad = _malformed(proven.signature)[kind]
    err = raises_exactly(RegistryInvalidSignature, lambda: s.registry.submit(s.operator, proven.attestation, bad))
    assert err.error_args == ()
    raises_exactly(RegistryInvalidSignature, lambda: s.registry.recover_signer(proven.attestation, bad))
    assert s.registry.recorded_digest(s.prover_key.address, 11) == b"\x00" * 32
    s.registry.submit(s.operator, proven.attestation, proven.signature)  # the good one still works


@pytest.mark.parametrize("field", ["input_commitment", "output_commitment", "trace_root", "job_id", "nonce"])
def test_tampered_field_signer_mismatch(setup, field):
    s = setup
    proven = prove(s, nonce=5)
    att = proven.attestation
    value = getattr(att, field)
    tampered = dataclasses.replace(att, **{field: value + 1 if isinstance(value, int) else bytes([value[0] ^ 1]) + value[1:]})
    err = raises_exactly(RegistrySignerMismatch, lambda: s.registry.submit(s.operator, tampered, proven.signature))
    recovered, expected = checksummed(err.error_args)
    assert expected == s.prover_key.address and recovered != s.prover_key.address


def test_tampered_prover_signer_mismatch(setup):
    s = setup
    other = SigningKey.generate()
    s.registry.set_prover(s.operator, other.address)
    proven = prove(s, nonce=5)
    forged = dataclasses.replace(proven.attestation, prover=other.address)
    err = raises_exactly(RegistrySignerMismatch, lambda: s.registry.submit(s.operator, forged, proven.signature))
    recovered, expected = checksummed(err.error_args)
    assert expected == other.address and recovered != other.address


def test_unauthorised_key_signing_for_prover(setup):
    s = setup
    intruder = SigningKey.generate()
    proven = prove(s, nonce=9)
    sig = sign_attestation(proven.attestation, s.registry.domain, intruder.reveal())
    err = raises_exactly(RegistrySignerMismatch, lambda: s.registry.submit(s.operator, proven.attestation, sig))
    assert checksummed(err.error_args) == (intruder.address, s.prover_key.address)


@pytest.mark.parametrize("which", ["chain_id", "chain_id+1", "registry", "second-registry", "name", "version"])
def test_signature_for_other_domain(setup, chain, which):
    s = setup
    proven = prove(s, nonce=13)
    d = s.registry.domain
    if which == "second-registry":
        second, _ = Registry.deploy(s.operator)
        domain = second.domain
    else:
        domain = {
            "chain_id": Domain(1, d.verifying_contract),
            "chain_id+1": Domain(d.chain_id + 1, d.verifying_contract),
            "registry": Domain(d.chain_id, to_checksum_address("0x" + "42" * 20)),
            "name": Domain(d.chain_id, d.verifying_contract, name="VCP"),
            "version": Domain(d.chain_id, d.verifying_contract, version="2"),
        }[which]
    assert domain != d
    sig = sign_attestation(proven.attestation, domain, s.prover_key.reveal())
    err = raises_exactly(RegistrySignerMismatch, lambda: s.registry.submit(s.operator, proven.attestation, sig))
    recovered, expected = checksummed(err.error_args)
    assert expected == s.prover_key.address and recovered != expected
    signed = AttestationFile(proven.attestation, domain, sig, "m", 1, "b.json", "0" * 64)
    status = check_onchain(s.registry, signed)
    assert not status.recorded and "not this one" in status.reason


def test_check_onchain_not_recorded(setup):
    s = setup
    proven = prove(s, nonce=21)
    signed = AttestationFile(proven.attestation, proven.domain, proven.signature, "m", 1, "b.json", "0" * 64)
    status = check_onchain(s.registry, signed)
    assert not status.recorded and "never submitted" in status.reason
    # another attestation recorded under the same nonce
    other = s.prover.prove(sample_input(s.prover.model)[::-1].copy(), nonce=21)
    s.registry.submit(s.operator, other.attestation, other.signature)
    status = check_onchain(s.registry, signed)
    assert not status.recorded and "another attestation" in status.reason


# ---------------------------------------------------------------- the error table


def _all_abi_errors():
    out = []
    for name in artifact_names(include_test=True):
        for item in load_artifact(name)["abi"]:
            if item["type"] == "error":
                out.append((name, item["name"]))
    return out


def test_artifacts_present():
    names = artifact_names(include_test=True)
    assert "AttestationRegistry" in names
    assert _all_abi_errors(), "no custom errors found in the artifacts"


def _artifact_params():
    return artifact_names(include_test=True)


@pytest.mark.parametrize("artifact", _artifact_params())
def test_every_contract_error_has_a_class(artifact):
    errors = [item["name"] for item in load_artifact(artifact)["abi"] if item["type"] == "error"]
    missing = [e for e in errors if e not in ERROR_CLASSES]
    assert not missing, f"{artifact}: add classes to vcp.chain.reverts for {missing}"
    for e in errors:
        cls = ERROR_CLASSES[e]
        assert issubclass(cls, ContractReverted) and cls.__name__ == e and cls.__doc__
        assert getattr(reverts, e) is cls


def test_every_error_class_is_used_by_a_contract():
    used = {name for _, name in _all_abi_errors()}
    assert set(ERROR_CLASSES) <= used, f"stale classes: {set(ERROR_CLASSES) - used}"


@pytest.mark.parametrize("artifact", _artifact_params())
def test_abi_errors_table_decodes_each_error(artifact):
    table = abi_errors()
    for item in load_artifact(artifact)["abi"]:
        if item["type"] != "error":
            continue
        selector = next(sel for sel, entry in table.items() if entry[0] == item["name"])
        types = table[selector][1]
        assert function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})") == selector
        values = [_example_value(t) for t in types]
        exc = decode_revert(selector + abi_encode(types, values))
        assert type(exc) is ERROR_CLASSES.get(item["name"]), f"{item['name']} decodes to {type(exc).__name__}"
        assert exc.error_name == item["name"]
        assert len(exc.error_args) == len(types)


def _example_value(typ: str):
    if typ == "address":
        return "0x" + "12" * 20
    if typ.startswith("bytes") and typ != "bytes":
        return b"\x34" * int(typ[5:])
    if typ == "bytes":
        return b"\x01\x02"
    if typ.startswith("uint"):
        return 2
    if typ.startswith("int"):
        return -2
    if typ == "bool":
        return True
    if typ == "string":
        return "x"
    raise AssertionError(f"add an example for {typ}")


# ---------------------------------------------------------------- decode_revert and revert_data_from


def test_decode_revert_known_errors():
    sel = function_signature_to_4byte_selector
    exc = decode_revert(sel("RegistryNonceUsed(address,uint256)") + abi_encode(["address", "uint256"],
                                                                                 ["0x" + "ab" * 20, 99]))
    assert type(exc) is RegistryNonceUsed and checksummed(exc.error_args) == (to_checksum_address("0x" + "ab" * 20), 99)
    assert exc.fields == {"prover": to_checksum_address("0x" + "ab" * 20), "nonce": 99}  # by the ABI's names
    assert "nonce=99" in str(exc)
    exc = decode_revert(sel("Error(string)") + abi_encode(["string"], ["nope"]))
    assert type(exc) is ErrorString and exc.error_args == ("nope",)
    exc = decode_revert(sel("Panic(uint256)") + abi_encode(["uint256"], [0x11]))
    assert type(exc) is PanicError and exc.error_args == (0x11,)
    exc = decode_revert(sel("RegistryInvalidSignature()"))
    assert type(exc) is RegistryInvalidSignature and exc.error_args == ()
    # a known selector with a malformed payload keeps its class, drops the arguments
    exc = decode_revert(sel("RegistryNonceUsed(address,uint256)") + b"\x01\x02")
    assert type(exc) is RegistryNonceUsed and exc.error_args == ()


@pytest.mark.parametrize("data", [b"", b"\x01", b"\x01\x02\x03", b"\xde\xad\xbe\xef", b"\xde\xad\xbe\xef" + b"\x00" * 64])
def test_decode_revert_unknown_or_short(data):
    exc = decode_revert(data)
    assert type(exc) is ContractReverted
    assert str(exc)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.sampled_from(list(abi_errors())).flatmap(
    lambda sel: st.binary(max_size=200).map(lambda tail: sel + tail)))
def test_decode_revert_never_crashes(data):
    exc = decode_revert(data)
    assert isinstance(exc, ContractReverted)
    str(exc)


class _Exc(Exception):
    def __init__(self, *args, data=None):
        super().__init__(*args)
        if data is not None:
            self.data = data


def test_revert_data_from_formats():
    payload = function_signature_to_4byte_selector("RegistryZeroAddress()")
    assert revert_data_from(_Exc("x", data="0x" + payload.hex())) == payload  # web3 ContractCustomError
    assert revert_data_from(_Exc("x", data={"data": "0x" + payload.hex()})) == payload  # JSON-RPC error data
    assert revert_data_from(_Exc("execution reverted: " + repr(payload))) == payload  # eth-tester
    assert revert_data_from(_Exc("execution reverted: out of gas")) == b""
    assert revert_data_from(_Exc("something else")) is None
    assert revert_data_from(_Exc()) is None


def test_revert_data_from_ganache_estimate_gas():
    payload = function_signature_to_4byte_selector("RegistryZeroAddress()")
    exc = _Exc("execution reverted: VM Exception while processing transaction: revert",
               data={"hash": None, "programCounter": 696, "result": "0x" + payload.hex(), "reason": None,
                     "message": "revert"})
    assert revert_data_from(exc) == payload


# ---------------------------------------------------------------- the deployments file


def test_deployments_file(setup, tmp_path):
    from vcp_toolkit.chain import deployments
    from vcp_toolkit.errors import DeploymentNotFound, InvalidInput

    s = setup
    path = tmp_path / "deployments.json"
    with pytest.raises(DeploymentNotFound):
        deployments.lookup(path, s.chain, "AttestationRegistry")  # no file yet
    entry = deployments.Deployment(address=s.registry.address.lower(), tx="0x01", block=1,
                                   deployer=s.operator.address,
                                   code_keccak=deployments.code_keccak(s.chain, s.registry.address))
    deployments.record(path, s.chain.chain_id, "AttestationRegistry", entry)
    deployments.record(path, 999, "AttestationRegistry", entry)  # another chain, same file
    assert deployments.lookup(path, s.chain, "AttestationRegistry") == entry
    assert set(json.loads(path.read_text())) == {str(s.chain.chain_id), "999"}
    with pytest.raises(DeploymentNotFound):
        deployments.lookup(path, s.chain, "OtherContract")
    # the same chain id, but the code is not there (a restarted dev node)
    with open_chain("embedded") as fresh:
        assert fresh.chain_id == s.chain.chain_id
        with pytest.raises(DeploymentNotFound, match="not there any more"):
            deployments.lookup(path, fresh, "AttestationRegistry")
    # other code at the address
    moved = dataclasses.replace(entry, code_keccak="0x" + "00" * 32)
    deployments.record(path, s.chain.chain_id, "AttestationRegistry", moved)
    with pytest.raises(DeploymentNotFound):
        deployments.lookup(path, s.chain, "AttestationRegistry")
    for bad in ("not json", "[]", json.dumps({str(s.chain.chain_id): {"AttestationRegistry": {"address": "0x1"}}})):
        path.write_text(bad)
        with pytest.raises(InvalidInput):
            deployments.lookup(path, s.chain, "AttestationRegistry")


# ---------------------------------------------------------------- the one transaction path


def test_every_transaction_takes_one_path_with_one_gas_margin(registry_setup, model_commitment):
    """transact: gas limit (estimate + with_margin) -> sign -> journal -> broadcast -> receipt."""
    from vcp_toolkit.chain.gas import with_margin

    registry, operator, _ = registry_setup
    journaled = []
    fn = registry.contract.functions.setProver(operator.address, True)
    from vcp_toolkit.chain.tx import calldata

    estimate = int(operator.chain.w3.eth.estimate_gas({"from": operator.address, "to": registry.address,
                                                       "data": calldata(fn)}))
    outcome = operator.transact(to=registry.address, data=calldata(fn), action="authorising", journal=journaled.append)
    assert [tx.tx_hash for tx in journaled] == [outcome.tx_hash]
    assert journaled[0].gas == with_margin(estimate) and journaled[0].sender == operator.address
    assert registry.is_prover(operator.address)
    many = operator.transact_many([(registry.address, calldata(registry.contract.functions.setProver(a, True)))
                                   for a in ("0x" + "01" * 20, "0x" + "02" * 20)], journal=journaled.append)
    assert [tx.tx_hash for tx in journaled[1:]] == [o.tx_hash for o in many]
    assert [tx.nonce for tx in journaled] == [journaled[0].nonce + i for i in range(3)]
