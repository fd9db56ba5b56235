"""Signed and batched attestations of an operator graph (a CNN): run it, commit to what ran with
the graph commitments (tiled tensors), sign. The files and the EIP-712 messages are the dense
prover's; only the roots are computed differently, so the registry checks them the same way."""

from __future__ import annotations

import os
import secrets
import time

import numpy as np

from vcp_toolkit.attest.eip712 import ZERO_JOB, Attestation, BatchAttestation, Domain, random_nonce, sign_attestation
from vcp_toolkit.attest.files import BatchBundle, TraceBundle
from vcp_toolkit.attest.keys import SigningKey
from vcp_toolkit.commit.commitments import BatchCommitments, record_leaf
from vcp_toolkit.commit.graph_commitments import (GraphModelCommitment, GraphTraceCommitment, graph_input_commitment,
                                                  graph_output_commitment)
from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.model.graph import IntGraph
from vcp_toolkit.prover._batch import ProvenBatch
from vcp_toolkit.prover._prover import ProvenInference, ProverTimings


class GraphProver:
    """Proves inferences of one operator graph for one registry (the EIP-712 domain) with one key."""

    def __init__(self, graph: IntGraph, key: SigningKey, domain: Domain) -> None:
        self.graph = graph
        self.key = key
        self.domain = domain
        self.commitment = GraphModelCommitment(graph)
        self.model_root = self.commitment.root

    @property
    def address(self) -> str:
        return self.key.address

    def _images(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.dtype != np.int8 or tuple(x.shape[1:]) != tuple(self.graph.input_shape):
            raise InvalidInput(f"the graph takes int8 images of shape {self.graph.input_shape} (a batch of them), "
                               f"got {x.dtype} {x.shape}: quantize float images with graph.quantize_input")
        return x

    def prove(self, image: np.ndarray, job_id: bytes = ZERO_JOB, nonce: int | None = None,
              input_salt: bytes | None = None, output_salt: bytes | None = None) -> ProvenInference:
        """Attest one int8 image (C, H, W)."""
        images = self._images(np.asarray(image)[None])
        t0 = time.perf_counter()
        trace = [t[0] for t in self.graph.run(images).trace.values()]
        t1 = time.perf_counter()
        input_salt = input_salt or secrets.token_bytes(32)
        output_salt = output_salt or secrets.token_bytes(32)
        attestation = Attestation(
            prover=self.address, model_root=self.model_root,
            input_commitment=graph_input_commitment(input_salt, trace[0]),
            output_commitment=graph_output_commitment(output_salt, trace[-1]),
            trace_root=GraphTraceCommitment.of(trace, self.commitment.shapes).root,
            job_id=job_id, nonce=random_nonce() if nonce is None else nonce)
        t2 = time.perf_counter()
        signature = sign_attestation(attestation, self.domain, self.key.reveal())
        t3 = time.perf_counter()
        return ProvenInference(
            attestation=attestation, domain=self.domain, signature=signature,
            bundle=TraceBundle(self.model_root, input_salt, output_salt, tuple(t.reshape(-1) for t in trace)),
            model_name=self.graph.name, model_params=self.graph.param_count,
            timings=ProverTimings(inference_s=t1 - t0, commit_s=t2 - t1, sign_s=t3 - t2))

    def prove_batch(self, images: np.ndarray, nonce: int | None = None) -> ProvenBatch:
        """Run the graph on every image of ``images`` (int8, (N, C, H, W)), commit to each record
        and sign the records root once."""
        images = self._images(images)
        count = len(images)
        if count == 0:
            raise InvalidInput("a batch needs at least one image")
        t0 = time.perf_counter()
        tensors = [t.reshape(count, -1) for t in self.graph.run(images).trace.values()]
        t1 = time.perf_counter()
        salts = os.urandom(64 * count)
        commitments = self._commit(tensors, salts[:32 * count], salts[32 * count:])
        batch = BatchAttestation(prover=self.address, model_root=self.model_root, records_root=commitments.root,
                                 count=count, nonce=random_nonce() if nonce is None else nonce)
        t2 = time.perf_counter()
        signature = sign_attestation(batch, self.domain, self.key.reveal())
        t3 = time.perf_counter()
        return ProvenBatch(
            batch=batch, domain=self.domain, signature=signature,
            bundle=BatchBundle(self.model_root, tuple(tensors), salts[:32 * count], salts[32 * count:]),
            commitments=commitments, model_name=self.graph.name,
            timings=ProverTimings(inference_s=t1 - t0, commit_s=t2 - t1, sign_s=t3 - t2))

    def _commit(self, tensors: list[np.ndarray], input_salts: bytes, output_salts: bytes) -> BatchCommitments:
        ins, outs, roots = [], [], []
        for k in range(len(tensors[0])):
            trace = [t[k] for t in tensors]
            ins.append(graph_input_commitment(input_salts[32 * k:32 * k + 32], trace[0]))
            outs.append(graph_output_commitment(output_salts[32 * k:32 * k + 32], trace[-1]))
            roots.append(GraphTraceCommitment.of(trace, self.commitment.shapes).root)
        return BatchCommitments(ins, outs, roots, [record_leaf(i, o, r) for i, o, r in zip(ins, outs, roots)])
