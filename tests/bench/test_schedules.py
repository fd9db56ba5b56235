"""The same transactions on every schedule: byte-identical on the embedded chain and Anvil, the
same gas on both for each schedule both run, and Prague's difference is the EIP-7623 floor."""

from __future__ import annotations

import pytest

from vcp_toolkit.bench.runner import model_for
from vcp_toolkit.bench.schedules import EMBEDDED_CHAIN_ID, ScheduleScript, measure_schedules
from vcp_toolkit.chain.nodes import EmbeddedChain, LocalNode

pytestmark = pytest.mark.chain

WIDTHS = (64, 16, 10)
WIDE = 1024  # a fraud proof whose calldata outweighs its execution on Prague


def _run(chain, batches: dict) -> list[dict]:
    script = ScheduleScript(chain, batches)
    script.run_model(WIDTHS, model_for(WIDTHS), (1, 16))
    script.dispute_width(WIDE)
    return script.rows


def _gas(rows: list[dict]) -> list[tuple]:
    return [(r["mode"], r["model"], r["batch"], tuple(t["gas"] for t in r["txs"])) for r in rows]


@pytest.mark.node
@pytest.mark.parametrize("schedule", ["shanghai", "prague"])
def test_embedded_and_anvil_agree_on_each_schedule(schedule):
    batches: dict = {}
    with EmbeddedChain(schedule) as embedded:
        here = _run(embedded, batches)
    with LocalNode("anvil", extra_args=("--chain-id", str(EMBEDDED_CHAIN_ID)), hardfork=schedule) as anvil:
        there = _run(anvil, batches)
    # the same calldata (the envelopes' fee caps follow each chain's base fee)
    assert [[t["calldata_keccak"] for t in r["txs"]] for r in here] == \
        [[t["calldata_keccak"] for t in r["txs"]] for r in there]
    assert _gas(here) == _gas(there)


def test_prague_is_shanghai_with_the_calldata_floor():
    batches: dict = {}
    with EmbeddedChain("shanghai") as chain:
        shanghai = _run(chain, batches)
    with EmbeddedChain("prague") as chain:
        prague = _run(chain, batches)
    floored = 0
    for old, new in zip(shanghai, prague):
        for a, b in zip(old["txs"], new["txs"]):
            assert a["calldata_keccak"] == b["calldata_keccak"]  # the same transaction
            floor = 21_000 + 10 * a["tokens"]  # EIP-7623, tokens = zero bytes + 4 * non-zero bytes
            assert b["gas"] == max(a["gas"], floor), (new["mode"], b["name"])
            floored += floor > a["gas"]
    wide = next(r for r in prague if r["mode"] == "dispute_by_width")["txs"][0]
    raw_calldata_tokens = wide["tokens"]
    assert wide["gas"] == 21_000 + 10 * raw_calldata_tokens  # the fraud proof pays the floor exactly
    assert floored >= 2  # the wide fraud proof and the inclusion check of the largest batch


def test_osaka_without_anvil_is_reported_not_measured():
    out = measure_schedules([(WIDTHS, model_for(WIDTHS))], (1,), ("embedded",), ("osaka",))
    assert out == {"osaka": {"chain": None, "rows": [], "why": "osaka needs Anvil (py-evm has no Osaka VM): "
                                                               "add anvil to --chains"}}


@pytest.mark.parametrize("args, says", [
    (["--chains", "ganache", "--hardfork", "prague"], "Ganache 7.9 runs nothing newer than Shanghai"),
    (["--chains", "embedded", "--hardfork", "osaka"], "py-evm 0.12 has no Osaka VM"),
    (["--schedules", "shanghai,paris"], "unknown hardfork 'paris'"),
    (["--fee-param", "eth_usd=-1"], "fee parameter eth_usd"),
    (["--fee-param", "gwei=1"], "fee parameter override 'gwei=1'"),
])
def test_bench_refuses_bad_settings_before_measuring(tmp_path, args, says):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "vcp_toolkit.cli", "bench", "--quick", "--out", str(tmp_path / "b"),
                           *args], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and says in lines[0], proc.stderr
    assert not (tmp_path / "b" / "bench.json").exists()
