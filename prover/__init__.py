"""The prover side of vcp: run a fixed-point model, commit to the trace, sign an EIP-712 attestation.

    from prover import Prover
    proven = Prover(model, key, domain).prove(x_int8)
    proven.save(Path("att.json"))     # writes att.trace.json, then att.json
"""

from prover._prover import ProvenInference, Prover, ProverTimings

__all__ = ["Prover", "ProvenInference", "ProverTimings"]
