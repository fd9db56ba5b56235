"""The network demo's verdicts from plain events: what counts as a lie caught, a lie finalized, an
honest prover slashed and a record lost."""

from __future__ import annotations

from vcp_toolkit.demo.network_report import Liar, Records, Seen, summarize

HONEST, CHEATER = "0xHonest", "0xCheater"
LIAR = Liar(CHEATER, 1)  # lies in its first answer to every job
GOOD, BAD = b"\x11" * 32, b"\x22" * 32


def opened(job: int, block: int = 1) -> Seen:
    return Seen("JobOpened", job, None, block, float(block))


def result(job: int, prover: str, root: bytes, block: int) -> Seen:
    return Seen("ResultSubmitted", job, prover, block, float(block), root)


def event(name: str, job: int, prover: str | None, block: int) -> Seen:
    return Seen(name, job, prover, block, float(block))


def records(jobs: set[int], journals: dict | None = None) -> Records:
    default = {HONEST: {j: "finalized" for j in jobs}, CHEATER: {j: "finalized" for j in jobs}}
    return Records(frozenset(jobs), journals if journals is not None else default, {j: GOOD for j in jobs})


def honest_job(job: int) -> list[Seen]:
    return [opened(job), result(job, HONEST, GOOD, 2), event("JobFinalized", job, HONEST, 30)]


def test_a_caught_lie_answered_again_honestly_is_a_clean_run():
    seen = [opened(1), result(1, CHEATER, BAD, 2), event("FraudProven", 1, CHEATER, 5),
            event("JobReopened", 1, None, 5), result(1, CHEATER, GOOD, 6), event("JobFinalized", 1, CHEATER, 40),
            *honest_job(2)]
    report = summarize(seen, records({1, 2}), {HONEST}, LIAR)
    assert report.ok, report.problems
    assert (report.cheats_told, report.cheats_caught, report.cheats_finalized) == (1, 1, 0)
    assert report.cheat_to_slash_blocks == (3,) and report.cheat_to_slash_s == (3.0,)
    assert (report.jobs_opened, report.jobs_finalized, report.jobs_disputed) == (2, 2, 1)


def test_a_lie_that_finalizes_is_a_problem():
    seen = [opened(1), result(1, CHEATER, BAD, 2), event("JobFinalized", 1, CHEATER, 40)]
    report = summarize(seen, records({1}), {HONEST}, LIAR)
    assert report.cheats_finalized == 1 and not report.ok
    assert any("finalized unchallenged" in p for p in report.problems)


def test_an_honest_prover_slashed_is_a_problem():
    seen = [opened(1), result(1, HONEST, GOOD, 2), event("FraudProven", 1, HONEST, 4),
            result(1, CHEATER, GOOD, 5), event("JobFinalized", 1, CHEATER, 40)]
    report = summarize(seen, records({1}), {HONEST}, LIAR)
    assert report.honest_slashed == 1 and not report.ok
    assert any("correct results proven wrong" in p for p in report.problems)


def test_a_job_never_final_and_a_missing_journal_record_are_lost_records():
    seen = [*honest_job(1), opened(2), result(2, HONEST, GOOD, 3)]
    report = summarize(seen, records({1, 2}, {HONEST: {}}), {HONEST}, LIAR)
    assert report.records_lost == 2  # job 2 never final; job 1 final but not in its prover's journal
    assert not report.ok


def test_a_job_on_chain_the_requester_did_not_record_is_lost():
    journals = {HONEST: {1: "finalized", 2: "finalized"}}
    report = summarize([*honest_job(1), *honest_job(2)], records({1}, journals), {HONEST}, LIAR)
    assert report.records_lost == 1 and any("requester's record" in p for p in report.problems)


def test_a_lie_neither_proven_nor_final_is_reported():
    seen = [opened(1), result(1, CHEATER, BAD, 2), event("JobCancelled", 1, None, 60)]
    report = summarize(seen, records({1}), {HONEST}, LIAR)
    assert report.cheats_told == 1 and report.cheats_caught == 0
    assert any("neither caught nor finalized" in p for p in report.problems)


def test_races_lost_come_from_the_journals():
    journals = {HONEST: {1: "finalized", 2: "lost"}, CHEATER: {1: "lost", 2: "finalized"}}
    report = summarize([*honest_job(1), *honest_job(2)], records({1, 2}, journals), {HONEST}, LIAR)
    assert report.races_lost == 2


def caught_lie(job: int) -> list[Seen]:
    return [opened(job), result(job, CHEATER, BAD, 2), event("FraudProven", job, CHEATER, 5),
            result(job, HONEST, GOOD, 6), event("JobFinalized", job, HONEST, 40)]


def test_a_failed_challenge_is_a_problem():
    seen = [*caught_lie(1), event("ChallengeFailed", 1, None, 7)]
    report = summarize(seen, records({1}), {HONEST}, LIAR)
    assert report.failed_challenges == 1 and any("challenges failed" in p for p in report.problems)


def test_a_job_without_a_published_input_is_unchecked_not_a_lie():
    seen = [*caught_lie(1), *honest_job(2)]
    unknown = Records(frozenset({1, 2}), {HONEST: {1: "finalized", 2: "finalized"}}, {1: GOOD})
    report = summarize(seen, unknown, {HONEST}, LIAR)
    assert report.cheats_told == 1  # job 2's honest result is not called a lie
    assert any("no published input to re-execute for jobs [2]" in p for p in report.problems)


def test_lies_the_liar_did_not_mean_are_a_problem():
    every_other = Liar(CHEATER, 2)  # meant to lie on even jobs only; it lied on job 1
    report = summarize(caught_lie(1), records({1}), {HONEST}, every_other)
    assert any("not the ones the liar meant" in p for p in report.problems)
    clean = summarize([*caught_lie(2), *honest_job(1)], records({1, 2}), {HONEST}, every_other)
    assert clean.ok, clean.problems


def test_a_run_without_a_lie_proves_nothing():
    report = summarize(honest_job(1), records({1}), {HONEST}, LIAR)
    assert any("no lie was told" in p for p in report.problems)
