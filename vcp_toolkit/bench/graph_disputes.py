"""Gas of the one-transaction fraud proof for every operator of the built-in CNNs (the CNN dispute
rows of `vcp bench`), and of revealing their traces on-chain.

For each node, the prover lies about the output element whose window opens the most tiles (the
costliest proof of that node) and a challenger proves it. Every requester and challenger is a
fresh account, so the credit slots the slash writes are new: the worst case, as for the dense rows.
"""

from __future__ import annotations

import secrets
from typing import Any

import numpy as np

from vcp_toolkit.chain.graph_evidence import operator_evidence
from vcp_toolkit.chain.nodes import Chain
from vcp_toolkit.chain.optimistic import OptimisticInference, OptimisticParams
from vcp_toolkit.chain.tx import Sender
from vcp_toolkit.commit.graph_commitments import (GraphModelCommitment, GraphTraceCommitment, graph_input_commitment,
                                                  graph_output_commitment)
from vcp_toolkit.commit.graph_encoding import OP_CODES, NodeFields
from vcp_toolkit.commit.graph_receptive import receptive_tiles
from vcp_toolkit.model.builtin.graphs import builtin_graph

CNNS = ("lenet", "rescnn")
KIND_NAMES = {code: name for name, code in OP_CODES.items()}
FEE = 10**15


def costliest_element(fields: NodeFields) -> int:
    """The output element whose window opens the most tiles (ties: the last such element)."""
    return max(range(fields.out_shape.size), key=lambda e: (sum(map(len, receptive_tiles(fields, e))), e))


def _funded(chain: Chain) -> Sender:
    account = Sender(chain)
    account.ensure_funded()
    return account


def _lie(trace: list[np.ndarray], node: int, element: int) -> list[np.ndarray]:
    out = [t.copy() for t in trace]
    flat = out[node].reshape(-1)
    flat[element] = flat[element] - 1 if flat[element] == 127 else flat[element] + 1
    return out


def costliest_proof(contract: OptimisticInference, model: GraphModelCommitment, owner: Sender, node: int) -> dict[str, Any]:
    fields = model.node_fields[node - 1]
    element = costliest_element(fields)
    x = np.zeros(model.graph.input_shape, dtype=np.int8)
    trace = _lie([t[0] for t in model.graph.run(x[None]).trace.values()], node, element)
    committed = GraphTraceCommitment.of(trace, model.shapes)
    requester, challenger = _funded(contract.chain), _funded(contract.chain)
    salt = secrets.token_bytes(32)
    job_id, _ = contract.open_job(requester, model.root, graph_input_commitment(salt, x), FEE)
    contract.submit_result(owner, job_id, graph_output_commitment(salt, trace[-1]), committed.root)
    outcome = contract.prove(challenger, job_id, operator_evidence(model, committed, node, element))
    return {"node": node, "kind": KIND_NAMES[fields.kind], "element": element,
            "tiles": sum(map(len, receptive_tiles(fields, element))), "fraud": outcome.fraud,
            "gas": outcome.tx.gas_used, "calldata_bytes": len(outcome.tx.calldata), "raw": "0x" + outcome.tx.raw.hex(),
            "execution_gas": outcome.tx.execution_gas}


def reveal_gas(contract: OptimisticInference, model: GraphModelCommitment, owner: Sender) -> dict[str, Any]:
    x = np.zeros(model.graph.input_shape, dtype=np.int8)
    committed = GraphTraceCommitment.of([t[0] for t in model.graph.run(x[None]).trace.values()], model.shapes)
    requester = _funded(contract.chain)
    salt_in, salt_out = b"\x11" * 32, b"\x22" * 32  # fixed: the reveal's calldata, so its gas, is then exact
    job_id, _ = contract.open_job(requester, model.root, graph_input_commitment(salt_in, x), FEE)
    contract.submit_result(owner, job_id, graph_output_commitment(salt_out, committed.tensors[-1]), committed.root)
    contract.request_reveal(requester, job_id)
    tx = contract.reveal_trace(owner, job_id, committed.reveal_payload(), salt_in, salt_out)
    return {"gas": tx.gas_used, "bound": contract.reveal_gas_bound(model.root),
            "trace_bytes": sum(shape.size for shape in model.shapes)}


def graph_dispute_gas(chain: Chain, names: tuple[str, ...] = CNNS,
                      params: OptimisticParams = OptimisticParams()) -> dict[str, Any]:
    """Per built-in CNN: its size, the gas of registering it, of each node's costliest fraud
    proof (rows in node order) and of revealing one trace on-chain."""
    owner = _funded(chain)
    contract, deploy = OptimisticInference.deploy(owner, params)
    out: dict[str, Any] = {"deploy_gas": deploy.gas_used, "models": {}}
    for name in names:
        model = GraphModelCommitment(builtin_graph(name))
        register = contract.register_graph_model(owner, model)
        out["models"][name] = {
            "params": model.graph.param_count, "nodes": len(model.node_fields), "leaves": model.leaf_count,
            "register_gas": register.gas_used,
            "disputes": [costliest_proof(contract, model, owner, node) for node in range(1, len(model.node_fields) + 1)],
            "reveal": reveal_gas(contract, model, owner)}
    return out


def worst_by_kind(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The costliest proof of each operator kind."""
    worst: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["kind"] not in worst or r["gas"] > worst[r["kind"]]["gas"]:
            worst[r["kind"]] = r
    return worst
