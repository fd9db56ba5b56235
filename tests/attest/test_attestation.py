"""EIP-712 attestations (vcp.attest.eip712) and the on-disk formats (vcp.attest.files)."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest
from eth_abi import encode as abi_encode
from eth_keys import KeyAPI
from eth_utils import keccak, to_checksum_address

from vcp_toolkit.prover import Prover
from vcp_toolkit.attest.eip712 import (
    ATTESTATION_TYPE,
    ATTESTATION_TYPEHASH,
    SECP256K1_HALF_N,
    ZERO_JOB,
    Attestation,
    Domain,
    Signature,
    parse_bytes32,
    recover_signer,
    sign_attestation,
)
from vcp_toolkit.errors import InvalidAttestationFile, InvalidInput
from vcp_toolkit.attest.files import AttestationFile, TraceBundle
from vcp_toolkit.attest.keys import SigningKey

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
REGISTRY_SOURCE = Path(__file__).resolve().parents[2] / "contracts" / "src" / "AttestationRegistry.sol"

KEY = SigningKey(bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"))
DOMAIN = Domain(chain_id=31337, verifying_contract=to_checksum_address("0x" + "5f" * 20))
ATT = Attestation(
    prover=KEY.address,
    model_root=bytes(range(32)),
    input_commitment=b"\x11" * 32,
    output_commitment=b"\x22" * 32,
    trace_root=b"\x33" * 32,
    job_id=b"\x44" * 32,
    nonce=2**128 + 12345,
)


def flip(b: bytes) -> bytes:
    return bytes([b[0] ^ 0x80]) + b[1:]


def reference_digest(att: Attestation, domain: Domain) -> bytes:
    """EIP-712 by hand, from the spec: keccak(0x1901 || domainSeparator || hashStruct)."""
    domain_typehash = keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
    separator = keccak(abi_encode(
        ["bytes32", "bytes32", "bytes32", "uint256", "address"],
        [domain_typehash, keccak(text=domain.name), keccak(text=domain.version), domain.chain_id,
         domain.verifying_contract]))
    struct = keccak(abi_encode(
        ["bytes32", "address", "bytes32", "bytes32", "bytes32", "bytes32", "bytes32", "uint256"],
        [keccak(text=ATTESTATION_TYPE), att.prover, att.model_root, att.input_commitment, att.output_commitment,
         att.trace_root, att.job_id, att.nonce]))
    return keccak(b"\x19\x01" + separator + struct)


# ---------------------------------------------------------------- EIP-712


def test_type_string_matches_contract():
    assert ATTESTATION_TYPE == ("Attestation(address prover,bytes32 modelRoot,bytes32 inputCommitment,"
                                "bytes32 outputCommitment,bytes32 traceRoot,bytes32 jobId,uint256 nonce)")
    assert ATTESTATION_TYPEHASH == keccak(text=ATTESTATION_TYPE)
    source = REGISTRY_SOURCE.read_text()
    in_contract = re.search(r'keccak256\(\s*"(Attestation\([^"]*\))"\s*\)', source)
    assert in_contract is not None and in_contract.group(1) == ATTESTATION_TYPE


def test_digest_matches_hand_computed_eip712():
    assert ATT.digest(DOMAIN) == reference_digest(ATT, DOMAIN)
    other = dataclasses.replace(ATT, nonce=0, job_id=ZERO_JOB)
    assert other.digest(DOMAIN) == reference_digest(other, DOMAIN)


def test_signature_recovers_signer():
    sig = sign_attestation(ATT, DOMAIN, KEY.reveal())
    assert sig.v in (27, 28) and len(sig.r) == 32 and len(sig.s) == 32
    assert sig.is_canonical
    assert recover_signer(ATT, DOMAIN, sig) == KEY.address
    # deterministic (RFC 6979)
    assert sign_attestation(ATT, DOMAIN, KEY.reveal()) == sig


FIELD_CHANGES = {
    "prover": lambda a: dataclasses.replace(a, prover=SigningKey(b"\x07" * 32).address),
    "model_root": lambda a: dataclasses.replace(a, model_root=flip(a.model_root)),
    "input_commitment": lambda a: dataclasses.replace(a, input_commitment=flip(a.input_commitment)),
    "output_commitment": lambda a: dataclasses.replace(a, output_commitment=flip(a.output_commitment)),
    "trace_root": lambda a: dataclasses.replace(a, trace_root=flip(a.trace_root)),
    "job_id": lambda a: dataclasses.replace(a, job_id=flip(a.job_id)),
    "nonce": lambda a: dataclasses.replace(a, nonce=(a.nonce + 1) % 2**256),
}


def test_field_changes_cover_every_field():
    assert set(FIELD_CHANGES) == {f.name for f in dataclasses.fields(Attestation)}
    assert len(FIELD_CHANGES) == 7


def _recovers_someone_else(att: Attestation, domain: Domain, sig: Signature) -> bool:
    try:
        return recover_signer(att, domain, sig) != KEY.address
    except InvalidInput:  # no public key recovers at all: also not the prover
        return True


@pytest.mark.parametrize("field", sorted(FIELD_CHANGES))
def test_any_field_change_breaks_recovery(field):
    sig = sign_attestation(ATT, DOMAIN, KEY.reveal())
    changed = FIELD_CHANGES[field](ATT)
    assert changed != ATT
    assert changed.digest(DOMAIN) != ATT.digest(DOMAIN)
    assert _recovers_someone_else(changed, DOMAIN, sig)


@pytest.mark.parametrize(
    "domain",
    [
        Domain(chain_id=1, verifying_contract=DOMAIN.verifying_contract),
        Domain(chain_id=DOMAIN.chain_id + 1, verifying_contract=DOMAIN.verifying_contract),
        Domain(chain_id=DOMAIN.chain_id, verifying_contract=to_checksum_address("0x" + "60" * 20)),
        Domain(chain_id=DOMAIN.chain_id, verifying_contract=DOMAIN.verifying_contract, name="vcp2"),
        Domain(chain_id=DOMAIN.chain_id, verifying_contract=DOMAIN.verifying_contract, version="2"),
    ],
)
def test_other_domain_breaks_recovery(domain):
    sig = sign_attestation(ATT, DOMAIN, KEY.reveal())
    assert ATT.digest(domain) != ATT.digest(DOMAIN)
    assert _recovers_someone_else(ATT, domain, sig)


def high_s(sig: Signature) -> Signature:
    s = SECP256K1_N - int.from_bytes(sig.s, "big")
    return Signature(v=55 - sig.v, r=sig.r, s=s.to_bytes(32, "big"))


def test_high_s_signature_rejected():
    sig = sign_attestation(ATT, DOMAIN, KEY.reveal())
    malleated = high_s(sig)
    assert int.from_bytes(malleated.s, "big") > SECP256K1_HALF_N
    # the malleated signature is mathematically valid for the same key ...
    vrs = (malleated.v - 27, int.from_bytes(malleated.r, "big"), int.from_bytes(malleated.s, "big"))
    pub = KeyAPI.Signature(vrs=vrs).recover_public_key_from_msg_hash(ATT.digest(DOMAIN))
    assert pub.to_checksum_address() == KEY.address
    # ... and vcp refuses it as non-canonical
    assert not malleated.is_canonical
    with pytest.raises(InvalidInput, match="canonical"):
        recover_signer(ATT, DOMAIN, malleated)


@pytest.mark.parametrize("v", [0, 1, 26, 29, 35, 255])
def test_bad_v_rejected(v):
    sig = dataclasses.replace(sign_attestation(ATT, DOMAIN, KEY.reveal()), v=v)
    assert not sig.is_canonical
    with pytest.raises(InvalidInput):
        recover_signer(ATT, DOMAIN, sig)


def test_zero_s_and_boundary_s():
    sig = sign_attestation(ATT, DOMAIN, KEY.reveal())
    zero = dataclasses.replace(sig, s=b"\x00" * 32)
    assert not zero.is_canonical
    with pytest.raises(InvalidInput):
        recover_signer(ATT, DOMAIN, zero)
    assert dataclasses.replace(sig, s=SECP256K1_HALF_N.to_bytes(32, "big")).is_canonical
    assert not dataclasses.replace(sig, s=(SECP256K1_HALF_N + 1).to_bytes(32, "big")).is_canonical


def test_unrecoverable_signature_is_invalid_input():
    sig = sign_attestation(ATT, DOMAIN, KEY.reveal())
    for r in (b"\x00" * 32, SECP256K1_N.to_bytes(32, "big"), b"\xff" * 32):
        with pytest.raises(InvalidInput):
            recover_signer(ATT, DOMAIN, dataclasses.replace(sig, r=r))


def test_signature_bytes_roundtrip():
    sig = sign_attestation(ATT, DOMAIN, KEY.reveal())
    raw = sig.to_bytes()
    assert len(raw) == 65 and raw == sig.r + sig.s + bytes([sig.v])
    assert Signature.from_bytes(raw) == sig
    assert Signature.from_hex(sig.to_hex()) == sig
    assert sig.to_hex() == "0x" + raw.hex()
    # v as 0/1 (the other common encoding) is normalised to 27/28
    assert Signature.from_bytes(raw[:64] + bytes([sig.v - 27])) == sig
    for bad in (raw[:64], raw + b"\x00", b""):
        with pytest.raises(InvalidInput):
            Signature.from_bytes(bad)
    for bad in (raw.hex(), "0x" + raw.hex()[:-1], "0x" + "zz" * 65, None, 12, "0x"):
        with pytest.raises(InvalidInput):
            Signature.from_hex(bad)


def test_message_roundtrip_and_parsing():
    msg = ATT.message()
    assert msg["nonce"] == str(ATT.nonce)  # decimal string keeps all 256 bits in JSON
    assert Attestation.from_message(msg) == ATT
    assert Attestation.from_message(json.loads(json.dumps(msg))) == ATT
    assert Attestation.from_message({**msg, "nonce": ATT.nonce}) == ATT
    lower = {**msg, "prover": msg["prover"].lower()}
    assert Attestation.from_message(lower).prover == KEY.address  # checksummed
    bad_values = {
        "prover": ["0x1234", "not an address", None, "0x" + "g" * 40],
        "modelRoot": ["0x" + "00" * 31, "0x" + "00" * 33, "00" * 32, "0x" + "zz" * 32, None, 5],
        "nonce": ["-1", -1, str(2**256), 2**256, "0x10", "1.5", 1.5, True, None],
    }
    for key, values in bad_values.items():
        for value in values:
            with pytest.raises(InvalidInput):
                Attestation.from_message({**msg, key: value})
    for key in msg:
        with pytest.raises(InvalidInput):
            Attestation.from_message({k: v for k, v in msg.items() if k != key})
    with pytest.raises(InvalidInput):
        Attestation.from_message([msg])


def test_parse_bytes32_rejects_whitespace():
    for text in ("0x" + "00" * 31 + "  ", "0x" + "ab" * 31 + "\t\n", "0x" + "ab " * 21 + "a"):
        assert len(text) == 66
        try:
            value = parse_bytes32(text, "x")
        except InvalidInput:
            continue
        assert len(value) == 32, f"{text!r} parsed to {len(value)} bytes"


def test_domain_json_roundtrip():
    assert Domain.from_json(DOMAIN.as_json()) == DOMAIN
    for bad in (None, [], {**DOMAIN.as_json(), "chainId": -1}, {**DOMAIN.as_json(), "verifyingContract": "0x12"},
                {**DOMAIN.as_json(), "name": 5}, {k: v for k, v in DOMAIN.as_json().items() if k != "version"}):
        with pytest.raises(InvalidInput):
            Domain.from_json(bad)


# ---------------------------------------------------------------- the contract agrees


def test_contract_digest_and_signer_match_python(registry_setup, model_commitment):
    registry, _, prover_key = registry_setup
    domain = registry.domain
    assert registry.contract.functions.domainSeparator().call() == reference_digest_separator(domain)
    rng = np.random.default_rng(5)
    for i in range(4):
        att = Attestation(
            prover=prover_key.address, model_root=model_commitment.root,
            input_commitment=rng.bytes(32), output_commitment=rng.bytes(32), trace_root=rng.bytes(32),
            job_id=ZERO_JOB if i == 0 else rng.bytes(32), nonce=[0, 1, 2**255, 2**256 - 1][i],
        )
        assert registry.hash_attestation(att) == att.digest(domain) == reference_digest(att, domain)
        sig = sign_attestation(att, domain, prover_key.reveal())
        assert registry.recover_signer(att, sig) == prover_key.address == recover_signer(att, domain, sig)
        for field, change in FIELD_CHANGES.items():
            changed = change(att)
            assert registry.hash_attestation(changed) == changed.digest(domain), field
            assert registry.recover_signer(changed, sig) == recover_signer(changed, domain, sig), field


def reference_digest_separator(domain: Domain) -> bytes:
    domain_typehash = keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
    return keccak(abi_encode(["bytes32", "bytes32", "bytes32", "uint256", "address"],
                             [domain_typehash, keccak(text="vcp"), keccak(text="1"), domain.chain_id,
                              domain.verifying_contract]))


# ---------------------------------------------------------------- attestation file


@pytest.fixture
def proven(model):
    x = model.quantize_input(np.linspace(0, 1, model.input_width))
    return Prover(model, KEY, DOMAIN).prove(x, job_id=b"\x09" * 32, nonce=77,
                                            input_salt=b"\x01" * 32, output_salt=b"\x02" * 32)


@pytest.fixture
def saved(proven, tmp_path):
    att_path, bundle_path = proven.save(tmp_path / "att.json")
    return att_path, bundle_path


def test_attestation_file_roundtrip(proven, saved, model):
    att_path, bundle_path = saved
    assert bundle_path == att_path.with_name("att.trace.json")
    data = json.loads(att_path.read_text())
    assert data["format"] == "vcp.attestation" and data["version"] == 1
    assert data["digest"] == "0x" + proven.digest.hex()
    assert data["typed_data"]["primaryType"] == "Attestation"
    assert data["model"] == {"name": model.name, "root": "0x" + proven.attestation.model_root.hex(),
                             "params": model.param_count}
    assert data["trace_bundle"]["path"] == "att.trace.json"
    assert data["trace_bundle"]["sha256"] == hashlib.sha256(bundle_path.read_bytes()).hexdigest()
    loaded = AttestationFile.load(att_path)
    assert loaded.attestation == proven.attestation
    assert loaded.domain == DOMAIN
    assert loaded.signature == proven.signature
    assert loaded.to_json() == data
    assert AttestationFile.from_json(json.loads(json.dumps(loaded.to_json()))) == loaded
    assert loaded.resolve_bundle(att_path) == bundle_path.resolve()
    assert recover_signer(loaded.attestation, loaded.domain, loaded.signature) == KEY.address


def _mutations():
    def setter(*path, value):
        def apply(d):
            target = d
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
        return apply

    def deleter(*path):
        def apply(d):
            target = d
            for key in path[:-1]:
                target = target[key]
            del target[path[-1]]
        return apply

    out = {
        "format": setter("format", value="vcp.attestation2"),
        "format-trace": setter("format", value="vcp.trace"),
        "version-2": setter("version", value=2),
        "version-str": setter("version", value="1"),
        "typed-nonce": setter("typed_data", "message", "nonce", value="78"),
        "typed-output": setter("typed_data", "message", "outputCommitment", value="0x" + "ee" * 32),
        "typed-chain": setter("typed_data", "domain", "chainId", value=1),
        "typed-type": setter("typed_data", "primaryType", value="Other"),
        "typed-fields": setter("typed_data", "types", "Attestation", value=[]),
        "typed-missing": deleter("typed_data"),
        "digest-edited": setter("digest", value="0x" + "00" * 32),
        "digest-bad-hex": setter("digest", value="0x" + "zz" * 32),
        "digest-short": setter("digest", value="0x" + "00" * 31),
        "model-root": setter("model", "root", value="0x" + "ab" * 32),
        "model-root-bad": setter("model", "root", value="xyz"),
        "model-params-str": setter("model", "params", value="2410"),
        "model-params-bool": setter("model", "params", value=True),
        "model-name": setter("model", "name", value=None),
        "bundle-sha": setter("trace_bundle", "sha256", value="abc"),
        "bundle-path": setter("trace_bundle", "path", value=""),
        "signature-bad-hex": setter("signature", value="0x" + "zz" * 65),
        "signature-short": setter("signature", value="0x" + "00" * 64),
        "attestation-bad-hex": setter("attestation", "inputCommitment", value="0x" + "zz" * 32),
        "attestation-prover": setter("attestation", "prover", value="0x1234"),
        "domain-chain": setter("domain", "chainId", value="x"),
    }
    for section in ("attestation", "domain", "typed_data", "digest", "signature", "model", "trace_bundle",
                    "format", "version"):
        out[f"missing-{section}"] = deleter(section)
    for section in ("model", "trace_bundle", "attestation", "domain"):
        out[f"list-{section}"] = setter(section, value=[])
    return out


MUTATIONS = _mutations()


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_attestation_file_rejects(saved, name):
    data = json.loads(saved[0].read_text())
    AttestationFile.from_json(copy.deepcopy(data))  # the original parses
    MUTATIONS[name](data)
    with pytest.raises(InvalidAttestationFile):
        AttestationFile.from_json(data)


def test_attestation_file_rejects_consistent_domain_change(saved):
    """Changing the domain everywhere keeps the file consistent (it parses) but the signature
    no longer recovers the prover."""
    data = json.loads(saved[0].read_text())
    att = Attestation.from_message(data["attestation"])
    other = Domain(1, DOMAIN.verifying_contract)
    data["domain"] = other.as_json()
    data["typed_data"] = att.typed_data(other)
    data["digest"] = "0x" + att.digest(other).hex()
    loaded = AttestationFile.from_json(data)
    assert _recovers_someone_else(loaded.attestation, loaded.domain, loaded.signature)


def test_attestation_file_load_errors(tmp_path):
    with pytest.raises(InvalidInput):
        AttestationFile.load(tmp_path / "missing.json")
    for raw in (b"", b"garbage", b"\xff\xfe", b"[1, 2", b"[]", b"null", b"{}", b"[" * 50):
        path = tmp_path / "bad.json"
        path.write_bytes(raw)
        with pytest.raises(InvalidAttestationFile):
            AttestationFile.load(path)


# ---------------------------------------------------------------- trace bundle


def test_trace_bundle_roundtrip(proven, saved, model):
    _, bundle_path = saved
    loaded = TraceBundle.load(bundle_path)
    assert loaded.model_root == proven.bundle.model_root
    assert loaded.input_salt == b"\x01" * 32 and loaded.output_salt == b"\x02" * 32
    assert len(loaded.trace) == len(model.layers) + 1
    for a, b in zip(loaded.trace, proven.bundle.trace):
        assert a.dtype == np.int8 and np.array_equal(a, b)
    assert loaded.label == proven.label == int(np.argmax(proven.bundle.output))
    data = json.loads(bundle_path.read_text())
    assert data["format"] == "vcp.trace" and data["version"] == 1 and data["label"] == loaded.label
    assert TraceBundle.from_json(loaded.to_json()).to_json() == data
    sha = loaded.save(bundle_path.with_name("copy.json"))
    assert sha == hashlib.sha256(bundle_path.with_name("copy.json").read_bytes()).hexdigest()
    assert sha == hashlib.sha256(bundle_path.read_bytes()).hexdigest()  # same bytes


@pytest.mark.parametrize("value", [128, -129, 1000, True, False, 1.0, "1", None, [1]])
def test_trace_bundle_rejects_out_of_range_values(saved, value):
    data = json.loads(saved[1].read_text())
    data["trace"][1][3] = value
    with pytest.raises(InvalidAttestationFile):
        TraceBundle.from_json(data)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(format="vcp.attestation"),
        lambda d: d.update(version=2),
        lambda d: d.pop("version"),
        lambda d: d.update(trace=[]),
        lambda d: d.update(trace=d["trace"][:1]),
        lambda d: d.update(trace="1,2,3"),
        lambda d: d["trace"].__setitem__(1, []),
        lambda d: d["trace"].__setitem__(1, "abc"),
        lambda d: d.update(model_root="0x" + "00" * 31),
        lambda d: d.update(input_salt="0x" + "zz" * 32),
        lambda d: d.pop("output_salt"),
        lambda d: d.pop("trace"),
    ],
)
def test_trace_bundle_rejects_malformed(saved, mutate):
    data = json.loads(saved[1].read_text())
    mutate(data)
    with pytest.raises(InvalidAttestationFile):
        TraceBundle.from_json(data)
    with pytest.raises(InvalidAttestationFile):
        TraceBundle.from_json([data])


# ---------------------------------------------------------------- issue 10: strict parsing


@pytest.mark.parametrize("text", ["31337\u00b2", "\u0663\u0661", "\uff11\uff12", "1 ", " 1", "+1", "-1", "1_000",
                                  "0x10", "", "9" * 5000, "1" * 79])
def test_parse_uint_takes_ascii_digits_only(text):
    """Point 12: str.isdigit() let "31337²" through to int() (a bare ValueError) and took Arabic-
    Indic digits as a number; a 5,000-digit string hit Python's int limit. All are InvalidInput."""
    from vcp_toolkit.attest.eip712 import parse_uint

    with pytest.raises(InvalidInput):
        parse_uint(text, "nonce")


