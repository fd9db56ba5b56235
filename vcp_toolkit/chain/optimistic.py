"""Client for contracts/src/OptimisticInference.sol."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from enum import IntEnum
from typing import Any

from eth_abi import encode as abi_encode
from eth_utils import to_checksum_address
from web3.contract import Contract

from vcp_toolkit.contracts import load_artifact
from vcp_toolkit.chain.boundary import chain_errors
from vcp_toolkit.chain.evidence import (  # noqa: F401 - FraudKind re-exported (it was defined here)
    Evidence, FraudKind, InputEvidence, NeuronEvidence, OutputEvidence)
from vcp_toolkit.chain.graph_evidence import GraphEvidence
from vcp_toolkit.chain.nodes import Chain
from vcp_toolkit.chain.tx import Sender, TxOutcome, calldata
from vcp_toolkit.commit.commitments import ModelCommitment, model_metadata_digest
from vcp_toolkit.commit.encoding import keccak256
from vcp_toolkit.commit.graph_commitments import GraphModelCommitment
from vcp_toolkit.errors import InvalidInput

ARTIFACT = "OptimisticInference"
OPERATORS_ARTIFACT = "GraphOperators"
TRANSFORMER_ARTIFACT = "TransformerOperators"
ZERO_ADDRESS = "0x" + "00" * 20


class JobStatus(IntEnum):
    NONE = 0
    OPEN = 1
    ANSWERED = 2
    FINALIZED = 3
    CANCELLED = 4


@dataclass(frozen=True)
class OptimisticParams:
    """Deploy-time parameters: bonds in wei, windows in blocks."""

    prover_bond: int = 10**17
    challenge_bond: int = 10**16
    reveal_bond: int = 10**15
    challenge_window: int = 20
    answer_window: int = 50
    reveal_window: int = 10
    challenger_reward_bps: int = 5_000


@dataclass(frozen=True)
class Job:
    job_id: int
    requester: str
    status: JobStatus
    deadline: int
    layers: int
    model_depth: int
    model_root: bytes
    input_commitment: bytes
    fee: int
    prover: str
    reveal_deadline: int
    revealed: bool
    reveal_requester: str
    reveal_bond: int
    output_commitment: bytes
    trace_root: bytes


@dataclass(frozen=True)
class ChallengeOutcome:
    """What one fraud-proof transaction did."""

    fraud: bool
    tx: TxOutcome


def deploy_graph_operators(sender: Sender) -> TxOutcome:
    """Deploy TransformerOperators, then GraphOperators pointing at it (both stateless: one pair
    per chain serves every OptimisticInference). Returns GraphOperators' deployment."""
    transformer = load_artifact(TRANSFORMER_ARTIFACT)
    first = sender.transact(to=None, data=bytes.fromhex(transformer["bytecode"][2:]),
                            action="deploying TransformerOperators")
    artifact = load_artifact(OPERATORS_ARTIFACT)
    ctor = sender.chain.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"]).constructor(
        first.contract_address)
    return sender.transact(to=None, data=bytes.fromhex(ctor.data_in_transaction[2:]),
                           action="deploying GraphOperators")


