"""`vcp estimate`: what verifying a model will cost, before anything is deployed.

Gas is not modelled but measured on a dry run: the committed contracts are deployed on the
embedded EVM (py-evm, the schedule asked for), the model registered, and one transaction of each
kind sent with throwaway keys: a signed attestation, a batch of N, an optimistic job answered and
finalized, and for every operator the costliest one-transaction fraud proof, with fresh accounts
(the slash writes new storage: the worst case). The signed bytes of those transactions price each
mode on Ethereum, an OP Stack chain and Arbitrum (`vcp_toolkit.bench.money`). The zk baseline is
EZKL's calibrated circuit size, with proving time, memory, proof, verifier size and gas predicted
from measured points (`vcp_toolkit.bench.zk_predict`), since its keys alone can take many minutes
and gigabytes. Nothing leaves the process.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vcp_toolkit.attest.keys import SigningKey
from vcp_toolkit.bench.money import InferenceCost, PricedTx, price
from vcp_toolkit.chain.fee_params import FeeParams, load_fee_params
from vcp_toolkit.chain.hardfork import SCHEDULES, SUPPORTED, Hardfork
from vcp_toolkit.chain.nodes import Chain, open_chain
from vcp_toolkit.chain.optimistic import OptimisticInference, OptimisticParams, deploy_graph_operators
from vcp_toolkit.chain.registry import Registry
from vcp_toolkit.chain.tx import Sender, TxOutcome
from vcp_toolkit.model.graph.graph import IntGraph
from vcp_toolkit.model.quantize import QuantizedModel

EIP170_LIMIT = 24_576  # bytes of deployed code (EIP-170)
BATCH_SIZES = (16, 256, 1024)
PARAMS = OptimisticParams(challenge_window=20, reveal_window=10, answer_window=50)
FEE = 10**15


@dataclass(frozen=True)
class ContractFigure:
    """One contract: its deployed code against the EIP-170 limit and its deployment's gas."""

    name: str
    code_bytes: int
    deploy_gas: int

    @property
    def headroom_bytes(self) -> int:
        return EIP170_LIMIT - self.code_bytes


@dataclass(frozen=True)
class TxFigure:
    """One transaction of the dry run."""

    name: str
    gas: int
    raw: bytes  # signed, as a node would receive it
    calldata_bytes: int

    @classmethod
    def of(cls, name: str, tx: TxOutcome) -> "TxFigure":
        return cls(name, tx.gas_used, tx.raw, len(tx.calldata))

    def priced(self) -> PricedTx:
        return PricedTx(self.name, self.gas, self.raw)


@dataclass(frozen=True)
class FraudProofFigure:
    """The costliest fraud proof against one operator (a dense layer or a graph node)."""

    operator: str  # "dense", "output dense", or the graph node's kind
    position: int  # layer or node, from 1
    element: int
    tx: TxFigure


@dataclass(frozen=True)
class Estimate:
    """Everything `vcp estimate` prints; ``zk`` is None when it was not asked for."""

    model: str
    kind: str  # "dense" or "graph"
    params: int
    schedule: str
    contracts: tuple[ContractFigure, ...]
    signed: TxFigure
    batches: dict[int, TxFigure]  # N -> the batch submission
    inclusion_check: TxFigure
    optimistic: tuple[TxFigure, ...]  # open job, submit result, finalize
    fraud_proofs: tuple[FraudProofFigure, ...]
    costs: tuple[InferenceCost, ...]
    zk: Any = None  # a ZkPrediction, or a reason it is missing (str)
    notes: tuple[str, ...] = field(default=())

    def worst_fraud_proofs(self) -> dict[str, FraudProofFigure]:
        """The costliest proof of each operator kind."""
        worst: dict[str, FraudProofFigure] = {}
        for proof in self.fraud_proofs:
            if proof.operator not in worst or proof.tx.gas > worst[proof.operator].tx.gas:
                worst[proof.operator] = proof
        return worst


def funded_sender(chain: Chain) -> Sender:
    account = Sender(chain)
    account.ensure_funded()
    return account


class DryRunContracts:
    """The three contracts on the dry-run chain, deployed by one owner that is also the prover."""

    def __init__(self, chain: Chain) -> None:
        self.owner = funded_sender(chain)
        operators = deploy_graph_operators(self.owner)
        self.optimistic, optimistic_tx = OptimisticInference.deploy(self.owner, PARAMS,
                                                                    graph_operators=operators.contract_address)
        self.registry, registry_tx = Registry.deploy(self.owner)
        self.key = SigningKey.generate()
        self.registry.set_prover(self.owner, self.key.address)
        code = chain.w3.eth.get_code
        self.figures = tuple(
            ContractFigure(name, len(code(tx.contract_address)), tx.gas_used)
            for name, tx in (("AttestationRegistry", registry_tx), ("OptimisticInference", optimistic_tx),
                             ("GraphOperators", operators)))


def dry_run_schedule(hardfork: str | None) -> tuple[Hardfork, Hardfork, tuple[str, ...]]:
    """(the schedule estimated for, the one the dry run executes on, notes). Default: the newest
    schedule (Osaka). py-evm has no Osaka VM; Osaka reprices nothing vcp's contracts execute
    (vcp_toolkit.chain.hardfork), so its dry run is Prague's, checked against Osaka's gas cap."""
    target = Hardfork(str(hardfork).strip().lower()) if hardfork else Hardfork(SCHEDULES[-1])
    runnable = SUPPORTED["embedded"]
    if target.name in runnable:
        return target, target, ()
    ran = Hardfork(runnable[-1])
    return target, ran, (f"dry run on {ran}: the embedded EVM has no {target} VM, and {target} reprices nothing "
                         "the contracts execute (docs/schedules.md)",)