def test_parse_uint_bounds():
    from vcp_toolkit.attest.eip712 import parse_uint

    assert parse_uint("0", "n") == 0 and parse_uint(str(2**256 - 1), "n") == 2**256 - 1
    assert parse_uint("007", "n", bits=8) == 7
    for bad in (2**256, -1, True, 1.0, None, [1]):
        with pytest.raises(InvalidInput):
            parse_uint(bad, "n")


def test_read_json_refuses_duplicates_constants_and_huge_integers(tmp_path):
    """Point 9/12: last-wins duplicates let two readers see different files; NaN is not JSON; an
    integer of over 4,300 digits raised a bare ValueError."""
    from vcp_toolkit.attest.files import read_json

    for raw in ('{"a": 1, "a": 2}', '{"x": {"a": 1, "b": 2, "a": 1}}', '[{"k": 1, "k": 1}]', '{"a": NaN}',
                '{"a": Infinity}', '{"a": ' + "9" * 5000 + "}", '{"a": -' + "9" * 101 + "}"):
        (tmp_path / "f.json").write_text(raw)
        with pytest.raises(InvalidAttestationFile):
            read_json(tmp_path / "f.json", "test file")
    (tmp_path / "f.json").write_text('{"a": ' + "9" * 100 + ', "b": [1, 2.5, "x"]}')
    assert read_json(tmp_path / "f.json", "test file")["b"] == [1, 2.5, "x"]


