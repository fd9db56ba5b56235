"""The prover side of vcp: run a fixed-point model, commit to the trace, sign an EIP-712 attestation;
in optimistic mode, answer jobs with a bond and make the trace available.

    from vcp_toolkit.prover import Prover
    proven = Prover(model, key, domain).prove(x_int8)
    proven.save(Path("att.json"))     # writes att.trace.json, then att.json
"""

from vcp_toolkit.prover._batch import ProvenBatch, prove_batch
from vcp_toolkit.prover._prover import ProvenInference, Prover, ProverTimings
from vcp_toolkit.prover._service import Answer, ProverService, ServiceStep, Strategy, honest
from vcp_toolkit.prover._zk import ZkProven, prove_zk, prove_zk_file, zk_attestation_for

__all__ = ["Answer", "ProvenBatch", "ProvenInference", "Prover", "ProverService", "ProverTimings", "ServiceStep",
           "Strategy", "ZkProven", "honest", "prove_batch", "prove_zk", "prove_zk_file", "zk_attestation_for"]
