"""Signed attestations: prove, submit, status, resume, run (``vcp verify`` is in verify.py)."""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from vcp_toolkit.cli.context import Context, read_range
from vcp_toolkit.cli.render import EXIT_FAILED, EXIT_OK, counts, print_json, printable, us
from vcp_toolkit.errors import InvalidInput


def cmd_prove(args: argparse.Namespace) -> int:
    from vcp_toolkit.attest.eip712 import parse_bytes32
    from vcp_toolkit.ops.landing import journal_file

    ctx = Context(args)
    model = ctx.model
    x = ctx.input()
    job_id = parse_bytes32(args.job_id, "--job-id")
    domain = ctx.domain()
    if args.backend == "zk":
        return _prove_zk(ctx, x, job_id, domain)
    key = ctx.key("sign the attestation")
    proven = _prover(model, key, domain).prove(x, job_id=job_id)
    att_path, bundle_path = proven.save(args.out)
    journal_file(args.journal, att_path)
    t = proven.timings
    print(f"wrote {att_path} and {bundle_path}")
    print(f"label {proven.label}, prover {key.address}, digest 0x{proven.digest.hex()}")
    print(f"inference {us(t.inference_s)}, commit {us(t.commit_s)}, sign {us(t.sign_s)}")
    return EXIT_OK


def _prover(model, key, domain):
    """Prover for a dense model, GraphProver for an operator graph (a CNN)."""
    from vcp_toolkit.model.graph.graph import IntGraph
    from vcp_toolkit.prover import GraphProver, Prover

    return GraphProver(model, key, domain) if isinstance(model, IntGraph) else Prover(model, key, domain)


def _prove_zk(ctx: Context, x, job_id: bytes, domain) -> int:
    from vcp_toolkit.prover import prove_zk_file
    from vcp_toolkit import zk
    from vcp_toolkit.chain.registry import Registry
    from vcp_toolkit.commit.commitments import ModelCommitment
    from vcp_toolkit.errors import InvalidInput
    from vcp_toolkit.ops.landing import journal_file

    args = ctx.args
    zk.require_ezkl()
    registry = Registry(ctx.chain, domain.verifying_contract) if args.rpc_url else None
    if registry is not None and registry.zk_verifier(ModelCommitment(ctx.model).root) is None:
        raise InvalidInput("no zk verifier is registered for this model: run `vcp deploy --zk` first")
    # The registry records a zk attestation under the account that submits it: name it now.
    submitter = ctx.key("name the account that will submit the zk attestation").address
    done = prove_zk_file(ctx.model, x, domain, submitter, args.out, job_id=job_id, srs=args.srs)
    journal_file(args.journal, args.out)
    print(f"wrote {args.out}: zk proof of {done.proof_bytes:,} bytes in {done.prove_s:.1f} s "
          f"(setup {'cached' if done.setup_s == 0 else f'{done.setup_s:.1f} s'})")
    return EXIT_OK


def cmd_submit(args: argparse.Namespace) -> int:
    from vcp_toolkit.chain.gas import submit_floor
    from vcp_toolkit.ops.submitter import load_any

    loaded = load_any(args.attestation)  # a bad file fails before anything is opened
    submitter, journal = Context(args).submitter(loaded.registry)  # the set the file was made for
    with journal:
        entry = submitter.submit(args.attestation, loaded)  # the file is read once
        calldata = loaded.calldata(submitter.registry)
    result = {"digest": entry.id, "status": entry.status, "tx": entry.tx_hash, "block": entry.block,
              "gas_used": entry.gas_used, "note": entry.reason}
    if entry.gas_used:
        result["gas_floor"] = submit_floor(calldata)
        result["ratio"] = round(entry.gas_used / result["gas_floor"], 4)
    if args.json:
        print_json(result)
    elif entry.gas_used:
        print(f"recorded in block {entry.block} (tx {entry.tx_hash}): gas {entry.gas_used:,}"
              + (f", floor {result['gas_floor']:,}, ratio {result['ratio']:.3f}x" if "gas_floor" in result else ""))
    else:
        print(f"already recorded on-chain ({entry.reason or 'landed earlier'}); nothing sent")
    return EXIT_OK


JOB_FIELDS = ("chain_id", "contract", "job_id", "role", "status", "detail")


