"""The chains vcp talks to: in-process py-evm, Anvil or Ganache started from the project's npm
install, or any node by RPC URL. A chain vcp starts runs the schedule it is given
(vcp.chain.hardfork), by default the newest it supports; the same transactions then use the same
gas on every chain running the same schedule."""

from __future__ import annotations

import atexit
import ctypes
import errno
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests
from web3 import Web3
from web3.providers import HTTPProvider

from vcp_toolkit.errors import ChainError, InvalidInput, NodeStartError, ToolMissing

from vcp_toolkit.chain.hardfork import Hardfork, hardfork_for
# The schedule the contracts are compiled for, named once in contracts/evm.json (compile scripts read it too).
from vcp_toolkit.contracts import EVM_VERSION as HARDFORK
CHAIN_KINDS = ("embedded", "anvil", "ganache")
START_TIMEOUT_S = 60.0
DEV_FUNDING_WEI = 10 * 10**18  # dev accounts hold 1,000 (Ganache) or 10,000 ETH each


def find_tool(tool: str) -> Path:
    """``node_modules/.bin/<tool>`` from $VCP_NODE_MODULES, the working directory or the source tree."""
    roots = []
    if os.environ.get("VCP_NODE_MODULES"):
        roots.append(Path(os.environ["VCP_NODE_MODULES"]))
    for start in (Path.cwd(), Path(__file__).resolve()):
        roots.extend(parent / "node_modules" for parent in [start, *start.parents])
    for root in roots:
        candidate = root / ".bin" / tool
        if candidate.exists():
            # Prefer the native binary an npm wrapper would start: one process to stop, and its
            # own exit code (the @foundry-rs wrapper exits 0 whatever anvil did).
            native = sorted((root / "@foundry-rs").glob(f"{tool}-*/bin/{tool}"))
            return native[0] if native and os.access(native[0], os.X_OK) else candidate
    # Not `npm ci`: it refuses the lockfile (npm 11 records one platform's anvil); `make npm` runs npm install.
    if shutil.which("node") is None:
        raise ToolMissing(f"{tool} needs Node.js 20: install it, then run `make npm` in the project "
                          "(or set VCP_NODE_MODULES to a node_modules folder that has it)")
    raise ToolMissing(f"{tool} not found in node_modules: run `make npm` in the project (npm install from "
                      "package-lock.json), or set VCP_NODE_MODULES to a node_modules folder that has it")


LOOPBACK = "127.0.0.1"


def _not_here(host: str) -> NodeStartError:
    return NodeStartError(f"{host} is not an address of this machine: pick one it has (127.0.0.1; on Linux any "
                          f"127.x.y.z; on macOS add one with `sudo ifconfig lo0 alias {host} up`)")


def free_port(host: str = LOOPBACK) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, 0))
        except OSError as exc:
            if exc.errno == errno.EADDRNOTAVAIL:
                raise _not_here(host) from None
            raise
        return sock.getsockname()[1]


