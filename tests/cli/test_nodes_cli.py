"""`vcp node` and `vcp mine` as a user runs them: a busy port is one line naming the port, the URL
printed is the node vcp started, a node that dies is reported, and mining checks the node can."""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from rpcstub import chain_stub

from vcp_toolkit.chain.nodes import LocalNode, free_port

VCP = Path(sys.executable).parent / "vcp"


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("VCP_")}


def _one_line_error(proc) -> str:
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def _vcp(*args) -> subprocess.CompletedProcess:
    return subprocess.run([str(VCP), *map(str, args)], capture_output=True, text=True, timeout=120, env=_env(),
                          stdin=subprocess.DEVNULL)


def _rpc(url: str, method: str, params: list | None = None):
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}
    return requests.post(url, json=body, timeout=5).json()["result"]


def _first_line(proc: subprocess.Popen, timeout_s: float = 60.0) -> str:
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    if not sel.select(timeout_s):
        proc.kill()
        pytest.fail(f"vcp node printed nothing in {timeout_s:.0f} s")
    return proc.stdout.readline()


def _start_node(*args: str, default_port: int | None = None) -> subprocess.Popen:
    """`vcp node ...` through the CLI's main; ``default_port`` replaces 8545 (which may be anyone's)."""
    code = ("import sys; import vcp_toolkit.cli.setup as s; from vcp_toolkit.cli import main; "
            "s.DEFAULT_NODE_PORT = int(sys.argv[1]) if sys.argv[1] != 'None' else s.DEFAULT_NODE_PORT; "
            "sys.exit(main(sys.argv[2:]))")
    return subprocess.Popen([sys.executable, "-c", code, str(default_port), "node", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env(), stdin=subprocess.DEVNULL)


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if entry.name.isdigit() and int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(entry.name))
    return out


@pytest.fixture
def busy_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        yield busy.getsockname()[1]


@pytest.mark.node
@pytest.mark.parametrize("kind", ["anvil", "ganache"])
def test_node_on_a_busy_port_is_one_line_naming_the_port(kind, busy_port):
    proc = _vcp("node", kind, "--port", busy_port)
    assert proc.returncode == 1
    line = _one_line_error(proc)
    assert f"port {busy_port}" in line and "--port" in line and "leave the port out" in line
    assert proc.stdout == ""  # nothing claims a node is running


@pytest.mark.node
def test_node_without_port_takes_a_free_one_when_the_default_is_busy(busy_port):
    proc = _start_node("anvil", "--block-time", "0.5", default_port=busy_port)
    try:
        line = _first_line(proc)
        assert line.startswith("anvil on http://127.0.0.1:") and "a block every 0.5 s" in line, line
        url = line.split()[2]
        port = int(url.rsplit(":", 1)[1])
        assert port != busy_port
        assert "anvil" in _rpc(url, "web3_clientVersion").lower()
        start = int(_rpc(url, "eth_blockNumber"), 16)
        deadline = time.monotonic() + 10
        while int(_rpc(url, "eth_blockNumber"), 16) < start + 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert int(_rpc(url, "eth_blockNumber"), 16) >= start + 2  # mines on its own
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        assert proc.wait(timeout=30) == 0
        with pytest.raises(requests.ConnectionError):
            _rpc(url, "eth_chainId")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.node
def test_node_that_dies_is_reported_not_silent():
    port = free_port()
    proc = _start_node("anvil", "--port", str(port))
    try:
        line = _first_line(proc)
        assert f"127.0.0.1:{port}" in line and "a block per transaction" in line
        (child,) = _children(proc.pid)
        os.kill(child, signal.SIGKILL)  # the node vcp started, by its pid
        assert proc.wait(timeout=30) == 1
        err = proc.stderr.read().strip().splitlines()
        assert len(err) == 1 and "Traceback" not in err[0], err
        assert f"port {port} stopped by itself" in err[0] and "vcp node anvil" in err[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.node
@pytest.mark.parametrize("kind", ["anvil", "ganache"])
def test_mine_advances_a_dev_node(kind):
    with LocalNode(kind) as node:
        start = node.w3.eth.block_number
        proc = _vcp("mine", "--blocks", 25, "--rpc-url", node.rpc_url)
        assert proc.returncode == 0, proc.stderr
        assert node.w3.eth.block_number == start + 25
        assert proc.stdout.strip() == f"mined 25 block(s) on {node.rpc_url}; now at block {start + 25:,}"


def test_mine_refuses_a_node_that_cannot():
    with chain_stub() as stub:
        proc = _vcp("mine", "--blocks", 3, "--rpc-url", stub.url)
    assert proc.returncode == 1
    line = _one_line_error(proc)
    assert "does not mine on demand" in line and stub.url in line


@pytest.mark.parametrize("blocks", ["0", "-5", "100001"])
def test_mine_refuses_a_bad_count(blocks):
    with chain_stub(anvil_mine=lambda params: None) as stub:
        proc = _vcp("mine", "--blocks", blocks, "--rpc-url", stub.url)
        assert "anvil_mine" not in stub.calls
    assert proc.returncode == 2
    assert f"--blocks {blocks}" in _one_line_error(proc)


def test_mine_on_nothing_listening():
    proc = _vcp("mine", "--rpc-url", f"http://127.0.0.1:{free_port()}")
    assert proc.returncode == 1
    assert "no Ethereum node answers" in _one_line_error(proc)


@pytest.mark.parametrize("args", [["--block-time", "0"], ["--block-time", "nan"], ["--block-time=-2"],
                                  ["--port", "0"], ["--port", "70000"], ["--host", "localhost"],
                                  ["--host", "127.0.0.256"], ["--host", "::1"], ["--host", "127.0.0.1\u200b"],
                                  ["--host", ""]])
def test_node_refuses_bad_options_in_one_line(args):
    proc = _vcp("node", "anvil", *args)
    assert proc.returncode == 2
    assert args[0].split("=")[0] in _one_line_error(proc) and proc.stdout == ""


def test_node_listens_on_another_loopback_address():
    """`vcp node --host 127.0.0.2`: the network demo's layout, one address per process."""
    port = free_port("127.0.0.2")
    proc = subprocess.Popen([sys.executable, "-m", "vcp_toolkit.cli", "node", "anvil", "--host", "127.0.0.2",
                             "--port", str(port)], env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        ready = selectors.DefaultSelector()
        ready.register(proc.stdout, selectors.EVENT_READ)
        assert ready.select(timeout=120), "vcp node printed nothing in 120 s"
        line = proc.stdout.readline()
        assert f"on http://127.0.0.2:{port} " in line
        assert int(_rpc(f"http://127.0.0.2:{port}", "eth_chainId"), 16) == 31337
        with pytest.raises(requests.ConnectionError):
            _rpc(f"http://127.0.0.1:{port}", "eth_chainId")  # not on the default address
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode == 0


def test_node_on_an_address_this_machine_does_not_have_says_so():
    proc = _vcp("node", "anvil", "--host", "192.0.2.1", "--port", "9999")  # TEST-NET-1: nobody's address
    assert proc.returncode != 0 and "Traceback" not in proc.stderr and proc.stdout == ""
    warning, error = proc.stderr.strip().splitlines()  # beyond loopback, a dev node is warned about first
    assert "reachable beyond this machine" in warning
    assert "192.0.2.1 is not an address of this machine" in error and "already in use" not in error
