"""Off-chain verification of a signed attestation of an operator graph (a CNN): the same checks,
in the same order, as ``verify_attestation`` for dense models, with the graph's commitments."""

from __future__ import annotations

import time

import numpy as np

from vcp_toolkit.attest.eip712 import domain_error, hex32
from vcp_toolkit.attest.files import AttestationFile, TraceBundle
from vcp_toolkit.commit.graph_commitments import (GraphModelCommitment, GraphTraceCommitment, graph_input_commitment,
                                                  graph_output_commitment)
from vcp_toolkit.errors import InvalidInput, VerificationFailed
from vcp_toolkit.model.graph import IntGraph
from vcp_toolkit.verifier._offchain import VerificationReport, _Checks, model_section_error, recover, require_signer


def reexecute_graph(bundle_trace: tuple[np.ndarray, ...], graph: IntGraph) -> list[np.ndarray]:
    """The graph's own trace (flattened per tensor) for the bundle's input; raises
    VerificationFailed where the bundle differs."""
    image = np.asarray(bundle_trace[0])
    if image.dtype != np.int8 or image.size != int(np.prod(graph.input_shape)):
        raise VerificationFailed(f"re-execution: the bundle's input is not an int8 image of {graph.input_shape}")
    try:
        run = graph.run(image.reshape(1, *graph.input_shape))
    except InvalidInput as exc:
        raise VerificationFailed(f"re-execution: {exc}") from exc
    recomputed = [t[0].reshape(-1) for t in run.trace.values()]
    if len(recomputed) != len(bundle_trace):
        raise VerificationFailed(f"re-execution: trace has {len(bundle_trace)} tensors, the graph makes "
                                 f"{len(recomputed)}")
    for node, (got, want) in enumerate(zip(bundle_trace, recomputed)):
        if got.shape != want.shape or not np.array_equal(got, want):
            raise VerificationFailed(f"re-execution: tensor {node} of the trace differs from the graph's")
    return recomputed


def verify_graph_attestation(signed: AttestationFile, bundle: TraceBundle, graph: IntGraph,
                             expected_prover: str | None = None,
                             commitment: GraphModelCommitment | None = None) -> VerificationReport:
    """Check everything a CNN attestation claims; the report says which check failed first."""
    started = time.perf_counter()
    checks = _Checks()
    att = signed.attestation
    commitment = commitment or GraphModelCommitment(graph)
    signer = label = None
    try:
        checks.holds("domain", domain_error(signed.domain))
        checks.equal("model root", att.model_root, commitment.root)
        checks.holds("model section", model_section_error(signed.model_name, signed.model_params, graph))
        checks.equal("trace bundle model", att.model_root, bundle.model_root)
        checks.equal("input commitment", att.input_commitment, graph_input_commitment(bundle.input_salt, bundle.input))
        recomputed = reexecute_graph(bundle.trace, graph)
        checks.passed.append("re-execution")
        label = int(np.argmax(recomputed[-1]))
        checks.equal("trace root", att.trace_root, GraphTraceCommitment.of(recomputed, commitment.shapes).root)
        checks.equal("output commitment", att.output_commitment,
                     graph_output_commitment(bundle.output_salt, recomputed[-1]))
        signer = recover(att, signed.domain, signed.signature)
        require_signer(att, signer, expected_prover)
        checks.passed.append("signature")
        valid, reason = True, None
    except VerificationFailed as exc:
        valid, reason = False, exc.reason
    return VerificationReport(
        valid=valid, reason=reason, digest=hex32(att.digest(signed.domain)), signer=signer, label=label,
        checks_passed=tuple(checks.passed), seconds=time.perf_counter() - started)
