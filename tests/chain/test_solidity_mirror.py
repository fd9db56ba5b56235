"""The Solidity mirrors of the spec (FixedPointNeuron, VcpEncoding, MerkleProofs) agree bit for bit
with vcp.model.fixedpoint, vcp.commit.encoding, vcp.commit.merkle and vcp.commit.commitments
(record leaf, zk output commitment and trace root included).

Everything runs as eth_calls to contracts/test/NeuronHarness.sol on one embedded chain (py-evm).
The neuron is checked against both Python paths (``neuron_output`` and ``QuantizedDense``) on
thousands of random neurons plus a grid of every bound; the encodings on the demo model, on random
fields and on the shared vectors; Merkle proofs on every real proof and on forged ones.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import function_signature_to_4byte_selector, keccak
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from vcp_toolkit.contracts import load_artifact
from vcp_toolkit.chain.gas import intrinsic_gas
from vcp_toolkit.chain.nodes import open_chain
from vcp_toolkit.chain.reverts import (
    NeuronActivationUnknown,
    NeuronBiasOutOfRange,
    NeuronIndexOutOfRange,
    NeuronMultiplierOutOfRange,
    NeuronShiftOutOfRange,
    NeuronWidthMismatch,
    NeuronWidthOutOfRange,
    decode_revert,
    revert_data_from,
)
from vcp_toolkit.chain.tx import Sender, chain_errors
from vcp_toolkit.commit.commitments import (
    ModelCommitment,
    input_commitment,
    model_metadata_digest,
    output_commitment,
    record_leaf,
    trace_leaves,
    trace_root,
    trace_tree,
)
from vcp_toolkit.commit.encoding import (
    BN254_R,
    activation_payload,
    header_payload,
    leaf_hash,
    neuron_payload,
    node_hash,
    record_payload,
    zk_output_commitment,
)
from vcp_toolkit.model.fixedpoint import (
    INT32_MAX,
    INT32_MIN,
    MAX_WIDTH,
    MULTIPLIER_MAX,
    SHIFT_MAX,
    SHIFT_MIN,
    Activation,
    QuantizedDense,
    neuron_output,
    requantize,
)
from vcp_toolkit.commit.merkle import MerkleProof, MerkleTree, root_from_proof
from vcp_toolkit.model.builtin import demo_model

pytestmark = pytest.mark.chain

VECTORS = Path(__file__).parents[1] / "vectors"
GAS_WIDTHS = (16, 64, 256, 1024, 4096)
# Sanity bound only (not a benchmark): execution gas of one neuron of width 1024.
GAS_SANITY_1024 = 250_000

# Hypothesis runs against a module-scoped chain; examples are calls, so the chain never changes.
FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# --------------------------------------------------------------------------------------------
# fixtures and helpers


@pytest.fixture(scope="module")
def chain():
    with open_chain("embedded") as c:
        yield c


@pytest.fixture(scope="module")
def sender(chain):
    s = Sender(chain)
    s.ensure_funded()
    return s


@pytest.fixture(scope="module")
def harness(chain, sender):
    """The deployed NeuronHarness as a web3 contract (the client path every vcp caller uses)."""
    art = load_artifact("test/NeuronHarness")
    deployed = sender.transact(to=None, data=bytes.fromhex(art["bytecode"][2:]), action="deploying NeuronHarness")
    return chain.w3.eth.contract(address=deployed.contract_address, abi=art["abi"])


def _abi_type(item: dict) -> str:
    if item["type"].startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in item["components"]) + ")" + item["type"][5:]
    return item["type"]


class FastHarness:
    """``h.output(...)``: an eth_call straight into eth-tester, about 3x faster than a web3 contract
    call (which matters for thousands of examples). Reverts raise vcp's decoded exceptions."""

    def __init__(self, chain, contract, caller: str) -> None:
        self._tester = chain.tester
        self._to = contract.address
        self._from = caller
        self._functions = {}
        for item in contract.abi:
            if item["type"] == "function":
                inputs = [_abi_type(i) for i in item["inputs"]]
                outputs = [_abi_type(o) for o in item["outputs"]]
                selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(inputs)})")
                self._functions[item["name"]] = (selector, inputs, outputs)

    def __getattr__(self, name: str):
        if name.startswith("_") or name not in self._functions:
            raise AttributeError(name)
        selector, inputs, outputs = self._functions[name]

        def invoke(*args):
            return self._call_data(selector + abi_encode(inputs, args), outputs)

        return invoke

    def encode(self, name: str, *args) -> bytes:
        selector, inputs, _ = self._functions[name]
        return selector + abi_encode(inputs, args)

    def call_raw(self, name: str, data: bytes):
        """Call with hand-made calldata (e.g. non-zero ABI padding), decoded as ``name`` returns."""
        return self._call_data(data, self._functions[name][2])

    def _call_data(self, data: bytes, outputs: list[str]):
        try:
            raw = self._tester.call({"from": self._from, "to": self._to, "data": "0x" + data.hex()})
        except Exception as exc:
            revert = revert_data_from(exc)
            if revert is None:
                raise
            raise decode_revert(revert) from exc
        result = abi_decode(outputs, raw if isinstance(raw, bytes) else bytes.fromhex(raw[2:]))
        return result[0] if len(result) == 1 else result


