"""TransformerKernels.sol computes every element of Softmax, LayerNorm, GELU and MatMul bit for bit as
the numpy kernels and their plain-Python references (vcp_toolkit.model.graph.softmax, .layernorm,
.gelu, .matmul), on hundreds of seeded random rows and on the extreme rows of tests/transformer_cases.py,
through contracts/test/TransformerHarness.sol on the embedded chain; it refuses out-of-range rows and
parameters with its typed errors; and one element's gas is what docs/arithmetic.md states."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from docfigures import REPO, Figure, Measured, locate, mismatch
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import function_signature_to_4byte_selector
from transformer_cases import (SEED, extreme_rows, int8, random_gelu, random_layernorm, random_matmul,
                               random_softmax)

from vcp_toolkit.chain.nodes import open_chain
from vcp_toolkit.chain.reverts import (TransformerIndexOutOfRange, TransformerLengthMismatch,
                                       TransformerParameterOutOfRange, TransformerWidthOutOfRange, decode_revert,
                                       revert_data_from)
from vcp_toolkit.chain.tx import Sender
from vcp_toolkit.contracts import load_artifact
from vcp_toolkit.model.graph.gelu import Gelu, gelu_reference
from vcp_toolkit.model.graph.layernorm import LayerNorm, isqrt_array, layernorm_reference
from vcp_toolkit.model.graph.matmul import MatMul, matmul_reference
from vcp_toolkit.model.graph.softmax import Softmax, exp2_neg, softmax_reference

pytestmark = pytest.mark.chain

WIDTHS = (1, 16, 17, 32, 64, 197)


def _abi_type(item: dict) -> str:
    if item["type"].startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in item["components"]) + ")" + item["type"][5:]
    return item["type"]


class Harness:
    """``h.softmax(...)``: an eth_call straight into eth-tester, reverts raised as vcp's exceptions."""

    def __init__(self, chain, address: str, caller: str) -> None:
        self.tester, self.address, self.caller = chain.tester, address, caller
        self.functions = {}
        for item in load_artifact("test/TransformerHarness")["abi"]:
            if item["type"] == "function":
                inputs = [_abi_type(i) for i in item["inputs"]]
                selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(inputs)})")
                self.functions[item["name"]] = (selector, inputs, [_abi_type(o) for o in item["outputs"]])

    def __getattr__(self, name: str):
        if name not in self.__dict__.get("functions", {}):
            raise AttributeError(name)
        selector, inputs, outputs = self.functions[name]

        def invoke(*args):
            data = "0x" + (selector + abi_encode(inputs, args)).hex()
            try:
                raw = self.tester.call({"from": self.caller, "to": self.address, "data": data})
            except Exception as exc:
                revert = revert_data_from(exc)
                if revert is None:
                    raise
                raise decode_revert(revert) from exc
            result = abi_decode(outputs, raw if isinstance(raw, bytes) else bytes.fromhex(raw[2:]))
            return result[0] if len(result) == 1 else result
        return invoke


@pytest.fixture(scope="module")
def h():
    with open_chain("embedded") as chain:
        sender = Sender(chain)
        sender.ensure_funded()
        art = load_artifact("test/TransformerHarness")
        deployed = sender.transact(to=None, data=bytes.fromhex(art["bytecode"][2:]), action="deploying TransformerHarness")
        yield Harness(chain, deployed.contract_address, sender.address)


def rows_of(rng, n: int, count: int) -> list[np.ndarray]:
    return [int8(rng, n) for _ in range(count)] + extreme_rows(n)


def layernorm_channel(op: LayerNorm, i: int) -> tuple:
    return (int(op.gamma[i]), int(op.beta[i]), int(op.multiplier[i]), int(op.shift[i]), op.epsilon, op.lo, op.hi)


# --------------------------------------------------------------------------------------------
# bit for bit


@pytest.mark.parametrize("n", WIDTHS)
def test_softmax(h, n):
    rng = np.random.default_rng([SEED, 1000 + n])
    for row in rows_of(rng, n, 40):
        op = random_softmax(rng)
        want = op(row)
        assert want.tolist() == softmax_reference(op, row).tolist()
        for i in sorted({0, n - 1, int(rng.integers(n)), int(np.argmax(row))}):
            assert h.softmax(row.tobytes(), op.multiplier, op.shift, i) == want[i], (row.tolist(), op, i)


