"""`vcp demo --mode optimistic`: one honest job to finalization, then one cheating prover per cheat,
each caught by the watcher and slashed on-chain in one fraud-proof transaction."""

from __future__ import annotations

import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vcp_toolkit.prover import ProverService, Strategy, honest
from vcp_toolkit.prover import cheats
from vcp_toolkit.chain.nodes import Chain, open_chain
from vcp_toolkit.chain.optimistic import JobStatus, OptimisticInference, OptimisticParams
from vcp_toolkit.chain.tx import Sender, TxOutcome
from vcp_toolkit.commit.commitments import ModelCommitment
from vcp_toolkit.model.datasets import load_digits_split
from vcp_toolkit.ops.exchange import Exchange
from vcp_toolkit.model.builtin import demo_model
from vcp_toolkit.model.quantize import QuantizedModel
from vcp_toolkit.verifier import Watcher, WatchStep

FEE = 10**16


def _funded(chain) -> Sender:
    sender = Sender(chain)
    sender.ensure_funded()
    return sender


@dataclass(frozen=True)
class _Setting:
    """One deployed contract with its model registered, a requester, a watcher and the exchange."""

    chain: Chain
    contract: OptimisticInference
    requester: Sender
    watcher: Watcher
    exchange: Exchange
    model: QuantizedModel
    commitment: ModelCommitment
    inputs: np.ndarray
    params: OptimisticParams
    work: Path

    def open_job(self, index: int) -> tuple[int, Any]:
        job_commitment = self.exchange.put_input(self.inputs[index], secrets.token_bytes(32))
        return self.contract.open_job(self.requester, self.commitment.root, job_commitment, FEE)

    def service(self, account: Sender, name: str, strategy: Strategy) -> ProverService:
        return ProverService(self.contract, account, self.model, self.exchange, self.work / f"prover-{name}.json",
                             strategy)


@dataclass(frozen=True)
class _Honest:
    """The honest job: its transactions, and whether it finalized with the watcher's agreement."""

    service: ProverService
    open_tx: TxOutcome
    submit_tx: TxOutcome
    finalize_tx: TxOutcome
    withdraw_tx: TxOutcome
    finalized: bool
    verified: bool


def run_optimistic_demo(chain_kind: str = "embedded", rpc_url: str | None = None,
                        out_dir: Path | None = None, params: OptimisticParams = OptimisticParams(),
                        hardfork: str | None = None) -> dict[str, Any]:
    model = demo_model()
    commitment = ModelCommitment(model)
    inputs = model.quantize_input(load_digits_split().x_test[:16])
    work = _work_dir(out_dir)
    with open_chain(chain_kind, rpc_url, hardfork) as chain:
        setting, deploy_tx, register_tx = _set_up(chain, model, commitment, inputs, params, work)
        honest_run = _run_honest(setting)
        strategies = _cheats(setting, honest_run.service)
        cheat_rows = [_run_cheat(setting, n, name, strategy)
                      for n, (name, strategy) in enumerate(strategies.items(), start=1)]
        balance, owed = setting.contract.balance(), setting.contract.total_owed()
        chain_id = chain.chain_id
    return {
        "chain": chain_kind if not rpc_url else "rpc",
        "chain_id": chain_id,
        "mode": "optimistic",
        "params": params.__dict__,
        "model": {"name": model.name, "params": model.param_count, "widths": model.widths},
        "honest": {"finalized": honest_run.finalized, "verified_by_watcher": honest_run.verified},
        "gas": {"deploy": deploy_tx.gas_used, "register_model": register_tx.gas_used,
                "open_job": honest_run.open_tx.gas_used, "submit_result": honest_run.submit_tx.gas_used,
                "finalize": honest_run.finalize_tx.gas_used, "withdraw": honest_run.withdraw_tx.gas_used},
        "cheats": cheat_rows,
        "balance_equals_owed": balance == owed,
        "dispute": {"rounds": 1, "blocks_to_finality": params.challenge_window + 1,
                    "withheld_blocks": params.reveal_window + 1},
        "work_dir": str(work),
    }