def test_messages_and_domains_refuse_unknown_and_missing_keys():
    from vcp_toolkit.attest.eip712 import BatchAttestation

    batch = BatchAttestation(KEY.address, b"\x01" * 32, b"\x02" * 32, 3, 4)
    for parse, message in ((Attestation.from_message, ATT.message()), (Domain.from_json, DOMAIN.as_json()),
                           (BatchAttestation.from_message, batch.message())):
        assert parse(dict(message)) is not None
        with pytest.raises(InvalidInput, match="unknown key"):
            parse({**message, "extra": 1})
        with pytest.raises(InvalidInput, match="lacks"):
            parse({k: v for k, v in list(message.items())[1:]})


def test_domain_error_names_the_registry_domain():
    from vcp_toolkit.attest.eip712 import domain_error

    assert domain_error(DOMAIN) is None
    assert "name 'other'" in domain_error(dataclasses.replace(DOMAIN, name="other"))
    assert "version '2'" in domain_error(dataclasses.replace(DOMAIN, version="2"))


def test_trace_bundle_label_and_keys_are_checked(saved):
    """Point 9: the bundle's label was never compared with its output, and any key rode along."""
    data = json.loads(saved[1].read_text())
    TraceBundle.from_json(copy.deepcopy(data))
    for mutate in (lambda d: d.update(label=(d["label"] + 1) % 10), lambda d: d.update(label=str(d["label"])),
                   lambda d: d.update(note="unchecked"), lambda d: d.pop("label")):
        changed = copy.deepcopy(data)
        mutate(changed)
        with pytest.raises(InvalidAttestationFile):
            TraceBundle.from_json(changed)


