"""Nodes that tell the truth: a busy port is an error naming the port, the node vcp talks to is the
one it started, a node mines on a block time when asked, and mining on demand checks it happened."""

from __future__ import annotations

import math
import socket
import time
from pathlib import Path

import pytest
from rpcstub import chain_stub

from vcp_toolkit.chain import nodes
from vcp_toolkit.chain.nodes import LocalNode, RpcChain, free_port, port_in_use
from vcp_toolkit.errors import ChainError, InvalidInput, NodeStartError

KINDS = ("anvil", "ganache")


def _processes_with_arg(port: int) -> list[int]:
    """Pids of live processes whose command line names ``port`` (the nodes a test started)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if str(port).encode() in args and state not in ("Z", "X"):
            pids.append(int(entry.name))
    return pids


def _wait_gone(port: int, timeout_s: float = 10.0) -> list[int]:
    deadline = time.monotonic() + timeout_s
    while _processes_with_arg(port) and time.monotonic() < deadline:
        time.sleep(0.05)
    return _processes_with_arg(port)


def test_port_in_use_sees_a_listener_and_not_a_free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        assert port_in_use(busy.getsockname()[1])
    assert not port_in_use(free_port())


@pytest.mark.node
@pytest.mark.parametrize("kind", KINDS)
def test_busy_port_is_an_error_naming_the_port(kind):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(NodeStartError, match=f"port {port} on 127.0.0.1 is already in use") as info:
            LocalNode(kind, port=port)
    assert "leave the port out" in str(info.value) and "\n" not in str(info.value)
    assert _processes_with_arg(port) == []  # refused before anything was started


@pytest.mark.node
@pytest.mark.parametrize("kind", KINDS)
def test_another_node_answering_on_the_port_is_not_taken_for_ours(kind, monkeypatch):
    """The port is taken between the check and the start (simulated: the check is told it is
    free) by a process that answers JSON-RPC: vcp must not talk to it as if it were its node."""
    monkeypatch.setattr(nodes, "port_in_use", lambda port, host="127.0.0.1": False)
    with chain_stub() as impostor:
        with pytest.raises(NodeStartError, match=f"port {impostor.port}") as info:
            LocalNode(kind, port=impostor.port)
        # Anvil fails to bind at once (busy port); Ganache takes seconds, and the impostor answers first.
        assert "already in use" in str(info.value) or "not from the" in str(info.value)
        assert _wait_gone(impostor.port) == [], "the node that was started is stopped"


@pytest.mark.node
@pytest.mark.parametrize("kind", KINDS)
def test_block_time_mines_without_transactions(kind):
    with LocalNode(kind, block_time=0.5) as node:
        start = node.w3.eth.block_number
        deadline = time.monotonic() + 10
        while node.w3.eth.block_number < start + 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert node.w3.eth.block_number >= start + 2
        assert node.process.poll() is None


@pytest.mark.node
def test_default_mines_only_on_transactions():
    with LocalNode("anvil") as node:
        start = node.w3.eth.block_number
        time.sleep(1.5)
        assert node.w3.eth.block_number == start
        node.mine(4)
        assert node.w3.eth.block_number == start + 4


@pytest.mark.parametrize("bad", [0, -1, math.nan, math.inf])
def test_bad_block_time_refused_before_starting(bad):
    with pytest.raises(InvalidInput, match="block time"):
        LocalNode("anvil", block_time=bad)


@pytest.mark.node
def test_ganache_mines_on_demand_with_a_count():
    with LocalNode("ganache") as node:
        start = node.w3.eth.block_number
        node.mine(3)
        assert node.w3.eth.block_number == start + 3


def test_mining_on_a_node_that_cannot_is_refused():
    with chain_stub() as stub:
        chain = RpcChain(stub.url)
        with pytest.raises(ChainError, match="does not mine on demand") as info:
            chain.mine(3)
        assert stub.url in str(info.value) and "\n" not in str(info.value)
        assert {"anvil_mine", "evm_mine"} <= set(stub.calls)


def test_mining_that_does_not_advance_is_refused():
    """A node that says yes to evm_mine but ignores the count (the block number stays put)."""
    with chain_stub(evm_mine=lambda params: "0x0") as stub:
        with pytest.raises(ChainError, match="mined 0 block"):
            RpcChain(stub.url).mine(3)


def test_mining_zero_blocks_is_refused():
    with chain_stub(anvil_mine=lambda params: None) as stub:
        with pytest.raises(InvalidInput):
            RpcChain(stub.url).mine(0)
        assert "anvil_mine" not in stub.calls


def test_missing_tool_hint_names_the_fix_that_works(monkeypatch, tmp_path):
    """`npm ci` fails on this lockfile (see the Makefile): the hint names `make npm` and VCP_NODE_MODULES."""
    monkeypatch.setenv("VCP_NODE_MODULES", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    from vcp_toolkit.errors import ToolMissing

    with pytest.raises(ToolMissing) as info:
        nodes.find_tool("no-such-tool-for-vcp")
    assert "make npm" in str(info.value) and "VCP_NODE_MODULES" in str(info.value)
    assert "npm ci" not in str(info.value)
