"""The dry run's transactions for each kind of model: a dense chain of layers or an operator graph.

Both register the model, attest one inference, submit batches, run an optimistic job to its end and
prove fraud against each operator. A batch's gas depends on its size only through the records
tree's depth, so batches commit to random records of the real form rather than running the model
N times (a CNN batch of 1024 would take longer than the rest of the estimate).
"""

from __future__ import annotations

import os
from typing import Iterator

import numpy as np

from vcp_toolkit.attest.eip712 import BatchAttestation, random_nonce, sign_attestation
from vcp_toolkit.bench.estimate import FEE, PARAMS, FraudProofFigure, TxFigure, DryRunContracts, funded_sender, salt
from vcp_toolkit.commit.commitments import BatchCommitments, record_leaf
from vcp_toolkit.model.graph.graph import IntGraph
from vcp_toolkit.model.quantize import QuantizedModel


class _Subject:
    """What both kinds share: the contracts, the model's root and the transactions that do not
    depend on its kind."""

    kind = ""

    def __init__(self, contracts: DryRunContracts, name: str, root: bytes) -> None:
        self.contracts, self.name, self.root = contracts, name, root
        self.owner = contracts.owner
        contracts.registry.register_model(self.owner, root)

    def _prove_one(self):
        raise NotImplementedError

    def signed(self) -> TxFigure:
        proven = self._prove_one()
        submission = self.contracts.registry.submit(self.owner, proven.attestation, proven.signature)
        return TxFigure.of("submit attestation", submission.tx)

    def _records(self, n: int) -> BatchCommitments:
        parts = [[os.urandom(32) for _ in range(n)] for _ in range(3)]
        return BatchCommitments(*parts, [record_leaf(*r) for r in zip(*parts)])

    def _batch(self, n: int) -> tuple[BatchAttestation, BatchCommitments, object]:
        records = self._records(n)
        batch = BatchAttestation(prover=self.contracts.key.address, model_root=self.root,
                                 records_root=records.tree.root, count=n, nonce=random_nonce())
        signature = sign_attestation(batch, self.contracts.registry.domain, self.contracts.key.reveal())
        return batch, records, signature

    def batch(self, n: int) -> TxFigure:
        batch, _, signature = self._batch(n)
        return TxFigure.of(f"submit batch of {n}", self.contracts.registry.submit_batch(self.owner, batch, signature).tx)

    def inclusion_check(self, n: int) -> TxFigure:
        """``verifyRecord`` of the last record of a landed batch of ``n``."""
        batch, records, signature = self._batch(n)
        self.contracts.registry.submit_batch(self.owner, batch, signature)
        record = (records.input_commitments[-1], records.output_commitments[-1], records.trace_roots[-1])
        tx = self.contracts.registry.verify_record_tx(self.owner, batch, record, n - 1,
                                                      list(records.tree.proof(n - 1).siblings))
        return TxFigure.of(f"verify record of a batch of {n}", tx)

    def _job(self, input_commitment: bytes, output_commitment: bytes, trace_root: bytes, prover) -> tuple[int, list]:
        optimistic = self.contracts.optimistic
        requester = funded_sender(optimistic.chain)
        job_id, opened = optimistic.open_job(requester, self.root, input_commitment, FEE)
        submitted = optimistic.submit_result(prover, job_id, output_commitment, trace_root)
        return job_id, [TxFigure.of("open job", opened), TxFigure.of("submit result", submitted)]


