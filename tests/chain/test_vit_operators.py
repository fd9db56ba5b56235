"""TransformerOperators.sol (through GraphOperators' forward) against the integer ViT's numpy kernels,
bit for bit, on the built-in ViT: for elements of every node (first, last and random ones, on real
MNIST images), an honest trace's element is judged right and the same element moved by one step is
judged wrong; evidence that does not fit is refused."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from graphworld import context, nudged, per_sample_trace, vit_commitment

from vcp_toolkit.chain import reverts as r
from vcp_toolkit.chain.graph_evidence import Target, operator_evidence
from vcp_toolkit.chain.optimistic import deploy_graph_operators
from vcp_toolkit.chain.tx import Sender
from vcp_toolkit.commit.graph_commitments import GraphTraceCommitment
from vcp_toolkit.commit.graph_encoding import FIRST_TRANSFORMER_CODE
from vcp_toolkit.contracts import load_artifact
from vcp_toolkit.model.datasets import load_mnist_split

pytestmark = pytest.mark.chain
RANDOM_ELEMENTS = 2


@pytest.fixture(scope="module")
def operators():
    from vcp_toolkit.chain.nodes import open_chain

    with open_chain("embedded") as chain:
        sender = Sender(chain)
        sender.ensure_funded()
        address = deploy_graph_operators(sender).contract_address
        yield chain.w3.eth.contract(address=address, abi=load_artifact("GraphOperators")["abi"])


@pytest.fixture(scope="module")
def vit_model():
    return vit_commitment()


@pytest.fixture(scope="module")
def image_traces(vit_model):
    x = vit_model.graph.quantize_input(load_mnist_split().x_test[:2])
    return [per_sample_trace(vit_model.graph, image) for image in x]


def _judge(operators, model, trace, node, element):
    committed = GraphTraceCommitment.of(trace, model.shapes)
    evidence = operator_evidence(model, committed, node, element)
    return operators.functions.check(context(model, committed), *evidence.abi_args()).call()


def _elements(model, node, rng) -> list[int]:
    size = model.node_fields[node - 1].out_shape.size
    return sorted({0, size - 1, *(int(e) for e in rng.integers(0, size, RANDOM_ELEMENTS))})


def test_every_transformer_node_is_reexecuted_bit_for_bit(operators, vit_model, image_traces):
    rng = np.random.default_rng(13)
    kinds = set()
    for k, f in enumerate(vit_model.node_fields, start=1):
        if f.kind < FIRST_TRANSFORMER_CODE:
            continue
        kinds.add(f.kind)
        trace = image_traces[k % 2]
        for element in _elements(vit_model, k, rng):
            assert _judge(operators, vit_model, trace, k, element) == [False, k], (k, element)
            assert _judge(operators, vit_model, nudged(trace, k, element), k, element) == [True, k], (k, element)
    assert kinds == set(range(FIRST_TRANSFORMER_CODE, 18))  # all nine transformer kinds were exercised


def test_the_classifier_reshapes_and_adds_stay_with_graph_operators(operators, vit_model, image_traces):
    trace = image_traces[0]
    for k, f in enumerate(vit_model.node_fields, start=1):
        if f.kind >= FIRST_TRANSFORMER_CODE:
            continue
        element = f.out_shape.size // 2
        assert _judge(operators, vit_model, trace, k, element) == [False, k]
        assert _judge(operators, vit_model, nudged(trace, k, element), k, element) == [True, k]


def test_a_lie_in_a_row_is_caught_at_another_element_of_that_row(operators, vit_model, image_traces):
    """A LayerNorm element depends on its whole row: with one input value changed (and the output
    left honest), an element elsewhere in that row is judged wrong, one in another row right."""
    trace = image_traces[0]
    k = next(i for i, f in enumerate(vit_model.node_fields, start=1) if f.kind == 12)  # the first LayerNorm
    f = vit_model.node_fields[k - 1]
    lied = [t.copy() for t in trace]
    row = lied[f.inputs[0]].reshape(-1, f.in_shape.w)
    row[0, 5] = -128 if row[0, 5] > 0 else 127
    recomputed = vit_model.graph.nodes[k - 1].op(lied[f.inputs[0]][None])[0].reshape(-1, f.out_shape.w)
    moved = [w for w in range(f.out_shape.w) if w != 5 and recomputed[0, w] != trace[k].reshape(-1, f.out_shape.w)[0, w]]
    assert moved, "changing one value of a LayerNorm row moves other elements of it"
    assert _judge(operators, vit_model, lied, k, moved[0]) == [True, k]
    assert _judge(operators, vit_model, lied, k, f.out_shape.w * 5 + moved[0]) == [False, k]


def _revert(fn):
    with pytest.raises(Exception) as info:
        fn.call()
    return r.decode_revert(r.revert_data_from(info.value))


def _first(model, kind: int) -> int:
    return next(i for i, f in enumerate(model.node_fields, start=1) if f.kind == kind)


def test_evidence_without_a_tile_of_the_row_is_refused(operators, vit_model, image_traces):
    committed = GraphTraceCommitment.of(image_traces[0], vit_model.shapes)
    k = _first(vit_model, 11)  # the first Softmax: its row spans three tiles
    evidence = operator_evidence(vit_model, committed, k, 20)
    opened = evidence.inputs[0]
    assert len(opened.tiles) > 1
    thin = replace(evidence, inputs=(committed.open(opened.node, [opened.tiles[0][0]]),))
    error = _revert(operators.functions.check(context(vit_model, committed), *thin.abi_args()))
    assert isinstance(error, r.GraphMissingTile) and error.error_args[0] == opened.node


def test_forged_transformer_evidence_reverts_with_a_named_reason(operators, vit_model, image_traces):
    committed = GraphTraceCommitment.of(image_traces[0], vit_model.shapes)
    k = _first(vit_model, 9)  # the first TokenDense
    ev = operator_evidence(vit_model, committed, k, 40)
    (target, element, leaf, proof, ch_leaf, ch_proof, ins, out, plain, salt), = ev.abi_args()
    other = operator_evidence(vit_model, committed, k, 41).channel_leaf  # channel 9, not 8
    forged = [
        ("node", (target, element, leaf[:-1] + b"\x01", proof, ch_leaf, ch_proof, ins, out, plain, salt)),
        ("channel", (target, element, leaf, proof, ch_leaf[:-1] + bytes([ch_leaf[-1] ^ 1]), ch_proof, ins, out,
                     plain, salt)),
        ("channel", (target, element, leaf, proof, other, ch_proof, ins, out, plain, salt)),
        ("element", (target, 10**6, leaf, proof, ch_leaf, ch_proof, ins, out, plain, salt)),
        ("inputs", (target, element, leaf, proof, ch_leaf, ch_proof, ins * 2, out, plain, salt)),
        ("tensor", (target, element, leaf, proof, ch_leaf, ch_proof, [ins[0][:12] + b"\x07" * 32 + ins[0][44:]],
                    out, plain, salt)),
    ]
    for reason, args in forged:
        error = _revert(operators.functions.check(context(vit_model, committed), args))
        assert isinstance(error, r.GraphInvalidEvidence) and error.error_args == (reason,), (reason, error)


def test_transformer_operators_alone_refuse_other_kinds_and_targets(operators, vit_model, image_traces):
    """Called directly, TransformerOperators judges only Operator disputes of its own kinds."""
    committed = GraphTraceCommitment.of(image_traces[0], vit_model.shapes)
    w3 = operators.w3
    alone = w3.eth.contract(address=operators.functions.transformerOperators().call(),
                            abi=load_artifact("TransformerOperators")["abi"])
    conv = operator_evidence(vit_model, committed, 1, 0)
    error = _revert(alone.functions.check(context(vit_model, committed), *conv.abi_args()))
    assert isinstance(error, r.GraphInvalidEvidence) and error.error_args == ("kind",)
    gelu = operator_evidence(vit_model, committed, _first(vit_model, 13), 0)
    assert alone.functions.check(context(vit_model, committed), *gelu.abi_args()).call()[0] is False
    as_output = replace(gelu, target=Target.OUTPUT)
    error = _revert(alone.functions.check(context(vit_model, committed), *as_output.abi_args()))
    assert isinstance(error, r.GraphInvalidEvidence) and error.error_args == ("node",)


def test_a_tampered_multiproof_is_refused(operators, vit_model, image_traces):
    """The row of a Softmax element spans three tiles proven by one multiproof: a sibling missing,
    extra or changed, or the tiles out of order, and the opening does not verify."""
    committed = GraphTraceCommitment.of(image_traces[0], vit_model.shapes)
    k = _first(vit_model, 11)
    evidence = operator_evidence(vit_model, committed, k, 20)
    opened = evidence.inputs[0]
    assert len(opened.tiles) == 3 and len(opened.siblings) < 3 * len(opened.tiles[0][2].siblings)
    cases = {"missing": opened.siblings[:-1], "extra": opened.siblings + (b"\x01" * 32,),
             "changed": (b"\x02" * 32,) + opened.siblings[1:]}
    for name, siblings in cases.items():
        forged = replace(evidence, inputs=(replace(opened, siblings=siblings),))
        error = _revert(operators.functions.check(context(vit_model, committed), *forged.abi_args()))
        assert isinstance(error, r.GraphInvalidEvidence) and error.error_args == ("tile",), name
    backwards = replace(evidence, inputs=(replace(opened, tiles=opened.tiles[::-1]),))
    error = _revert(operators.functions.check(context(vit_model, committed), *backwards.abi_args()))
    assert isinstance(error, r.GraphInvalidEvidence) and error.error_args == ("tile",)
