"""``vcp demo --mode network``: the optimistic game run as a network on one host.

Separate processes, each bound to its own loopback address where it listens, share nothing but the
chain and the stores: Anvil (127.0.0.2), two `vcp exchange serve` stores (127.0.0.3, 127.0.0.4),
three `vcp serve` provers (one lying on some jobs), two `vcp watch` watchers and one `vcp request`
opening hundreds of jobs. During the run a prover, a watcher and a store are killed with SIGKILL
and started again. The report comes from the chain's events and the processes' own records."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account

from vcp_toolkit.chain.nodes import RpcChain, free_port
from vcp_toolkit.chain.optimistic import OptimisticInference
from vcp_toolkit.commit.commitments import trace_root
from vcp_toolkit.demo.network_report import EVENTS, Fault, Liar, NetworkReport, Records, Seen, summarize
from vcp_toolkit.demo.processes import ProcessFailed, VcpProcess, stop_all
from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.model.builtin import demo_model
from vcp_toolkit.ops.exchange import Exchange
from vcp_toolkit.ops.journal import Journal

NODE_HOST, STORE_HOSTS = "127.0.0.2", ("127.0.0.3", "127.0.0.4")
FUNDS_WEI = 10**24  # a million ETH per key: bonds of hundreds of jobs in flight at once
POLL_S = 0.2
JOURNAL_WAIT_S = 15.0
# The lies the report can tell from a result's trace root (a withheld trace is an honest root, unrevealed).
COUNTABLE_CHEATS = ("wrong_output", "wrong_hidden_layer", "other_weights", "input_swapped")


@dataclass(frozen=True)
class NetworkPlan:
    """What to run. Windows are in blocks of ``block_time`` seconds (interval mining, so a window
    lasts the same wall time however busy the chain is)."""

    jobs: int = 200
    cheat: str = "wrong_hidden_layer"
    cheat_every: int = 5
    block_time: float = 0.2
    answer_window: int = 300
    challenge_window: int = 75
    reveal_window: int = 50
    request_interval: float = 0.05
    faults: bool = True
    down_s: float = 3.0
    timeout_s: float = 900.0

    def check(self) -> None:
        if not 1 <= self.jobs <= 359:
            raise InvalidInput(f"--jobs {self.jobs}: expected 1..359 (one per digits test sample)")
        if self.cheat_every < 1:
            raise InvalidInput(f"--cheat-every {self.cheat_every}: expected at least 1")
        if self.cheat not in COUNTABLE_CHEATS:
            raise InvalidInput(f"cheat {self.cheat!r}: the network demo counts {', '.join(COUNTABLE_CHEATS)}")
        check_addresses((NODE_HOST, *STORE_HOSTS))


def check_addresses(hosts: tuple[str, ...]) -> None:
    """Each server's address must be one this machine can listen on (Linux routes all of 127/8 to
    loopback; macOS only 127.0.0.1 unless aliased)."""
    import errno
    import socket

    for host in hosts:
        with socket.socket() as sock:
            try:
                sock.bind((host, 0))
            except OSError as exc:
                if exc.errno != errno.EADDRNOTAVAIL:
                    raise
                raise InvalidInput(f"{host} is not an address of this machine, and the network demo gives each "
                                   f"server its own loopback address: add it (macOS: `sudo ifconfig lo0 alias "
                                   f"{host} up`) and run again") from None


class Monitor(threading.Thread):
    """Follows the contract's events, stamping each with the wall time it was first seen."""

    def __init__(self, contract: OptimisticInference) -> None:
        super().__init__(daemon=True)
        self.contract = contract
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.halt = threading.Event()
        self.next_block = 0

    def run(self) -> None:
        while not self.halt.is_set():
            try:
                self.poll()
            except Exception:  # a node restart or hiccup: the next poll reads the same blocks again
                pass
            self.halt.wait(POLL_S)

    def poll(self) -> None:
        latest = int(self.contract.chain.w3.eth.block_number)
        if latest < self.next_block:
            return
        now, found = time.time(), []
        for name in EVENTS:
            for log in self.contract.events(name, self.next_block, latest):
                args = log["args"]
                root = bytes(args["traceRoot"]) if "traceRoot" in args else None
                found.append(Seen(name, int(args["jobId"]), args.get("prover"), int(log["blockNumber"]), now, root))
        with self.lock:
            self.seen.extend(sorted(found, key=lambda s: s.block))
        self.next_block = latest + 1

    def count(self, name: str) -> int:
        with self.lock:
            return len({s.job_id for s in self.seen if s.name == name})

    def snapshot(self) -> list[Seen]:
        with self.lock:
            return list(self.seen)


