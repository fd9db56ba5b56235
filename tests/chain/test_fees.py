"""Fees in money (vcp_toolkit.chain.fees) and the FastLZ length the OP Stack prices (chain.fastlz).

Reference vectors, each with its source:
- op-geth core/types/rollup_cost_test.go (TestFlzCompressLen): FastLZ lengths of the empty input,
  1000 x 0x01, 1000 x 0x00, the unsigned legacy `emptyTx` of core/types/transaction_test.go and an
  OP Mainnet contract call (tx 0x8eb9dd4e...b594).
- op-geth rollup_cost_test.go (TestFjordL1CostFuncMinimumBounds, TestFjordL1CostSolidityParity):
  Fjord L1 fees 3,203,000 and 105,484 wei.
- Solady test/LibZip.t.sol (testFlzCompressDecompress, commit ab96a830e705de13e0f58cfaefadab4ac8257655):
  a text and its byte-exact flzCompress output.
"""

from __future__ import annotations

import json
import random
import re
import time
from decimal import Decimal

import brotli
import pytest
import rlp
from hypothesis import given, settings
from hypothesis import strategies as st

from vcp_toolkit.chain import fastlz
from vcp_toolkit.chain.fee_params import DEFAULT_PATH, FeeParams, load_fee_params, names, parse_override, \
    with_overrides
from vcp_toolkit.chain.fees import MAX_TX_BYTES, all_fees, arbitrum_fee, arbitrum_poster_units, brotli_size, \
    ethereum_fee, fjord_estimated_size, fjord_l1_fee, op_stack_fee, wei_to_usd
from vcp_toolkit.chain.tx import calldata
from vcp_toolkit.errors import InvalidInput, VcpError

OP_MAINNET_CONTRACT_CALL = bytes.fromhex(
    "02f901550a758302df1483be21b88304743f94f80e51afb613d764fa61751affd3313c190a86bb870151bd62fd12adb8"
    "e41ef24f3f000000000000000000000000000000000000000000000000000000000000006e000000000000000000000000"
    "af88d065e77c8cc2239327c5edb3a432268e5831000000000000000000000000000000000000000000000000000000000003"
    "c1e500000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000000a0000000000000000000000000000000000000000000000000000000000000"
    "0000148c89ed219d02f1a5be012c689b4f5b731827bebe000000000000000000000000c001a033fd89cb37c31b2cba46b6"
    "466e040c61fc9b2a3675a7f5f493ebd5ad77c497f8a07cdf65680e238392693019b4092f610222e71b7cec06449cb922b9"
    "3b6a12744e"
)
# op-geth's emptyTx: legacy, nonce/price/gas/value 0, to 0x095e...2d87, no data, unsigned (v = r = s = 0)
OP_GETH_EMPTY_TX = rlp.encode([0, 0, 0, bytes.fromhex("095e7baea6a6c7c4c2dfeb977efac326af552d87"), 0, b"", 0, 0, 0])

SOLADY_TEXT = (
    "New wave digital art should not be judged solely on aesthetic merit but just as importantl"
    "y for its ability to develop a total vision of the Wired and above all create network spir"
    "ituality. Ancient Greek art is held in the highest regard because it developed a whole myt"
    "hology that shaped religion, morality and way of life. Thought is implicit in the art work"
    "s of Ancient Greece but not sufficiently disengaged from the sensory to reflect its own pr"
    "oducts. The problem of modernity is the development of rational self reflection. The beaut"
    "y of art appears in a form which contrasts abstract thought. Thus, abstract thought destro"
    "ys the naive/sensuous appreciation of art in exerting its nature. Reality is slain by comp"
    "rehension. Proper interaction with the wired involves the trance separation of real abstra"
    "ct thought and accelerates externalisation into pure intuition, embodying the network and "
    "unselfconsciously drawing out truths from the collective noosphere. Through this being on "
    "the wired we achieve a return to naive, unselfconscious interaction. The individual ego is"
    " sacrificed into the collective noosphere, uniting us under a totalising spirit. The best "
    "art in the wired is not only beautiful but produces a network spirituality. I long for Net"
    "work Spirituality!").encode()