def cmd_status(args: argparse.Namespace) -> int:
    from vcp_toolkit.ops.journal import Journal

    if not Path(args.journal).exists():
        raise InvalidInput(f"no journal at {args.journal}")
    with Journal(args.journal) as journal:
        entries = journal.entries()
        tally = journal.counts()
        jobs = journal.jobs()
    if args.json:
        print_json({"counts": tally, "entries": [e.__dict__ for e in entries],
                    "jobs": [dict(zip(JOB_FIELDS, j)) for j in jobs]})
        return EXIT_OK
    print("attestations: " + (counts(tally) or "none"))
    if jobs:
        print("optimistic jobs: " + counts(Counter(f"{role} {status}" for _, _, _, role, status, _ in jobs)))
    for e in entries:
        if e.status != "landed":
            print(printable(f"{e.status:8} {e.kind:6} {e.id[:18]}… chain {e.chain_id} {shown_path(e.path)}"
                            + (f": {e.reason}" if e.reason else "")))
    return EXIT_OK


def shown_path(path: str) -> str:
    """A journaled (absolute) path, relative to the working directory when it is under it."""
    absolute = Path(path)
    try:
        return str(absolute.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(absolute)


def cmd_resume(args: argparse.Namespace) -> int:
    ctx = Context(args)
    submitter, journal = ctx.submitter()
    with journal:
        entries = submitter.resume()
        unresumed = _resume_earlier_sets(ctx, submitter, entries)
        tally = journal.counts()
    landed = sum(e.status == "landed" for e in entries)
    print(f"{landed} of {len(entries)} resumed attestation(s) landed; journal, all runs: " + counts(tally))
    for line in unresumed:
        print(printable(line))
    return EXIT_OK if landed == len(entries) and not unresumed else EXIT_FAILED


def _resume_earlier_sets(ctx: Context, current, entries: list) -> list[str]:
    """Resume the attestations made for this chain's earlier contract sets too (appended to
    ``entries``), each against its own registry; returns a line per registry that could not be."""
    from vcp_toolkit.errors import DeploymentNotFound
    from vcp_toolkit.ops.submitter import Submitter

    journal, chain_id = current.journal, current.registry.domain.chain_id
    waiting = Counter(e.registry for e in journal.entries() if e.status in ("pending", "sent")
                      and e.chain_id == chain_id and e.registry != current.registry.address)
    unresumed = []
    for address, count in sorted(waiting.items()):
        try:
            registry = ctx.registry(address)
        except DeploymentNotFound as exc:
            unresumed.append(f"{count} attestation(s) for registry {address} not resumed: {exc}")
            continue
        entries.extend(Submitter(registry, current.sender, journal).resume())
    return unresumed


@dataclass(frozen=True)
class RunTally:
    """What one `vcp run` did (not what the journal holds from earlier runs)."""

    proved: int = 0
    landed: int = 0
    already_landed: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return (f"proved {self.proved}, landed {self.landed}, already landed {self.already_landed}, "
                f"failed {self.failed}")


class _CountingProver:
    """Counts the proofs made this run (files already on disk from a killed run are not re-proved)."""

    def __init__(self, prover) -> None:
        self.prover, self.model, self.proved = prover, prover.model, 0

    def prove(self, x):
        self.proved += 1
        return self.prover.prove(x)


def _land_each(submitter, paths: list[Path]) -> Counter:
    """Land each file; one whose transaction reverts (or whose nonce is taken) is counted failed
    and the run goes on; a node fault stops the run (the journal keeps the rest pending)."""
    from vcp_toolkit.errors import ChainError
    from vcp_toolkit.ops.submitter import load_any

    tally: Counter = Counter()
    for path in paths:
        loaded = load_any(path)  # each file read once
        before = submitter.record(path, loaded)
        if before.status == "landed":
            tally["already_landed"] += 1
            continue
        try:
            entry = submitter.submit(path, loaded)
        except ChainError:
            if submitter.journal.get(before.id).status != "failed":
                raise
            tally["failed"] += 1
            continue
        tally["already_landed" if entry.reason == "found on-chain" else "landed"] += 1
    return tally


def cmd_run(args: argparse.Namespace) -> int:
    """Prove inputs A..B-1 (each written and journaled before anything is sent), then land them.
    Killed at any point and started again, it redoes nothing that was done."""
    from vcp_toolkit.prover import Prover
    from vcp_toolkit.ops.landing import prove_range
    from vcp_toolkit.model.datasets import load_digits_split

    first, last = read_range(args.inputs)
    ctx = Context(args)
    model = ctx.model
    submitter, journal = ctx.submitter()
    with journal:
        prover = _CountingProver(Prover(model, ctx.key("sign attestations"), submitter.registry.domain))
        paths = prove_range(prover, load_digits_split().x_test, range(first, last), args.out, journal)
        tally = RunTally(proved=prover.proved, **_land_each(submitter, paths))
        total = journal.counts()
    print(f"inputs {first}..{last - 1}, this run: {tally}")
    print("journal, all runs: " + counts(total))
    return EXIT_OK if tally.failed == 0 else EXIT_FAILED
