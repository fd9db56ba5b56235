"""The watcher: re-executes every optimistic result and proves the first wrong one on-chain.

Each job is handled on its own: a job whose transactions revert or whose data is poisoned is
reported in ``WatchStep.errors`` and looked at again next step, and never stops the others.
Fraud proofs are claimed first (``claimFraud``), then sent once the claim is mined, so junk
claims cannot gate the watcher out and a copier cannot take its reward.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vcp_toolkit.chain.optimistic import ChallengeOutcome, JobStatus, OptimisticInference
from vcp_toolkit.chain.tx import Sender, TxOutcome
from vcp_toolkit.commit.commitments import ModelCommitment
from vcp_toolkit.errors import VcpError
from vcp_toolkit.ops.exchange import Exchange
from vcp_toolkit.model.quantize import QuantizedModel
from vcp_toolkit.ops.state import StateFile
from vcp_toolkit.verifier._disputes import Claim, Consistent, Fault, Finding, Unusable, evidence_for, find_fault

if TYPE_CHECKING:
    from vcp_toolkit.ops.journal import Journal


@dataclass
class WatchStep:
    """What one pass of the watcher did, by job id."""

    verified: list[int] = field(default_factory=list)
    challenged: dict[int, tuple[Fault, ChallengeOutcome]] = field(default_factory=dict)
    reveal_requested: dict[int, TxOutcome] = field(default_factory=dict)
    slashed_withheld: dict[int, TxOutcome] = field(default_factory=dict)
    waiting: dict[int, str] = field(default_factory=dict)
    claimed: dict[int, TxOutcome] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)


class Watcher:
    """Follows ResultSubmitted and TraceRevealed events from the last processed block (kept in
    ``state_path``, so a restart misses nothing) and checks each result of a known model."""

    def __init__(self, contract: OptimisticInference, sender: Sender, models: list[QuantizedModel],
                 state_path: Path, exchange: Exchange | None = None, journal: "Journal | None" = None) -> None:
        self.contract = contract
        self.sender = sender
        self.commitments = {c.root: c for c in (ModelCommitment(m) for m in models)}
        self.exchange = exchange
        self.state = StateFile(state_path, {"last_block": -1, "pending": {}, "revealed": {}, "done": {}})
        self.chain_id = contract.chain.chain_id
        self.journal = journal

    def step(self) -> WatchStep:
        out = WatchStep()
        latest = int(self.contract.chain.w3.eth.block_number)
        first = self.state.data["last_block"] + 1
        if first <= latest:
            for log in self.contract.events("ResultSubmitted", first, latest):
                key = f"{log['args']['jobId']}:{bytes(log['args']['traceRoot']).hex()}"
                self.state.data["pending"][key] = True
            for log in self.contract.events("TraceRevealed", first, latest):
                args = log["args"]
                self.state.data["revealed"][str(args["jobId"])] = {
                    "trace": [bytes(v).hex() for v in args["trace"]],
                    "input_salt": bytes(args["inputSalt"]).hex(), "output_salt": bytes(args["outputSalt"]).hex()}
            self.state.data["last_block"] = latest
            self.state.save()
        for key in list(self.state.data["pending"]):
            job_id_text, root_hex = key.split(":")
            job_id = int(job_id_text)
            try:
                done = self._check(job_id, bytes.fromhex(root_hex), latest, out)
            except VcpError as exc:  # this job only: the others, and the process, go on
                out.errors[job_id] = str(exc)
                continue
            if done:
                del self.state.data["pending"][key]
                self.state.data["done"][key] = done
                if self.journal is not None:
                    self.journal.set_job(self.chain_id, self.contract.address, int(job_id_text), "watcher",
                                         done.split(":")[0], done)
            self.state.save()
        return out

    def _trace_for(self, job_id: int, root: bytes, job) -> tuple[list[np.ndarray], bytes, bytes] | None:
        revealed = self.state.data["revealed"].get(str(job_id))
        if revealed:
            trace = [np.frombuffer(bytes.fromhex(v), dtype=np.int8) for v in revealed["trace"]]
            return trace, bytes.fromhex(revealed["input_salt"]), bytes.fromhex(revealed["output_salt"])
        if self.exchange is not None:  # fetched by the on-chain commitments, so checked against them
            vectors = len(self.commitments[job.model_root].model.layers) + 1
            published = self.exchange.get_trace(root, job.input_commitment, job.output_commitment, vectors)
            if published is not None:
                # Without the output opening, a wrong neuron is still provable; a consistent trace
                # then fails to open the output commitment and a reveal is asked for.
                output_salt = published.output_opening[1] if published.output_opening else bytes(32)
                return list(published.trace), published.input_opening[1], output_salt
        return None

    def _check(self, job_id: int, root: bytes, latest: int, out: WatchStep) -> str | None:
        """Returns a final verdict for this (job, result), or None to look again next step."""
        job = self.contract.job(job_id)
        if job.status != JobStatus.ANSWERED or job.trace_root != root:
            return "superseded"  # finalized, slashed or answered again: a new event covers it
        commitment = self.commitments.get(job.model_root)
        if commitment is None:
            return "unknown model"
        if latest + 1 > job.deadline:
            out.waiting[job_id] = "window closed"
            return "window closed"
        if job.reveal_deadline:
            if latest + 1 > job.reveal_deadline:
                out.slashed_withheld[job_id] = self.contract.slash_withheld(self.sender, job_id)
                return "slashed: trace withheld"
            out.waiting[job_id] = "waiting for the reveal"
            return None
        true_input = self.exchange.get_input(job.input_commitment) if self.exchange else None
        data = self._trace_for(job_id, root, job)
        finding: Finding = Unusable("no trace: neither published nor revealed")
        if data is not None:
            trace, input_salt, output_salt = data
            finding = find_fault(commitment.model, Claim(job.input_commitment, job.output_commitment, job.trace_root),
                                 trace, input_salt, output_salt, true_input)
        if isinstance(finding, Unusable):  # nothing to check, or a bundle that proves nothing
            if not job.revealed:
                out.reveal_requested[job_id] = self.contract.request_reveal(self.sender, job_id)
            elif data is None:
                out.waiting[job_id] = "reveal event not seen yet"
            else:  # cannot happen: the contract checked the revealed trace against the roots
                out.waiting[job_id] = f"revealed trace unusable: {finding.reason}"
            return None
        if isinstance(finding, Consistent):
            out.verified.append(job_id)
            return "verified"
        evidence = evidence_for(finding, commitment, trace, true_input)
        if latest + 1 < job.deadline:  # room for a claim and, a block later, its proof
            out.claimed[job_id] = self.contract.claim(self.sender, job_id, evidence)
        outcome = self.contract.prove(self.sender, job_id, evidence)
        out.challenged[job_id] = (finding, outcome)
        return f"challenged: {finding.detail}" if outcome.fraud else "challenge failed"
