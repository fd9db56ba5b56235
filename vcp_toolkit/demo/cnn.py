"""The demo on a built-in operator graph (`vcp demo --model lenet|rescnn|vit`): accuracy and inference
time against onnxruntime on the same ONNX file; a signed attestation verified off-chain and recorded
by the registry (a forged one refused) and a batched one (one signature over many records, each
record verified on-chain); then the optimistic game: one lie per operator kind of the model (and,
in a transformer, in both the attention scores and the weighted sum) found by the watcher's check
and slashed in one transaction."""

from __future__ import annotations

import dataclasses
import secrets
from pathlib import Path
from typing import Any

import numpy as np

from vcp_toolkit.attest.files import AttestationFile
from vcp_toolkit.attest.keys import SigningKey
from vcp_toolkit.bench.graph_disputes import KIND_NAMES, costliest_element
from vcp_toolkit.bench.timing import measure
from vcp_toolkit.chain.gas import submit_floor
from vcp_toolkit.chain.nodes import Chain, open_chain
from vcp_toolkit.chain.optimistic import OptimisticInference
from vcp_toolkit.chain.registry import Registry
from vcp_toolkit.chain.tx import Sender
from vcp_toolkit.commit.graph_commitments import (GraphModelCommitment, GraphTraceCommitment, graph_input_commitment,
                                                  graph_output_commitment)
from vcp_toolkit.errors import ContractReverted
from vcp_toolkit.model.builtin.graphs import builtin_graph, onnx_path
from vcp_toolkit.model.datasets import load_mnist_split
from vcp_toolkit.prover import GraphProver
from vcp_toolkit.verifier import Claim, Consistent, Fault, find_graph_fault, graph_evidence_for, verify_graph_attestation

HELD_OUT = 1000
BATCH = 16
FEE = 10**15


def _onnxruntime_session(name: str):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return ort.InferenceSession(str(onnx_path(name)), options, providers=["CPUExecutionProvider"])


def _model_figures(name: str, repeats: int) -> dict[str, Any]:
    """Held-out accuracy (float via onnxruntime, fixed point) and one-image inference times."""
    graph, split = builtin_graph(name), load_mnist_split()
    x, y = split.x_test[:HELD_OUT].astype(np.float32), split.y_test[:HELD_OUT]
    session = _onnxruntime_session(name)
    feed = session.get_inputs()[0].name
    float_labels = np.argmax(session.run(None, {feed: x})[0], axis=1)
    one_float, one_int = x[:1], graph.quantize_input(x[:1])
    return {
        "name": graph.name, "params": graph.param_count, "nodes": len(graph.nodes),
        "accuracy_float": float(np.mean(float_labels == y)), "accuracy_quantized": float(np.mean(graph.predict(x) == y)),
        "held_out": HELD_OUT,
        "inference_onnxruntime_s": measure(lambda: session.run(None, {feed: one_float}), repeats).median_s,
        "inference_fixed_point_s": measure(lambda: graph.run(one_int), repeats).median_s,
    }


