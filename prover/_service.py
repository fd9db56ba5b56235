"""The prover side of optimistic mode: answer jobs, publish bundles, reveal on request, get paid."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from vcp_toolkit.chain.optimistic import JobStatus, OptimisticInference
from vcp_toolkit.chain.tx import Sender, TxOutcome
from vcp_toolkit.chain.reverts import OptimisticJobNotInStatus
from vcp_toolkit.errors import ChainError, ContractReverted
from vcp_toolkit.commit.commitments import ModelCommitment, output_commitment, trace_root
from vcp_toolkit.commit.encoding import int8_bytes
from vcp_toolkit.ops.da import DataUnavailable
from vcp_toolkit.ops.exchange import Exchange
from vcp_toolkit.attest.files import TraceBundle
from vcp_toolkit.model.quantize import QuantizedModel
from vcp_toolkit.ops.state import StateFile

if TYPE_CHECKING:
    from vcp_toolkit.ops.journal import Journal


@dataclass(frozen=True, eq=False)
class Answer:
    """What a prover commits to for one job, and whether it makes the data available."""

    trace: list[np.ndarray]
    input_salt: bytes
    output_salt: bytes
    publish_bundle: bool = True
    answer_reveals: bool = True


Strategy = Callable[[QuantizedModel, np.ndarray, bytes], Answer]
Plan = Callable[[int], tuple[str, Strategy]]
"""Which strategy answers job N, with its label ("" when honest): a label marks the answer as a
cheat in ``ServiceStep.cheated`` (``prover.cheats.CheatPlan`` makes one for demonstrations). A job
whose labelled answer was overturned is answered again with the service's ``strategy``."""


def honest(model: QuantizedModel, x: np.ndarray, input_salt: bytes) -> Answer:
    """Run the model as registered and make everything available."""
    return Answer([v[0] for v in model.trace(x)], input_salt, secrets.token_bytes(32))


@dataclass
class ServiceStep:
    """What one pass of the service did."""

    answered: dict[int, TxOutcome] = field(default_factory=dict)
    revealed: dict[int, TxOutcome] = field(default_factory=dict)
    finalized: dict[int, TxOutcome] = field(default_factory=dict)
    skipped: dict[int, str] = field(default_factory=dict)
    cheated: dict[int, str] = field(default_factory=dict)  # job -> the cheat it was answered (or ignored) with
    lost: dict[int, str] = field(default_factory=dict)  # job -> why it moved on without us (another's answer)


def _job_moved_on(exc: ChainError) -> bool:
    """A submitResult refused because the job is no longer open: at the estimate (the typed error),
    or mined and reverted (another answer landed first in the same block). Other failures (funds,
    nonce, the node) are not a lost race and are raised."""
    return isinstance(exc, OptimisticJobNotInStatus) or (
        not isinstance(exc, ContractReverted) and str(exc).endswith("reverted"))


