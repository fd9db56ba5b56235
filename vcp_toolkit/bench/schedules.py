"""The same transactions of every mode on several fee schedules (Shanghai, Prague, Osaka), in one
`vcp bench` run.

Only the transactions run again, not the timings: fixed keys, salts and nonces, and each batch
proven once and reused, so every schedule receives byte-identical calldata. Anvil is started with
the embedded chain's chain id, so even the attestations' EIP-712 signatures match when a schedule
(Osaka) needs Anvil; the signed envelopes differ only in their fee caps (each chain's base fee).
Each row keeps the signed bytes of its transactions, from which the fee tables are computed."""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
from eth_utils import keccak

from vcp_toolkit.prover import Prover, honest, prove_batch
from vcp_toolkit.prover import cheats
from vcp_toolkit.attest.keys import SigningKey
from vcp_toolkit.chain.gas import calldata_tokens
from vcp_toolkit.chain.hardfork import SUPPORTED, Hardfork
from vcp_toolkit.chain.nodes import Chain, EmbeddedChain, LocalNode
from vcp_toolkit.chain.optimistic import OptimisticInference, OptimisticParams
from vcp_toolkit.chain.registry import Registry
from vcp_toolkit.chain.tx import Sender, TxOutcome
from vcp_toolkit.commit.commitments import ModelCommitment, input_commitment, output_commitment, trace_root
from vcp_toolkit.model.quantize import QuantizedModel
from vcp_toolkit.verifier import Claim, evidence_for, find_fault

COMPARED = ("shanghai", "prague", "osaka")
EMBEDDED_CHAIN_ID = 131277322940537  # eth-tester's chain id; Anvil gets it too so signatures match
PARAMS = OptimisticParams(challenge_window=20, reveal_window=10, answer_window=50)
SALT_IN, SALT_OUT = b"\x11" * 32, b"\x22" * 32
FEE_WEI = 10**15


def _key(role: str) -> bytes:
    return keccak(b"vcp bench schedules: " + role.encode())


SIGNER = SigningKey(_key("signer"))


def open_for(schedule: str, chains: tuple[str, ...]) -> Chain | None:
    """The chain that measures ``schedule``: the embedded one when it runs it, else Anvil when
    the run includes it (with the embedded chain's id), else None (not measured)."""
    if schedule in SUPPORTED["embedded"]:
        return EmbeddedChain(schedule)
    if "anvil" in chains:
        return LocalNode("anvil", extra_args=("--chain-id", str(EMBEDDED_CHAIN_ID)), hardfork=schedule)
    return None


def model_for_zk(widths: tuple[int, ...]) -> QuantizedModel:
    from vcp_toolkit.bench.runner import model_for

    return model_for(widths)


def tx_record(name: str, tx: TxOutcome) -> dict[str, Any]:
    """What the report needs of one transaction: its gas, calldata tokens and signed bytes."""
    return {"name": name, "gas": tx.gas_used, "calldata_bytes": len(tx.calldata),
            "calldata_keccak": "0x" + keccak(tx.calldata).hex(),
            "tokens": calldata_tokens(tx.calldata), "raw": "0x" + tx.raw.hex()}


@dataclass(frozen=True)
class _Model:
    widths: tuple[int, ...]
    model: QuantizedModel
    commitment: ModelCommitment
    inputs: np.ndarray