class OptimisticInference:
    """A deployed OptimisticInference contract."""

    def __init__(self, chain: Chain, address: str) -> None:
        self.chain = chain
        self.address = to_checksum_address(address)
        self.contract: Contract = chain.w3.eth.contract(address=self.address, abi=load_artifact(ARTIFACT)["abi"])

    @classmethod
    def deploy(cls, sender: Sender, params: OptimisticParams = OptimisticParams(),
               owner: str | None = None, graph_operators: str | None = None) -> tuple["OptimisticInference", TxOutcome]:
        """Deploy the contract; without ``graph_operators`` (a GraphOperators address) one is
        deployed first (``deploy_graph_operators``)."""
        if graph_operators is None:
            graph_operators = deploy_graph_operators(sender).contract_address
        artifact = load_artifact(ARTIFACT)
        factory = sender.chain.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
        ctor = factory.constructor(
            owner or sender.address, params.prover_bond, params.challenge_bond, params.reveal_bond,
            params.challenge_window, params.answer_window, params.reveal_window, params.challenger_reward_bps,
            graph_operators)
        outcome = sender.transact(to=None, data=bytes.fromhex(ctor.data_in_transaction[2:]),
                                  action="deploying OptimisticInference")
        return cls(sender.chain, outcome.contract_address), outcome

    # ------------------------------------------------------------- parameters and reads

    def _read(self, fn: Any, what: str = "reading the contract") -> Any:
        with chain_errors(what):
            return fn.call()

    @cached_property
    def params(self) -> OptimisticParams:
        """Immutable in the contract: read once."""
        f = self.contract.functions
        return OptimisticParams(
            prover_bond=self._read(f.proverBond()), challenge_bond=self._read(f.challengeBond()),
            reveal_bond=self._read(f.revealBond()), challenge_window=self._read(f.challengeWindow()),
            answer_window=self._read(f.answerWindow()), reveal_window=self._read(f.revealWindow()),
            challenger_reward_bps=self._read(f.challengerRewardBps()))

    def job(self, job_id: int) -> Job:
        raw = self._read(self.contract.functions.getJob(job_id))
        requester, status, deadline, layers, depth, root, input_c, fee, prover, reveal_deadline, revealed, \
            reveal_requester, reveal_bond, output_c, trace_root = raw
        return Job(job_id, requester, JobStatus(status), deadline, layers, depth, bytes(root), bytes(input_c), fee,
                   prover, reveal_deadline, revealed, reveal_requester, reveal_bond, bytes(output_c), bytes(trace_root))

    def credit(self, account: str) -> int:
        return int(self._read(self.contract.functions.credit(account)))

    def total_owed(self) -> int:
        return int(self._read(self.contract.functions.totalOwed()))

    def balance(self) -> int:
        with chain_errors("reading the balance"):
            return int(self.chain.w3.eth.get_balance(self.address))

    def reveal_bond_for(self, job_id: int) -> int:
        """The least a reveal request on ``job_id`` takes at the latest block's base fee."""
        return int(self._read(self.contract.functions.revealBondFor(job_id)))

    def reveal_gas_bound(self, model_root: bytes) -> int:
        return int(self._read(self.contract.functions.revealGasBound(model_root)))

    def model_layers(self, model_root: bytes) -> int:
        return int(self._read(self.contract.functions.modelLayers(model_root)))

    def next_job_id(self) -> int:
        return int(self._read(self.contract.functions.nextJobId()))

    # ------------------------------------------------------------- transactions

    def send_call(self, sender: Sender, fn: Any, action: str, value: int = 0) -> TxOutcome:
        """Any call of this contract (``self.contract.functions.X(...)``) through the one transaction
        path: for calls the typed methods do not make, such as the hostile ones tests send."""
        data = calldata(fn)
        return sender.transact(to=self.address, data=data, value=value, action=action)

    def register_model(self, sender: Sender, commitment: ModelCommitment) -> TxOutcome:
        m = commitment.model
        _, proof = commitment.header_proof()
        fn = self.contract.functions.registerModel(
            commitment.root, len(m.layers), m.input_width, m.output_width, m.neuron_count,
            model_metadata_digest(m), list(proof.siblings))
        return self.send_call(sender, fn, "registering the model")

    def register_graph_model(self, sender: Sender, commitment: GraphModelCommitment) -> TxOutcome:
        header, proof = commitment.opening(0)
        fn = self.contract.functions.registerGraphModel(commitment.root, header, list(proof.siblings))
        return self.send_call(sender, fn, "registering the graph model")

    def open_job(self, sender: Sender, model_root: bytes, input_commitment: bytes, fee: int) -> tuple[int, TxOutcome]:
        outcome = self.send_call(sender, self.contract.functions.openJob(model_root, input_commitment), "opening a job", fee)
        event = self.contract.events.JobOpened().process_log(self._log(outcome, "JobOpened"))
        return int(event["args"]["jobId"]), outcome

    def cancel_job(self, sender: Sender, job_id: int) -> TxOutcome:
        return self.send_call(sender, self.contract.functions.cancelJob(job_id), "cancelling the job")

    def submit_result(self, sender: Sender, job_id: int, output_commitment: bytes, trace_root: bytes,
                      bond: int | None = None) -> TxOutcome:
        fn = self.contract.functions.submitResult(job_id, output_commitment, trace_root)
        return self.send_call(sender, fn, "submitting the result", self.params.prover_bond if bond is None else bond)

    def request_reveal(self, sender: Sender, job_id: int, bond: int | None = None) -> TxOutcome:
        """Pays ``bond`` (default: the current minimum plus 1/8, since the next block's base fee
        can be up to 1/8 higher; all of it is the bond)."""
        if bond is None:
            bond = self.reveal_bond_for(job_id) * 9 // 8 + 1
        return self.send_call(sender, self.contract.functions.requestReveal(job_id), "requesting a reveal", bond)

    def reveal_trace(self, sender: Sender, job_id: int, trace: list[bytes], input_salt: bytes,
                     output_salt: bytes) -> TxOutcome:
        fn = self.contract.functions.revealTrace(job_id, trace, input_salt, output_salt)
        return self.send_call(sender, fn, "revealing the trace")

    def slash_withheld(self, sender: Sender, job_id: int) -> TxOutcome:
        return self.send_call(sender, self.contract.functions.slashWithheld(job_id), "slashing a withheld trace")

    def finalize(self, sender: Sender, job_id: int) -> TxOutcome:
        return self.send_call(sender, self.contract.functions.finalize(job_id), "finalizing the job")

    def withdraw(self, sender: Sender) -> TxOutcome:
        return self.send_call(sender, self.contract.functions.withdraw(), "withdrawing")

    # ------------------------------------------------------------- fraud proofs

    def _proof_call(self, job_id: int, evidence: Evidence) -> Any:
        """The contract call that proves ``evidence`` (one per evidence type)."""
        f = self.contract.functions
        if isinstance(evidence, NeuronEvidence):
            return f.proveNeuronFraud(job_id, *evidence.abi_args())
        if isinstance(evidence, InputEvidence):
            return f.proveInputFraud(job_id, *evidence.abi_args())
        if isinstance(evidence, OutputEvidence):
            return f.proveOutputFraud(job_id, *evidence.abi_args())
        if isinstance(evidence, GraphEvidence):
            return f.proveGraphFraud(job_id, evidence.encoded())
        raise InvalidInput(f"not fraud-proof evidence: {type(evidence).__name__}")

    def prove(self, sender: Sender, job_id: int, evidence: Evidence) -> ChallengeOutcome:
        """Send the fraud proof ``evidence`` is for, with the challenge bond."""
        outcome = self.send_call(sender, self._proof_call(job_id, evidence),
                             f"proving {evidence.kind.name.lower()} fraud on job {job_id}", self.params.challenge_bond)
        fraud = any(self._is_event(log, "FraudProven") for log in outcome.logs)
        return ChallengeOutcome(fraud=fraud, tx=outcome)

    def prove_neuron_fraud(self, sender: Sender, job_id: int, evidence: NeuronEvidence) -> ChallengeOutcome:
        return self.prove(sender, job_id, evidence)

    def prove_input_fraud(self, sender: Sender, job_id: int, evidence: InputEvidence) -> ChallengeOutcome:
        return self.prove(sender, job_id, evidence)

    def prove_output_fraud(self, sender: Sender, job_id: int, evidence: OutputEvidence) -> ChallengeOutcome:
        return self.prove(sender, job_id, evidence)

    def evidence_hash(self, job_id: int, evidence: Evidence) -> bytes:
        """keccak256 of the proof call's data after the job id."""
        return keccak256(calldata(self._proof_call(job_id, evidence))[36:])

    def claim_commitment(self, claimant: str, job_id: int, evidence: Evidence) -> bytes:
        """What `claimFraud` takes: the evidence hash bound to the claimant and the job (mirrors
        `claimCommitment`), so a copied claim transaction is worth nothing to the copier."""
        return keccak256(abi_encode(["address", "uint256", "bytes32"],
                                    [claimant, job_id, self.evidence_hash(job_id, evidence)]))

    def claim(self, sender: Sender, job_id: int, evidence: Evidence) -> TxOutcome:
        """Step one of the copy-proof dispute: commit to the evidence (prove it a block later)."""
        return self.claim_raw(sender, job_id, self.claim_commitment(sender.address, job_id, evidence))

    def claim_raw(self, sender: Sender, job_id: int, commitment: bytes) -> TxOutcome:
        """``claimFraud`` with any 32-byte commitment (what a copier or a griefer can send)."""
        return self.send_call(sender, self.contract.functions.claimFraud(job_id, commitment),
                          f"claiming fraud on job {job_id}")

    def simulate(self, sender: Sender, job_id: int, evidence: Evidence) -> bool:
        """What the proof would return, without sending it (eth_call)."""
        with chain_errors(f"simulating {evidence.kind.name.lower()} fraud on job {job_id}"):
            return bool(self._proof_call(job_id, evidence).call(
                {"from": sender.address, "value": self.params.challenge_bond}))

    # ------------------------------------------------------------- events

    def _is_event(self, log: Any, name: str) -> bool:
        event = getattr(self.contract.events, name)()
        return log["address"] == self.address and bytes(log["topics"][0]) == bytes(
            self.chain.w3.keccak(text=event.abi_element_identifier))

    def _log(self, outcome: TxOutcome, name: str) -> Any:
        for log in outcome.logs:
            if self._is_event(log, name):
                return log
        raise AssertionError(f"{name} missing from a successful transaction")  # contract invariant

    def events(self, name: str, from_block: int, to_block: int) -> list[Any]:
        with chain_errors(f"reading {name} events"):
            return list(getattr(self.contract.events, name)().get_logs(from_block=from_block, to_block=to_block))
