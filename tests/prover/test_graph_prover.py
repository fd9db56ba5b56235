"""Signed and batched attestations of the built-in CNNs: proven, saved, loaded and verified
off-chain by re-execution (tampering caught at the right check), and accepted by the registry on
the embedded chain (single submission and every record of a batch through verifyRecord)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from vcp_toolkit.attest.files import AttestationFile, TraceBundle
from vcp_toolkit.attest.keys import SigningKey
from vcp_toolkit.chain.registry import Registry
from vcp_toolkit.chain.tx import Sender
from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.model.builtin.graphs import builtin_graph
from vcp_toolkit.model.datasets import load_mnist_split
from vcp_toolkit.prover import GraphProver
from vcp_toolkit.verifier import verify_graph_attestation


@pytest.fixture(scope="module")
def images():
    return load_mnist_split().x_test[:8]


def _prover(registry_domain, name="lenet"):
    return GraphProver(builtin_graph(name), SigningKey.generate(), registry_domain)


@pytest.mark.chain
def test_signed_cnn_attestation_verifies_off_and_on_chain(embedded_chain, images, tmp_path):
    operator = Sender(embedded_chain)
    operator.ensure_funded()
    registry, _ = Registry.deploy(operator)
    prover = _prover(registry.domain)
    registry.register_model(operator, prover.model_root)
    registry.set_prover(operator, prover.address)
    graph = prover.graph
    x = graph.quantize_input(images)
    proven = prover.prove(x[0])
    att_path, bundle_path = proven.save(tmp_path / "att.json")
    signed, bundle = AttestationFile.load(att_path), TraceBundle.load(bundle_path)
    report = verify_graph_attestation(signed, bundle, graph, expected_prover=prover.address)
    assert report.valid and report.label == int(graph.predict(images[:1])[0]), report.reason
    assert registry.submit(operator, proven.attestation, proven.signature).tx.gas_used > 0
    # Tampering is caught at the first check it breaks.
    hidden = list(bundle.trace)
    hidden[3] = hidden[3].copy()
    hidden[3][0] = hidden[3][0] + 1 if hidden[3][0] < 127 else 0
    cases = {"re-execution": dataclasses.replace(bundle, trace=tuple(hidden)),
             "input commitment": dataclasses.replace(bundle, input_salt=b"\x09" * 32)}
    for check, tampered in cases.items():
        report = verify_graph_attestation(signed, tampered, graph)
        assert not report.valid and check in report.reason, report.reason
    other = builtin_graph("rescnn")
    report = verify_graph_attestation(signed, bundle, other)
    assert not report.valid and "model root" in report.reason


@pytest.mark.chain
def test_batched_cnn_records_verify_on_chain(embedded_chain, images):
    operator = Sender(embedded_chain)
    operator.ensure_funded()
    registry, _ = Registry.deploy(operator)
    prover = _prover(registry.domain, "rescnn")
    registry.register_model(operator, prover.model_root)
    registry.set_prover(operator, prover.address)
    batch = prover.prove_batch(prover.graph.quantize_input(images))
    registry.submit_batch(operator, batch.batch, batch.signature)
    for index in range(batch.batch.count):
        record, proof = batch.record_proof(index)
        assert registry.verify_record(batch.batch, record, index, proof)
    record, proof = batch.record_proof(0)
    assert not registry.verify_record(batch.batch, (record[0], record[1], b"\x00" * 32), 0, proof)
    # A record of the batch is the single prover's commitments with the batch's salts.
    single = prover.prove(prover.graph.quantize_input(images[:1])[0], input_salt=batch.bundle.input_salts[:32],
                          output_salt=batch.bundle.output_salts[:32])
    assert (single.attestation.input_commitment, single.attestation.output_commitment,
            single.attestation.trace_root) == batch.record_proof(0)[0]


def test_graph_prover_refuses_what_is_not_an_image():
    from vcp_toolkit.attest.eip712 import Domain

    prover = GraphProver(builtin_graph("lenet"), SigningKey.generate(), Domain(chain_id=1, verifying_contract="0x" + "11" * 20))
    for bad in (np.zeros((28, 28), np.int8), np.zeros((1, 28, 28), np.float32), np.zeros((0, 1, 28, 28), np.int8)):
        with pytest.raises(InvalidInput):
            if bad.ndim == 4:
                prover.prove_batch(bad)
            else:
                prover.prove(bad)
