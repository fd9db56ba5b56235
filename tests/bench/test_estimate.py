"""`vcp estimate`: the dry run's figures against real transactions on Anvil and the bench's CNN
dispute rows, the contracts' sizes against their artifacts, and the dollars' arithmetic."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

import pytest

from vcp_toolkit.bench.estimate import EIP170_LIMIT, estimate
from vcp_toolkit.bench.estimate_check import TOLERANCE, cnn_checks
from vcp_toolkit.bench.graph_disputes import graph_dispute_gas
from vcp_toolkit.bench.runner import QUICK, model_for, run_bench
from vcp_toolkit.chain.nodes import open_chain
from vcp_toolkit.model.builtin import demo_model
from vcp_toolkit.model.builtin.graphs import builtin_graph
from vcp_toolkit.model.synthetic import random_model

ARTIFACTS = __import__("pathlib").Path(__file__).resolve().parents[2] / "contracts" / "artifacts"


@pytest.fixture(scope="module")
def demo_estimate():
    return estimate(demo_model(), batch_sizes=(1, 16, 1024))


@pytest.fixture(scope="module")
def lenet_estimate():
    return estimate(builtin_graph("lenet"), batch_sizes=(16,))


def test_contract_sizes_are_the_committed_artifacts(demo_estimate):
    for contract in demo_estimate.contracts:
        artifact = json.loads((ARTIFACTS / f"{contract.name}.json").read_text())
        assert contract.code_bytes == len(bytes.fromhex(artifact["deployedBytecode"].removeprefix("0x")))
        assert 0 < contract.code_bytes <= EIP170_LIMIT and contract.headroom_bytes == EIP170_LIMIT - contract.code_bytes
        assert contract.deploy_gas > 200 * contract.code_bytes  # the code deposit alone is 200 gas a byte


@pytest.mark.chain
def test_the_dry_run_agrees_with_anvil_within_the_tolerance():
    """The bench on Anvil (a real node), then every estimate line against it."""
    config = dataclasses.replace(QUICK, chains=("anvil",), models=((64, 16, 10), (64, 32, 10)), zk_models=(),
                                 batch_sizes=(1, 256), repeats=1, warmup=0, throughput_singles=2,
                                 throughput_batches=1, dispute_widths=(16,), schedules=(), cnn_disputes=(),
                                 cnn_inference=())
    result = run_bench(config)
    lines = result["estimates"]["lines"]
    figures = {line["figure"] for line in lines}
    assert {"signed attestation gas", "batch of 256 gas", "inclusion check (N=256) gas", "optimistic, no dispute gas",
            "fraud proof, hidden dense layer gas", "AttestationRegistry deploy gas"} <= figures
    assert {line["chain"] for line in lines} == {"anvil"}
    worst = max(lines, key=lambda line: abs(line["error"]))
    assert abs(worst["error"]) <= TOLERANCE, worst
    target = next(t for t in result["targets"] if t["name"].startswith("vcp estimate"))
    assert target["met"] and target["value"] == abs(worst["error"])


def test_cnn_fraud_proofs_cover_every_node_and_match_the_bench(lenet_estimate):
    graph = builtin_graph("lenet")
    assert [p.position for p in lenet_estimate.fraud_proofs] == list(range(1, len(graph.nodes) + 1))
    assert set(lenet_estimate.worst_fraud_proofs()) == {"conv", "maxpool", "flatten", "dense"}
    with open_chain("embedded") as chain:
        measured = graph_dispute_gas(chain, ("lenet",))
    lines = cnn_checks({"chain": "embedded", "schedule": lenet_estimate.schedule, **measured})
    assert len(lines) == 4 and all(line["error"] == 0 for line in lines)  # same schedule, same dry run: exact


def test_per_layer_fraud_proofs_of_a_dense_model():
    model = random_model([32, 24, 16, 10], seed=3)
    e = estimate(model, batch_sizes=(2,))
    assert [(p.operator, p.position) for p in e.fraud_proofs] == [("dense", 1), ("dense", 2), ("output dense", 3)]
    assert all(p.tx.gas > 21_000 + 16 * p.tx.calldata_bytes // 4 for p in e.fraud_proofs)
    wider = estimate(model_for((256, 24, 10)), batch_sizes=(2,))
    # a hidden neuron re-executes in_width multiply-adds: the wider input costs more
    assert wider.fraud_proofs[0].tx.gas > e.fraud_proofs[0].tx.gas


def test_dollars_follow_the_transactions(demo_estimate):
    costs = {(c.mode, c.batch): c for c in demo_estimate.costs}
    single, happy, dispute = costs["signed_single", 1], costs["optimistic_happy", 1], costs["optimistic_dispute", 1]
    assert single.gas == demo_estimate.signed.gas
    for n in (16, 1024):
        batched = costs["signed_batched", n]
        assert batched.gas == demo_estimate.batches[n].gas
        assert batched.batch == n and batched.raw_bytes == len(demo_estimate.batches[n].raw)
    assert costs["signed_batched", 1024].usd["ethereum"] < costs["signed_batched", 16].usd["ethereum"] \
        < single.usd["ethereum"] < happy.usd["ethereum"] < dispute.usd["ethereum"]
    assert happy.gas == sum(tx.gas for tx in demo_estimate.optimistic)
    for cost in demo_estimate.costs:
        assert cost.data_usd["ethereum"] == Decimal(0) and cost.data_usd["op-stack"] > 0


def test_osaka_is_estimated_on_prague_and_held_to_its_gas_cap(demo_estimate):
    from vcp_toolkit.bench.estimate import TxFigure, cap_notes, dry_run_schedule
    from vcp_toolkit.chain.hardfork import Hardfork
    from vcp_toolkit.errors import InvalidInput

    assert demo_estimate.schedule == "osaka" and "dry run on prague" in demo_estimate.notes[0]
    assert dry_run_schedule("prague") == (Hardfork("prague"), Hardfork("prague"), ())
    big = TxFigure("huge", 2**24 + 1, b"", 0)
    assert cap_notes(Hardfork("osaka"), [big]) and not cap_notes(Hardfork("prague"), [big])
    assert not cap_notes(Hardfork("osaka"), [dataclasses.replace(big, gas=2**24)])
    with pytest.raises(InvalidInput, match="unknown hardfork 'london'"):
        estimate(demo_model(), hardfork="london", batch_sizes=(2,))