class Network:
    """The processes of one run, in ``workdir`` (logs, stores, state files, journals)."""

    def __init__(self, plan: NetworkPlan, workdir: Path, progress=print) -> None:
        plan.check()
        self.plan, self.dir, self.say = plan, workdir, progress
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "logs").mkdir(exist_ok=True)
        self.keys = {name: Account.create() for name in
                     ("operator", "requester", "prover-1", "prover-2", "prover-3", "watcher-1", "watcher-2")}
        self.procs: dict[str, VcpProcess] = {}
        self.rpc = ""
        self.stores: list[str] = []

    def address(self, name: str) -> str:
        return self.keys[name].address

    def _env(self, who: str | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("VCP_PRIVATE_KEY", "VCP_KEYSTORE_PASSWORD")}
        if who is not None:
            env["VCP_PRIVATE_KEY"] = self.keys[who].key.hex()  # throw-away keys of a local demo chain
        return env

    def spawn(self, name: str, who: str | None, *argv: str) -> VcpProcess:
        proc = VcpProcess(name, list(argv), self.dir, self._env(who), self.dir / "logs" / f"{name}.log")
        self.procs[name] = proc.start()
        return proc

    def run_once(self, who: str, *argv: str) -> str:
        proc = self.spawn(f"{argv[0]}-{who}", who, *argv)
        try:
            proc.process.wait(timeout=300)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise ProcessFailed(f"vcp {argv[0]} did not finish in 300 s: see {proc.log}") from None
        if proc.process.returncode != 0:
            raise ProcessFailed(f"vcp {argv[0]} failed: {proc.last_line()} (log: {proc.log})")
        return proc.text().rsplit("--- start", 1)[-1].split("\n", 1)[1]

    def run_json(self, who: str, *argv: str) -> dict:
        """``run_once`` of a command given --json: its JSON object (warnings may precede it)."""
        out = self.run_once(who, *argv)
        try:
            return json.JSONDecoder().raw_decode(out[out.index("{"):])[0]
        except ValueError:
            raise ProcessFailed(f"vcp {argv[0]} printed no JSON object: see the log in {self.dir / 'logs'}") from None

    # ------------------------------------------------------------------ starting the network

    def start_chain(self) -> OptimisticInference:
        node = self.spawn("anvil", None, "node", "anvil", "--host", NODE_HOST, "--port", str(free_port(NODE_HOST)),
                          "--block-time", f"{self.plan.block_time:g}")
        self.rpc = node.wait_for_url()
        chain = RpcChain(self.rpc)
        for key in self.keys.values():
            chain.w3.provider.make_request("anvil_setBalance", [key.address, hex(FUNDS_WEI)])
        p = self.plan
        provers = [a for n in ("prover-1", "prover-2", "prover-3") for a in ("--prover", self.address(n))]
        deployed = self.run_json("operator", "deploy", "--rpc-url", self.rpc, "--json", *provers,
                                 "--answer-window", str(p.answer_window), "--challenge-window",
                                 str(p.challenge_window), "--reveal-window", str(p.reveal_window))
        return OptimisticInference(chain, deployed["optimistic"])

    def start_stores(self) -> None:
        for n, host in enumerate(STORE_HOSTS, 1):
            proc = self.spawn(f"store-{n}", None, "exchange", "serve", "--dir", f"store-{n}", "--host", host,
                              "--port", "0")
            self.stores.append(proc.wait_for_url())
            proc.argv[-1] = self.stores[-1].rsplit(":", 1)[1]  # a restart listens where clients look

    def start_services(self) -> None:
        common = ["--rpc-url", self.rpc, "--interval", f"{POLL_S:g}"]
        stores = [a for s in self.stores for a in ("--exchange", s)]
        backwards = [a for s in reversed(self.stores) for a in ("--exchange", s)]
        for n in (1, 2, 3):
            cheat = ["--cheat", self.plan.cheat, "--cheat-every", str(self.plan.cheat_every)] if n == 3 else []
            self.spawn(f"prover-{n}", f"prover-{n}", "serve", *common, *stores, *cheat,
                       "--state", f"prover-{n}.state.json", "--journal", f"prover-{n}.journal.sqlite")
        for n, order in ((1, stores), (2, backwards)):
            self.spawn(f"watcher-{n}", f"watcher-{n}", "watch", *common, *order,
                       "--state", f"watcher-{n}.state.json", "--journal", f"watcher-{n}.journal.sqlite")

    def start_requester(self) -> VcpProcess:
        stores = [a for s in self.stores for a in ("--exchange", s)]
        return self.spawn("requester", "requester", "request", "--rpc-url", self.rpc, *stores, "--input", "digits:0",
                          "--count", str(self.plan.jobs), "--interval", f"{self.plan.request_interval:g}")

    def stop_all(self) -> None:
        stop_all(list(self.procs.values()))

    # ------------------------------------------------------------------ faults and the end

    def crash(self, name: str, opened: int) -> Fault:
        """SIGKILL ``name``, leave it down for ``down_s``, start it again with the same arguments."""
        proc = self.procs[name]
        killed = time.time()
        proc.kill()
        self.say(f"killed {name} (SIGKILL) after {opened} jobs opened; down for {self.plan.down_s:g} s")
        time.sleep(self.plan.down_s)
        proc.start()
        if name.startswith("store-"):
            proc.wait_for_url()
        return Fault(name, killed, time.time(), opened)

    def records(self, contract: OptimisticInference, seen: list[Seen]) -> Records:
        """What the processes recorded, and each job's honest trace root from its published input
        (read while the stores still run)."""
        requested = {int(line.split()[1]) for line in self.procs["requester"].text().splitlines()
                     if line.startswith("job ") and " opened by requester " in line}
        return Records(frozenset(requested), self.journals(seen), self.honest_roots(contract, seen))

    def journals(self, seen: list[Seen]) -> dict[str, dict[int, str]]:
        """Each prover's journal (job -> status), once it records every job finalized for it, or
        as it stands after JOURNAL_WAIT_S (a prover may still be writing its last records)."""
        paid = {(s.prover, s.job_id) for s in seen if s.name == "JobFinalized"}
        deadline = time.monotonic() + JOURNAL_WAIT_S
        while True:
            journals = {}
            for n in (1, 2, 3):
                with Journal(self.dir / f"prover-{n}.journal.sqlite") as journal:
                    journals[self.address(f"prover-{n}")] = {int(row[2]): row[4] for row in journal.jobs()
                                                             if row[3] == "prover"}
            if all(journals.get(prover, {}).get(job) == "finalized" for prover, job in paid) \
                    or time.monotonic() > deadline:
                return journals
            time.sleep(POLL_S)

    def honest_roots(self, contract: OptimisticInference, seen: list[Seen]) -> dict[int, bytes]:
        model, exchange = demo_model(), Exchange(self.stores)
        roots = {}
        for job_id in sorted({s.job_id for s in seen if s.name == "ResultSubmitted"}):
            opened = exchange.get_input(contract.job(job_id).input_commitment)
            if opened is not None:
                roots[job_id] = trace_root([v[0] for v in model.trace(opened[0])])
        return roots