class DenseSubject(_Subject):
    kind = "dense"

    def __init__(self, model: QuantizedModel, contracts: DryRunContracts) -> None:
        from vcp_toolkit.commit.commitments import ModelCommitment
        from vcp_toolkit.model.synthetic import random_inputs

        self.model, self.commitment = model, ModelCommitment(model)
        super().__init__(contracts, model.name, self.commitment.root)
        contracts.optimistic.register_model(self.owner, self.commitment)
        self.x = random_inputs(model, 1, seed=7)[0]

    def _prove_one(self):
        from vcp_toolkit.prover import Prover

        return Prover(self.model, self.contracts.key, self.contracts.registry.domain).prove(self.x)

    def _answer_job(self, answer, prover) -> tuple[int, list]:
        from vcp_toolkit.commit.commitments import input_commitment, output_commitment, trace_root

        return self._job(input_commitment(answer.input_salt, self.x),
                         output_commitment(answer.output_salt, answer.trace[-1]), trace_root(answer.trace), prover)

    def optimistic_happy(self) -> tuple[TxFigure, ...]:
        from vcp_toolkit.prover import honest

        prover = funded_sender(self.contracts.optimistic.chain)
        job_id, txs = self._answer_job(honest(self.model, self.x, salt()), prover)
        self.contracts.optimistic.chain.mine(PARAMS.challenge_window + 1)
        return (*txs, TxFigure.of("finalize", self.contracts.optimistic.finalize(prover, job_id)))

    def fraud_proofs(self) -> Iterator[FraudProofFigure]:
        """A lie in the first activation of each layer, proven by a fresh challenger."""
        from vcp_toolkit.prover.cheats import wrong_layer
        from vcp_toolkit.verifier import Claim, evidence_for, find_fault

        optimistic = self.contracts.optimistic
        for layer in range(1, len(self.model.layers) + 1):
            lie = wrong_layer(self.model, self.x, salt(), layer)
            job_id, _ = self._answer_job(lie, self.owner)
            job = optimistic.job(job_id)
            fault = find_fault(self.model, Claim(job.input_commitment, job.output_commitment, job.trace_root),
                               lie.trace, lie.input_salt, lie.output_salt)
            outcome = optimistic.prove(funded_sender(optimistic.chain), job_id,
                                       evidence_for(fault, self.commitment, lie.trace))
            operator = "output dense" if layer == len(self.model.layers) else "dense"
            yield FraudProofFigure(operator, layer, fault.row, TxFigure.of(f"fraud proof, layer {layer}", outcome.tx))


class GraphSubject(_Subject):
    kind = "graph"

    def __init__(self, graph: IntGraph, contracts: DryRunContracts) -> None:
        from vcp_toolkit.commit.graph_commitments import GraphModelCommitment

        self.graph, self.commitment = graph, GraphModelCommitment(graph)
        super().__init__(contracts, graph.name, self.commitment.root)
        contracts.optimistic.register_graph_model(self.owner, self.commitment)
        rng = np.random.default_rng(7)
        self.image = rng.integers(-128, 128, tuple(graph.input_shape)).astype(np.int8)

    def _prove_one(self):
        from vcp_toolkit.prover import GraphProver

        return GraphProver(self.graph, self.contracts.key, self.contracts.registry.domain).prove(self.image)

    def optimistic_happy(self) -> tuple[TxFigure, ...]:
        from vcp_toolkit.commit.graph_commitments import (GraphTraceCommitment, graph_input_commitment,
                                                          graph_output_commitment)

        trace = [t[0] for t in self.graph.run(self.image[None]).trace.values()]
        prover = funded_sender(self.contracts.optimistic.chain)
        job_id, txs = self._job(graph_input_commitment(salt(), trace[0]), graph_output_commitment(salt(), trace[-1]),
                                GraphTraceCommitment.of(trace, self.commitment.shapes).root, prover)
        self.contracts.optimistic.chain.mine(PARAMS.challenge_window + 1)
        return (*txs, TxFigure.of("finalize", self.contracts.optimistic.finalize(prover, job_id)))

    def fraud_proofs(self) -> Iterator[FraudProofFigure]:
        """Each node's costliest element, as `vcp bench` measures the CNN dispute rows."""
        from vcp_toolkit.bench.graph_disputes import costliest_proof

        for node in range(1, len(self.commitment.node_fields) + 1):
            row = costliest_proof(self.contracts.optimistic, self.commitment, self.owner, node)
            tx = TxFigure(f"fraud proof, node {node}", row["gas"], bytes.fromhex(row["raw"][2:]),
                          row["calldata_bytes"])
            yield FraudProofFigure(row["kind"], node, row["element"], tx)


def subject_for(model: QuantizedModel | IntGraph, contracts: DryRunContracts) -> _Subject:
    return GraphSubject(model, contracts) if isinstance(model, IntGraph) else DenseSubject(model, contracts)
