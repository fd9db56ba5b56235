"""The verifier side of vcp: check attestations off-chain (re-execution) and on-chain (registry);
in optimistic mode, watch results and prove the first wrong step in one transaction.

    from vcp_toolkit.verifier import verify_files
    report = verify_files(Path("att.json"), model)
    assert report.valid, report.reason
"""

from vcp_toolkit.chain.evidence import InputEvidence, NeuronEvidence, OutputEvidence
from vcp_toolkit.verifier._batch import verify_batch, verify_batch_files
from vcp_toolkit.verifier._disputes import Claim, Consistent, Fault, Finding, Unusable, evidence_for, find_fault, neuron_evidence
from vcp_toolkit.verifier._graph_disputes import find_graph_fault, graph_evidence_for
from vcp_toolkit.verifier._graph_offchain import verify_graph_attestation
from vcp_toolkit.verifier._offchain import (CHECKS, VerificationReport, load_any, verify_any, verify_attestation, verify_files,
                                verify_loaded)
from vcp_toolkit.verifier._onchain import OnchainStatus, check_onchain
from vcp_toolkit.verifier._watcher import Watcher, WatchStep
from vcp_toolkit.verifier._zk import check_zk_attestation, verify_zk_proof

__all__ = ["CHECKS", "Claim", "Consistent", "Fault", "Finding", "InputEvidence", "NeuronEvidence", "OutputEvidence",
           "Unusable", "evidence_for", "OnchainStatus", "VerificationReport", "WatchStep", "Watcher", "check_onchain",
           "find_fault", "find_graph_fault", "graph_evidence_for", "verify_graph_attestation",
           "neuron_evidence", "verify_attestation", "verify_batch", "verify_batch_files",
           "verify_files", "check_zk_attestation", "verify_zk_proof", "load_any", "verify_any", "verify_loaded"]
