"""One group of requests, attested and journaled at once (the server runs this off its event loop):
one forward pass over the stacked inputs, commit_batch for every record, then one signature over
the batch root (batched) or one per record (window 0), and one journal transaction. Nothing is
returned before the transaction is committed."""

from __future__ import annotations

import json
import os

import numpy as np

from vcp_toolkit.attest.eip712 import Attestation, BatchAttestation, random_nonce, sign_attestation
from vcp_toolkit.commit.commitments import BatchCommitments, commit_batch
from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.prover._http_journal import ServedGroup, ServedJournal, ServedRow
from vcp_toolkit.prover._http_wire import AttestedAnswer, InferenceRequest
from vcp_toolkit.prover._prover import Prover


class RequestConflict(InvalidInput):
    """A request id already answered for another input."""


Outcome = bytes | InvalidInput  # the answer to send, or why this one request is refused


def _answers(prover: Prover, requests: list[InferenceRequest], traces: list[np.ndarray], salts: bytes,
             commitments: BatchCommitments, batched: bool) -> tuple[ServedGroup, list[AttestedAnswer]]:
    count = len(requests)
    common = dict(domain=prover.domain, signature=None)
    if batched:
        batch = BatchAttestation(prover.address, prover.model_root, commitments.root, count, random_nonce())
        signature = sign_attestation(batch, prover.domain, prover.key.reveal())
        common.update(batch=batch, signature=signature)
        group = ServedGroup("batch", prover.domain, batch, signature)
    else:
        group = ServedGroup("single", prover.domain, None, None)
    tree = commitments.tree if batched else None
    answers = []
    for k, request in enumerate(requests):
        fields = dict(common)
        ic, oc, root = commitments.input_commitments[k], commitments.output_commitments[k], commitments.trace_roots[k]
        if batched:
            fields.update(index=k, proof=tree.proof(k).siblings)
        else:
            attestation = Attestation(prover.address, prover.model_root, ic, oc, root, nonce=random_nonce())
            fields.update(attestation=attestation,
                          signature=sign_attestation(attestation, prover.domain, prover.key.reveal()))
        answers.append(AttestedAnswer(
            request_id=request.request_id, input=traces[0][k], output=traces[-1][k],
            input_salt=salts[32 * k:32 * k + 32], output_salt=salts[32 * (count + k):32 * (count + k) + 32],
            input_commitment=ic, output_commitment=oc, trace_root=root, **fields))
    return group, answers


def _attest(prover: Prover, journal: ServedJournal, requests: list[InferenceRequest], batched: bool) -> list[bytes]:
    traces = prover.model.trace(np.stack([r.values for r in requests]))
    count = len(requests)
    salts = os.urandom(64 * count)  # fresh per record, never derived: a restart cannot repeat one
    commitments = commit_batch(traces, salts[:32 * count], salts[32 * count:])
    group, answers = _answers(prover, requests, traces, salts, commitments, batched)
    flat = np.concatenate(traces, axis=1)
    bodies = [json.dumps(a.to_json(), separators=(",", ":")).encode() for a in answers]
    journal.record(group, [ServedRow(commitments.leaves[k], r.request_id, r.values.tobytes(), flat[k].tobytes(),
                                     answers[k].input_salt, answers[k].output_salt, bodies[k])
                           for k, r in enumerate(requests)])
    return bodies


def attest_group(prover: Prover, journal: ServedJournal, requests: list[InferenceRequest],
                 batched: bool) -> list[Outcome]:
    """One outcome per request, in order. A request id answered before (now or before a restart)
    gets the journaled answer again, never a second record."""
    outcomes: list[Outcome | None] = [None] * len(requests)
    ids = sorted({r.request_id for r in requests if r.request_id is not None})
    known = journal.answers_for(ids) if ids else {}
    fresh: list[int] = []
    sharing: dict[str, list[int]] = {}  # request id -> every position its first occurrence answers
    for k, request in enumerate(requests):
        rid = request.request_id
        if rid in known:
            outcomes[k] = known[rid][1] if known[rid][0] == request.values.tobytes() else RequestConflict(
                f"request_id {rid!r} was already answered for another input: use a new request_id")
        elif rid is not None and rid in sharing:
            sharing[rid].append(k)  # the same id twice in one group: one record, one answer for both
        else:
            fresh.append(k)
            if rid is not None:
                sharing[rid] = [k]
    if fresh:
        bodies = _attest(prover, journal, [requests[k] for k in fresh], batched)
        for k, body in zip(fresh, bodies):
            rid = requests[k].request_id
            for j in (sharing[rid] if rid is not None else [k]):
                same = requests[j].values.tobytes() == requests[k].values.tobytes()
                outcomes[j] = body if same else RequestConflict(
                    f"request_id {rid!r} was sent twice with different inputs: use a new request_id")
    return outcomes