def _signed(chain: Chain, name: str, out_dir: Path, repeats: int) -> dict[str, Any]:
    operator = Sender(chain)
    operator.ensure_funded()
    registry, deploy = Registry.deploy(operator)
    prover = GraphProver(builtin_graph(name), SigningKey.generate(), registry.domain)
    register = registry.register_model(operator, prover.model_root)
    registry.set_prover(operator, prover.address)
    image = prover.graph.quantize_input(load_mnist_split().x_test[:1])[0]
    proven = prover.prove(image)
    att_path, _ = proven.save(out_dir / f"{chain.kind}-{name}-attestation.json")  # on disk before it is sent
    signed = AttestationFile.load(att_path)
    report = verify_graph_attestation(signed, proven.bundle, prover.graph, commitment=prover.commitment)
    verify_s = measure(lambda: verify_graph_attestation(signed, proven.bundle, prover.graph,
                                                        commitment=prover.commitment), repeats).median_s
    submission = registry.submit(operator, proven.attestation, proven.signature)
    # Another output under the prover's signature (and a fresh nonce, so the signature is what fails).
    forged = dataclasses.replace(proven.attestation, output_commitment=secrets.token_bytes(32),
                                 nonce=proven.attestation.nonce + 1)
    forged_offchain = verify_graph_attestation(dataclasses.replace(signed, attestation=forged), proven.bundle,
                                               prover.graph, commitment=prover.commitment)
    try:
        registry.submit(operator, forged, proven.signature)
        forged_error = None
    except ContractReverted as exc:
        forged_error = exc.error_name
    floor = submit_floor(submission.tx.calldata)
    batched = _batched(registry, operator, prover)
    return {
        "batched": batched,
        "attestation": str(att_path), "label": report.label, "verified_offchain": report.valid,
        "verify_offchain_s": verify_s, "prove_s": proven.timings.total_s,
        "gas": {"deploy": deploy.gas_used, "register_model": register.gas_used,
                "submit_attestation": submission.tx.gas_used},
        "gas_floor_submit": floor, "gas_ratio_submit": round(submission.tx.gas_used / floor, 4),
        "forged_rejected_offchain": not forged_offchain.valid, "forged_rejected_onchain": forged_error is not None,
        "forged_error_onchain": forged_error,
    }


def _batched(registry: Registry, operator: Sender, prover: GraphProver) -> dict[str, Any]:
    """BATCH images under one signature: the batch recorded, then every record verified on-chain."""
    images = prover.graph.quantize_input(load_mnist_split().x_test[2:2 + BATCH])
    proven = prover.prove_batch(images)
    submission = registry.submit_batch(operator, proven.batch, proven.signature)
    verified = [registry.verify_record(proven.batch, *_record(proven, i)) for i in range(proven.batch.count)]
    record, proof = proven.record_proof(0)
    forged = registry.verify_record(proven.batch, (record[0], record[1], bytes(32)), 0, proof)
    return {"count": proven.batch.count, "prove_s": proven.timings.total_s, "gas_submit": submission.tx.gas_used,
            "gas_per_record": round(submission.tx.gas_used / proven.batch.count), "records_verified": all(verified),
            "forged_record_rejected": not forged}


def _record(proven, index: int) -> tuple:
    record, proof = proven.record_proof(index)
    return record, index, proof


def _lie_nodes(model: GraphModelCommitment) -> list[int]:
    """One node per operator kind of the model (its first), and the first MatMul that reads a
    Softmax (attention's weighted sum: the first MatMul is its scores)."""
    first: dict[int, int] = {}
    for fields in model.node_fields:
        first.setdefault(fields.kind, fields.node)
    kind_of = {node.name: node.op.kind for node in model.graph.nodes}
    weighted = [k + 1 for k, node in enumerate(model.graph.nodes)
                if node.op.kind == "matmul" and kind_of.get(node.inputs[0]) == "softmax"]
    return sorted(set(first.values()) | set(weighted[:1]))


def _lie_name(model: GraphModelCommitment, node: int) -> str:
    """What the lie is about, as the issue names attention's parts."""
    graph_node = model.graph.nodes[node - 1]
    kind = KIND_NAMES[model.node_fields[node - 1].kind]
    if graph_node.op.kind == "matmul":
        kind_of = {n.name: n.op.kind for n in model.graph.nodes}
        return "attention weighted sum" if kind_of.get(graph_node.inputs[0]) == "softmax" else "attention score"
    return {"token_dense": "token-wise dense", "flatten": graph_node.op.kind}.get(kind, kind)


