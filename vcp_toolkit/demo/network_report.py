"""What a network run did, from the chain's events (the ground truth) and the processes' own records.

Every count is computed here from plain values, so the rules ("an honest prover slashed", "a
record lost", "a lie that finalized") are tested without starting a network."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

# The events of OptimisticInference the monitor follows.
EVENTS = ("JobOpened", "ResultSubmitted", "FraudProven", "ChallengeFailed", "RevealRequested", "TraceRevealed",
          "JobReopened", "JobFinalized", "JobCancelled")


@dataclass(frozen=True)
class Seen:
    """One event, with the wall-clock time the monitor first saw it (``root``: a result's traceRoot)."""

    name: str
    job_id: int
    prover: str | None
    block: int
    at: float
    root: bytes | None = None


@dataclass(frozen=True)
class Fault:
    """A process killed with SIGKILL and started again."""

    process: str
    killed_at: float
    restarted_at: float
    jobs_opened_before: int


@dataclass(frozen=True)
class Records:
    """The requester's opened jobs (its log), each prover's journal (job -> status), and the honest
    trace root of each job (recomputed from its published input): a result with another root is a lie."""

    requested: frozenset[int]
    journals: dict[str, dict[int, str]]  # prover address -> {job id: journal status}
    honest_roots: dict[int, bytes]  # jobs whose input could not be fetched are missing: unverifiable

    @property
    def races_lost(self) -> int:
        return sum(status == "lost" for journal in self.journals.values() for status in journal.values())


@dataclass(frozen=True)
class NetworkReport:
    jobs_opened: int
    jobs_finalized: int
    jobs_disputed: int
    results_submitted: int
    fraud_proofs: int
    failed_challenges: int
    reveal_requests: int
    cheats_told: int
    cheats_caught: int
    cheats_finalized: int
    honest_slashed: int
    records_lost: int
    races_lost: int
    cheat_to_slash_s: tuple[float, ...]
    cheat_to_slash_blocks: tuple[int, ...]
    faults: tuple[Fault, ...] = ()
    wall_s: float = 0.0
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        seconds, blocks = self.cheat_to_slash_s, self.cheat_to_slash_blocks
        return {
            "jobs": {"opened": self.jobs_opened, "finalized": self.jobs_finalized, "disputed": self.jobs_disputed},
            "results_submitted": self.results_submitted, "fraud_proofs": self.fraud_proofs,
            "failed_challenges": self.failed_challenges, "reveal_requests": self.reveal_requests,
            "cheats": {"told": self.cheats_told, "caught": self.cheats_caught, "finalized": self.cheats_finalized},
            "honest_provers_slashed": self.honest_slashed, "records_lost": self.records_lost,
            "races_lost": self.races_lost,
            "cheat_to_slash": {"count": len(seconds), "median_s": _median(seconds), "max_s": max(seconds, default=None),
                               "median_blocks": _median(blocks), "max_blocks": max(blocks, default=None)},
            "faults": [{"process": f.process, "down_s": round(f.restarted_at - f.killed_at, 3),
                        "jobs_opened_before": f.jobs_opened_before} for f in self.faults],
            "wall_s": round(self.wall_s, 3), "ok": self.ok, "problems": list(self.problems),
        }


def _median(values: tuple) -> float | None:
    return statistics.median(values) if values else None


def _result_before(seen: list[Seen], event: Seen) -> Seen | None:
    """The result an event of the same job is about: the job's last result at or before it."""
    earlier = [s for s in seen if s.name == "ResultSubmitted" and s.job_id == event.job_id and s.block <= event.block]
    return max(earlier, key=lambda s: s.block) if earlier else None


def _outcomes(seen: list[Seen], records: Records) -> tuple[list[Seen], list[Seen], list[Seen], list[tuple[Seen, Seen]]]:
    """(lies, lies finalized, honest results proven wrong, (lie, proof) pairs) among the results of
    jobs whose honest root is known."""
    lies = [s for s in seen if s.name == "ResultSubmitted" and s.job_id in records.honest_roots
            and s.root != records.honest_roots[s.job_id]]
    proven: list[tuple[Seen, Seen]] = []
    for proof in (s for s in seen if s.name == "FraudProven"):
        result = _result_before(seen, proof)
        if result is not None:
            proven.append((result, proof))
    finalized = [_result_before(seen, s) for s in seen if s.name == "JobFinalized"]
    lies_final = [r for r in finalized if r is not None and r in lies]
    wrongly = [proof for result, proof in proven if result not in lies]
    return lies, lies_final, wrongly, [(result, proof) for result, proof in proven if result in lies]


def _lost(seen: list[Seen], records: Records) -> tuple[int, list[str]]:
    """Jobs requested and not final, jobs opened and not requested, and final jobs missing from the
    journal of the prover that was paid for them."""
    opened = {s.job_id for s in seen if s.name == "JobOpened"}
    final = {s.job_id: s.prover for s in seen if s.name in ("JobFinalized", "JobCancelled")}
    problems = []
    unfinished = sorted(records.requested - final.keys())
    if unfinished:
        problems.append(f"{len(unfinished)} requested jobs never finalized: {unfinished[:10]}")
    unrecorded = sorted(opened - records.requested)
    if unrecorded:
        problems.append(f"{len(unrecorded)} jobs on-chain missing from the requester's record: {unrecorded[:10]}")
    unjournaled = sorted(job for job, prover in final.items()
                         if prover in records.journals and records.journals[prover].get(job) != "finalized")
    if unjournaled:
        problems.append(f"{len(unjournaled)} finalized jobs missing from their prover's journal: {unjournaled[:10]}")
    return len(unfinished) + len(unrecorded) + len(unjournaled), problems


@dataclass(frozen=True)
class Liar:
    """The dishonest prover and its plan: it lies in its first answer to each job whose id is a
    multiple of ``every`` (`vcp serve --cheat-every`), and answers every other time honestly."""

    address: str
    every: int

    def intended(self, seen: list[Seen]) -> list[Seen]:
        firsts: dict[int, Seen] = {}
        for s in seen:
            if s.name == "ResultSubmitted" and s.prover == self.address and s.job_id % self.every == 0:
                firsts.setdefault(s.job_id, s)
        return list(firsts.values())


def _rule_breaks(seen: list[Seen], records: Records, honest: set[str], liar: Liar) -> list[str]:
    """Every rule of a clean run that ``seen`` breaks, named."""
    lies, lies_final, wrongly, caught = _outcomes(seen, records)
    problems = []
    unverifiable = sorted({s.job_id for s in seen if s.name == "ResultSubmitted"} - records.honest_roots.keys())
    if unverifiable:
        problems.append(f"no published input to re-execute for jobs {unverifiable[:10]}: their results are unchecked")
    intended = [s for s in liar.intended(seen) if s.job_id in records.honest_roots]
    if not lies:
        problems.append(f"no lie was told (the liar won no job whose id is a multiple of {liar.every}): run more jobs")
    elif {(s.job_id, s.block) for s in intended} != {(s.job_id, s.block) for s in lies}:
        problems.append(f"the lies told ({len(lies)}) are not the ones the liar meant to tell ({len(intended)})")
    honest_slashed = [p.job_id for p in seen if p.name == "FraudProven" and p.prover in honest]
    if honest_slashed:
        problems.append(f"honest provers slashed on jobs {honest_slashed[:10]}")
    if wrongly:
        problems.append(f"correct results proven wrong on jobs {[p.job_id for p in wrongly][:10]}")
    failed = [s.job_id for s in seen if s.name == "ChallengeFailed"]
    if failed:
        problems.append(f"challenges failed (a watcher lost its bond) on jobs {failed[:10]}")
    if lies_final:
        problems.append(f"lies finalized unchallenged on jobs {[s.job_id for s in lies_final][:10]}")
    if len(caught) + len(lies_final) < len(lies):
        problems.append(f"{len(lies) - len(caught) - len(lies_final)} lies neither caught nor finalized")
    return problems


def summarize(seen: list[Seen], records: Records, honest: set[str], liar: Liar, faults: tuple[Fault, ...] = (),
              wall_s: float = 0.0) -> NetworkReport:
    """The report of a run: ``seen`` are the contract's events, ``honest`` the provers that never lie."""
    by = {name: [s for s in seen if s.name == name] for name in EVENTS}
    lies, lies_final, _, caught = _outcomes(seen, records)
    lost, problems = _lost(seen, records)
    problems += _rule_breaks(seen, records, honest, liar)
    disputed = {s.job_id for name in ("FraudProven", "ChallengeFailed", "RevealRequested") for s in by[name]}
    return NetworkReport(
        jobs_opened=len({s.job_id for s in by["JobOpened"]}), jobs_finalized=len({s.job_id for s in by["JobFinalized"]}),
        jobs_disputed=len(disputed), results_submitted=len(by["ResultSubmitted"]), fraud_proofs=len(by["FraudProven"]),
        failed_challenges=len(by["ChallengeFailed"]), reveal_requests=len(by["RevealRequested"]),
        cheats_told=len(lies), cheats_caught=len(caught), cheats_finalized=len(lies_final),
        honest_slashed=len([p for p in by["FraudProven"] if p.prover in honest]), records_lost=lost,
        races_lost=records.races_lost,
        cheat_to_slash_s=tuple(round(proof.at - lie.at, 3) for lie, proof in caught),
        cheat_to_slash_blocks=tuple(proof.block - lie.block for lie, proof in caught),
        faults=faults, wall_s=wall_s, problems=tuple(problems))
