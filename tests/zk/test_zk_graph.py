"""The zk baseline on an operator graph (a CNN): the graph exported as ONNX, proven with EZKL,
verified off-chain, bound to the graph's model root and recorded by the registry. A small CNN keeps
the circuit small; the bench proves the MNIST LeNet itself."""

from __future__ import annotations

import dataclasses
import os
import secrets

import numpy as np
import pytest

from vcp_toolkit import zk
from vcp_toolkit.attest.eip712 import Domain
from vcp_toolkit.attest.files import ZkAttestationFile
from vcp_toolkit.chain import reverts as r
from vcp_toolkit.chain.nodes import LocalNode
from vcp_toolkit.chain.registry import Registry
from vcp_toolkit.chain.tx import Sender
from vcp_toolkit.commit.commitments import input_commitment
from vcp_toolkit.commit.encoding import int8_bytes
from vcp_toolkit.commit.graph_commitments import GraphModelCommitment
from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.model.graph import Conv2D, Dense, Flatten, IntGraph, IntNode, MaxPool
from vcp_toolkit.prover import prove_zk, zk_attestation_for
from vcp_toolkit.verifier import check_zk_attestation, verify_zk_proof

pytestmark = [pytest.mark.chain, pytest.mark.node]


def small_cnn(seed: int = 5) -> IntGraph:
    rng = np.random.default_rng(seed)
    conv = Conv2D(rng.integers(-128, 128, (2, 1, 3, 3)).astype(np.int8), rng.integers(-500, 500, 2),
                  rng.integers(2**29, 2**31, 2), np.array([38, 38]), pads=(1, 1, 1, 1), lo=0)
    dense = Dense(rng.integers(-128, 128, (3, 18)).astype(np.int8), rng.integers(-500, 500, 3),
                  rng.integers(2**29, 2**31, 3), np.array([37, 37, 37]))
    nodes = (IntNode("conv", conv, ("input",), 0.05), IntNode("pool", MaxPool((2, 2), (2, 2)), ("conv",), 0.05),
             IntNode("flat", Flatten(), ("pool",), 0.05), IntNode("fc", dense, ("flat",), 0.1))
    return IntGraph((1, 6, 6), 1 / 64, nodes, name="small-cnn")


@pytest.fixture(scope="module")
def cnn_circuit():
    graph = small_cnn()
    return graph, zk.prepare_circuit(graph)


@pytest.fixture(scope="module")
def cnn_proof(cnn_circuit):
    graph, circuit = cnn_circuit
    images = np.random.default_rng(8).integers(-128, 128, (2, 1, 6, 6)).astype(np.int8)
    return prove_zk(circuit, images[0]), images


def test_the_circuit_is_the_graphs(cnn_circuit):
    graph, circuit = cnn_circuit
    assert circuit.model_root == GraphModelCommitment(graph).root
    assert (circuit.in_width, circuit.out_width) == (36, 3)
    assert circuit.rows > 0 and circuit.logrows >= 1


def test_proof_public_values_are_the_image_codes_and_outputs_track_the_integers(cnn_proof, cnn_circuit):
    graph, circuit = cnn_circuit
    proof, images = cnn_proof
    codes = [zk.decode_field(v) >> circuit.input_scale for v in proof.instances[:36]]
    assert codes == images[0].reshape(-1).astype(int).tolist()
    assert verify_zk_proof(circuit, proof)
    outputs = np.array([zk.decode_field(v) for v in proof.outputs], dtype=np.float64) / 2.0 ** circuit.output_scale
    exact = graph.run(images[:1]).output.reshape(-1) * graph.output_scale
    assert np.max(np.abs(outputs - exact)) <= 4 * graph.output_scale  # EZKL's own rounding, a few steps
    with pytest.raises(InvalidInput):
        prove_zk(circuit, images[0, :, :5])  # 30 values for a 36-wide circuit


def test_attestation_binds_the_graph_root(cnn_proof, cnn_circuit, tmp_path):
    graph, circuit = cnn_circuit
    proof, images = cnn_proof
    si, so = secrets.token_bytes(32), secrets.token_bytes(32)
    att = zk_attestation_for(proof, "0x" + "12" * 20, circuit.model_root, si, so, 1)
    ZkAttestationFile(att, Domain(31337, "0x" + "34" * 20), graph.name, proof.proof, proof.instances, proof.input,
                      si, so, {}).save(tmp_path / "zk.json")
    loaded = ZkAttestationFile.load(tmp_path / "zk.json")
    assert check_zk_attestation(loaded, graph, circuit) == (True, None)
    assert "another model" in check_zk_attestation(loaded, small_cnn(seed=6), circuit)[1]


def test_registry_records_a_cnn_proof(cnn_proof, cnn_circuit):
    graph, circuit = cnn_circuit
    proof, images = cnn_proof
    with LocalNode("anvil") as chain:
        owner = Sender(chain)
        owner.ensure_funded()
        registry, _ = Registry.deploy(owner)
        registry.register_model(owner, circuit.model_root)
        verifier = registry.deploy_zk_verifier(owner, circuit.verifier_bytecode).contract_address
        registry.set_zk_verifier(owner, circuit.model_root, verifier, circuit.input_scale, 36, 3)
        si, so = secrets.token_bytes(32), secrets.token_bytes(32)
        att = zk_attestation_for(proof, owner.address, circuit.model_root, si, so, nonce=1)
        args = (proof.proof, list(proof.instances), int8_bytes(images[0].reshape(-1)), si, so)
        sub = registry.submit_zk(owner, att, *args)
        assert registry.recorded_digest(owner.address, 1) == sub.digest
        other = images[1].reshape(-1)
        with pytest.raises(r.RegistryZkInputCommitment):  # bytes that do not open the committed input
            registry.submit_zk(owner, dataclasses.replace(att, nonce=2), *args[:2], int8_bytes(other), si, so)
        with pytest.raises(r.RegistryZkInputMismatch):  # another image, committed, against this proof
            registry.submit_zk(owner, dataclasses.replace(att, nonce=3, input_commitment=input_commitment(si, other)),
                               *args[:2], int8_bytes(other), si, so)



def test_a_process_killed_under_ezkl_is_an_error_not_a_hang():
    """The kernel's OOM killer ends EZKL's child with a signal; the caller gets a ZkError at once
    (a multiprocessing.Pool would wait forever for the lost task)."""
    from vcp_toolkit.errors import ZkError
    from vcp_toolkit.zk.backend import run_isolated

    with pytest.raises(ZkError, match="died after .* lack of memory"):
        run_isolated(os.abort)
    assert run_isolated(divmod, 7, 2)[1] == (3, 1)


def test_circuit_size_before_setup_is_the_set_up_circuits(cnn_circuit):
    """What `vcp bench` (and an estimate) reads before any key exists is what the setup then builds."""
    graph, circuit = cnn_circuit
    size = zk.circuit_size(graph)
    assert (size.logrows, size.rows, size.input_scale) == (circuit.logrows, circuit.rows, circuit.input_scale)