def test_exp2_neg_and_isqrt(h):
    rng = np.random.default_rng(SEED)
    us = [0, 1, 65535, 65536, (31 << 16) - 1, 31 << 16, 2**39] + rng.integers(0, 40 << 16, 150).tolist()
    assert [h.exp2Neg(u) for u in us] == exp2_neg(np.array(us, dtype=np.int64)).tolist()
    roots = [0, 1, 2, 3, 2**31 - 1, 2**32] + rng.integers(0, 2**31, 60).tolist()
    values = sorted({v for r in roots for v in (r * r - 1, r * r, r * r + 1) if v >= 0}
                    | set(rng.integers(0, 2**62, 60).tolist()))
    assert [h.isqrt(v) for v in values] == [math.isqrt(v) for v in values]
    small = [v for v in values if v < 2**62]
    assert [h.isqrt(v) for v in small] == isqrt_array(np.array(small, dtype=np.int64)).tolist()
    assert h.isqrt(2**256 - 1) == 2**128 - 1


@pytest.mark.parametrize("n", WIDTHS)
def test_layernorm(h, n):
    rng = np.random.default_rng([SEED, 2000 + n])
    for row in rows_of(rng, n, 30):
        op = random_layernorm(rng, n)
        want = op(row)
        assert want.tolist() == layernorm_reference(op, row).tolist()
        for i in sorted({0, n - 1, int(rng.integers(n))}):
            assert h.layerNorm(row.tobytes(), layernorm_channel(op, i), i) == want[i], (row.tolist(), i)


@pytest.mark.parametrize("n", (1, 17, 64))
def test_gelu(h, n):
    rng = np.random.default_rng([SEED, 3000 + n])
    every_code = np.arange(-128, 128).astype(np.int8)
    for _ in range(8):
        op = random_gelu(rng)
        assert [h.gelu(every_code.tobytes(), op.table.tobytes(), i) for i in range(256)] == op(every_code).tolist()
    for row in rows_of(rng, n, 20):
        op = random_gelu(rng)
        want = op(row)
        assert want.tolist() == gelu_reference(op, row).tolist()
        i = int(rng.integers(n))
        assert h.gelu(row.tobytes(), op.table.tobytes(), i) == want[i]


@pytest.mark.parametrize("k", (1, 16, 17, 32, 64, 197))
def test_matmul(h, k):
    rng = np.random.default_rng([SEED, 4000 + k])
    cases = [(int8(rng, (3, k)), int8(rng, (k, 3))) for _ in range(30)]
    cases += [(np.stack([r, r[::-1]]), np.stack([r, -np.maximum(r, -127)], axis=1)) for r in extreme_rows(k)]
    for a, b in cases:
        op = random_matmul(rng, k)
        want = op(a, b)
        assert want.tolist() == matmul_reference(op, a, b).tolist()
        for i in range(a.shape[0]):
            for j in range(b.shape[1]):
                got = h.matmul(a[i].tobytes(), np.ascontiguousarray(b[:, j]).tobytes(), op.multiplier, op.shift,
                               op.lo, op.hi)
                assert got == want[i, j], (a.tolist(), b.tolist(), op, i, j)


def test_shared_vectors(h):
    """tests/vectors/transformer.json (which Python reproduces too): every element of every row."""
    for case in json.loads((REPO / "tests" / "vectors" / "transformer.json").read_text()):
        if case["op"] == "matmul":
            a, b = np.array(case["a"], np.int8).tobytes(), np.array(case["b"], np.int8).tobytes()
            assert h.matmul(a, b, case["multiplier"], case["shift"], case["lo"], case["hi"]) == case["out"], case
            continue
        row = np.array(case["row"], np.int8).tobytes()
        for i, want in enumerate(case["out"]):
            if case["op"] == "softmax":
                got = h.softmax(row, case["multiplier"], case["shift"], i)
            elif case["op"] == "gelu":
                got = h.gelu(row, np.array(case["table"], np.int8).tobytes(), i)
            else:
                channel = (case["gamma"][i], case["beta"][i], case["multiplier"][i], case["shift"][i],
                           case["epsilon"], case["lo"], case["hi"])
                got = h.layerNorm(row, channel, i)
            assert got == want, (case["op"], case["row"], i)