class ProverService:
    """Answers Open jobs for one model. Resumes from ``state_path`` after a restart; writes every
    bundle to its stores (the exchange) before its commitment is sent."""

    def __init__(self, contract: OptimisticInference, sender: Sender, model: QuantizedModel, exchange: Exchange,
                 state_path: Path, strategy: Strategy = honest, journal: "Journal | None" = None,
                 plan: Plan | None = None) -> None:
        self.contract = contract
        self.sender = sender
        self.model = model
        self.model_root = ModelCommitment(model).root
        self.exchange = exchange
        self.strategy = strategy
        self.plan = plan or (lambda job_id: ("", self.strategy))
        self.state = StateFile(state_path, {"last_block": -1, "jobs": {}})
        self.chain_id = contract.chain.chain_id
        self.journal = journal

    def _note(self, job_id: int, status: str, detail: str = "") -> None:
        if self.journal is not None:
            self.journal.set_job(self.chain_id, self.contract.address, job_id, "prover", status, detail)

    def _bundle_key(self, job_id: int) -> str:
        return str(job_id)

    def step(self) -> ServiceStep:
        result = ServiceStep()
        latest = int(self.contract.chain.w3.eth.block_number)
        first = self.state.data["last_block"] + 1
        if first <= latest:
            for log in self.contract.events("JobOpened", first, latest):
                if bytes(log["args"]["modelRoot"]) == self.model_root:
                    self.state.data["jobs"].setdefault(str(log["args"]["jobId"]), {"answered": False})
            for log in self.contract.events("JobReopened", first, latest):
                entry = self.state.data["jobs"].get(str(log["args"]["jobId"]))
                if entry is not None:
                    if entry.get("answered") is True:
                        self._note(int(log["args"]["jobId"]), "disputed", "our result was overturned")
                    entry["answered"] = False
            for log in self.contract.events("RevealRequested", first, latest):
                entry = self.state.data["jobs"].get(str(log["args"]["jobId"]))
                if entry is not None and entry.get("answered"):
                    entry["reveal_requested"] = True
            self.state.data["last_block"] = latest
            self.state.save()
        for key, entry in list(self.state.data["jobs"].items()):
            job_id = int(key)
            job = self.contract.job(job_id)
            if job.status == JobStatus.OPEN and entry.get("answered") == "sending":
                self._resend(job_id, job.deadline, latest, entry, result)  # we died between save and send
            elif job.status == JobStatus.OPEN and not entry.get("answered"):
                self._answer(job_id, job.input_commitment, job.deadline, latest, entry, result)
            elif job.status == JobStatus.ANSWERED and job.prover == self.sender.address:
                if entry.get("answered") == "sending":
                    entry["answered"] = True  # it did go out before the crash
                    self._note(job_id, "answered")
                if entry.get("reveal_requested") and job.reveal_deadline and not job.revealed:
                    self._reveal(job_id, entry, result)
                elif latest + 1 > job.deadline and job.reveal_deadline == 0:
                    result.finalized[job_id] = self.contract.finalize(self.sender, job_id)
                    entry["finalized"] = True
                    self._note(job_id, "finalized")
            elif job.status in (JobStatus.FINALIZED, JobStatus.CANCELLED):
                if job.status == JobStatus.FINALIZED and job.prover == self.sender.address \
                        and not entry.get("finalized"):
                    self._note(job_id, "finalized", "found final on-chain")  # by anyone, or by us before a crash
                del self.state.data["jobs"][key]
            self.state.save()
        return result

    def _answer(self, job_id: int, commitment: bytes, deadline: int, latest: int, entry: dict,
                result: ServiceStep) -> None:
        opened = self.exchange.get_input(commitment)
        if opened is None:
            result.skipped[job_id] = "input not published"
            return
        if latest + 1 > deadline:
            result.skipped[job_id] = "answer deadline passed"
            return
        values, salt = opened
        # A plan's lie is told once per job: once it is overturned, the re-opened job gets ``strategy``,
        # so a demonstration ends with every job final instead of a lie slashed on every pass.
        label, strategy = ("", self.strategy) if entry.get("cheat") else self.plan(job_id)
        answer = strategy(self.model, values, salt)
        # Written before anything is sent: the bundle is what backs the bond.
        entry.update(answered="sending", trace=[int8_bytes(v).hex() for v in answer.trace],
                     input_salt=answer.input_salt.hex(), output_salt=answer.output_salt.hex(),
                     answers_reveals=answer.answer_reveals, cheat=label, publish=answer.publish_bundle)
        self.state.save()
        self._note(job_id, "answering")
        if self._lost_race(job_id, entry, result):  # answered meanwhile: publishing would be paid for nothing
            return
        self._publish(job_id, entry)
        self.send_answer(job_id, entry, result)

    def _publish(self, job_id: int, entry: dict) -> None:
        """Publish the saved answer's trace, when its strategy does. No store taking it is noted,
        not fatal: the answer still goes out, and a reveal request is answered on-chain."""
        if not entry.get("publish", True):
            return
        trace = tuple(np.frombuffer(bytes.fromhex(v), dtype=np.int8) for v in entry["trace"])
        bundle = TraceBundle(self.model_root, bytes.fromhex(entry["input_salt"]), bytes.fromhex(entry["output_salt"]),
                             trace)
        try:
            self.exchange.put_bundle(self.chain_id, self.contract.address, job_id, bundle)
        except DataUnavailable as exc:
            self._note(job_id, "answering", f"trace not published: {exc}")

    def _resend(self, job_id: int, deadline: int, latest: int, entry: dict, result: ServiceStep) -> None:
        if latest + 1 > deadline:
            result.skipped[job_id] = "answer deadline passed"
            return
        self._publish(job_id, entry)  # the crash may have come before the stores took it
        self.send_answer(job_id, entry, result)

    def send_answer(self, job_id: int, entry: dict, result: ServiceStep) -> None:
        """Send the saved answer. submitResult only succeeds on an Open job, so a retry can never
        post a second bond for the same job."""
        trace = [np.frombuffer(bytes.fromhex(v), dtype=np.int8) for v in entry["trace"]]
        output_salt = bytes.fromhex(entry["output_salt"])
        try:
            result.answered[job_id] = self.contract.submit_result(
                self.sender, job_id, output_commitment(output_salt, trace[-1]), trace_root(trace))
        except ChainError as exc:
            if not (_job_moved_on(exc) and self._lost_race(job_id, entry, result)):
                raise
            return
        entry["answered"] = True
        if entry.get("cheat"):
            result.cheated[job_id] = entry["cheat"]
        self._note(job_id, "answered")

    def _lost_race(self, job_id: int, entry: dict, result: ServiceStep) -> bool:
        """Whether ``job_id`` moved on without us: another prover answered it first (any prover may
        answer an open job) or its requester cancelled it. Then this answer is dropped, and the job
        is answered again only if it re-opens."""
        job = self.contract.job(job_id)
        if job.status == JobStatus.OPEN or job.prover == self.sender.address:
            return False
        why = "cancelled by its requester" if job.status == JobStatus.CANCELLED else f"answered first by {job.prover}"
        entry.clear()
        entry["answered"] = "lost"
        result.lost[job_id] = why
        self._note(job_id, "lost", why)
        return True

    def _reveal(self, job_id: int, entry: dict, result: ServiceStep) -> None:
        if not entry.get("answers_reveals", True):
            result.skipped[job_id] = "withholding the trace"
            if entry.get("cheat") and not entry.get("withheld"):  # marked once, not on every pass
                result.cheated[job_id] = entry["cheat"]
                entry["withheld"] = True
            return
        trace = [bytes.fromhex(v) for v in entry["trace"]]
        result.revealed[job_id] = self.contract.reveal_trace(
            self.sender, job_id, trace, bytes.fromhex(entry["input_salt"]), bytes.fromhex(entry["output_salt"]))
        entry["reveal_requested"] = False
