"""Regenerate the shared test vectors (run only when the encoding spec changes on purpose):

    .venv/bin/python tests/vectors/make_vectors.py

Python (tests/commit/test_vectors.py) and Solidity (contracts/test/NeuronHarness.sol, in
tests/chain/test_solidity_mirror.py) both check them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from eth_utils import keccak

from vcp_toolkit.attest.eip712 import Attestation, Domain, sign_attestation
from vcp_toolkit.commit.encoding import (
    BN254_R,
    activation_payload,
    field_element,
    header_payload,
    leaf_hash,
    neuron_payload,
    node_hash,
    record_payload,
    zk_output_commitment,
)
from vcp_toolkit.commit.commitments import input_commitment, output_commitment, record_leaf, trace_leaves, trace_root
from vcp_toolkit.model.fixedpoint import Activation, neuron_output
from vcp_toolkit.commit.merkle import MerkleTree

HERE = Path(__file__).parent
KEY = keccak(text="vcp test vector key (public, never use for value)")


def hx(b: bytes) -> str:
    return "0x" + b.hex()


def unhx(text: str) -> bytes:
    return bytes.fromhex(text[2:])


def u32(value: int) -> bytes:
    """A field element as the 32 big-endian bytes of a uint256 (JSON keeps them exact as hex)."""
    return value.to_bytes(32, "big")


def encoding_vectors() -> dict:
    rng = np.random.default_rng(1)
    weights = rng.integers(-128, 128, 5).astype(np.int8)
    neuron = dict(layer=1, row=3, in_width=5, out_width=10, bias=-123456, multiplier=1518500250, shift=38,
                  activation=1, weights=weights.tolist())
    npay = neuron_payload(**{**neuron, "weights": weights})
    acts = np.array([-128, -1, 0, 1, 127], dtype=np.int8)
    apay = activation_payload(2, acts)
    hpay = header_payload(2, 64, 10, 42, keccak(text="metadata"))
    salt = keccak(text="salt")
    merkle = []
    for n in (1, 2, 3, 5, 8):
        leaves = [leaf_hash(bytes([i])) for i in range(n)]
        tree = MerkleTree(leaves)
        merkle.append({"leaf_payloads": [hx(bytes([i])) for i in range(n)], "root": hx(tree.root),
                       "proofs": [{"index": i, "siblings": [hx(s) for s in tree.proof(i).siblings]} for i in range(n)]})
    traces = []  # 1, 2, 3 and 5 vectors: no padding, none, one and three padding leaves
    for widths in ((3,), (4, 2), (5, 3, 2), (6, 5, 4, 3, 2)):
        trace = [rng.integers(-128, 128, w).astype(np.int8) for w in widths]
        traces.append({"vectors": [v.tolist() for v in trace], "leaves": [hx(leaf) for leaf in trace_leaves(trace)],
                       "root": hx(trace_root(trace))})
    ic, oc, root = input_commitment(salt, acts), output_commitment(salt, acts), unhx(traces[2]["root"])
    outputs = [field_element(v) for v in (-128, -1, 0, 1, 127)] + [2**64 + 1, BN254_R - 2**200]
    return {
        "neuron": {"fields": neuron, "payload": hx(npay), "leaf": hx(leaf_hash(npay))},
        "activation": {"index": 2, "values": acts.tolist(), "payload": hx(apay), "leaf": hx(leaf_hash(apay))},
        "header": {"layers": 2, "in_width": 64, "out_width": 10, "neurons": 42,
                   "metadata_digest": hx(keccak(text="metadata")), "payload": hx(hpay), "leaf": hx(leaf_hash(hpay))},
        "node": {"left": hx(leaf_hash(b"\x00")), "right": hx(leaf_hash(b"\x01")),
                 "hash": hx(node_hash(leaf_hash(b"\x00"), leaf_hash(b"\x01")))},
        "commitments": {"salt": hx(salt), "values": acts.tolist(),
                        "input": hx(input_commitment(salt, acts)), "output": hx(output_commitment(salt, acts))},
        "merkle": merkle,
        "record": {"input_commitment": hx(ic), "output_commitment": hx(oc), "trace_root": hx(root),
                   "payload": hx(record_payload(ic, oc, root)), "leaf": hx(record_leaf(ic, oc, root))},
        "zk_output": [{"salt": hx(salt), "outputs": [hx(u32(v)) for v in values],
                       "commitment": hx(zk_output_commitment(salt, values))} for values in (outputs, [])],
        "trace": traces,
    }


def arithmetic_vectors() -> list[dict]:
    rng = np.random.default_rng(2)
    cases = []
    fixed = [  # (weights, inputs, bias, multiplier, shift, activation): edges of the rounding and clamps
        ([1], [1], -1, 1, 1, 0),             # acc*M = 0 -> 0 (+1 >> 1 = 0)
        ([1], [-1], 0, 1, 1, 0),             # -1 -> (-1 + 1) >> 1 = 0: tie rounds up
        ([1], [-3], 0, 1, 1, 0),             # -3 -> (-3 + 1) >> 1 = -1: tie rounds up
        ([1], [3], 0, 1, 1, 0),              # 3 -> 2: tie rounds up
        ([127] * 4, [127] * 4, 2**31 - 1, 2**31 - 1, 1, 0),  # saturates at 127
        ([-128] * 4, [127] * 4, -(2**31), 2**31 - 1, 1, 0),  # saturates at -128
        ([-128] * 4, [127] * 4, -(2**31), 2**31 - 1, 1, 1),  # relu floor 0
        ([5, -7], [100, 3], 17, 1518500250, 62, 0),          # shift 62
        ([0] * 3, [0] * 3, 0, 1, 1, 1),
    ]
    for w, x, b, m, s, a in fixed:
        y = neuron_output(np.array(w), b, m, s, Activation(a), np.array(x))
        cases.append({"weights": w, "inputs": x, "bias": b, "multiplier": m, "shift": s, "activation": a, "output": y})
    for _ in range(40):
        n = int(rng.integers(1, 65))
        w = rng.integers(-128, 128, n)
        x = rng.integers(-128, 128, n)
        b = int(rng.integers(-(2**31), 2**31))
        m = int(rng.integers(1, 2**31))
        s = int(rng.integers(1, 63))
        a = int(rng.integers(0, 2))
        y = neuron_output(w, b, m, s, Activation(a), x)
        cases.append({"weights": w.tolist(), "inputs": x.tolist(), "bias": b, "multiplier": m, "shift": s,
                      "activation": a, "output": y})
    return cases


def eip712_vectors() -> dict:
    from eth_account import Account

    domain = Domain(chain_id=31337, verifying_contract="0x5FbDB2315678afecb367f032d93F642f64180aa3")
    att = Attestation(
        prover=Account.from_key(KEY).address, model_root=keccak(text="model"), input_commitment=keccak(text="in"),
        output_commitment=keccak(text="out"), trace_root=keccak(text="trace"), job_id=keccak(text="job"), nonce=7,
    )
    sig = sign_attestation(att, domain, KEY)
    return {
        "private_key": hx(KEY),
        "domain": domain.as_json(),
        "message": att.message(),
        "typed_data": att.typed_data(domain),
        "digest": hx(att.digest(domain)),
        "signature": sig.to_hex(),
        "signer": att.prover,
    }


def main() -> None:
    for name, value in (("encoding", encoding_vectors()), ("arithmetic", arithmetic_vectors()),
                        ("eip712", eip712_vectors())):
        if isinstance(value, list):  # one case per line keeps diffs readable
            text = "[\n" + ",\n".join(json.dumps(case) for case in value) + "\n]\n"
        else:
            text = json.dumps(value, indent=1) + "\n"
        (HERE / f"{name}.json").write_text(text)
        print(f"wrote tests/vectors/{name}.json")


if __name__ == "__main__":
    main()