def test_rows_of_the_widest_width(h):
    """4096 values, the bound every overflow argument assumes: saturated and random rows, first and last element."""
    rng = np.random.default_rng([SEED, 4096])
    n = 4096
    for row in (np.full(n, 127, np.int8), np.full(n, -128, np.int8), np.resize(np.int8([-128, 127]), n),
                int8(rng, n)):
        sm = Softmax.for_scale(1 / 256)
        ln = LayerNorm(np.full(n, -128, np.int8), np.full(n, -2**31, np.int64), np.full(n, 2**31 - 1, np.int64),
                       np.full(n, 40, np.int64), 2**31 - 1)
        mm = MatMul(2**31 - 1, 40)
        s_out, l_out, m_out = sm(row), ln(row), int(mm(row[None], row[:, None])[0, 0])
        for i in (0, n - 1):
            assert h.softmax(row.tobytes(), sm.multiplier, sm.shift, i) == s_out[i]
            assert h.layerNorm(row.tobytes(), layernorm_channel(ln, i), i) == l_out[i]
        assert h.matmul(row.tobytes(), row.tobytes(), mm.multiplier, mm.shift, mm.lo, mm.hi) == m_out
        assert l_out.tolist() == layernorm_reference(ln, row).tolist()


# --------------------------------------------------------------------------------------------
# refusals


def test_refusals(h):
    row = bytes(4)
    with pytest.raises(TransformerWidthOutOfRange):
        h.softmax(b"", 2**30, 20, 0)
    with pytest.raises(TransformerWidthOutOfRange):
        h.softmax(bytes(4097), 2**30, 20, 0)
    with pytest.raises(TransformerIndexOutOfRange) as caught:
        h.softmax(row, 2**30, 20, 4)
    assert caught.value.fields == {"index": 4, "width": 4}
    for m, s in ((0, 20), (2**31, 20), (2**30, 0), (2**30, 63)):
        with pytest.raises(TransformerParameterOutOfRange):
            h.softmax(row, m, s, 0)
    good = (1, 0, 2**30, 30, 1, -128, 127)
    for field, bad in ((0, 128), (1, 2**31), (4, 0), (4, 2**31), (5, -129), (6, 128), (5, 5)):
        channel = list(good)
        channel[field] = bad
        if field == 5 and bad == 5:
            channel[6] = 4  # lo > hi
        with pytest.raises(TransformerParameterOutOfRange):
            h.layerNorm(row, tuple(channel), 0)
    with pytest.raises(TransformerLengthMismatch):
        h.gelu(row, bytes(255), 0)
    with pytest.raises(TransformerLengthMismatch):
        h.matmul(row, bytes(5), 2**30, 30, -128, 127)
    with pytest.raises(TransformerIndexOutOfRange):
        h.gelu(row, bytes(256), 9)


# --------------------------------------------------------------------------------------------
# gas of one element, as docs/arithmetic.md states it

GAS_SEED = 2026_12_07


def gas_cases() -> dict[str, tuple[str, tuple]]:
    """Seeded realistic rows: attention over 16 patches (+ CLS), LayerNorm and MatMul rows of width 32 and 64."""
    rng = np.random.default_rng(GAS_SEED)
    softmax = Softmax.for_scale(1 / 16)
    cases: dict[str, tuple[str, tuple]] = {}
    for n in (16, 17):
        cases[f"Softmax, row of {n}"] = ("measureSoftmax", (int8(rng, n).tobytes(), softmax.multiplier,
                                                              softmax.shift, 0))
    for n in (32, 64):
        op = random_layernorm(rng, n)
        cases[f"LayerNorm, row of {n}"] = ("measureLayerNorm", (int8(rng, n).tobytes(), layernorm_channel(op, 0), 0))
    gelu = Gelu.for_scales(1 / 16, 1 / 32)
    cases["GELU, any row"] = ("measureGelu", (int8(rng, 64).tobytes(), gelu.table.tobytes(), 0))
    for k in (17, 32, 64):
        op = random_matmul(rng, k)
        cases[f"MatMul, inner dimension {k}"] = ("measureMatmul", (int8(rng, k).tobytes(), int8(rng, k).tobytes(),
                                                                   op.multiplier, op.shift, op.lo, op.hi))
    return cases


def test_gas_of_one_element_is_the_doc(h, capsys):
    problems = []
    for label, (name, args) in gas_cases().items():
        _, gas = getattr(h, name)(*args)
        with capsys.disabled():
            print(f"\n{label}: {gas:,} gas", end="")
        figure = Figure("docs/arithmetic.md", rf"^\| {label} \| ([\d,]+) \|", f"gas of one element: {label}")
        problems.append(mismatch(figure, locate(figure), Measured(gas)))
    assert not any(problems), [p for p in problems if p]