def _work_dir(out_dir: Path | None) -> Path:
    """A fresh directory per run: state files of another chain's run must never be resumed."""
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="optimistic-", dir=out_dir))


def _set_up(chain: Chain, model: QuantizedModel, commitment: ModelCommitment, inputs: np.ndarray,
            params: OptimisticParams, work: Path) -> tuple[_Setting, TxOutcome, TxOutcome]:
    exchange = Exchange(work / "exchange")
    owner, requester, watcher_account = _funded(chain), _funded(chain), _funded(chain)
    contract, deploy_tx = OptimisticInference.deploy(owner, params)
    register_tx = contract.register_model(owner, commitment)
    watcher = Watcher(contract, watcher_account, [model], work / "watcher.json", exchange)
    setting = _Setting(chain, contract, requester, watcher, exchange, model, commitment, inputs, params, work)
    return setting, deploy_tx, register_tx


def _run_honest(s: _Setting) -> _Honest:
    """Open, answer, nobody can object, finalize after the window, withdraw."""
    honest_prover = _funded(s.chain)
    service = s.service(honest_prover, "honest", honest)
    job_id, open_tx = s.open_job(0)
    submit_tx = service.step().answered[job_id]
    honest_check = s.watcher.step()
    s.chain.mine(s.params.challenge_window + 1)
    finalize_tx = service.step().finalized[job_id]
    finalized = s.contract.job(job_id).status == JobStatus.FINALIZED
    withdraw_tx = s.contract.withdraw(honest_prover)
    return _Honest(service, open_tx, submit_tx, finalize_tx, withdraw_tx, finalized, bool(honest_check.verified))


def _cheats(s: _Setting, honest_service: ProverService) -> dict[str, Strategy]:
    """One cheating strategy per way to lie."""
    previous = honest_service.strategy(s.model, s.inputs[0], secrets.token_bytes(32))  # another job's answer, to copy
    return {
        "wrong_output": cheats.wrong_output,
        "wrong_hidden_layer": cheats.wrong_hidden_layer,
        "other_weights": cheats.other_weights,
        "copied_output": cheats.copied_from(previous),
        "input_swapped": cheats.input_swapped(s.inputs[15]),
        "withheld_trace": cheats.withheld_trace,
    }


def _run_cheat(s: _Setting, index: int, name: str, strategy: Strategy) -> dict[str, Any]:
    """One cheating prover answers job ``index``; the watcher catches it; the requester takes its fee back."""
    cheater = _funded(s.chain)
    service = s.service(cheater, name, strategy)
    job_id, _ = s.open_job(index)
    service.step()
    check = s.watcher.step()
    gas_reveal = 0
    if job_id in check.reveal_requested:  # no bundle published: make the prover reveal on-chain
        gas_reveal += check.reveal_requested[job_id].gas_used
        service.step()  # a withholding prover stays silent
        s.chain.mine(s.params.reveal_window + 1)
        check = s.watcher.step()
    caught, gas_fraud, gas_claim, detail = _verdict(check, job_id)
    job = s.contract.job(job_id)
    slashed = job.status == JobStatus.OPEN and s.contract.credit(cheater.address) == 0
    row = {"name": name, "caught": caught, "slashed": slashed, "gas_fraud_proof": gas_fraud,
           "gas_reveal_request": gas_reveal or None, "gas_claim": gas_claim, "how": detail}
    s.contract.cancel_job(s.requester, job_id)  # the requester takes its fee back
    return row


def _verdict(check: WatchStep, job_id: int) -> tuple[bool, int | None, int | None, str]:
    """What the watcher's step did about the job: (caught, fraud-proof gas, claim gas, how)."""
    if job_id in check.challenged:
        fault, outcome = check.challenged[job_id]
        gas_claim = check.claimed[job_id].gas_used if job_id in check.claimed else None
        return outcome.fraud, outcome.tx.gas_used, gas_claim, fault.detail or fault.kind.name
    if job_id in check.slashed_withheld:
        return True, check.slashed_withheld[job_id].gas_used, None, "trace withheld"
    return False, None, None, "not caught"