def _optimistic(chain: Chain, name: str) -> dict[str, Any]:
    owner, requester, prover, watcher = (Sender(chain) for _ in range(4))
    for account in (owner, requester, prover, watcher):
        account.ensure_funded()
    contract, deploy = OptimisticInference.deploy(owner)
    model = GraphModelCommitment(builtin_graph(name))
    register = contract.register_graph_model(owner, model)
    image = model.graph.quantize_input(load_mnist_split().x_test[1:2])[0]
    honest = [t[0] for t in model.graph.run(image[None]).trace.values()]
    happy = _honest_job(contract, model, requester, prover, watcher, honest)
    cheats = [_cheat(contract, model, requester, prover, watcher, honest, node) for node in _lie_nodes(model)]
    return {"gas": {"deploy": deploy.gas_used, "register_model": register.gas_used, **happy.pop("gas")},
            "honest": happy, "cheats": cheats, "balance_equals_owed": contract.balance() == contract.total_owed()}


def _honest_job(contract, model, requester, prover, watcher, trace) -> dict[str, Any]:
    """An honest answer: the watcher's check finds nothing, and after the window it is paid."""
    salt_in, salt_out = secrets.token_bytes(32), secrets.token_bytes(32)
    job_id, opened = contract.open_job(requester, model.root, graph_input_commitment(salt_in, trace[0]), FEE)
    committed = GraphTraceCommitment.of(trace, model.shapes)
    answered = contract.submit_result(prover, job_id, graph_output_commitment(salt_out, trace[-1]), committed.root)
    job = contract.job(job_id)
    finding = find_graph_fault(model, Claim(job.input_commitment, job.output_commitment, job.trace_root),
                               [t.reshape(-1) for t in trace], salt_in, salt_out)
    contract.chain.mine(contract.params.challenge_window + 1)
    finalized = contract.finalize(watcher, job_id)
    return {"verified_by_watcher": isinstance(finding, Consistent),
            "finalized": contract.job(job_id).status.name == "FINALIZED",
            "gas": {"open_job": opened.gas_used, "submit_result": answered.gas_used, "finalize": finalized.gas_used}}


def _cheat(contract, model, requester, prover, watcher, honest, node: int) -> dict[str, Any]:
    """A prover lies about one element of ``node``; the watcher's check finds it and proves it."""
    element = costliest_element(model.node_fields[node - 1])
    trace = [t.copy() for t in honest]
    flat = trace[node].reshape(-1)
    flat[element] = flat[element] - 1 if flat[element] == 127 else flat[element] + 1
    salt_in, salt_out = secrets.token_bytes(32), secrets.token_bytes(32)
    job_id, _ = contract.open_job(requester, model.root, graph_input_commitment(salt_in, trace[0]), FEE)
    committed = GraphTraceCommitment.of(trace, model.shapes)
    contract.submit_result(prover, job_id, graph_output_commitment(salt_out, trace[-1]), committed.root)
    job = contract.job(job_id)
    fault = find_graph_fault(model, Claim(job.input_commitment, job.output_commitment, job.trace_root),
                             [t.reshape(-1) for t in trace], salt_in, salt_out)
    caught = isinstance(fault, Fault) and (fault.layer, fault.row) == (node, element)
    outcome = contract.prove(watcher, job_id, graph_evidence_for(fault, model, [t.reshape(-1) for t in trace]))
    return {"name": f"wrong {_lie_name(model, node)} element", "node": node, "caught": caught,
            "slashed": outcome.fraud, "gas_fraud_proof": outcome.tx.gas_used}


def run_cnn_demo(name: str, mode: str = "signed", chain_kind: str = "embedded", rpc_url: str | None = None,
                 out_dir: Path = Path(".vcp/demo"), repeats: int = 11, hardfork: str | None = None) -> dict[str, Any]:
    """The signed or the optimistic mode on the built-in CNN ``name``; returns the figures."""
    figures: dict[str, Any] = {"mode": mode, "model": _model_figures(name, repeats)}
    with open_chain(chain_kind, rpc_url, hardfork) as chain:
        figures.update(chain=chain.kind, chain_id=chain.chain_id)
        if mode == "signed":
            figures["signed"] = _signed(chain, name, Path(out_dir), repeats)
        else:
            figures["optimistic"] = _optimistic(chain, name)
    return figures
