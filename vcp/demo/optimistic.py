"""`vcp demo --mode optimistic`: one honest job to finalization, then one cheating prover per cheat,
each caught by the watcher and slashed on-chain in one fraud-proof transaction."""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path
from typing import Any

from prover import ProverService, honest
from prover import cheats
from vcp.chain.nodes import open_chain
from vcp.chain.optimistic import JobStatus, OptimisticInference, OptimisticParams
from vcp.chain.tx import Sender
from vcp.commit.commitments import ModelCommitment
from vcp.model.datasets import load_digits_split
from vcp.ops.exchange import Exchange
from vcp.model.builtin import demo_model
from verifier import Watcher

FEE = 10**16


def _funded(chain) -> Sender:
    sender = Sender(chain)
    sender.ensure_funded()
    return sender


def run_optimistic_demo(chain_kind: str = "embedded", rpc_url: str | None = None,
                        out_dir: Path | None = None, params: OptimisticParams = OptimisticParams()) -> dict[str, Any]:
    model = demo_model()
    commitment = ModelCommitment(model)
    inputs = model.quantize_input(load_digits_split().x_test[:16])
    # A fresh directory per run: state files of another chain's run must never be resumed.
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="optimistic-", dir=out_dir))
    exchange = Exchange(work / "exchange")
    cheat_rows = []
    with open_chain(chain_kind, rpc_url) as chain:
        owner, requester, watcher_account = _funded(chain), _funded(chain), _funded(chain)
        contract, deploy_tx = OptimisticInference.deploy(owner, params)
        register_tx = contract.register_model(owner, commitment)
        watcher = Watcher(contract, watcher_account, [model], work / "watcher.json", exchange)

        def open_job(index: int) -> tuple[int, Any]:
            job_commitment = exchange.put_input(inputs[index], secrets.token_bytes(32))
            return contract.open_job(requester, commitment.root, job_commitment, FEE)

        # The honest path: open, answer, nobody can object, finalize after the window, withdraw.
        honest_prover = _funded(chain)
        service = ProverService(contract, honest_prover, model, exchange, work / "prover-honest.json", honest)
        job_id, open_tx = open_job(0)
        step = service.step()
        submit_tx = step.answered[job_id]
        honest_check = watcher.step()
        chain.mine(params.challenge_window + 1)
        finalize_tx = service.step().finalized[job_id]
        honest_final = contract.job(job_id).status == JobStatus.FINALIZED
        withdraw_tx = contract.withdraw(honest_prover)

        previous = service.strategy(model, inputs[0], secrets.token_bytes(32))  # another job's answer, to copy
        strategies = {
            "wrong_output": cheats.wrong_output,
            "wrong_hidden_layer": cheats.wrong_hidden_layer,
            "other_weights": cheats.other_weights,
            "copied_output": cheats.copied_from(previous),
            "input_swapped": cheats.input_swapped(inputs[15]),
            "withheld_trace": cheats.withheld_trace,
        }
        for n, (name, strategy) in enumerate(strategies.items(), start=1):
            cheater = _funded(chain)
            service = ProverService(contract, cheater, model, exchange, work / f"prover-{name}.json", strategy)
            job_id, _ = open_job(n)
            service.step()
            check = watcher.step()
            gas_fraud, gas_other, gas_claim = None, 0, None
            if job_id in check.reveal_requested:  # no bundle published: make the prover reveal on-chain
                gas_other += check.reveal_requested[job_id].gas_used
                service.step()  # a withholding prover stays silent
                chain.mine(params.reveal_window + 1)
                check = watcher.step()
            if job_id in check.challenged:
                fault, outcome = check.challenged[job_id]
                caught, gas_fraud = outcome.fraud, outcome.tx.gas_used
                gas_claim = check.claimed[job_id].gas_used if job_id in check.claimed else None
                detail = fault.detail or fault.kind.name
            elif job_id in check.slashed_withheld:
                caught, gas_fraud, detail = True, check.slashed_withheld[job_id].gas_used, "trace withheld"
            else:
                caught, detail = False, "not caught"
            job = contract.job(job_id)
            slashed = job.status == JobStatus.OPEN and contract.credit(cheater.address) == 0
            cheat_rows.append({"name": name, "caught": caught, "slashed": slashed, "gas_fraud_proof": gas_fraud,
                               "gas_reveal_request": gas_other or None, "gas_claim": gas_claim, "how": detail})
            contract.cancel_job(requester, job_id)  # the requester takes its fee back
        balance, owed = contract.balance(), contract.total_owed()
        chain_id = chain.chain_id
    return {
        "chain": chain_kind if not rpc_url else "rpc",
        "chain_id": chain_id,
        "mode": "optimistic",
        "params": params.__dict__,
        "model": {"name": model.name, "params": model.param_count, "widths": model.widths},
        "honest": {"finalized": honest_final, "verified_by_watcher": bool(honest_check.verified)},
        "gas": {"deploy": deploy_tx.gas_used, "register_model": register_tx.gas_used, "open_job": open_tx.gas_used,
                "submit_result": submit_tx.gas_used, "finalize": finalize_tx.gas_used, "withdraw": withdraw_tx.gas_used},
        "cheats": cheat_rows,
        "balance_equals_owed": balance == owed,
        "dispute": {"rounds": 1, "blocks_to_finality": params.challenge_window + 1,
                    "withheld_blocks": params.reveal_window + 1},
        "work_dir": str(work),
    }