def port_in_use(port: int, host: str = LOOPBACK) -> bool:
    """Whether something listens on ``host``:``port`` (or on every address at that port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR: a port left in TIME_WAIT by a node that just stopped is free to listen on.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRNOTAVAIL:
                raise _not_here(host) from None
            return True
    return False


def port_busy_error(port: int, host: str = LOOPBACK) -> NodeStartError:
    return NodeStartError(f"port {port} on {host} is already in use: pick another port "
                          "(`vcp node KIND --port N`), or leave the port out to get a free one")


def _listening_sockets(port: int) -> set[str] | None:
    """Inodes of the sockets listening on ``port`` (Linux /proc); None where /proc cannot tell."""
    found, readable = set(), False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        readable = True
        for row in rows:
            fields = row.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                found.add(fields[9])
    return found if readable else None


def _group_sockets(pgid: int) -> set[str]:
    """Inodes of every socket held by a process of group ``pgid``."""
    inodes = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != pgid:
                continue
            for fd in (entry / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[len("socket:["):-1])
        except OSError:  # a process that exited meanwhile, or one we may not look into
            continue
    return inodes


class Chain:
    """A connected chain: ``w3`` plus the dev-chain conveniences vcp needs (funding, mining)."""

    kind: str = "rpc"
    hardfork: Hardfork | None = None  # None: a node vcp did not start runs whatever schedule it runs
    # Where a transaction is simulated before it is sent: in the block it will land in, so that
    # block.number is the next one (Anvil's default is the latest block's context).
    estimate_block: str | None = "pending"

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self._chain_id: int | None = None
        # The validation middleware asks the node for its chain id before every request; vcp
        # signs locally and sets the chain id itself, so that round trip buys nothing.
        if "validation" in self.w3.middleware_onion:
            self.w3.middleware_onion.remove("validation")

    @property
    def chain_id(self) -> int:
        """Read once per connection (a node does not change chains under a live connection)."""
        if self._chain_id is None:
            from vcp_toolkit.chain.boundary import chain_errors

            with chain_errors("reading the chain id"):
                self._chain_id = int(self.w3.eth.chain_id)
        return self._chain_id

    @property
    def rpc_url(self) -> str | None:
        return None

    def dev_accounts(self) -> list[str]:
        """Node-managed (unlocked) accounts; empty on a real network."""
        try:
            return list(self.w3.eth.accounts)
        except Exception:  # a node without eth_accounts has no dev accounts
            return []

    def fund(self, address: str, wei: int = DEV_FUNDING_WEI) -> None:
        """Send ``wei`` from the node's first unlocked account (dev chains only)."""
        accounts = self.dev_accounts()
        if not accounts:
            raise ChainError("this node has no unlocked account to fund from: fund the key yourself")
        richest = max(accounts, key=lambda a: self.w3.eth.get_balance(a))  # spread the load over dev accounts
        tx = self.w3.eth.send_transaction({"from": richest, "to": address, "value": wei})
        self.w3.eth.wait_for_transaction_receipt(tx, timeout=60)

    def mine(self, blocks: int = 1) -> None:
        raise ChainError(f"cannot mine blocks on chain kind {self.kind}")

    def close(self) -> None:
        """Stop what this object started (nothing for a chain given by URL)."""

    def __enter__(self) -> "Chain":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EmbeddedChain(Chain):
    """eth-tester on py-evm, in this process: no node to start, state gone on exit."""

    kind = "embedded"
    estimate_block = None  # eth-tester has no pending estimate; it simulates on top of the latest block

    def __init__(self, hardfork: str | Hardfork | None = None) -> None:
        from eth.vm.forks import CancunVM, PragueVM, ShanghaiVM
        from eth_tester import EthereumTester, PyEVMBackend
        from web3 import EthereumTesterProvider

        self.hardfork = hardfork_for("embedded", hardfork)
        vm = {"shanghai": ShanghaiVM, "cancun": CancunVM, "prague": PragueVM}[self.hardfork.name]
        self.tester = EthereumTester(PyEVMBackend(vm_configuration=((0, vm),)))
        super().__init__(Web3(EthereumTesterProvider(self.tester)))

    def mine(self, blocks: int = 1) -> None:
        self.tester.mine_blocks(blocks)


class RpcChain(Chain):
    """A node that is already running, reached over HTTP JSON-RPC."""

    def __init__(self, url: str, timeout_s: float = 30.0) -> None:
        super().__init__(Web3(HTTPProvider(url, request_kwargs={"timeout": timeout_s})))
        self.url = url
        try:
            self._chain_id = int(self.w3.eth.chain_id)
        except (requests.RequestException, OSError) as exc:
            raise ChainError(f"no Ethereum node answers at {url} ({type(exc).__name__})") from exc

    @property
    def rpc_url(self) -> str:
        return self.url

    def mine(self, blocks: int = 1) -> None:
        """Mine ``blocks`` empty blocks now; a node that cannot (or mines fewer) raises ChainError."""
        from vcp_toolkit.chain.boundary import chain_errors

        if blocks < 1:
            raise InvalidInput(f"blocks to mine: {blocks}; expected at least 1")
        with chain_errors(f"mining on {self.url}"):
            start = self.w3.eth.block_number
            # Anvil and Hardhat take anvil_mine; Ganache takes evm_mine with a count.
            for method, params in (("anvil_mine", [hex(blocks)]), ("evm_mine", [{"blocks": blocks}])):
                if "error" not in self.w3.provider.make_request(method, params):
                    break
            else:
                raise ChainError(f"the node at {self.url} does not mine on demand (no anvil_mine or evm_mine): "
                                 "a public network advances by itself; use Anvil or Ganache for development")
            mined = self.w3.eth.block_number - start
        if mined < blocks:  # e.g. an evm_mine that ignores the count
            raise ChainError(f"the node at {self.url} mined {mined} block(s), not {blocks}")


def _libc_prctl():
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux
        return None


_PRCTL = _libc_prctl()  # looked up now: the child runs no imports between fork and exec
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In a child process (before exec): get SIGTERM when vcp dies, even by SIGKILL (atexit cannot run then)."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM)