def cap_notes(target: Hardfork, txs: list[TxFigure]) -> tuple[str, ...]:
    cap = target.tx_gas_cap
    return tuple(f"{tx.name}: {tx.gas:,} gas is over {target}'s per-transaction cap of {cap:,} (EIP-7825)"
                 for tx in txs if cap is not None and tx.gas > cap)


def estimate(model: QuantizedModel | IntGraph, hardfork: str | None = None, batch_sizes: tuple[int, ...] = BATCH_SIZES,
             fee_params: FeeParams | None = None, zk: bool = False) -> Estimate:
    """Dry-run every transaction ``model`` needs on the embedded EVM, price them, and (``zk``)
    predict the zk baseline from EZKL's calibrated circuit size."""
    from vcp_toolkit.bench.estimate_subjects import subject_for

    target, ran, notes = dry_run_schedule(hardfork)
    with open_chain("embedded", hardfork=ran) as chain:
        contracts = DryRunContracts(chain)
        subject = subject_for(model, contracts)
        signed = subject.signed()
        batches = {n: subject.batch(n) for n in batch_sizes}
        inclusion = subject.inclusion_check(max(batch_sizes)) if batch_sizes else signed
        optimistic = subject.optimistic_happy()
        fraud_proofs = tuple(subject.fraud_proofs())
    schedule = target.name
    costs = _costs(subject.name, schedule, signed, batches, optimistic, fraud_proofs, fee_params or load_fee_params())
    prediction, zk_notes = _zk_prediction(model) if zk else ("not asked for (--zk)", ())
    deploys = [TxFigure(f"{c.name} deploy", c.deploy_gas, b"", 0) for c in contracts.figures]
    txs = [signed, inclusion, *batches.values(), *optimistic, *(p.tx for p in fraud_proofs), *deploys]
    return Estimate(subject.name, subject.kind, model.param_count, schedule, contracts.figures, signed, batches,
                    inclusion, optimistic, fraud_proofs, tuple(costs), prediction,
                    notes + cap_notes(target, txs) + zk_notes)


def _costs(name: str, schedule: str, signed: TxFigure, batches: dict[int, TxFigure], optimistic: tuple[TxFigure, ...],
           fraud_proofs: tuple[FraudProofFigure, ...], params: FeeParams) -> list[InferenceCost]:
    """Dollars per verified inference for each mode, as `vcp bench` prices its measured rows."""
    costs = [price("signed_single", name, 1, schedule, [signed.priced()], params)]
    costs += [price("signed_batched", name, n, schedule, [tx.priced()], params) for n, tx in batches.items()]
    costs.append(price("optimistic_happy", name, 1, schedule, [tx.priced() for tx in optimistic], params))
    if fraud_proofs:
        worst = max(fraud_proofs, key=lambda p: p.tx.gas)
        txs = [tx.priced() for tx in optimistic[:2]] + [worst.tx.priced()]
        costs.append(price("optimistic_dispute", name, 1, schedule, txs, params))
    return costs


def _zk_prediction(model: QuantizedModel | IntGraph) -> tuple[Any, tuple[str, ...]]:
    """EZKL's calibrated size of the model's circuit and the costs predicted for it (or why not),
    with notes when the size lies outside the measured points or the memory outside this machine's."""
    from vcp_toolkit.bench.zk_calibration import load_calibration
    from vcp_toolkit.bench.zk_predict import ZkModel, points_for
    from vcp_toolkit.errors import ToolMissing
    from vcp_toolkit.zk.circuit import CircuitModel, circuit_size

    circuit = CircuitModel.of(model)
    try:
        size = circuit_size(model, _zk_calibration_input(model))
    except ToolMissing as exc:
        return str(exc), ()
    calibration = load_calibration()
    kind = "graph" if isinstance(model, IntGraph) else "dense"
    fitted = ZkModel.fit(points_for(calibration.points, kind))
    prediction = fitted.predict(size.logrows, size.rows, circuit.in_width + circuit.out_width)
    return prediction, zk_notes(prediction, calibration)


def zk_notes(prediction, calibration) -> tuple[str, ...]:
    """Where a zk prediction should be read with care."""
    from vcp_toolkit.bench.cnn_runs import available_memory

    measured = sorted({p.logrows for p in calibration.points})
    notes = []
    if not measured[0] <= prediction.logrows <= measured[-1]:
        notes.append(f"zk: logrows {prediction.logrows} lies outside the measured logrows {measured[0]}-{measured[-1]} "
                     f"({calibration.machine}, {calibration.measured_on}): the prediction extrapolates")
    if prediction.verifier_bytes > EIP170_LIMIT:
        notes.append(f"zk: EZKL's verifier would be about {prediction.verifier_bytes:,.0f} bytes, over EIP-170's "
                     f"{EIP170_LIMIT:,}: it could not be deployed as one contract")
    memory = available_memory()
    if memory is not None and prediction.peak_rss_mb * 2**20 > memory:
        notes.append(f"zk: the prover would need about {prediction.peak_rss_mb / 1024:,.1f} GB; this machine has "
                     f"{memory / 2**30:,.1f} GiB available")
    return tuple(notes)


def _zk_calibration_input(model: QuantizedModel | IntGraph) -> np.ndarray | None:
    """What `vcp bench` calibrates a CNN's circuit on: a held-out MNIST image (28x28 models);
    other models use EZKL's default calibration (random int8 codes)."""
    if isinstance(model, IntGraph) and tuple(model.input_shape) == (1, 28, 28):
        from vcp_toolkit.model.datasets import load_mnist_split

        return model.quantize_input(load_mnist_split().x_test[:1]).reshape(1, -1)
    return None


def salt() -> bytes:
    return secrets.token_bytes(32)
