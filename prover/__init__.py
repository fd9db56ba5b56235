"""The prover side of vcp: run a fixed-point model, commit to the trace, sign an EIP-712 attestation;
in optimistic mode, answer jobs with a bond and make the trace available.

    from vcp_toolkit.prover import Prover
    proven = Prover(model, key, domain).prove(x_int8)
    proven.save(Path("att.json"))     # writes att.trace.json, then att.json
"""

from vcp_toolkit.prover._batch import ProvenBatch, prove_batch
from vcp_toolkit.prover._graph import GraphProver
from vcp_toolkit.prover._prover import ProvenInference, Prover, ProverTimings
from vcp_toolkit.prover._service import Answer, ProverService, ServiceStep, Strategy, honest
from vcp_toolkit.prover._zk import ZkProven, prove_zk, prove_zk_file, zk_attestation_for
from vcp_toolkit._exports import lazy_exports

# The attested-inference server and its clients load on first use (aiohttp takes ~0.4 s to import).
_HTTP = {
    **dict.fromkeys(("Expected", "verify_answer"), "vcp_toolkit.prover._http_check"),
    **dict.fromkeys(("AsyncInferenceClient", "InferenceClient"), "vcp_toolkit.prover._http_client"),
    **dict.fromkeys(("ServedRecord", "export_batch", "served_records"), "vcp_toolkit.prover._http_journal"),
    **dict.fromkeys(("BackgroundServer", "InferenceServer", "ServeSettings"), "vcp_toolkit.prover._http_server"),
    **dict.fromkeys(("AnswerInvalid", "AttestedAnswer", "RequestRejected", "ServerUnavailable", "ServingError"),
                    "vcp_toolkit.prover._http_wire"),
}

__all__ = ["Answer", "AnswerInvalid", "AsyncInferenceClient", "AttestedAnswer", "BackgroundServer", "Expected",
           "InferenceClient", "InferenceServer", "RequestRejected", "ServeSettings", "ServedRecord",
           "ServerUnavailable", "ServingError", "export_batch", "served_records", "verify_answer",
           "GraphProver", "ProvenBatch", "ProvenInference", "Prover", "ProverService", "ProverTimings", "ServiceStep", "Strategy",
           "ZkProven", "honest", "prove_batch", "prove_zk", "prove_zk_file", "zk_attestation_for"]
__getattr__, __dir__ = lazy_exports(__name__, _HTTP)