STRICT_MUTATIONS = {
    "unknown-top": lambda d: d.update(note="x"),
    "unknown-model": lambda d: d["model"].update(extra=1),
    "unknown-bundle": lambda d: d["trace_bundle"].update(size=1),
    "unknown-attestation": lambda d: d["attestation"].update(extra="0x"),
    "unknown-domain": lambda d: d["domain"].update(salt="0x" + "00" * 32),
    "sha-uppercase": lambda d: d["trace_bundle"].update(sha256=d["trace_bundle"]["sha256"].upper()),
    "path-absolute": lambda d: d["trace_bundle"].update(path="/etc/passwd"),
    "path-dotdot": lambda d: d["trace_bundle"].update(path="../att.trace.json"),
    "path-newline": lambda d: d["trace_bundle"].update(path="att.trace.json\nvalid: label 1"),
    "path-nul": lambda d: d["trace_bundle"].update(path="att.trace.json\x00"),
    "path-escape": lambda d: d["trace_bundle"].update(path="\x1b[2Katt.trace.json"),
    "path-surrogate": lambda d: d["trace_bundle"].update(path="att\udc80.json"),
    "params-negative": lambda d: d["model"].update(params=-1),
    "name-long": lambda d: d["model"].update(name="m" * 300),
}


@pytest.mark.parametrize("name", sorted(STRICT_MUTATIONS))
def test_attestation_file_is_strict(saved, name):
    data = json.loads(saved[0].read_text())
    STRICT_MUTATIONS[name](data)
    with pytest.raises(InvalidAttestationFile):
        AttestationFile.from_json(data)