@pytest.fixture(scope="module")
def h(chain, sender, harness) -> FastHarness:
    return FastHarness(chain, harness, sender.address)


def i8(values) -> np.ndarray:
    return np.asarray(values, dtype=np.int64).astype(np.int8)


def call(fn):
    """A web3 eth_call with revert data decoded into vcp's exception classes."""
    with chain_errors("calling NeuronHarness"):
        return fn.call()


def sol_output(h, w: np.ndarray, x: np.ndarray, bias: int, multiplier: int, shift: int, activation: int) -> int:
    return h.output(i8(w).tobytes(), i8(x).tobytes(), bias, multiplier, shift, activation)


def py_outputs(w: np.ndarray, x: np.ndarray, bias: int, multiplier: int, shift: int,
               activation: int) -> tuple[int, int]:
    """(plain-Python reference, vectorised QuantizedDense) for one neuron."""
    act = Activation(activation)
    reference = neuron_output(i8(w), bias, multiplier, shift, act, i8(x))
    layer = QuantizedDense(
        weight=i8(w)[None, :], bias=np.array([bias], dtype=np.int64),
        multiplier=np.array([multiplier], dtype=np.int64), shift=np.array([shift], dtype=np.int64), activation=act,
    )
    return reference, int(layer(i8(x)[None, :])[0, 0])


def assert_neuron_agrees(h, w, x, bias, multiplier, shift, activation) -> int:
    reference, vectorised = py_outputs(w, x, bias, multiplier, shift, activation)
    got = sol_output(h, w, x, bias, multiplier, shift, activation)
    assert reference == vectorised == got, (reference, vectorised, got)
    return got


def neuron_tuple(layer: int, row: int, in_width: int, out_width: int, bias: int, multiplier: int, shift: int,
                 activation: int, weights) -> tuple:
    """VcpEncoding.NeuronData as web3 takes it."""
    return (layer, row, in_width, out_width, bias, multiplier, shift, activation, i8(weights).tobytes())


# --------------------------------------------------------------------------------------------
# strategies

PATTERNS = ("random", "random", "random", "extreme", "all_min", "all_max", "zero", "sparse", "small")