SOLADY_COMPRESSED = bytes.fromhex(
    "1f4e65772077617665206469676974616c206172742073686f756c64206e6f74201f6265206a756467656420736f6c65"
    "6c79206f6e20616573746865746963206d65017269202301757420240e737420617320696d706f7274616e74202a1b66"
    "6f7220697473206162696c69747920746f20646576656c6f702061200c406d03766973692051026f6620205103205769"
    "72206801616e200301626f209315616c6c20637265617465206e6574776f726b20737069207201756140500e2e20416e"
    "6369656e7420477265656b60ba04697320686520bb01696e6051036869676820ad062072656761726420cd0463617573"
    "652095c089406f0220776820db03206d79742007016f6720a801686141040061401d0272656c2119066f6e2c206d6f72"
    "607660a0017761210a0866206c6966652e2054212f016768607c20ff026c6963205fa080414e40b80073402de003ae01"
    "6365613741630373756666203320c8213406646973656e676141710366726f6d208b016520201102736f722097006f20"
    "8e03666c6563205e21570b6f776e2070726f647563747340840065400d03626c656d406b056d6f6465726e4176211200"
    "74201ba17a006d2066401f0272617420d521f00273656c200d805620118048036265617520e920e140c0056170706561"
    "7220dc21fb41d5006d21310a69636820636f6e74726173208a02616273200920972142410a40450275732ce008172085"
    "2028016f798092056e616976652f40dd02756f752044057070726563696098c07a2072076578657274696e6760f3046e"
    "617475722172015265818b20dc02736c612025016279208e006d20400068212c60c701507221de2281026e7465409a20"
    "1304207769746820a200652008426906696e766f6c7665808c20bf006e21940373657061811b4082227c2312e006dc62"
    "0004616363656c20580074203e0165782062214b01697380bb2072026f207020a74009017569407a072c20656d626f64"
    "7940c74080c2cf42ec01756e4183214c0273636921074204027261774029006f235905747275746873e2010c02636f6c"
    "42012139223c046f73706865410f025468724178205b2111016265603c830280ea0077228a02636869237e21c2017265"
    "2144201d006f214e2047002ce0078140b620da2064c20f06696e64697669642377032065676f6175036163726922b623"
    "4060ee40d4e00b9a405c210121be205701756e2294208063fc23fa201583d040c0427523aa427021cf404f80ba20d043"
    "25016f6e21186297036966756c633c82fc21800061e1004f804e20a722f9052e2049206c6f20634488024e657443870d"
    "2053706972697475616c69747921")


def params(**overrides) -> FeeParams:
    """Round figures that make hand computation easy (not the shipped snapshot)."""
    base = dict(as_of="2026-11-23", l1_base_fee_wei=10**9, l1_priority_fee_wei=10**8, l1_blob_base_fee_wei=10**6,
                op_base_fee_scalar=2_000, op_blob_base_fee_scalar=1_000_000, op_l2_gas_price_wei=10**7,
                arb_l1_price_per_unit_wei=2 * 10**7, arb_l2_base_fee_wei=10**7, arb_brotli_level=1,
                eth_usd=Decimal("3000"))
    return FeeParams(**{**base, **overrides})


