"""Dollars per verified inference (vcp_toolkit.bench.money) against hand-computed cases, and the
report tables across schedules (vcp_toolkit.bench.schedule_tables) on fixed rows."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import brotli
import pytest

from vcp_toolkit.bench.money import PricedTx, bench_fee_params, cost_records, cost_table, params_record, price
from vcp_toolkit.bench.schedule_tables import explain_osaka, explain_prague, schedule_table
from vcp_toolkit.chain.fee_params import FeeParams
from vcp_toolkit.errors import InvalidInput

# Round prices so every figure below is done by hand.
PARAMS = FeeParams(as_of="2026-01-01", l1_base_fee_wei=10**9, l1_priority_fee_wei=0, l1_blob_base_fee_wei=0,
                   op_base_fee_scalar=1_000_000, op_blob_base_fee_scalar=0, op_l2_gas_price_wei=10**7,
                   arb_l1_price_per_unit_wei=10**8, arb_l2_base_fee_wei=10**7, arb_brotli_level=1,
                   eth_usd=Decimal(2000))
RAW = b"\x01" * 1000  # FastLZ length 21 (op-geth TestFlzCompressLen)
BROTLI = len(brotli.compress(RAW, quality=1, lgwin=22))


def usd(wei: int) -> Decimal:
    return Decimal(wei) * 2000 / 10**18


def expected(gas: int) -> dict[str, Decimal]:
    """One transaction of RAW using ``gas``, by hand:
    - Ethereum: gas * 1 gwei.
    - OP Stack: gas * 0.01 gwei + max(100e6, -42,585,600 + 836,500 * 21) * (16 * 1e6 * 1e9) // 1e12
      = gas * 1e7 + 1e8 * 1.6e16 / 1e12 = gas * 1e7 + 1.6e12 wei (the 100-byte floor binds).
    - Arbitrum: gas * 0.01 gwei + 1e8 wei * 16 units * brotli bytes."""
    return {"ethereum": usd(gas * 10**9), "op-stack": usd(gas * 10**7 + 1_600_000_000_000),
            "arbitrum": usd(gas * 10**7 + 10**8 * 16 * BROTLI)}


def test_one_transaction_by_hand():
    cost = price("signed_single", "m", 1, "osaka", [PricedTx("submit", 50_000, RAW)], PARAMS)
    assert cost.usd == expected(50_000)
    assert cost.usd["ethereum"] == Decimal("0.1")  # 50,000 gas at 1 gwei, $2,000/ETH
    assert cost.usd["op-stack"] == Decimal("0.0042")  # (5e11 + 1.6e12) wei
    assert cost.data_usd == {"ethereum": 0, "op-stack": usd(1_600_000_000_000), "arbitrum": usd(10**8 * 16 * BROTLI)}
    assert cost.gas == 50_000 and cost.raw_bytes == 1000


def test_a_batch_divides_by_its_inferences():
    one = price("signed_batched", "m", 1, "osaka", [PricedTx("submit batch", 60_000, RAW)], PARAMS)
    four = price("signed_batched", "m", 4, "osaka", [PricedTx("submit batch", 60_000, RAW)], PARAMS)
    assert four.usd == {c: v / 4 for c, v in one.usd.items()}
    assert four.usd["ethereum"] == Decimal("0.03")  # 60,000 * 1e9 wei * 2000 / 1e18 / 4


def _rows() -> dict:
    tx = lambda name, gas: {"name": name, "gas": gas, "tokens": 4_000, "raw": "0x" + RAW.hex()}  # noqa: E731
    happy = {"mode": "optimistic_happy", "model": "m", "batch": 1, "gas": 300_000,
             "txs": [tx("open job", 100_000), tx("submit result", 120_000), tx("finalize", 80_000)]}
    dispute = {"mode": "optimistic_dispute", "model": "m", "batch": 1, "gas": 150_000,
               "txs": [tx("fraud proof", 150_000)]}
    batched = {"mode": "signed_batched", "model": "m", "batch": 1024, "gas": 59_000, "txs": [tx("submit batch", 59_000)]}
    return {"schedules": {"shanghai": {"chain": "embedded", "rows": [happy, dispute, batched]},
                          "osaka": {"chain": None, "rows": [], "why": "needs anvil"}},
            "rows": [{"mode": "zk", "model": "z", "hardfork": "osaka", "gas_per_tx": 400_000, "raw": "0x" + RAW.hex()}]}


def test_table_composes_each_mode_from_its_transactions():
    table = {c.mode: c for c in cost_table(_rows(), PARAMS)}
    assert set(table) == {"optimistic_happy", "optimistic_dispute", "signed_batched", "zk"}
    assert table["optimistic_happy"].gas == 300_000
    # a dispute settles with open + submit + the fraud proof; no finalize
    assert table["optimistic_dispute"].gas == 100_000 + 120_000 + 150_000
    assert table["optimistic_dispute"].usd["ethereum"] == usd(370_000 * 10**9) == Decimal("0.74")
    assert table["optimistic_dispute"].usd["op-stack"] == usd(370_000 * 10**7 + 3 * 1_600_000_000_000)
    assert table["signed_batched"].usd["ethereum"] == usd(59_000 * 10**9) / 1024
    assert table["zk"].usd == expected(400_000) and table["zk"].schedule == "osaka"
    assert table["signed_batched"].schedule == "shanghai"  # the newest schedule that has rows
    record = cost_records([table["zk"]])[0]
    assert Decimal(record["usd_ethereum"]) == Decimal("0.8") and record["mode"] == "zk"


def test_fee_params_recorded_then_overridden():
    result = {"fee_params": params_record(PARAMS)}
    assert bench_fee_params(result) == PARAMS
    assert bench_fee_params(result, {"eth_usd": "2500"}).eth_usd == Decimal(2500)
    with pytest.raises(InvalidInput):
        bench_fee_params(result, {"gas_price": "1"})
    with pytest.raises(InvalidInput):
        bench_fee_params(result, {"l1_base_fee_wei": "-1"})


@pytest.mark.parametrize("bad", [{"name": "x", "gas": 1, "raw": "0xzz"}, {"name": "x", "gas": "1", "raw": "0x01"},
                                 {"name": "x", "gas": True, "raw": "0x01"}, {"name": "x", "gas": 1},
                                 {"name": "x", "gas": 1, "raw": None}, {"name": "x", "gas": 1, "raw": "0x"},
                                 {"name": "x", "gas": -1, "raw": "0x01"}, {"name": "x", "gas": 2**70, "raw": "0x01"}])
def test_malformed_transaction_records_are_refused(bad):
    result = {"schedules": {"prague": {"chain": "embedded", "rows": [
        {"mode": "signed_single", "model": "m", "batch": 1, "gas": 1, "txs": [bad]}]}}}
    with pytest.raises(InvalidInput):
        cost_table(result, PARAMS)


def test_no_transactions_or_no_inferences_refused():
    with pytest.raises(InvalidInput):
        price("signed_single", "m", 1, "osaka", [], PARAMS)
    with pytest.raises(InvalidInput):
        price("signed_batched", "m", 0, "osaka", [PricedTx("t", 1, RAW)], PARAMS)


def _sched_row(gas: list[int], tokens: list[int], mode: str = "dispute_by_width") -> dict:
    return {"mode": mode, "model": "w", "batch": 1, "gas": sum(gas),
            "txs": [{"name": f"t{i}", "gas": g, "tokens": t} for i, (g, t) in enumerate(zip(gas, tokens))]}


def test_prague_differences_are_explained_only_by_the_floor():
    shanghai = _sched_row([137_536, 50_000], [13_567, 100])
    floor = 21_000 + 10 * 13_567  # 156,670
    prague = _sched_row([floor, 50_000], [13_567, 100])
    assert explain_prague(shanghai, prague) == "t0: EIP-7623 floor 21,000 + 10 x 13,567 tokens = 156,670"
    assert explain_prague(shanghai, shanghai).endswith("unexplained")  # the floor must have applied
    assert "unexplained" in explain_prague(shanghai, _sched_row([floor + 1, 50_000], [13_567, 100]))
    same = _sched_row([200_000], [1_000])
    assert explain_prague(same, same) == ""


def test_osaka_differences_name_the_cap_or_modexp():
    assert explain_osaka(_sched_row([2**24 + 1], [1]), None).endswith("refused")
    assert explain_osaka(_sched_row([2**24], [1]), _sched_row([2**24], [1])) == ""
    assert "EIP-7883" in explain_osaka(_sched_row([500_000], [1], "zk"), _sched_row([520_000], [1], "zk"))
    assert "unexplained" in explain_osaka(_sched_row([500_000], [1]), _sched_row([520_000], [1]))


def test_schedule_table_side_by_side():
    floor = 21_000 + 10 * 13_567
    result = {"schedules": {"shanghai": {"chain": "embedded", "rows": [_sched_row([137_536], [13_567])]},
                            "prague": {"chain": "embedded", "rows": [_sched_row([floor], [13_567])]},
                            "osaka": {"chain": "anvil", "rows": [_sched_row([floor], [13_567])]}}}
    headers, rows = schedule_table(result)
    assert headers[3:6] == ["gas, shanghai (embedded)", "gas, prague (embedded)", "gas, osaka (anvil)"]
    assert rows == [["fraud proof by width", "w", 1, 137_536, floor, floor,
                     "t0: EIP-7623 floor 21,000 + 10 x 13,567 tokens = 156,670"]]
    assert schedule_table({"schedules": {}}) == (headers[:3] + ["why they differ"], [])


def _cli(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vcp_toolkit.cli", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def test_report_fee_param_from_the_command_line(tmp_path):
    full = json.loads((Path(__file__).parent / "fixtures" / "bench_full.json").read_text())  # a real run's frame
    bench = {**full, "schedules": _rows()["schedules"], "fee_params": params_record(PARAMS)}
    (tmp_path / "bench.json").write_text(json.dumps(bench))
    proc = _cli("report", "--bench", str(tmp_path), "--markdown", "--fee-param", "eth_usd=4000", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    # the dispute at $4,000/ETH: 370,000 gas * 1 gwei = 0.00037 ETH
    assert "| optimistic, dispute | m | 1 | shanghai | 370,000 | 3,000 | 1.48 |" in proc.stdout
    for bad in ("eth_usd=abc", "nope=1", "eth_usd", "l1_base_fee_wei=1e9", "arb_brotli_level=12",
                "eth_usd=NaN", "l1_base_fee_wei=" + "9" * 100):
        proc = _cli("report", "--bench", str(tmp_path), "--markdown", "--fee-param", bad, cwd=tmp_path)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and "fee parameter" in lines[0], (bad, proc.stderr)
