"""The figures vcp is measured against (docs/anchors.md). EZKL's were measured on a 2-core
machine like this one (Anvil 1.7.1, Prague); the others are cited from their projects' documentation
and are marked so wherever they are shown."""

from __future__ import annotations

EZKL_VERSION = "23.0.5"

# model widths -> (params, setup s, prove s, verify off-chain s, proof bytes, verify gas, verifier deploy gas)
EZKL_MEASURED = {
    (64, 16, 10): {"params": 1_210, "setup_s": 8.8, "prove_s": 10.1, "verify_s": 0.06, "proof_bytes": 3_072,
                   "verify_gas": 608_296, "deploy_gas": 2_959_079},
    (64, 64, 64, 10): {"params": 8_970, "setup_s": 12.8, "prove_s": 12.3, "verify_s": 0.05, "proof_bytes": 3_072,
                       "verify_gas": 607_576, "deploy_gas": 2_959_043},
    (784, 128, 10): {"params": 101_770, "setup_s": 48.8, "prove_s": 102.8, "verify_s": 0.14, "proof_bytes": 3_072,
                     "verify_gas": 1_383_003, "deploy_gas": 2_959_723},
}

CITED_VERIFY_GAS = {
    "RISC Zero (Groth16 verifier, cited)": 215_000,
    "RISC Zero via router (cited)": 316_000,
    "SP1 (Groth16, cited)": 270_000,
    "TEE quote via zk proof (cited)": 300_000,
}


def ezkl_for(widths: list[int]) -> dict | None:
    """EZKL's measured row for a model of exactly these widths, if there is one."""
    return EZKL_MEASURED.get(tuple(widths))


def ezkl_verify_gas_at_most(params: int) -> int:
    """EZKL's verify gas for the smallest measured model at least this large (conservative
    comparison: a larger zk circuit never costs less to verify)."""
    candidates = sorted((row["params"], row["verify_gas"]) for row in EZKL_MEASURED.values())
    for size, gas in candidates:
        if params <= size:
            return gas
    return candidates[-1][1]