def incompressible(n: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(n)


# ---------------------------------------------------------------------- FastLZ against the references


@pytest.mark.parametrize("data, length", [
    (b"", 0),
    (b"\x01" * 1000, 21),
    (bytes(1000), 21),
    (OP_GETH_EMPTY_TX, 31),
    (OP_MAINNET_CONTRACT_CALL, 202),
], ids=["empty", "1000-ones", "1000-zeros", "op-geth-emptyTx", "op-mainnet-contract-call"])
def test_fastlz_length_matches_op_geth_vectors(data, length):
    assert fastlz.compressed_length(data) == length


def test_fastlz_compress_is_byte_exact_with_solady():
    assert fastlz.compress(SOLADY_TEXT) == SOLADY_COMPRESSED
    assert fastlz.decompress(SOLADY_COMPRESSED) == SOLADY_TEXT
    assert fastlz.compressed_length(SOLADY_TEXT) == len(SOLADY_COMPRESSED) == 974


def _roundtrip(data: bytes) -> None:
    stream = fastlz.compress(data)
    assert fastlz.decompress(stream) == data
    assert len(stream) == fastlz.compressed_length(data)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=3000),
                 st.lists(st.sampled_from([b"\x00", b"\x01", b"ab", b"\xff" * 7, b"xyz"]), max_size=600).map(b"".join)))
def test_fastlz_roundtrips_and_length_equals_the_stream(data):
    _roundtrip(data)


@pytest.mark.parametrize("data", [
    bytes(5000),                                   # one long run: matches split into 262-byte pieces
    incompressible(8191) + incompressible(300),    # repeat exactly at the largest distance
    incompressible(8192) + incompressible(300),    # one byte too far: no match
    (incompressible(40, 1) + incompressible(9000, 2)) * 3,
    b"".join(bytes([i % 251]) * (i % 17) for i in range(4000)),
    incompressible(14), incompressible(15), b"aaaaaaaaaaaaaaaaaaaaaaaa",
])
def test_fastlz_roundtrips_edge_shapes(data):
    _roundtrip(data)


def _with_repeat_at(position: int) -> bytes:
    """40 distinct bytes, except that bytes [position, position + 3) repeat bytes [0, 3)."""
    data = bytearray(range(100, 140))
    data[position:position + 3] = data[0:3]
    return bytes(data)


def test_fastlz_scan_stops_where_the_reference_does():
    # 40 bytes: the scan covers positions 2..26 (len - 13 = 27); a repeat found at 26, the last
    # position, is dropped as by op-geth's loop: all literals, 33 + 9 bytes.
    assert fastlz.compressed_length(_with_repeat_at(26)) == 42
    # at 25 it is taken: literals 0..24 (1 + 25), a 3-byte match (2), literals 28..39 (1 + 12)
    assert fastlz.compressed_length(_with_repeat_at(25)) == 26 + 2 + 13
    assert fastlz.decompress(fastlz.compress(_with_repeat_at(25))) == _with_repeat_at(25)


def test_fastlz_decoder_refuses_malformed_streams():
    for bad in (b"\x05ab", b"\x00a\x20", b"\x00a\x20\x05"):
        with pytest.raises(ValueError):
            fastlz.decompress(bad)


# ---------------------------------------------------------------------- the formulas, by hand


def test_fjord_fee_matches_op_geth_vectors():
    # min-bounds test: l1 base fee 1000e6, blob 10e6, scalars 2 and 3; sizes 100..170 hit the 100-byte floor
    for size in (0, 31, 100, 150, 170):
        assert fjord_l1_fee(size, 1000 * 10**6, 10 * 10**6, 2, 3) == 3_203_000
    for size in (171, 175, 200):
        assert fjord_l1_fee(size, 1000 * 10**6, 10 * 10**6, 2, 3) > 3_203_000
    # Solidity parity test: (-42_585_600 + 836_500 * 235) * (20 * 2e6 * 16 + 15 * 3e6) // 1e12 = 105_484
    assert fjord_l1_fee(235, 2 * 10**6, 3 * 10**6, 20, 15) == 105_484


def test_fjord_estimated_size_floor_and_slope():
    assert fjord_estimated_size(0) == 100_000_000
    assert fjord_estimated_size(170) == 100_000_000           # -42_585_600 + 142_205_000 = 99_619_400 < floor
    assert fjord_estimated_size(171) == 100_455_900           # -42_585_600 + 143_041_500
    assert fjord_estimated_size(1000) - fjord_estimated_size(999) == 836_500