class LocalNode(RpcChain):
    """Anvil or Ganache from the project's npm install, on ``host`` (127.0.0.1 unless given; at a free
    port unless one is given); stopped on close. It mines a block per transaction, or every ``block_time`` seconds.
    The node this object talks to is the one it started: a busy port or a listener that is not
    the started process raises NodeStartError naming the port."""

    def __init__(self, kind: str, port: int | None = None, extra_args: tuple[str, ...] = (),
                 block_time: float | None = None, hardfork: str | Hardfork | None = None,
                 host: str = LOOPBACK) -> None:
        if kind not in ("anvil", "ganache"):
            raise NodeStartError(f"unknown node kind {kind!r}: vcp starts anvil or ganache")
        self.hardfork = hardfork_for(kind, hardfork)
        if block_time is not None and not 0 < block_time < float("inf"):
            raise InvalidInput(f"block time {block_time}: expected a positive number of seconds")
        if port is not None and port_in_use(port, host):
            raise port_busy_error(port, host)
        self.host = host
        self.port = port or free_port(host)
        self.kind = kind
        self.block_time = block_time
        self.process = subprocess.Popen(
            [str(find_tool(kind)), *self._args(), *extra_args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True, preexec_fn=die_with_parent,
        )
        atexit.register(self.close)  # a node must never outlive the process that started it
        url = f"http://{host}:{self.port}"
        try:
            self._wait_until_up(url)
            super().__init__(url)
        except BaseException:
            self.close()
            raise

    def _args(self) -> list[str]:
        port = str(self.port)
        if self.kind == "anvil":
            args = ["--host", self.host, "--port", port, "--hardfork", self.hardfork.name, "--silent"]
            if self.hardfork.tx_gas_cap:  # Anvil 1.7 enforces EIP-7825 only when asked to
                args.append("--enable-tx-gas-limit")
            return args + (["--block-time", str(self.block_time)] if self.block_time else [])
        args = ["--server.host", self.host, "--server.port", port, "--chain.hardfork", self.hardfork.name,
                "--wallet.deterministic", "--logging.quiet"]
        return args + (["--miner.blockTime", str(self.block_time)] if self.block_time else [])

    def exit_reason(self) -> str:
        """The last line the exited node wrote to stderr (its reason, for Anvil and Ganache)."""
        err = (self.process.stderr.read() or b"").decode(errors="replace").strip().splitlines()
        return err[-1].strip() if err else "no output"

    def _wait_until_up(self, url: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                reason = self.exit_reason()
                if "in use" in reason.lower() or "EADDRINUSE" in reason:
                    raise port_busy_error(self.port, self.host)  # taken between the check and the start
                raise NodeStartError(f"{self.kind} exited with code {self.process.returncode}: {reason}")
            try:
                body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
                answered = requests.post(url, json=body, timeout=2).ok
            except requests.RequestException:
                answered = False
            if answered:
                self._check_it_is_ours()
                return
            time.sleep(0.1)
        raise NodeStartError(f"{self.kind} did not answer on {url} within {START_TIMEOUT_S:.0f}s")

    def _check_it_is_ours(self) -> None:
        """Something answers on the port: it must be the process started here, not another node."""
        listening = _listening_sockets(self.port)
        theirs = bool(listening) and not listening & _group_sockets(self.process.pid)
        if theirs or self.process.poll() is not None:
            raise NodeStartError(f"port {self.port} on {self.host} answers, but not from the {self.kind} vcp "
                                 "started (another process listens there): pick another port, or leave the "
                                 "port out to get a free one")

    def close(self) -> None:
        atexit.unregister(self.close)
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, 15)
                self.process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.process.pid, 9)
                except ProcessLookupError:
                    pass
                self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()


def open_chain(kind: str = "embedded", rpc_url: str | None = None,
               hardfork: str | Hardfork | None = None) -> Chain:
    """A chain by name on ``hardfork`` (default: the newest it runs), or the node at ``rpc_url``
    (which wins when given, and runs its own schedule: asking it for one is refused)."""
    if rpc_url:
        if hardfork is not None:
            raise InvalidInput(f"--hardfork applies to chains vcp starts; the node at {rpc_url} runs its own "
                               "schedule: leave --hardfork out, or use --chain instead of --rpc-url")
        return RpcChain(rpc_url)
    if kind == "embedded":
        return EmbeddedChain(hardfork)
    if kind in ("anvil", "ganache"):
        return LocalNode(kind, hardfork=hardfork)
    raise ChainError(f"unknown chain {kind!r}: choose one of {', '.join(CHAIN_KINDS)} or give --rpc-url")
