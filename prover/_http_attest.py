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
from vcp_toolkit.prover._http_wire import ANSWER_FORMAT, ANSWER_VERSION, InferenceRequest
from vcp_toolkit.prover._prover import Prover


class RequestConflict(InvalidInput):
    """A request id already answered for another input."""


Outcome = bytes | InvalidInput  # the answer to send, or why this one request is refused


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def _signed_parts(prover: Prover, commitments: BatchCommitments, batched: bool) -> tuple[ServedGroup, list[str]]:
    """The group, and per record the JSON members naming what is signed (the same text for every
    record of a batch: one signature over its records root)."""
    count = len(commitments.leaves)
    if batched:
        batch = BatchAttestation(prover.address, prover.model_root, commitments.root, count, random_nonce())
        signature = sign_attestation(batch, prover.domain, prover.key.reveal())
        shared = f'"attestation":null,"batch":{_compact(batch.message())},"signature":"{signature.to_hex()}"'
        return ServedGroup("batch", prover.domain, batch, signature), [shared] * count
    parts = []
    for k in range(count):
        attestation = Attestation(prover.address, prover.model_root, commitments.input_commitments[k],
                                  commitments.output_commitments[k], commitments.trace_roots[k], nonce=random_nonce())
        signature = sign_attestation(attestation, prover.domain, prover.key.reveal())
        parts.append(f'"attestation":{_compact(attestation.message())},"batch":null,"signature":"{signature.to_hex()}"')
    return ServedGroup("single", prover.domain, None, None), parts


def _bodies(prover: Prover, requests: list[InferenceRequest], traces: list[np.ndarray], salts: bytes,
            commitments: BatchCommitments, batched: bool) -> tuple[ServedGroup, list[bytes]]:
    """Each answer as AttestedAnswer.to_json would write it, formatted directly: this runs for
    every request, so it avoids building objects only to serialise them."""
    count = len(requests)
    group, signed = _signed_parts(prover, commitments, batched)
    head = f'{{"format":"{ANSWER_FORMAT}","version":{ANSWER_VERSION},"domain":{_compact(prover.domain.as_json())},'
    inputs, outputs = traces[0].tolist(), traces[-1].tolist()
    tree = commitments.tree if batched else None
    bodies = []
    for k, request in enumerate(requests):
        proof = ",".join(f'"0x{h.hex()}"' for h in tree.proof(k).siblings) if batched else ""
        bodies.append((
            f'{head}"request_id":{_compact(request.request_id)},"input":[{",".join(map(str, inputs[k]))}],'
            f'"output":[{",".join(map(str, outputs[k]))}],"input_salt":"0x{salts[32 * k:32 * k + 32].hex()}",'
            f'"output_salt":"0x{salts[32 * (count + k):32 * (count + k) + 32].hex()}",'
            f'"record":{{"inputCommitment":"0x{commitments.input_commitments[k].hex()}",'
            f'"outputCommitment":"0x{commitments.output_commitments[k].hex()}",'
            f'"traceRoot":"0x{commitments.trace_roots[k].hex()}"}},"index":{k if batched else 0},"proof":[{proof}],'
            f'{signed[k]}}}').encode())
    return group, bodies


def _attest(prover: Prover, journal: ServedJournal, requests: list[InferenceRequest], batched: bool) -> list[bytes]:
    traces = prover.model.trace(np.stack([r.values for r in requests]))
    count = len(requests)
    salts = os.urandom(64 * count)  # fresh per record, never derived: a restart cannot repeat one
    commitments = commit_batch(traces, salts[:32 * count], salts[32 * count:])
    group, bodies = _bodies(prover, requests, traces, salts, commitments, batched)
    flat = np.concatenate(traces, axis=1)
    journal.record(group, [ServedRow(commitments.leaves[k], r.request_id, r.values.tobytes(), flat[k].tobytes(),
                                     salts[32 * k:32 * k + 32], salts[32 * (count + k):32 * (count + k) + 32],
                                     bodies[k]) for k, r in enumerate(requests)])
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