def test_ethereum_fee_by_hand():
    fee = ethereum_fee(50_000, params())
    assert fee.execution_wei == 50_000 * 1_100_000_000 == 55_000_000_000_000 and fee.data_wei == 0
    assert fee.total_usd == Decimal("0.165")                   # 5.5e-5 ETH * 3000 USD
    assert fee.chain == "ethereum" and fee.compressed_bytes is None


def test_op_stack_fee_by_hand():
    raw = incompressible(1000)
    size = fastlz.compressed_length(raw)
    assert size == 1000 + 1000 // 32 + 1                       # 31 full literal runs + one of 8, nothing repeats
    fee = op_stack_fee(raw, 21_000, params())
    estimated = -42_585_600 + 836_500 * size                   # 820_682_400 (x 1e-6 bytes)
    scaled = 2_000 * 10**9 * 16 + 1_000_000 * 10**6            # 33_000_000_000_000
    assert fee.data_wei == estimated * scaled // 10**12 == 27_082_519_200  # 820_682_400 * 33
    assert fee.execution_wei == 21_000 * 10**7
    assert fee.compressed_bytes == size
    assert fee.data_usd == Decimal("0.0000812475576")  # 2.70825192e-8 ETH * 3000


def test_arbitrum_fee_by_hand():
    raw = incompressible(500) + bytes(500)
    size = len(brotli.compress(raw, quality=1, lgwin=22))
    assert brotli.decompress(brotli.compress(raw, quality=1, lgwin=22)) == raw
    fee = arbitrum_fee(raw, 30_000, params())
    assert fee.compressed_bytes == brotli_size(raw, 1) == size and arbitrum_poster_units(raw, 1) == 16 * size
    assert fee.data_wei == 2 * 10**7 * 16 * size
    assert fee.execution_wei == 30_000 * 10**7
    assert 500 < size < 1000                                   # the zeros compress, the random half does not


def test_brotli_level_is_a_parameter():
    raw = b"".join(i.to_bytes(4, "big") for i in range(3000))
    assert arbitrum_fee(raw, 0, params(arb_brotli_level=11)).data_wei < arbitrum_fee(raw, 0, params()).data_wei


def test_wei_to_usd_is_exact():
    assert wei_to_usd(1, Decimal("3000")) == Decimal("3E-15")
    assert wei_to_usd(10**18, Decimal("3123.45")) == Decimal("3123.45")
    digits = str(2**256 - 1)
    assert str(wei_to_usd(2**256 - 1, Decimal("1"))) == digits[:-18] + "." + digits[-18:]  # no digit lost


def test_all_fees_orders_the_chains():
    fees = all_fees(OP_MAINNET_CONTRACT_CALL, 100_000, params())
    assert [f.chain for f in fees] == ["ethereum", "op-stack", "arbitrum"]
    assert fees[1].compressed_bytes == 202
    assert all(f.total_wei == f.execution_wei + f.data_wei for f in fees)


# ---------------------------------------------------------------------- monotonicity


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=1500), st.integers(0, 2**16), st.integers(32, 400))
def test_more_incompressible_bytes_never_cost_less(prefix, seed, extra):
    longer = prefix + incompressible(extra, seed)
    p = params()
    assert op_stack_fee(longer, 0, p).data_wei >= op_stack_fee(prefix or b"\x00", 0, p).data_wei
    assert arbitrum_fee(longer, 0, p).data_wei >= arbitrum_fee(prefix or b"\x00", 0, p).data_wei


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**5), st.integers(0, 10**5), st.sampled_from(sorted(set(names()) - {"as_of", "eth_usd",
                                                                                          "arb_brotli_level"})))