def make_vector(pattern: str, width: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if pattern == "random":
        return rng.integers(-128, 128, width).astype(np.int8)
    if pattern == "extreme":
        return rng.choice(np.array([-128, 127, -1, 0, 1]), width).astype(np.int8)
    if pattern == "all_min":
        return np.full(width, -128, dtype=np.int8)
    if pattern == "all_max":
        return np.full(width, 127, dtype=np.int8)
    if pattern == "zero":
        return np.zeros(width, dtype=np.int8)
    if pattern == "sparse":
        v = np.zeros(width, dtype=np.int8)
        hot = rng.integers(0, width, max(1, width // 16))
        v[hot] = rng.choice(np.array([-128, 127]), len(hot))
        return v
    return rng.integers(-4, 5, width).astype(np.int8)  # "small"


@st.composite
def int8_vectors(draw, width: int) -> np.ndarray:
    if width <= 48 and draw(st.booleans()):  # hypothesis-driven bytes where they still shrink well
        return np.frombuffer(draw(st.binary(min_size=width, max_size=width)), dtype=np.int8).copy()
    return make_vector(draw(st.sampled_from(PATTERNS)), width, draw(st.integers(0, 2**32 - 1)))


widths = st.one_of(
    st.integers(1, 40),
    st.integers(41, 300),
    st.sampled_from([1, 2, 31, 32, 33, 63, 64, 65, 95, 96, 97, 127, 128, 129, 255, 256, 257, 512, 1000, MAX_WIDTH]),
)
biases = st.one_of(
    st.sampled_from([INT32_MIN, INT32_MAX, 0, -1, 1]),
    st.integers(-(2**16), 2**16),
    st.integers(INT32_MIN, INT32_MAX),
)
multipliers = st.one_of(
    st.sampled_from([1, 2, 2**30, MULTIPLIER_MAX]),
    st.integers(2**30, MULTIPLIER_MAX),  # what quantize.multiplier_and_shift produces
    st.integers(1, MULTIPLIER_MAX),
)


@st.composite
def neurons(draw):
    width = draw(widths)
    w = draw(int8_vectors(width))
    x = draw(int8_vectors(width))
    bias = draw(biases)
    multiplier = draw(multipliers)
    activation = draw(st.sampled_from([0, 1]))
    if draw(st.booleans()):
        shift = draw(st.one_of(st.sampled_from([SHIFT_MIN, SHIFT_MAX]), st.integers(SHIFT_MIN, SHIFT_MAX)))
    else:
        # Calibrated: |acc * M| >> s lands near the int8 range, so rounding (not clamping) decides.
        acc = bias + int(np.dot(w.astype(np.int64), x.astype(np.int64)))
        bits = (abs(acc) * multiplier).bit_length()
        shift = min(SHIFT_MAX, max(SHIFT_MIN, bits - 7 + draw(st.integers(-2, 3))))
    return w, x, bias, multiplier, shift, activation


# --------------------------------------------------------------------------------------------
# the neuron


@settings(FAST, max_examples=1500)
@given(neuron=neurons())
def test_neuron_matches_python_on_random_neurons(h, neuron):
    assert_neuron_agrees(h, *neuron)


@settings(FAST, max_examples=300)
@given(neuron=neurons())
def test_bytewise_harness_neuron_agrees(h, neuron):
    """A second, naive Solidity implementation (one byte at a time) agrees too."""
    w, x, bias, multiplier, shift, activation = neuron
    assume(len(w) <= 512)  # the naive loop is slow in py-evm
    reference, _ = py_outputs(*neuron)
    got = h.outputBytewise(w.tobytes(), x.tobytes(), bias, multiplier, shift, activation)
    assert got == reference


@settings(FAST, max_examples=300)
@given(data=st.data(), width=st.one_of(*[st.integers(0, 200)] * 4, st.integers(201, MAX_WIDTH)))
def test_dot_product_exact(h, data, width):
    a = data.draw(int8_vectors(width)) if width else np.zeros(0, dtype=np.int8)
    b = data.draw(int8_vectors(width)) if width else np.zeros(0, dtype=np.int8)
    expected = int(np.dot(a.astype(np.int64), b.astype(np.int64)))
    assert h.dot(a.tobytes(), b.tobytes()) == expected


@pytest.mark.parametrize("width", [1, 31, 32, 33, 4095, MAX_WIDTH])
def test_dot_product_extremes(h, width):
    """The largest possible |sum| (all products 2**14 or -2**14 + 128) and alternating signs."""
    lo, hi = np.full(width, -128, dtype=np.int8), np.full(width, 127, dtype=np.int8)
    alternating = np.where(np.arange(width) % 2 == 0, -128, 127).astype(np.int8)
    for a, b in ((lo, lo), (lo, hi), (hi, hi), (hi, lo), (alternating, lo), (alternating, alternating)):
        expected = int(np.dot(a.astype(np.int64), b.astype(np.int64)))
        assert h.dot(a.tobytes(), b.tobytes()) == expected


def dirty_padding(calldata: bytes, heads: tuple[int, ...], fill: bytes) -> bytes:
    """``calldata`` with the zero padding after each ``bytes`` argument (head word ``i``) replaced
    by ``fill``: still decodes to the same arguments, as Solidity does not check padding."""
    data = bytearray(calldata)
    for head in heads:
        offset = 4 + int.from_bytes(data[4 + 32 * head:4 + 32 * head + 32], "big")
        length = int.from_bytes(data[offset:offset + 32], "big")
        start, end = offset + 32 + length, offset + 32 + -(-length // 32) * 32
        data[start:end] = (fill * 32)[: end - start]
    return bytes(data)


@settings(FAST, max_examples=150)
@given(neuron=neurons(), fill=st.binary(min_size=1, max_size=32).filter(any))
def test_dirty_abi_padding_changes_nothing(h, neuron, fill):
    """A challenger writes the calldata: bytes past a vector's end (ABI padding, or whatever comes
    next) must not leak into the sum. The last partial word is masked, so they do not."""
    w, x, bias, multiplier, shift, activation = neuron
    assume(len(w) % 32)
    reference, _ = py_outputs(*neuron)
    calldata = h.encode("output", w.tobytes(), x.tobytes(), bias, multiplier, shift, activation)
    assert h.call_raw("output", dirty_padding(calldata, (0, 1), fill)) == reference
    data = dirty_padding(h.encode("dot", w.tobytes(), x.tobytes()), (0, 1), fill)
    assert h.call_raw("dot", data) == int(np.dot(w.astype(np.int64), x.astype(np.int64)))


EDGE_WIDTHS = (1, 32, 33, MAX_WIDTH)
EDGE_VECTORS = {  # (weights, inputs) patterns: largest and smallest sums, zero weights
    "max": (-128, -128), "min": (-128, 127), "pos": (127, 127), "zero_weights": (0, -128),
}
EDGE_BIASES = (INT32_MIN, 0, INT32_MAX)
EDGE_MULTIPLIERS = (1, MULTIPLIER_MAX)
EDGE_SHIFTS = (SHIFT_MIN, 31, SHIFT_MAX)


def test_neuron_grid_of_bounds(h):
    """Every combination of the extreme widths, vectors, biases, multipliers, shifts, activations."""
    outputs = set()
    grid = itertools.chain(
        itertools.product(EDGE_WIDTHS[:-1], EDGE_VECTORS.values(), EDGE_BIASES, EDGE_MULTIPLIERS, EDGE_SHIFTS, (0, 1)),
        # The widest neuron is slow in py-evm: its grid keeps the extreme biases and shifts only.
        itertools.product(EDGE_WIDTHS[-1:], EDGE_VECTORS.values(), EDGE_BIASES[::2], EDGE_MULTIPLIERS,
                          EDGE_SHIFTS[::2], (0, 1)),
    )
    for width, (wv, xv), bias, multiplier, shift, activation in grid:
        w, x = np.full(width, wv, dtype=np.int8), np.full(width, xv, dtype=np.int8)
        outputs.add(assert_neuron_agrees(h, w, x, bias, multiplier, shift, activation))
    assert {-128, 0, 127} <= outputs  # both saturations and the RELU floor were reached


ACC_MIN, ACC_MAX = INT32_MIN - 2 * 16256, INT32_MAX + 2 * 16384  # what split_acc can reach


def split_acc(acc: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Width-2 vectors and an int32 bias with bias + w.x == acc, for acc in [ACC_MIN, ACC_MAX]."""
    w = np.zeros(2, dtype=np.int8)
    x = np.zeros(2, dtype=np.int8)
    if acc > INT32_MAX:
        w[:], x[:] = -128, -128  # w.x = 32768
    elif acc < INT32_MIN:
        w[:], x[:] = -128, 127  # w.x = -32512
    bias = acc - int(np.dot(w.astype(np.int64), x.astype(np.int64)))
    assert INT32_MIN <= bias <= INT32_MAX
    return w, x, bias


def test_rounding_ties_go_up(h):
    """acc * M exactly halfway between two integers rounds towards +inf, negative ones included,
    and the shift floors (it does not truncate towards zero) just below a negative tie."""
    seen_negative_tie = False
    for shift in range(SHIFT_MIN, SHIFT_MAX + 1):
        j = min(30, max(0, shift - 28))  # M = 2**j keeps acc within int32 (+ a small dot product)
        multiplier = 2**j
        for k in (-130, -128, -127, -2, -1, 0, 1, 2, 127, 128):
            target = k * 2**shift - 2 ** (shift - 1)  # acc * M: exactly k - 1/2 after the shift
            if target % multiplier:
                continue
            acc = target // multiplier
            if not ACC_MIN <= acc <= ACC_MAX:
                continue
            # The tie itself rounds up to k; one step of acc below it floors to k - 1 (also when
            # negative, where truncating towards zero would give k), one step above stays k.
            for step, rounded in ((0, k), (-1, k - 1), (1, k)):
                if not ACC_MIN <= acc + step <= ACC_MAX:
                    continue
                w, x, bias = split_acc(acc + step)
                for activation in (0, 1):
                    expected = max(0 if activation else -128, min(127, rounded))
                    assert neuron_output(w, bias, multiplier, shift, Activation(activation), x) == expected
                    assert assert_neuron_agrees(h, w, x, bias, multiplier, shift, activation) == expected
            seen_negative_tie |= k <= 0
    assert seen_negative_tie


@settings(FAST, max_examples=300)
@given(
    acc=st.integers(-(2**31) - 2**26, 2**31 + 2**26),
    multiplier=multipliers,
    shift=st.integers(SHIFT_MIN, SHIFT_MAX),
    activation=st.sampled_from([0, 1]),
)
def test_requantize_matches_numpy(h, acc, multiplier, shift, activation):
    expected = int(requantize(np.array([acc]), np.array([multiplier]), np.array([shift]), Activation(activation))[0])
    assert h.requantize(acc, multiplier, shift, activation) == expected


def test_shared_arithmetic_vectors(h):
    cases = json.loads((VECTORS / "arithmetic.json").read_text())
    for case in cases:
        got = sol_output(h, case["weights"], case["inputs"], case["bias"], case["multiplier"], case["shift"],
                         case["activation"])
        assert got == case["output"], case


def test_demo_model_layers_neuron_by_neuron(h):
    """Every neuron of the demo model on a few real traces, against the traces Python computed."""
    model = demo_model()
    rng = np.random.default_rng(7)
    for x in (rng.integers(0, 128, model.input_width), rng.integers(-128, 128, model.input_width)):
        trace = [v[0] for v in model.trace(x.astype(np.int8))]
        for index, layer in enumerate(model.layers):
            for row in range(layer.out_width):
                got = sol_output(h, layer.weight[row], trace[index], int(layer.bias[row]),
                                 int(layer.multiplier[row]), int(layer.shift[row]), int(layer.activation))
                assert got == int(trace[index + 1][row])


@pytest.mark.parametrize(
    ("args", "error", "error_args"),
    [
        ((b"\x01", b"\x01\x02", 0, 1, 1, 0), NeuronWidthMismatch, (1, 2)),
        ((b"", b"\x01", 0, 1, 1, 0), NeuronWidthMismatch, (0, 1)),
        ((b"", b"", 0, 1, 1, 0), NeuronWidthOutOfRange, (0,)),
        ((bytes(MAX_WIDTH + 1), bytes(MAX_WIDTH + 1), 0, 1, 1, 0), NeuronWidthOutOfRange, (MAX_WIDTH + 1,)),
        ((b"\x01", b"\x01", INT32_MAX + 1, 1, 1, 0), NeuronBiasOutOfRange, (INT32_MAX + 1,)),
        ((b"\x01", b"\x01", INT32_MIN - 1, 1, 1, 0), NeuronBiasOutOfRange, (INT32_MIN - 1,)),
        ((b"\x01", b"\x01", 0, 0, 1, 0), NeuronMultiplierOutOfRange, (0,)),
        ((b"\x01", b"\x01", 0, MULTIPLIER_MAX + 1, 1, 0), NeuronMultiplierOutOfRange, (MULTIPLIER_MAX + 1,)),
        ((b"\x01", b"\x01", 0, 2**256 - 1, 1, 0), NeuronMultiplierOutOfRange, (2**256 - 1,)),
        ((b"\x01", b"\x01", 0, 1, 0, 0), NeuronShiftOutOfRange, (0,)),
        ((b"\x01", b"\x01", 0, 1, SHIFT_MAX + 1, 0), NeuronShiftOutOfRange, (SHIFT_MAX + 1,)),
        ((b"\x01", b"\x01", 0, 1, 2**256 - 1, 0), NeuronShiftOutOfRange, (2**256 - 1,)),
        ((b"\x01", b"\x01", 0, 1, 1, 2), NeuronActivationUnknown, (2,)),
        ((b"\x01", b"\x01", 0, 1, 1, 255), NeuronActivationUnknown, (255,)),
    ],
)
def test_invalid_neuron_reverts_with_custom_error(harness, h, args, error, error_args):
    """Through web3 (vcp's client path) and straight through eth-tester, for each entry point."""
    for name in ("output", "measureNeuron", "outputBytewise"):
        with pytest.raises(error) as info:
            call(getattr(harness.functions, name)(*args))
        assert info.value.error_name == error.__name__ and info.value.error_args == error_args
        with pytest.raises(error) as info:
            getattr(h, name)(*args)
        assert info.value.error_args == error_args


def test_python_rejects_what_solidity_rejects():
    """The bounds are the same on both sides: QuantizedDense refuses each out-of-range field."""
    from vcp_toolkit.errors import InvalidModel

    w = np.ones((1, 1), dtype=np.int8)
    good = {"bias": 0, "multiplier": 1, "shift": 1}
    for field, bad in (("bias", INT32_MAX + 1), ("bias", INT32_MIN - 1), ("multiplier", 0),
                       ("multiplier", MULTIPLIER_MAX + 1), ("shift", 0), ("shift", SHIFT_MAX + 1)):
        values = {**good, field: bad}
        with pytest.raises(InvalidModel):
            QuantizedDense(weight=w, **{k: np.array([v], dtype=np.int64) for k, v in values.items()},
                           activation=Activation.NONE)
    with pytest.raises(InvalidModel):
        QuantizedDense(weight=np.ones((1, MAX_WIDTH + 1), dtype=np.int8), bias=np.zeros(1, dtype=np.int64),
                       multiplier=np.ones(1, dtype=np.int64), shift=np.ones(1, dtype=np.int64),
                       activation=Activation.NONE)


@settings(FAST, max_examples=100)
@given(values=st.binary(min_size=1, max_size=100), data=st.data())
def test_read_int8(h, values, data):
    index = data.draw(st.integers(0, len(values) - 1))
    assert h.readInt8(values, index) == int(np.frombuffer(values, dtype=np.int8)[index])
    bad = data.draw(st.sampled_from([len(values), len(values) + 1, 2**256 - 1]))
    with pytest.raises(NeuronIndexOutOfRange) as info:
        h.readInt8(values, bad)
    assert info.value.error_args == (bad, len(values))


# --------------------------------------------------------------------------------------------
# encodings


def test_demo_model_leaves_and_proofs(h):
    commitment = ModelCommitment(demo_model())
    model = commitment.model
    root = commitment.root
    header, proof = commitment.header_proof()
    header_args = (len(model.layers), model.input_width, model.output_width, model.neuron_count,
                   model_metadata_digest(model))
    assert bytes(h.headerPayload(*header_args)) == header
    header_leaf = bytes(h.headerLeaf(*header_args))
    assert header_leaf == leaf_hash(header) == bytes(h.leafHash(header))
    assert h.verify(root, header_leaf, proof.index, list(proof.siblings))
    checked = 0
    for index, layer in enumerate(model.layers):
        for row in range(layer.out_width):
            payload, proof = commitment.neuron_proof(index, row)
            neuron = neuron_tuple(index, row, layer.in_width, layer.out_width, int(layer.bias[row]),
                                  int(layer.multiplier[row]), int(layer.shift[row]), int(layer.activation),
                                  layer.weight[row])
            assert bytes(h.neuronPayload(neuron)) == payload
            leaf = bytes(h.neuronLeaf(neuron))
            assert leaf == leaf_hash(payload) == bytes(h.neuronLeafMemory(neuron))
            assert h.verify(root, leaf, proof.index, list(proof.siblings))
            assert h.verifyMemory(root, leaf, proof.index, list(proof.siblings))
            # ... and that leaf proves nothing at any other position, nor under a changed header.
            assert not h.verify(root, leaf, proof.index ^ 1, list(proof.siblings))
            assert not h.verify(root, header_leaf, proof.index, list(proof.siblings))
            checked += 1
    assert checked == model.neuron_count


def test_demo_trace_leaves_and_proofs(h):
    model = demo_model()
    rng = np.random.default_rng(11)
    salt = bytes(rng.integers(0, 256, 32, dtype=np.uint8))
    for x in (rng.integers(0, 128, model.input_width), rng.integers(-128, 128, model.input_width)):
        trace = [v[0] for v in model.trace(x.astype(np.int8))]
        tree = trace_tree(trace)
        for i, (vector, leaf) in enumerate(zip(trace, trace_leaves(trace), strict=True)):
            raw = vector.tobytes()
            assert bytes(h.activationPayload(i, raw)) == activation_payload(i, vector)
            assert bytes(h.activationLeaf(i, raw)) == leaf
            assert bytes(h.activationLeafMemory(i, raw)) == leaf
            proof = tree.proof(i)
            assert h.verify(tree.root, leaf, proof.index, list(proof.siblings))
            assert h.verifyMemory(tree.root, leaf, proof.index, list(proof.siblings))
        assert bytes(h.inputCommitment(salt, trace[0].tobytes())) == input_commitment(salt, trace[0])
        assert bytes(h.outputCommitment(salt, trace[-1].tobytes())) == output_commitment(
            salt, trace[-1])
        assert bytes(h.rootOfActivations([v.tobytes() for v in trace])) == trace_root(trace) == tree.root


@settings(FAST, max_examples=100)
@given(
    layer=st.integers(0, 2**16 - 1), row=st.integers(0, 2**32 - 1), in_width=st.integers(0, 2**32 - 1),
    out_width=st.integers(0, 2**32 - 1), bias=st.integers(INT32_MIN, INT32_MAX),
    multiplier=st.integers(0, 2**32 - 1), shift=st.integers(0, 255), activation=st.integers(0, 255),
    weights=st.binary(max_size=300),
)
def test_neuron_encoding_any_fields(h, layer, row, in_width, out_width, bias, multiplier, shift, activation,
                                    weights):
    """Every field at its full width: byte order, sign of the bias, weights as raw bytes."""
    w = np.frombuffer(weights, dtype=np.int8)
    payload = neuron_payload(layer, row, in_width, out_width, bias, multiplier, shift, activation, w)
    neuron = (layer, row, in_width, out_width, bias, multiplier, shift, activation, weights)
    assert bytes(h.neuronPayload(neuron)) == payload
    assert bytes(h.neuronLeaf(neuron)) == leaf_hash(payload)


@settings(FAST, max_examples=100)
@given(
    index=st.integers(0, 2**16 - 1), values=st.binary(max_size=300), salt=st.binary(min_size=32, max_size=32),
    layers=st.integers(0, 2**16 - 1), widths=st.tuples(*[st.integers(0, 2**32 - 1)] * 3),
    left=st.binary(min_size=32, max_size=32), right=st.binary(min_size=32, max_size=32),
)
def test_other_encodings_any_fields(h, index, values, salt, layers, widths, left, right):
    v = np.frombuffer(values, dtype=np.int8)
    payload = activation_payload(index, v)
    assert bytes(h.activationPayload(index, values)) == payload
    assert bytes(h.activationLeaf(index, values)) == leaf_hash(payload)
    assert bytes(h.leafHash(payload)) == leaf_hash(payload)
    assert bytes(h.inputCommitment(salt, values)) == input_commitment(salt, v)
    assert bytes(h.outputCommitment(salt, values)) == output_commitment(salt, v)
    header = header_payload(layers, *widths, right)
    assert bytes(h.headerPayload(layers, *widths, right)) == header
    assert bytes(h.headerLeaf(layers, *widths, right)) == leaf_hash(header)
    assert bytes(h.nodeHash(left, right)) == node_hash(left, right)


@settings(FAST, max_examples=100)
@given(commitments=st.tuples(*[st.binary(min_size=32, max_size=32)] * 3))
def test_record_leaf_any_fields(h, commitments):
    assert bytes(h.recordPayload(*commitments)) == record_payload(*commitments)
    assert bytes(h.recordLeaf(*commitments)) == record_leaf(*commitments) == leaf_hash(record_payload(*commitments))


field_elements = st.one_of(st.integers(0, 255), st.integers(BN254_R - 256, BN254_R - 1), st.integers(0, BN254_R - 1))


@settings(FAST, max_examples=100)
@given(salt=st.binary(min_size=32, max_size=32), inputs=st.lists(field_elements, max_size=8),
       outputs=st.lists(field_elements, max_size=20))
def test_zk_output_commitment_any_outputs(h, salt, inputs, outputs):
    """Also as the registry calls it: on the outputs that follow the inputs in the proof's instances."""
    expected = zk_output_commitment(salt, outputs)
    assert bytes(h.zkOutputCommitment(salt, outputs)) == expected
    assert bytes(h.zkOutputCommitmentOfInstances(salt, inputs + outputs, len(inputs))) == expected


@settings(FAST, max_examples=100)
@given(widths=st.lists(st.integers(0, 70), min_size=1, max_size=17), seed=st.integers(0, 2**32 - 1))
def test_trace_root_any_trace(h, widths, seed):
    """MerkleProofs.rootOfActivations against vcp.commit.commitments.trace_root: every padding shape
    from 1 to 17 vectors (0 to 15 padding leaves), vectors of any width including empty ones."""
    rng = np.random.default_rng(seed)
    trace = [rng.integers(-128, 128, w).astype(np.int8) for w in widths]
    assert bytes(h.rootOfActivations([v.tobytes() for v in trace])) == trace_root(trace)


def test_shared_encoding_vectors(harness):
    enc = json.loads((VECTORS / "encoding.json").read_text())

    def unhex(text: str) -> bytes:
        return bytes.fromhex(text[2:])

    f = enc["neuron"]["fields"]
    neuron = neuron_tuple(f["layer"], f["row"], f["in_width"], f["out_width"], f["bias"], f["multiplier"], f["shift"],
                          f["activation"], f["weights"])
    assert bytes(call(harness.functions.neuronPayload(neuron))) == unhex(enc["neuron"]["payload"])
    assert bytes(call(harness.functions.neuronLeaf(neuron))) == unhex(enc["neuron"]["leaf"])
    a = enc["activation"]
    assert bytes(call(harness.functions.activationLeaf(a["index"], i8(a["values"]).tobytes()))) == unhex(a["leaf"])
    h = enc["header"]
    header_args = (h["layers"], h["in_width"], h["out_width"], h["neurons"], unhex(h["metadata_digest"]))
    assert bytes(call(harness.functions.headerLeaf(*header_args))) == unhex(h["leaf"])
    n = enc["node"]
    assert bytes(call(harness.functions.nodeHash(unhex(n["left"]), unhex(n["right"])))) == unhex(n["hash"])
    c = enc["commitments"]
    values = i8(c["values"]).tobytes()
    assert bytes(call(harness.functions.inputCommitment(unhex(c["salt"]), values))) == unhex(c["input"])
    assert bytes(call(harness.functions.outputCommitment(unhex(c["salt"]), values))) == unhex(c["output"])
    for case in enc["merkle"]:
        root = unhex(case["root"])
        for proof in case["proofs"]:
            leaf = leaf_hash(unhex(case["leaf_payloads"][proof["index"]]))
            siblings = [unhex(s) for s in proof["siblings"]]
            assert call(harness.functions.verify(root, leaf, proof["index"], siblings))
    rec = enc["record"]
    record = (unhex(rec["input_commitment"]), unhex(rec["output_commitment"]), unhex(rec["trace_root"]))
    assert bytes(call(harness.functions.recordPayload(*record))) == unhex(rec["payload"])
    assert bytes(call(harness.functions.recordLeaf(*record))) == unhex(rec["leaf"])
    for case in enc["zk_output"]:
        outputs = [int(v, 16) for v in case["outputs"]]
        got = call(harness.functions.zkOutputCommitment(unhex(case["salt"]), outputs))
        assert bytes(got) == unhex(case["commitment"])
    for case in enc["trace"]:
        vectors = [i8(v).tobytes() for v in case["vectors"]]
        for index, (vector, leaf) in enumerate(zip(vectors, case["leaves"], strict=True)):
            assert bytes(call(harness.functions.activationLeaf(index, vector))) == unhex(leaf)
        assert bytes(call(harness.functions.rootOfActivations(vectors))) == unhex(case["root"])


# --------------------------------------------------------------------------------------------
# Merkle proofs


def forged_proofs(index: int, siblings: list[bytes]) -> list[tuple[str, int, list[bytes]]]:
    depth = len(siblings)
    forged = [
        ("index + 2**depth", index + 2**depth, siblings),
        ("index + 2**255", index + 2**255, siblings),
        ("extra sibling", index, siblings + [keccak(b"extra")]),
        ("extra zero sibling", index, siblings + [bytes(32)]),
    ]
    if depth:
        forged += [
            ("wrong index", index ^ 1, siblings),
            ("top bit flipped", index ^ (1 << (depth - 1)), siblings),
            ("changed sibling", index, [bytes([siblings[0][0] ^ 1]) + siblings[0][1:]] + siblings[1:]),
            ("changed top sibling", index, siblings[:-1] + [keccak(siblings[-1])]),
            ("dropped sibling", index, siblings[:-1]),
            ("swapped siblings", index, siblings[::-1]),
        ]
    return forged


@settings(FAST, max_examples=25)
@given(leaf_count=st.integers(1, 40), seed=st.integers(0, 2**32 - 1), data=st.data())
def test_merkle_accepts_real_proofs_rejects_forged(h, leaf_count, seed, data):
    """Every real proof of a random tree verifies; every forgery of two of them fails, as in Python."""
    rng = np.random.default_rng(seed)
    leaves = [leaf_hash(bytes(rng.integers(0, 256, 8, dtype=np.uint8))) for _ in range(leaf_count)]
    tree = MerkleTree(leaves)
    for index in range(leaf_count):
        assert h.verify(tree.root, leaves[index], index, list(tree.proof(index).siblings))
    for index in {data.draw(st.integers(0, leaf_count - 1)), leaf_count - 1}:
        siblings = list(tree.proof(index).siblings)
        assert h.verifyMemory(tree.root, leaves[index], index, siblings)
        root, consumed = h.rootFromProof(leaves[index], index, siblings)
        assert consumed and root == tree.root
        if leaf_count > 1:
            assert not h.verify(tree.root, leaves[(index + 1) % leaf_count], index, siblings)
        for name, bad_index, bad_siblings in forged_proofs(index, siblings):
            if bad_index == index and bad_siblings == siblings:
                continue  # e.g. reversing a one-sibling proof changes nothing
            python = root_from_proof(leaves[index], MerkleProof(bad_index, tuple(bad_siblings)))
            assert python != tree.root, name
            assert h.verify(tree.root, leaves[index], bad_index, bad_siblings) is False, name
            assert h.verifyMemory(tree.root, leaves[index], bad_index, bad_siblings) is False, name
            root, consumed = h.rootFromProof(leaves[index], bad_index, bad_siblings)
            assert (root if consumed else None) == python, name


def test_merkle_padding_and_single_leaf(h):
    leaf = leaf_hash(b"only")
    assert h.verify(leaf, leaf, 0, [])
    assert not h.verify(leaf, leaf, 1, [])  # index not consumed
    # A padding slot holds bytes32(0): the library proves it like any leaf hash (see its WARNING),
    # which is harmless because no payload hashes to zero and callers hash the payload themselves.
    tree = MerkleTree([leaf_hash(b"a"), leaf_hash(b"b"), leaf_hash(b"c")])
    padding_proof = [leaf_hash(b"c"), tree.levels[1][0]]
    assert h.verify(tree.root, bytes(32), 3, padding_proof)
    # An inner node passed as `leaf` verifies at its own height (hence the library's WARNING) ...
    inner = tree.levels[1][0]
    assert h.verify(tree.root, inner, 0, [tree.levels[1][1]])
    # ... but no payload can pose as it: the 64 bytes of its children hash, as a leaf, elsewhere.
    children = leaf_hash(b"a") + leaf_hash(b"b")
    assert bytes(h.leafHash(children)) != inner == node_hash(*tree.levels[0][:2])


# --------------------------------------------------------------------------------------------
# gas


def test_gas_of_one_neuron(chain, sender, harness, capsys):
    """Execution gas (estimate - 21,000 - calldata) of recomputing one neuron; printed, sanity-bounded."""
    backend_chain = chain.tester.backend.chain
    from eth.estimators.gas import binary_gas_search_exact

    backend_chain.gas_estimator = binary_gas_search_exact  # py-evm's default estimate is +-21,000
    rng = np.random.default_rng(2024)
    rows = []
    for width in GAS_WIDTHS:
        w = rng.integers(-128, 128, width).astype(np.int8)
        x = rng.integers(-128, 128, width).astype(np.int8)
        args = [w.tobytes(), x.tobytes(), -123456, 1518500250, 38, 1]
        data = bytes.fromhex(harness.encode_abi("output", args=args)[2:])
        estimate = int(chain.w3.eth.estimate_gas({"from": sender.address, "to": harness.address, "data": data}))
        execution = estimate - intrinsic_gas(data)
        _, library = call(harness.functions.measureNeuron(*args))
        _, bytewise = call(harness.functions.measureBytewise(*args))
        rows.append((width, execution, library, bytewise, intrinsic_gas(data)))
    with capsys.disabled():
        print("\nwidth  execution  library(SWAR)  library(bytewise)  intrinsic(21000+calldata)")
        for row in rows:
            print("{:5d}  {:9,d}  {:13,d}  {:17,d}  {:9,d}".format(*row))
    execution_1024 = dict((r[0], r[1]) for r in rows)[1024]
    assert 0 < execution_1024 < GAS_SANITY_1024


def test_depth_for_mirrors_proof_depth(harness):
    from vcp_toolkit.commit.merkle import proof_depth

    counts = list(range(1, 1100)) + [2**k + d for k in range(10, 256) for d in (-1, 0, 1)] + [2**256 - 1]
    for n in counts:
        assert harness.functions.depthFor(n).call() == proof_depth(n), n


def test_verify_in_tree_takes_one_depth_only(harness):
    from vcp_toolkit.commit.merkle import MerkleTree, proof_depth

    leaves = [leaf_hash(bytes([k])) for k in range(5)]
    tree = MerkleTree(leaves)
    for k in range(5):
        siblings = list(tree.proof(k).siblings)
        assert len(siblings) == proof_depth(5)
        assert harness.functions.verifyInTree(tree.root, leaves[k], k, 5, siblings).call()
        assert not harness.functions.verifyInTree(tree.root, leaves[k], k, 4, siblings).call()  # wrong count
        assert not harness.functions.verifyInTree(tree.root, leaves[k], k, 5, siblings + [bytes(32)]).call()
        assert not harness.functions.verifyInTree(tree.root, leaves[k], k + 8, 5, siblings).call()