class ScheduleScript:
    """Every mode's transactions on one chain, from fixed keys (the same calldata on every chain
    given the same chain id). ``batches`` caches proven batches across schedules."""

    def __init__(self, chain: Chain, batches: dict) -> None:
        self.chain = chain
        self.batches = batches
        self.registered: set[bytes] = set()  # model roots on the registry
        self.nonces = itertools.count(1)  # one sequence: the same nonces in the same order on every chain
        self.operator, self.requester, self.prover_account, self.challenger = (
            Sender(chain, _key(role)) for role in ("operator", "requester", "prover", "challenger"))
        for sender in (self.operator, self.requester, self.prover_account, self.challenger):
            sender.ensure_funded()
        self.registry, registry_tx = Registry.deploy(self.operator)
        self.optimistic, optimistic_tx = OptimisticInference.deploy(self.operator, PARAMS)
        self.registry.set_prover(self.operator, SIGNER.address)
        self.rows: list[dict[str, Any]] = [
            self._row("deploy", "registry", 1, [tx_record("deploy registry", registry_tx)]),
            self._row("deploy", "optimistic", 1, [tx_record("deploy optimistic", optimistic_tx)])]

    def _row(self, mode: str, model: str, batch: int, txs: list[dict[str, Any]]) -> dict[str, Any]:
        return {"mode": mode, "model": model, "batch": batch, "gas": sum(t["gas"] for t in txs), "txs": txs}

    def run_model(self, widths: tuple[int, ...], model: QuantizedModel, batch_sizes: tuple[int, ...]) -> None:
        from vcp_toolkit.model.synthetic import random_inputs

        commitment = ModelCommitment(model)
        subject = _Model(tuple(widths), model, commitment, random_inputs(model, max(batch_sizes), seed=7))
        self.registry.register_model(self.operator, commitment.root)
        self.registered.add(commitment.root)
        self.optimistic.register_model(self.operator, commitment)
        prover = Prover(model, SIGNER, self.registry.domain)
        self.signed(subject, prover)
        for n in batch_sizes:
            self.batched(subject, prover, n)
        self.happy(subject)
        self.reveal(subject)
        self.dispute(subject)

    def name(self, s: _Model) -> str:
        return "->".join(map(str, s.widths))

    def signed(self, s: _Model, prover: Prover) -> None:
        proof = prover.prove(s.inputs[0], nonce=next(self.nonces), input_salt=SALT_IN, output_salt=SALT_OUT)
        sub = self.registry.submit(self.operator, proof.attestation, proof.signature)
        self.rows.append(self._row("signed_single", self.name(s), 1, [tx_record("submit", sub.tx)]))

    def batched(self, s: _Model, prover: Prover, n: int) -> None:
        nonce = next(self.nonces)
        key = (self.registry.domain, s.widths, n, nonce)
        if key not in self.batches:  # the same bytes on every schedule: proven once
            self.batches[key] = prove_batch(prover, s.inputs[:n], nonce=nonce)
        proven = self.batches[key]
        sub = self.registry.submit_batch(self.operator, proven.batch, proven.signature)
        self.rows.append(self._row("signed_batched", self.name(s), n, [tx_record("submit batch", sub.tx)]))
        record, proof = proven.record_proof(n - 1)
        check = self.registry.verify_record_tx(self.operator, proven.batch, record, n - 1, proof)
        self.rows.append(self._row("inclusion_check", self.name(s), n, [tx_record("verify record", check)]))

    def happy(self, s: _Model) -> None:
        x = s.inputs[0]
        answer = dataclasses.replace(honest(s.model, x, SALT_IN), output_salt=SALT_OUT)
        job_id, open_tx = self.optimistic.open_job(self.requester, s.commitment.root, input_commitment(SALT_IN, x),
                                                   FEE_WEI)
        submit_tx = self.optimistic.submit_result(self.prover_account, job_id,
                                                  output_commitment(SALT_OUT, answer.trace[-1]),
                                                  trace_root(answer.trace))
        self.chain.mine(PARAMS.challenge_window + 1)
        finalize_tx = self.optimistic.finalize(self.prover_account, job_id)
        self.rows.append(self._row("optimistic_happy", self.name(s), 1, [
            tx_record("open job", open_tx), tx_record("submit result", submit_tx),
            tx_record("finalize", finalize_tx)]))

    def zk(self, widths: tuple[int, ...], circuit: Any, proof: Any, x: np.ndarray) -> None:
        """The zk submit (and EZKL's verifier alone) of one proof made once: the verifier's
        pairing and ModExp precompiles are what Osaka reprices. A deployment over Osaka's 2**24
        cap is recorded as refused."""
        from vcp_toolkit.commit.encoding import int8_bytes
        from vcp_toolkit.errors import ChainError
        from vcp_toolkit.prover import zk_attestation_for
        from vcp_toolkit.chain.tx import calldata

        name = "->".join(map(str, widths))
        root = ModelCommitment(model_for_zk(widths)).root
        if root not in self.registered:
            self.registry.register_model(self.operator, root)
            self.registered.add(root)
        try:
            deployed = self.registry.deploy_zk_verifier(self.operator, circuit.verifier_bytecode)
        except ChainError as exc:
            self.rows.append({**self._row("zk", name, 1, []), "refused": str(exc).splitlines()[0][:200]})
            return
        self.registry.set_zk_verifier(self.operator, root, deployed.contract_address, circuit.input_scale,
                                      circuit.in_width, circuit.out_width)
        att = zk_attestation_for(proof, self.operator.address, root, SALT_IN, SALT_OUT, nonce=next(self.nonces))
        sub = self.registry.submit_zk(self.operator, att, proof.proof, list(proof.instances), int8_bytes(x),
                                      SALT_IN, SALT_OUT)
        verifier = self.chain.w3.eth.contract(abi=circuit.verifier_abi)
        alone = self.operator.transact(to=deployed.contract_address, action="calling the zk verifier",
                                       data=calldata(verifier.functions.verifyProof(proof.proof, list(proof.instances))))
        self.rows.append(self._row("zk", name, 1, [tx_record("zk submit", sub.tx)]))
        self.rows.append(self._row("zk_verifier_only", name, 1, [tx_record("verifyProof", alone)]))
        self.rows.append(self._row("deploy", f"zk verifier {name}", 1, [tx_record("deploy verifier", deployed)]))

    def reveal(self, s: _Model) -> None:
        """The data-availability path: a reveal request, and the whole trace posted as calldata."""
        from vcp_toolkit.commit.encoding import int8_bytes

        x = s.inputs[0]
        answer = dataclasses.replace(honest(s.model, x, SALT_IN), output_salt=SALT_OUT)
        job_id, _ = self.optimistic.open_job(self.requester, s.commitment.root, input_commitment(SALT_IN, x), FEE_WEI)
        self.optimistic.submit_result(self.prover_account, job_id, output_commitment(SALT_OUT, answer.trace[-1]),
                                      trace_root(answer.trace))
        request_tx = self.optimistic.request_reveal(self.challenger, job_id, bond=PARAMS.reveal_bond * 4)
        reveal_tx = self.optimistic.reveal_trace(self.prover_account, job_id, [int8_bytes(v) for v in answer.trace],
                                                 SALT_IN, SALT_OUT)
        self.rows.append(self._row("optimistic_reveal", self.name(s), 1, [
            tx_record("request reveal", request_tx), tx_record("reveal trace", reveal_tx)]))

    def dispute_width(self, width: int) -> None:
        """A fraud proof re-executing one neuron of fan-in ``width`` (as vcp.bench.disputes)."""
        from vcp_toolkit.model.synthetic import random_inputs, random_model

        model = random_model([width, width, 10], seed=width)
        commitment = ModelCommitment(model)
        self.optimistic.register_model(self.operator, commitment)
        subject = _Model((width, width, 10), model, commitment, random_inputs(model, 1, seed=width))
        self.dispute(subject, mode="dispute_by_width")

    def dispute(self, s: _Model, mode: str = "optimistic_dispute") -> None:
        x = s.inputs[0]
        job_id, _ = self.optimistic.open_job(self.requester, s.commitment.root, input_commitment(SALT_IN, x), FEE_WEI)
        lie = dataclasses.replace(cheats.wrong_hidden_layer(s.model, x, SALT_IN), output_salt=SALT_OUT)
        self.optimistic.submit_result(self.prover_account, job_id, output_commitment(SALT_OUT, lie.trace[-1]),
                                      trace_root(lie.trace))
        job = self.optimistic.job(job_id)
        fault = find_fault(s.model, Claim(job.input_commitment, job.output_commitment, job.trace_root), lie.trace,
                           lie.input_salt, lie.output_salt)
        outcome = self.optimistic.prove(self.challenger, job_id, evidence_for(fault, s.commitment, lie.trace))
        self.rows.append(self._row(mode, self.name(s), 1, [tx_record("fraud proof", outcome.tx)]))


