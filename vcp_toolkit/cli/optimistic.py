"""Optimistic jobs: serve (the prover), watch (the challenger), request (a client), withdraw.

Every one of these moves money to or from its key (fees, bonds, slash shares, rewards), so each
needs a key the user holds (--keystore or $VCP_PRIVATE_KEY): none falls back to a throw-away key
that would be paid what the user is owed."""

from __future__ import annotations

import argparse
import secrets
import time
from typing import Callable

from vcp_toolkit.cli.context import Context
from vcp_toolkit.cli.render import EXIT_OK, print_json, say, warn
from vcp_toolkit.errors import InvalidInput, KeyUnavailable, UsageError, VcpError

WEI_PER_ETH = 10**18


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


def wei(amount: int) -> str:
    """``50,000,000,000,000,000 wei (0.05 ETH)``: exact, and readable."""
    return f"{amount:,} wei ({amount / WEI_PER_ETH:g} ETH)"


def own_client(ctx: Context, command: str, paid: str, fund: bool = True):
    """(contract, sender) with the user's own key, funded on a dev node when ``fund``; ``paid`` says
    what the contract pays that key."""
    from vcp_toolkit.attest.keys import load_key
    from vcp_toolkit.chain.tx import Sender

    contract = ctx.optimistic()  # the deployment is checked before a keystore password is asked for
    key = load_key(ctx.args.keystore)
    if key is None:
        raise KeyUnavailable(f"vcp {command} needs your own key, since the contract pays {paid} to it: pass "
                             "--keystore FILE (`vcp keygen --out FILE` makes one) or set VCP_PRIVATE_KEY")
    sender = Sender(ctx.chain, key.reveal())
    if fund and ctx.chain.dev_accounts():
        sender.ensure_funded()
    return contract, sender


def _serve_plan(args: argparse.Namespace):
    """None (honest), or the dishonest plan of --cheat, announced loudly."""
    if args.cheat is None:
        if args.cheat_every is not None:
            raise InvalidInput("--cheat-every needs --cheat STRATEGY")
        return None
    from vcp_toolkit.prover.cheats import CheatPlan

    plan = CheatPlan(args.cheat, args.cheat_every or 1)
    which = "every job" if plan.every == 1 else f"jobs whose id is a multiple of {plan.every}"
    warn(f"vcp: WARNING: DISHONEST prover for a demonstration: cheating with {plan.name} on {which}; "
         "each lie is marked CHEAT below, and its bond will be slashed when a watcher proves it")
    return plan


def _print_service_step(done) -> None:
    def mark(job_id: int) -> str:
        return f" [CHEAT: {done.cheated[job_id]}]" if job_id in done.cheated else ""

    for job_id, tx in done.answered.items():
        say(f"job {job_id}: answered (gas {tx.gas_used:,}){mark(job_id)}")
    for job_id in done.cheated.keys() - done.answered.keys():
        say(f"job {job_id}: reveal request ignored{mark(job_id)}")
    for job_id, why in done.lost.items():
        say(f"job {job_id}: {why}; our answer dropped")
    for job_id, tx in done.revealed.items():
        say(f"job {job_id}: trace revealed on-chain (gas {tx.gas_used:,})")
    for job_id, tx in done.finalized.items():
        say(f"job {job_id}: finalized (gas {tx.gas_used:,})")


def cmd_serve(args: argparse.Namespace) -> int:
    from vcp_toolkit.prover import ProverService
    from vcp_toolkit.ops.journal import Journal

    if args.http:
        from vcp_toolkit.cli.serve_http import cmd_serve_http

        return cmd_serve_http(args)
    missing = [flag for flag, value in (("--rpc-url", args.rpc_url), ("--exchange", args.exchange),
                                        ("--state", args.state)) if not value]
    if missing:
        raise UsageError(f"vcp serve needs {', '.join(missing)} to answer optimistic jobs (or --http to answer "
                         "inference requests over HTTP)")
    ctx = Context(args)
    model = ctx.model
    plan = _serve_plan(args)
    contract, sender = own_client(ctx, "serve", "fees and returned bonds")
    service = ProverService(contract, sender, model, ctx.exchange(sender), args.state,
                            journal=Journal(args.journal), plan=plan)
    say(f"serving {model.name} as {sender.address} on {contract.address}" + (" (DISHONEST)" if plan else ""))
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
    from vcp_toolkit.ops.journal import Journal
    from vcp_toolkit.verifier import Watcher

    ctx = Context(args)
    model = ctx.model
    contract, sender = own_client(ctx, "watch", "challenge rewards and returned bonds")
    watcher = Watcher(contract, sender, [model], args.state, ctx.exchange(), journal=Journal(args.journal))
    say(f"watching {contract.address} as {sender.address} from block {watcher.state.data['last_block'] + 1}")
    return run_steps(lambda: _print_watch_step(watcher.step()), args.once, args.interval)


