"""Optimistic jobs: serve (the prover), watch (the challenger), request (a client), withdraw."""

from __future__ import annotations

import argparse
import secrets
import time
from typing import Callable

from vcp_toolkit.cli.context import Context
from vcp_toolkit.cli.render import EXIT_OK, say, warn
from vcp_toolkit.errors import InvalidInput


def run_steps(step: Callable[[], None], once: bool, interval: float) -> int:
    from vcp_toolkit.errors import ChainError

    while True:
        try:
            step()
        except ChainError as exc:  # a node hiccup ends one step, not the service (unless --once)
            if once:
                raise
            warn(f"vcp: step failed, trying again in {max(interval, 0.05):g} s: {exc}")
        if once:
            return EXIT_OK
        time.sleep(max(interval, 0.05))


def _print_service_step(done) -> None:
    for job_id, tx in done.answered.items():
        say(f"job {job_id}: answered (gas {tx.gas_used:,})")
    for job_id, tx in done.revealed.items():
        say(f"job {job_id}: trace revealed on-chain (gas {tx.gas_used:,})")
    for job_id, tx in done.finalized.items():
        say(f"job {job_id}: finalized (gas {tx.gas_used:,})")


def cmd_serve(args: argparse.Namespace) -> int:
    from vcp_toolkit.prover import ProverService
    from vcp_toolkit.ops.exchange import Exchange
    from vcp_toolkit.ops.journal import Journal

    ctx = Context(args)
    model = ctx.model
    contract, sender = ctx.optimistic_client("answer jobs")
    service = ProverService(contract, sender, model, Exchange(args.exchange), args.state,
                            journal=Journal(args.journal))
    say(f"serving {model.name} as {sender.address} on {contract.address}")
    return run_steps(lambda: _print_service_step(service.step()), args.once, args.interval)


def _print_watch_step(done) -> None:
    for job_id in done.verified:
        say(f"job {job_id}: result verified")
    for job_id, (fault, outcome) in done.challenged.items():
        verdict = "fraud proven, prover slashed" if outcome.fraud else "challenge failed"
        say(f"job {job_id}: {fault.detail or fault.kind.name}: {verdict} (gas {outcome.tx.gas_used:,})")
    for job_id in done.reveal_requested:
        say(f"job {job_id}: no bundle published, reveal requested")
    for job_id in done.slashed_withheld:
        say(f"job {job_id}: trace withheld, prover slashed")
    for job_id, reason in done.errors.items():
        warn(f"job {job_id}: will try again next step: {reason}")


def cmd_watch(args: argparse.Namespace) -> int:
    from vcp_toolkit.ops.exchange import Exchange
    from vcp_toolkit.ops.journal import Journal
    from vcp_toolkit.verifier import Watcher

    ctx = Context(args)
    model = ctx.model
    contract, sender = ctx.optimistic_client("post challenge bonds")
    watcher = Watcher(contract, sender, [model], args.state, Exchange(args.exchange), journal=Journal(args.journal))
    say(f"watching {contract.address} from block {watcher.state.data['last_block'] + 1}")
    return run_steps(lambda: _print_watch_step(watcher.step()), args.once, args.interval)


def cmd_request(args: argparse.Namespace) -> int:
    from vcp_toolkit.commit.commitments import ModelCommitment
    from vcp_toolkit.ops.exchange import Exchange

    ctx = Context(args)
    model = ctx.model
    x = ctx.input()
    if args.fee_wei <= 0:
        raise InvalidInput("--fee-wei must be positive")
    contract, sender = ctx.optimistic_client("pay the fee")
    commitment = Exchange(args.exchange).put_input(x, secrets.token_bytes(32))  # on disk before the job exists
    job_id, tx = contract.open_job(sender, ModelCommitment(model).root, commitment, args.fee_wei)
    print(f"job {job_id} opened (gas {tx.gas_used:,}); input published in {args.exchange}")
    return EXIT_OK


def cmd_withdraw(args: argparse.Namespace) -> int:
    contract, sender = Context(args).optimistic_client("withdraw")
    amount = contract.credit(sender.address)
    tx = contract.withdraw(sender)
    print(f"withdrew {amount} wei to {sender.address} (gas {tx.gas_used:,})")
    return EXIT_OK
