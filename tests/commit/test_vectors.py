"""The shared JSON vectors (tests/vectors): Python must still produce every one of them, and the
Solidity registry must agree on the EIP-712 vector (deployed where the vector says it lives)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from eth_utils import keccak

from vcp_toolkit.attest.eip712 import Attestation, Domain, Signature, recover_signer
from vcp_toolkit.commit.commitments import input_commitment, output_commitment, record_leaf, trace_leaves, trace_root
from vcp_toolkit.commit.encoding import (
    BN254_R,
    activation_payload,
    header_payload,
    leaf_hash,
    neuron_payload,
    node_hash,
    record_payload,
    zk_output_commitment,
)
from vcp_toolkit.model.fixedpoint import Activation, QuantizedDense, neuron_output
from vcp_toolkit.commit.merkle import MerkleProof, MerkleTree, verify_proof

VECTORS = Path(__file__).parents[1] / "vectors"


def load(name: str):
    return json.loads((VECTORS / f"{name}.json").read_text())


def unhex(text: str) -> bytes:
    return bytes.fromhex(text[2:])


def test_neuron_activation_header_leaves():
    enc = load("encoding")
    f = enc["neuron"]["fields"]
    payload = neuron_payload(**{**f, "weights": np.array(f["weights"], dtype=np.int8)})
    assert payload == unhex(enc["neuron"]["payload"])
    assert leaf_hash(payload) == unhex(enc["neuron"]["leaf"])
    a = enc["activation"]
    payload = activation_payload(a["index"], np.array(a["values"], dtype=np.int8))
    assert payload == unhex(a["payload"]) and leaf_hash(payload) == unhex(a["leaf"])
    h = enc["header"]
    payload = header_payload(h["layers"], h["in_width"], h["out_width"], h["neurons"], unhex(h["metadata_digest"]))
    assert payload == unhex(h["payload"]) and leaf_hash(payload) == unhex(h["leaf"])
    n = enc["node"]
    assert node_hash(unhex(n["left"]), unhex(n["right"])) == unhex(n["hash"])


def test_salted_commitments():
    c = load("encoding")["commitments"]
    values = np.array(c["values"], dtype=np.int8)
    assert input_commitment(unhex(c["salt"]), values) == unhex(c["input"])
    assert output_commitment(unhex(c["salt"]), values) == unhex(c["output"])
    assert c["input"] != c["output"]  # domain-separated


def test_record_leaf():
    rec = load("encoding")["record"]
    args = (unhex(rec["input_commitment"]), unhex(rec["output_commitment"]), unhex(rec["trace_root"]))
    assert record_payload(*args) == unhex(rec["payload"])
    assert record_leaf(*args) == leaf_hash(unhex(rec["payload"])) == unhex(rec["leaf"])
    enc = load("encoding")  # the record is made of the other vectors
    assert rec["input_commitment"] == enc["commitments"]["input"] and rec["trace_root"] == enc["trace"][2]["root"]


def test_zk_output_commitment():
    cases = load("encoding")["zk_output"]
    assert any(case["outputs"] == [] for case in cases)
    for case in cases:
        outputs = [int(v, 16) for v in case["outputs"]]
        assert all(0 <= v < BN254_R for v in outputs)
        assert zk_output_commitment(unhex(case["salt"]), outputs) == unhex(case["commitment"])


def test_trace_roots():
    cases = load("encoding")["trace"]
    assert [len(case["vectors"]) for case in cases] == [1, 2, 3, 5]  # padded with 0, 0, 1 and 3 leaves
    for case in cases:
        trace = [np.array(v, dtype=np.int8) for v in case["vectors"]]
        assert trace_leaves(trace) == [unhex(leaf) for leaf in case["leaves"]]
        assert trace_root(trace) == unhex(case["root"])


def test_merkle_roots_and_proofs():
    for case in load("encoding")["merkle"]:
        leaves = [leaf_hash(unhex(p)) for p in case["leaf_payloads"]]
        tree = MerkleTree(leaves)
        assert tree.root == unhex(case["root"])
        for proof in case["proofs"]:
            mp = MerkleProof(proof["index"], tuple(unhex(s) for s in proof["siblings"]))
            assert tree.proof(proof["index"]) == mp
            assert verify_proof(tree.root, leaves[proof["index"]], mp, len(leaves))


def test_arithmetic_cases_exact():
    cases = load("arithmetic")
    assert len(cases) >= 40
    for case in cases:
        w, x = np.array(case["weights"]), np.array(case["inputs"])
        act = Activation(case["activation"])
        assert neuron_output(w, case["bias"], case["multiplier"], case["shift"], act, x) == case["output"]
        layer = QuantizedDense(
            weight=w.astype(np.int8)[None, :], bias=np.array([case["bias"]], dtype=np.int64),
            multiplier=np.array([case["multiplier"]], dtype=np.int64), shift=np.array([case["shift"]], dtype=np.int64),
            activation=act,
        )
        assert int(layer(x.astype(np.int8)[None, :])[0, 0]) == case["output"]


def test_eip712_python():
    v = load("eip712")
    att = Attestation.from_message(v["message"])
    domain = Domain.from_json(v["domain"])
    assert att.typed_data(domain) == v["typed_data"]
    assert att.digest(domain) == unhex(v["digest"])
    assert recover_signer(att, domain, Signature.from_hex(v["signature"])) == v["signer"]


@pytest.mark.chain
@pytest.mark.node
def test_eip712_solidity_agrees():
    """Deploy the registry as Anvil's first transaction, at the address the vector names."""
    from vcp_toolkit.contracts import load_artifact
    from vcp_toolkit.chain.nodes import LocalNode

    v = load("eip712")
    att = Attestation.from_message(v["message"])
    sig = Signature.from_hex(v["signature"])
    with LocalNode("anvil") as chain:
        w3 = chain.w3
        deployer = w3.eth.accounts[0]
        art = load_artifact("AttestationRegistry")
        tx = w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"]).constructor(deployer).transact({"from": deployer})
        address = w3.eth.wait_for_transaction_receipt(tx)["contractAddress"]
        assert address == v["domain"]["verifyingContract"] and chain.chain_id == v["domain"]["chainId"]
        registry = w3.eth.contract(address=address, abi=art["abi"])
        assert bytes(registry.functions.hashAttestation(att.as_tuple()).call()) == unhex(v["digest"])
        assert registry.functions.recoverSigner(att.as_tuple(), sig.v, sig.r, sig.s).call() == v["signer"]
        domain_type = keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
        expected_separator = keccak(
            domain_type + keccak(text="vcp") + keccak(text="1") + chain.chain_id.to_bytes(32, "big")
            + bytes(12) + bytes.fromhex(address[2:]))
        assert bytes(registry.functions.domainSeparator().call()) == expected_separator