def _request_inputs(ctx: Context) -> list:
    """--input, or with --count N the N samples from digits:K / mnist:K on (K, K+1, ...)."""
    from vcp_toolkit.cli.context import read_input

    args = ctx.args
    if args.count < 1:
        raise InvalidInput(f"--count {args.count}: expected at least 1 job")
    if args.count == 1:
        return [ctx.input()]
    kind, _, first = args.input.partition(":")
    if kind not in ("digits", "mnist") or not (first.isascii() and first.isdigit()):
        raise InvalidInput(f"--count {args.count} needs --input digits:K or mnist:K (jobs for samples K, K+1, ...); "
                           "open one job per file otherwise")
    return [read_input(f"{kind}:{int(first) + i}", ctx.model, False) for i in range(args.count)]


def cmd_request(args: argparse.Namespace) -> int:
    from vcp_toolkit.commit.commitments import ModelCommitment

    ctx = Context(args)
    model = ctx.model
    if args.fee_wei <= 0:
        raise InvalidInput("--fee-wei must be positive")
    if not 0 <= args.interval <= 3600:  # NaN fails this too
        raise InvalidInput(f"--interval {args.interval}: expected seconds between 0 and 3600")
    inputs = _request_inputs(ctx)
    contract, sender = own_client(ctx, "request", "refunds and its share of a cheating prover's bond")
    exchange = ctx.exchange(sender)
    model_root = ModelCommitment(model).root
    opened: list[dict] = []
    try:
        for n, x in enumerate(inputs):
            if n:
                time.sleep(args.interval)
            commitment = exchange.put_input(x, secrets.token_bytes(32))  # published before the job exists
            job_id, tx = contract.open_job(sender, model_root, commitment, args.fee_wei)
            opened.append({"job_id": job_id, "gas": tx.gas_used, "input_commitment": "0x" + commitment.hex()})
            if not args.json:  # one line per job as it opens, so a log of a long run says what was opened
                print(f"job {job_id} opened by requester {sender.address} (fee {wei(args.fee_wei)}, gas "
                      f"{tx.gas_used:,}); input published in {exchange.where}", flush=True)
    except VcpError:
        if args.json and opened:  # the jobs already open hold fees: their ids must not be lost with the error
            print_json({"jobs": opened, "requester": sender.address, "fee_wei": args.fee_wei, "complete": False})
        raise
    owed = contract.credit(sender.address)
    if args.json:
        first = {"job_id": opened[0]["job_id"], "gas": opened[0]["gas"]} if len(opened) == 1 else {"jobs": opened}
        print_json({**first, "requester": sender.address, "fee_wei": args.fee_wei, "exchange": exchange.where,
                    "owed_wei": owed})
        return EXIT_OK
    print(f"the contract owes {sender.address} {wei(owed)} (`vcp withdraw --dry-run` shows it, `vcp withdraw` "
          "takes it)")
    return EXIT_OK


def cmd_withdraw(args: argparse.Namespace) -> int:
    contract, sender = own_client(Context(args), "withdraw", "what it is owed", fund=not args.dry_run)
    amount = contract.credit(sender.address)
    if args.dry_run or amount == 0:  # a withdrawal of nothing would only cost gas
        if args.json:
            print_json({"address": sender.address, "owed_wei": amount, "withdrawn_wei": 0, "gas": 0})
        else:
            print(f"the contract owes {sender.address} {wei(amount)}" + (" (dry run: nothing sent)" if amount else ""))
        return EXIT_OK
    tx = contract.withdraw(sender)
    if args.json:
        print_json({"address": sender.address, "owed_wei": 0, "withdrawn_wei": amount, "gas": tx.gas_used})
    else:
        print(f"withdrew {wei(amount)} to {sender.address} (gas {tx.gas_used:,})")
    return EXIT_OK