FAULTS = (("prover-2", 0.25), ("watcher-1", 0.45), ("store-1", 0.65))


def _drive(net: Network, monitor: Monitor, requester: VcpProcess) -> tuple[tuple[Fault, ...], bool]:
    """Inject the faults as the jobs open, then wait until every requested job is final."""
    plan, faults, pending = net.plan, [], list(FAULTS if net.plan.faults else ())
    deadline = time.monotonic() + plan.timeout_s
    while time.monotonic() < deadline:
        opened = monitor.count("JobOpened")
        if pending and opened >= pending[0][1] * plan.jobs:
            faults.append(net.crash(pending.pop(0)[0], opened))
            continue
        if requester.process.poll() not in (None, 0):
            raise ProcessFailed(f"the requester failed: {requester.last_line()} (log: {requester.log})")
        for name in ("anvil", "store-1", "store-2", "prover-1", "prover-2", "prover-3", "watcher-1", "watcher-2"):
            if not net.procs[name].running:
                raise ProcessFailed(f"{name} stopped by itself: {net.procs[name].last_line()} "
                                    f"(log: {net.procs[name].log})")
        final = monitor.count("JobFinalized") + monitor.count("JobCancelled")
        if requester.process.poll() == 0 and not pending and final >= plan.jobs:
            return tuple(faults), True
        time.sleep(POLL_S)
    return tuple(faults), False


def run_network(plan: NetworkPlan, workdir: Path, progress=print) -> NetworkReport:
    """Start the network in ``workdir``, open ``plan.jobs`` jobs, inject the faults, wait until
    every job is final (or ``plan.timeout_s``), stop everything and report."""
    net = Network(plan, workdir, progress)
    started = time.time()
    monitor = None
    try:
        contract = net.start_chain()
        progress(f"anvil on {net.rpc}; OptimisticInference at {contract.address}")
        net.start_stores()
        progress(f"stores on {', '.join(net.stores)}")
        net.start_services()
        progress(f"3 provers (prover-3 lies with {plan.cheat} on jobs whose id is a multiple of {plan.cheat_every}) "
                 "and 2 watchers started")
        monitor = Monitor(contract)
        monitor.start()
        requester = net.start_requester()
        progress(f"requester opening {plan.jobs} jobs")
        faults, finished = _drive(net, monitor, requester)
        monitor.halt.set()
        monitor.join()
        monitor.poll()  # the last look, after the thread's
        records = net.records(contract, monitor.snapshot())
    finally:
        if monitor is not None:
            monitor.halt.set()
        net.stop_all()
    honest = {net.address("prover-1"), net.address("prover-2")}
    liar = Liar(net.address("prover-3"), plan.cheat_every)
    report = summarize(monitor.snapshot(), records, honest, liar, faults, time.time() - started)
    if not finished:
        report = _with_problem(report, f"not every job was final after {plan.timeout_s:g} s")
    return report


def _with_problem(report: NetworkReport, problem: str) -> NetworkReport:
    from dataclasses import replace

    return replace(report, problems=(*report.problems, problem))