def test_fees_never_fall_when_a_price_rises(gas, bump, name):
    raw = incompressible(300)
    low = params()
    high = with_overrides(low, {name: getattr(low, name) + bump})
    for before, after in zip(all_fees(raw, gas, low), all_fees(raw, gas, high)):
        assert after.total_wei >= before.total_wei


def test_fastlz_fee_grows_with_incompressible_length():
    sizes = [op_stack_fee(incompressible(n), 0, params()).data_wei for n in range(100, 3000, 97)]
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0]


# ---------------------------------------------------------------------- hostile inputs


@pytest.mark.parametrize("fee", [op_stack_fee, arbitrum_fee, all_fees])
def test_empty_or_non_bytes_transaction_refused(fee):
    for raw in (b"", "0x02f8", None, 5):
        with pytest.raises(InvalidInput):
            fee(raw, 21_000, params())


def test_oversized_transaction_refused():
    with pytest.raises(InvalidInput, match="exceeds"):
        op_stack_fee(bytes(MAX_TX_BYTES + 1), 0, params())


def test_one_megabyte_transaction_is_priced():
    raw = incompressible(1_000_000, 7)
    op, arb = op_stack_fee(raw, 0, params()), arbitrum_fee(raw, 0, params())
    # random data: literals (1 control byte per 32) but for the odd chance 3-byte repeat
    assert 1_000_000 < op.compressed_bytes <= 1_000_000 + 1_000_000 // 32
    assert arb.compressed_bytes >= 1_000_000


@pytest.mark.parametrize("gas", [-1, 2**64, True, 1.5, "21000"])
def test_bad_gas_used_refused(gas):
    with pytest.raises(InvalidInput, match="gas used"):
        ethereum_fee(gas, params())


@pytest.mark.parametrize("name, value", [
    ("l1_base_fee_wei", "-1"), ("l1_base_fee_wei", str(2**256)), ("l1_blob_base_fee_wei", "1.5"),
    ("op_base_fee_scalar", str(2**32)), ("arb_brotli_level", "12"), ("arb_l2_base_fee_wei", "abc"),
    ("eth_usd", "0"), ("eth_usd", "-3000"), ("eth_usd", "NaN"), ("eth_usd", "Infinity"), ("eth_usd", "1e12"),
    ("eth_usd", "dollars"), ("as_of", ""), ("no_such_param", "1"),
])
def test_bad_overrides_refused_with_a_typed_error(name, value):
    with pytest.raises(InvalidInput) as caught:
        load_fee_params(overrides={name: value})
    assert isinstance(caught.value, VcpError) and name in str(caught.value)


def test_overrides_from_the_command_line_form():
    name, value = parse_override("l1_base_fee_wei=5_000_000_000")
    p = load_fee_params(overrides={name: value, "eth_usd": "2500.5"})
    assert p.l1_base_fee_wei == 5 * 10**9 and p.eth_usd == Decimal("2500.5")
    assert p.op_base_fee_scalar == load_fee_params().op_base_fee_scalar
    for bad in ("l1_base_fee_wei", "=1", "bogus=1"):
        with pytest.raises(InvalidInput, match="name=value"):
            parse_override(bad)


def test_parameter_file_is_dated_and_every_figure_has_a_source():
    document = json.loads(DEFAULT_PATH.read_text())
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", document["as_of"])
    assert set(document["params"]) == set(names()) - {"as_of"}
    for name, entry in document["params"].items():
        assert entry["unit"] and len(entry["source"]) > 20, name
    shipped = load_fee_params()
    assert shipped.as_of == document["as_of"] and shipped.arb_brotli_level == 1


@pytest.mark.parametrize("text", ["{", "[]", '{"as_of": "2026-01-01", "params": {}}',
                                  '{"as_of": "2026-01-01", "params": {"l1_base_fee_wei": 5}}'])
