"""The fee schedule as a setting: the value type, which chain runs which schedule, the EIP-7623
calldata floor and the EIP-7825 gas cap as the nodes apply them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vcp_toolkit.chain.gas import calldata_floor, calldata_tokens, with_floor, with_margin
from vcp_toolkit.chain.hardfork import COMPILED_FOR, OSAKA_TX_GAS_CAP, SCHEDULES, Hardfork, default_hardfork, \
    hardfork_for
from vcp_toolkit.chain.nodes import EmbeddedChain, LocalNode, open_chain
from vcp_toolkit.chain.tx import Sender
from vcp_toolkit.contracts import EVM_VERSION
from vcp_toolkit.errors import ChainError, InvalidInput

# 100 zero bytes and 200 non-zero ones: tokens = 100 + 4 * 200 = 900
HEAVY = bytes(100) + b"\x01" * 200
SHANGHAI_TRANSFER = 21_000 + 4 * 100 + 16 * 200  # EIP-2028: 24,600
PRAGUE_TRANSFER = 21_000 + 10 * 900  # EIP-7623 floor: 30,000


def test_schedules_in_order_and_their_rules():
    assert [Hardfork(n).rank for n in SCHEDULES] == [0, 1, 2, 3]
    assert [Hardfork(n).calldata_floor for n in SCHEDULES] == [False, False, True, True]
    assert [Hardfork(n).tx_gas_cap for n in SCHEDULES] == [None, None, None, 2**24]
    assert OSAKA_TX_GAS_CAP == 16_777_216
    assert Hardfork("osaka").at_least("prague") and not Hardfork("cancun").at_least("prague")
    assert str(Hardfork("cancun")) == "cancun" and Hardfork("prague") == Hardfork("prague")
    assert COMPILED_FOR == Hardfork(EVM_VERSION) == Hardfork("shanghai")  # one artifact set, the oldest schedule


@pytest.mark.parametrize("name", ["", "paris", "london", "Prague ", "prague\u200b", "ｐｒａｇｕｅ", "osaka\x00",
                                  "shanghai" * 1000, "p" * 10**5])
def test_unknown_names_refused(name):
    with pytest.raises(InvalidInput, match="unknown hardfork"):
        Hardfork(name)


def test_value_type_is_frozen():
    fork = Hardfork("prague")
    with pytest.raises(AttributeError):
        fork.name = "osaka"  # type: ignore[misc]


def test_defaults_are_the_newest_each_chain_runs():
    assert {k: default_hardfork(k).name for k in ("embedded", "anvil", "ganache")} == \
        {"embedded": "prague", "anvil": "osaka", "ganache": "shanghai"}
    assert hardfork_for("anvil", None) == Hardfork("osaka")
    assert hardfork_for("embedded", " Cancun ") == Hardfork("cancun")  # as typed on a command line


@pytest.mark.parametrize("kind, name, why", [
    ("embedded", "osaka", "py-evm 0.12 has no Osaka VM"),
    ("ganache", "prague", "Ganache 7.9 runs nothing newer than Shanghai"),
    ("ganache", "cancun", "Ganache 7.9"),
])
def test_a_schedule_the_chain_cannot_run_is_one_line_naming_the_fix(kind, name, why):
    with pytest.raises(InvalidInput) as info:
        hardfork_for(kind, name)
    text = str(info.value)
    assert why in text and "--chain anvil" in text and "\n" not in text


def test_unknown_chain_kind_refused():
    with pytest.raises(InvalidInput, match="no chain 'hardhat'"):
        default_hardfork("hardhat")


def test_a_node_given_by_url_keeps_its_own_schedule():
    with pytest.raises(InvalidInput, match="runs its own schedule"):
        open_chain("embedded", "http://127.0.0.1:1", hardfork="prague")


def test_calldata_tokens_and_floor_by_hand():
    assert calldata_tokens(b"") == 0 and calldata_floor(b"") == 21_000
    assert calldata_tokens(HEAVY) == 900 and calldata_floor(HEAVY) == PRAGUE_TRANSFER
    assert with_floor(SHANGHAI_TRANSFER, HEAVY) == 30_000 and with_floor(40_000, HEAVY) == 40_000


def test_margin_never_passes_the_cap():
    assert with_margin(1_000_000) == 1_200_000
    assert with_margin(1_000_000, OSAKA_TX_GAS_CAP) == 1_200_000
    assert with_margin(15_000_000, OSAKA_TX_GAS_CAP) == OSAKA_TX_GAS_CAP
    assert with_margin(20_000_000, OSAKA_TX_GAS_CAP) == 20_000_000  # over the cap already: the node refuses it


def _transfer_gas(chain) -> int:
    sender = Sender(chain)
    sender.ensure_funded()
    return sender.transact(to=Sender(chain).address, data=HEAVY).gas_used


@pytest.mark.chain
@pytest.mark.parametrize("name, expected", [("shanghai", SHANGHAI_TRANSFER), ("cancun", SHANGHAI_TRANSFER),
                                            ("prague", PRAGUE_TRANSFER)])
def test_calldata_floor_on_the_embedded_chain(name, expected):
    with EmbeddedChain(name) as chain:
        assert chain.hardfork == Hardfork(name)
        assert _transfer_gas(chain) == expected


@pytest.mark.chain
@pytest.mark.node
@pytest.mark.parametrize("name, expected", [("shanghai", SHANGHAI_TRANSFER), ("prague", PRAGUE_TRANSFER),
                                            ("osaka", PRAGUE_TRANSFER)])
def test_calldata_floor_on_anvil(name, expected):
    with LocalNode("anvil", hardfork=name) as chain:
        assert chain.hardfork == Hardfork(name)
        assert _transfer_gas(chain) == expected


def _send_with_gas(chain, gas: int) -> None:
    sender = Sender(chain)
    sender.ensure_funded()
    tx = sender.sign(to=Sender(chain).address, data=b"", gas=gas)
    sender.broadcast(tx.raw)
    sender.wait(tx, 0.0)


@pytest.mark.chain
@pytest.mark.node
def test_osaka_on_anvil_refuses_a_transaction_over_the_cap():
    with LocalNode("anvil", hardfork="osaka") as osaka:
        _send_with_gas(osaka, OSAKA_TX_GAS_CAP)
        with pytest.raises(ChainError):
            _send_with_gas(osaka, OSAKA_TX_GAS_CAP + 1)
    with LocalNode("anvil", hardfork="prague") as prague:
        _send_with_gas(prague, OSAKA_TX_GAS_CAP + 1)  # no cap before Osaka


@pytest.mark.chain
@pytest.mark.node
def test_ganache_runs_shanghai():
    with LocalNode("ganache") as chain:
        assert chain.hardfork == Hardfork("shanghai")
        assert _transfer_gas(chain) == SHANGHAI_TRANSFER


def test_cli_refuses_a_schedule_the_chain_cannot_run(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "vcp_toolkit.cli", "demo", "--chain", "embedded", "--hardfork",
                           "osaka", "--out", str(tmp_path)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "py-evm 0.12 has no Osaka VM" in lines[0] and "Traceback" not in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "vcp_toolkit.cli", "node", "anvil", "--hardfork", "paris"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2 and "--hardfork" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