def measure_schedules(models: list[tuple[tuple[int, ...], QuantizedModel]], batch_sizes: tuple[int, ...],
                      chains: tuple[str, ...], schedules: tuple[str, ...] = COMPARED,
                      dispute_widths: tuple[int, ...] = (), note=lambda _msg: None,
                      zk_proofs: tuple = ()) -> dict[str, Any]:
    """{schedule: {"chain": kind or None, "rows": [...]}} for each schedule, the same transactions on
    each; ``zk_proofs``: (widths, circuit, proof, int8 input) made once by the zk rows, reused."""
    out: dict[str, Any] = {}
    batches: dict = {}
    for schedule in schedules:
        Hardfork(schedule)  # refuses an unknown name before anything starts
        chain = open_for(schedule, chains)
        if chain is None:
            out[schedule] = {"chain": None, "rows": [], "why": f"{schedule} needs Anvil (py-evm has no Osaka VM): "
                                                               "add anvil to --chains"}
            continue
        with chain:
            note(f"{chain.kind} on {schedule}: the same transactions")
            script = ScheduleScript(chain, batches)
            for widths, model in models:
                script.run_model(widths, model, batch_sizes)
            for width in dispute_widths:
                script.dispute_width(width)
            for widths, circuit, proof, x in zk_proofs:
                script.zk(widths, circuit, proof, x)
            out[schedule] = {"chain": chain.kind, "rows": script.rows}
    return out