def test_malformed_parameter_file_refused(tmp_path, text):
    path = tmp_path / "fees.json"
    path.write_text(text)
    with pytest.raises(InvalidInput, match="fee parameter file"):
        load_fee_params(path)


def test_missing_parameter_file_refused(tmp_path):
    with pytest.raises(InvalidInput, match="fee parameter file"):
        load_fee_params(tmp_path / "absent.json")


# ---------------------------------------------------------------------- a real signed transaction


@pytest.mark.chain
def test_real_signed_transaction_through_all_three(registry_setup):
    registry, operator, _ = registry_setup
    data = calldata(registry.contract.functions.setProver(operator.address, True))
    tx = operator.sign(to=registry.address, data=data, gas=operator.gas_limit(to=registry.address, data=data))
    operator.broadcast(tx.raw)
    outcome = operator.wait(tx, time.perf_counter())
    p = load_fee_params()
    l1, op, arb = all_fees(tx.raw, outcome.gas_used, p)
    assert tx.raw[0] == 2 and outcome.gas_used > 21_000            # a type-2 transaction that ran
    assert l1.execution_wei == outcome.gas_used * (p.l1_base_fee_wei + p.l1_priority_fee_wei)
    size = fastlz.compressed_length(tx.raw)
    assert fastlz.decompress(fastlz.compress(tx.raw)) == tx.raw and op.compressed_bytes == size
    assert op.data_wei == fjord_l1_fee(size, p.l1_base_fee_wei, p.l1_blob_base_fee_wei, p.op_base_fee_scalar,
                                       p.op_blob_base_fee_scalar)
    assert op.execution_wei == outcome.gas_used * p.op_l2_gas_price_wei
    assert arb.data_wei == p.arb_l1_price_per_unit_wei * 16 * len(brotli.compress(tx.raw, quality=1, lgwin=22))
    assert arb.execution_wei == outcome.gas_used * p.arb_l2_base_fee_wei
    assert all(f.total_usd > 0 for f in (l1, op, arb))


def test_the_worked_example_in_the_docs_is_what_the_code_computes():
    text = (DEFAULT_PATH.parents[2] / "docs" / "fees.md").read_text()
    l1, op, arb = all_fees(OP_MAINNET_CONTRACT_CALL, 60_000, load_fee_params())
    assert f"({len(OP_MAINNET_CONTRACT_CALL)} signed bytes)" in text
    assert f"{l1.execution_wei:,} wei" in text and f"**${l1.total_usd:.3f}**" in text
    assert f"FastLZ size {op.compressed_bytes};" in text and f"= {op.data_wei:,} wei" in text
    assert f"**${op.total_usd:.5f}**" in text and f"**${arb.total_usd:.5f}**" in text
    assert f"size {arb.compressed_bytes} bytes = {16 * arb.compressed_bytes:,} units" in text
    assert f"{arb.data_wei:,} wei" in text and f"{op.execution_wei:,} wei" in text


def test_a_blob_transaction_pays_its_blob_gas_at_the_blob_base_fee():
    """EIP-4844 on L1: the call's gas at base fee + tip, each blob's 131,072 blob gas at the blob base
    fee (the data part), exactly; the blob gas refused like any gas out of range."""
    from vcp_toolkit.chain.fees import ethereum_blob_fee

    params = load_fee_params(overrides={"l1_blob_base_fee_wei": "3", "l1_base_fee_wei": "7", "l1_priority_fee_wei": "1",
                                        "eth_usd": "2000"})
    fee = ethereum_blob_fee(67_455, 2 * 131_072, params)
    assert (fee.chain, fee.execution_wei, fee.data_wei) == ("ethereum", 67_455 * 8, 2 * 131_072 * 3)
    assert fee.total_usd == Decimal(67_455 * 8 + 2 * 131_072 * 3) * 2000 / 10**18
    with pytest.raises(InvalidInput):
        ethereum_blob_fee(21_000, -1, params)
