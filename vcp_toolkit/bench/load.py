"""`vcp bench --load`: the attested-inference server under load, one batch window at a time.

For each window the real server (`vcp serve --http`, a separate process) is started on loopback at
a free port with a fresh key and journal; ``clients`` concurrent requests (each with its own
request id) are kept in flight for ``seconds`` from one aiohttp event loop, and every answer is
verified (commitments, inclusion proof, signature) before it counts. Latency is from send to
verified answer. The server is then stopped (SIGTERM) and its journal is checked against what was
acknowledged: lost = an acknowledged request id missing from the journal or journaled with
another record; duplicated = a request id or a record leaf journaled more than once.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from vcp_toolkit.attest.eip712 import Domain
from vcp_toolkit.attest.files import write_atomic
from vcp_toolkit.attest.keys import SigningKey
from vcp_toolkit.commit.commitments import ModelCommitment, record_leaf
from vcp_toolkit.errors import VcpError
from vcp_toolkit.model.builtin import demo_model
from vcp_toolkit.model.synthetic import random_inputs
from vcp_toolkit.prover import AsyncInferenceClient, AttestedAnswer, Expected, ServingError, served_records

LOAD_JSON = "load.json"
CHAIN_ID = 31337
REGISTRY = "0x" + "5e" * 20  # answers are signed offline for this domain; nothing is sent to a chain
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class LoadConfig:
    windows: tuple[float, ...] = (0.0, 2.0, 5.0, 10.0, 20.0)
    seconds: float = 10.0
    clients: int = 64
    processes: int = 1  # load-generating processes sharing the clients (each verifies its answers)
    max_batch: int = 256
    warmup_s: float = 1.0  # answers in the first second count for loss, not for rate or latency

    def __post_init__(self) -> None:
        from vcp_toolkit.errors import InvalidInput

        if not 0.5 <= self.seconds <= 3600:
            raise InvalidInput(f"--load-seconds must be between 0.5 and 3600, not {self.seconds}")
        if not 1 <= self.clients <= 4096:
            raise InvalidInput(f"--load-clients must be between 1 and 4096, not {self.clients}")
        if not 1 <= self.processes <= min(64, self.clients):
            raise InvalidInput(f"--load-processes must be between 1 and --load-clients (at most 64), not "
                               f"{self.processes}")


class ServerFailed(VcpError):
    """The server under load did not start or died."""


def _die_with_parent() -> None:
    """In the server's process: SIGTERM when the benchmark dies, even by SIGKILL."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux
        pass


class ServerProcess:
    """`vcp serve --http` in its own process, on 127.0.0.1 at a free port; stopped on exit."""

    def __init__(self, folder: Path, key: SigningKey, window_ms: float, max_batch: int,
                 extra: tuple[str, ...] = ()) -> None:
        self.journal = folder / "journal.sqlite"
        args = [sys.executable, "-m", "vcp_toolkit.cli", "serve", "--http", "--port", "0", "--chain-id",
                str(CHAIN_ID), "--registry", REGISTRY, "--batch-window-ms", str(window_ms), "--max-batch",
                str(max_batch), "--journal", str(self.journal), *extra]
        env = {**os.environ, "VCP_PRIVATE_KEY": "0x" + key.reveal().hex()}
        self.process = subprocess.Popen(args, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, preexec_fn=_die_with_parent)
        self.url = self._wait_for_url()

    def _wait_for_url(self) -> str:
        line = self.process.stdout.readline()  # the server prints its URL once it listens
        found = re.search(r"on (http://127\.0\.0\.1:\d+) ", line)
        if not found:
            self.kill()
            raise ServerFailed(f"vcp serve --http did not start: {(line + self.process.stderr.read()).strip()[-300:]}")
        return found.group(1)

    def cpu_seconds(self) -> float | None:
        """User + system CPU the server has used so far (Linux /proc), or None."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(30)
        except subprocess.TimeoutExpired:
            return self.kill()

    def kill(self) -> int:
        self.process.kill()
        return self.process.wait()

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Tally:
    """What the load generator saw."""

    acked: dict[str, bytes] = field(default_factory=dict)  # request id -> record leaf answered
    latencies: list[float] = field(default_factory=list)  # seconds, measured part only
    errors: Counter = field(default_factory=Counter)
    measured_from: float = 0.0
    measured_to: float = 0.0
    cpu_s: float = 0.0

    @classmethod
    def merged(cls, tallies: list["Tally"]) -> "Tally":
        out = cls(measured_from=min(t.measured_from for t in tallies), measured_to=max(t.measured_to for t in tallies),
                  cpu_s=sum(t.cpu_s for t in tallies))
        for t in tallies:
            out.acked.update(t.acked)
            out.latencies.extend(t.latencies)
            out.errors.update(t.errors)
        return out


async def _worker(client: AsyncInferenceClient, inputs: np.ndarray, name: str, deadline: float, start_measure: float,
                  tally: Tally) -> None:
    n = 0
    while time.perf_counter() < deadline:
        rid = f"{name}-{n}"
        x = inputs[(len(name) * 131 + n) % len(inputs)]
        n += 1
        t0 = time.perf_counter()
        try:
            answer: AttestedAnswer = await client.infer(x, int8=True, request_id=rid)
        except ServingError as exc:
            tally.errors[type(exc).__name__] += 1
            continue
        t1 = time.perf_counter()
        tally.acked[rid] = record_leaf(*answer.record)
        if t0 >= start_measure:
            tally.latencies.append(t1 - t0)


async def drive(url: str, expected: Expected, inputs: np.ndarray, clients: int, seconds: float, warmup_s: float,
                tag: str) -> Tally:
    """Keep ``clients`` verified requests in flight against ``url`` for ``warmup_s + seconds``."""
    tally = Tally()
    async with AsyncInferenceClient(url, expected, connections=clients) as client:
        start = time.perf_counter()
        tally.measured_from = start + warmup_s
        deadline = tally.measured_from + seconds
        await asyncio.gather(*(_worker(client, inputs, f"{tag}{i}", deadline, tally.measured_from, tally)
                               for i in range(clients)))
        tally.measured_to = time.perf_counter()
    return tally


def _drive_here(job: tuple) -> Tally:
    started = time.process_time()
    tally = asyncio.run(drive(*job))
    tally.cpu_s = time.process_time() - started
    return tally


def generate_load(url: str, expected: Expected, inputs: np.ndarray, config: LoadConfig, tag: str) -> Tally:
    """drive() from ``config.processes`` processes (spawned, never forked: a fork of a process with
    threads can deadlock in the child; perf_counter is the system's monotonic clock, so their time
    spans compare), the clients shared out between them."""
    shares = [config.clients // config.processes + (i < config.clients % config.processes)
              for i in range(config.processes)]
    jobs = [(url, expected, inputs, share, config.seconds, config.warmup_s, f"{tag}p{i}-")
            for i, share in enumerate(shares)]
    if config.processes == 1:
        return _drive_here(jobs[0])
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(config.processes) as pool:
        return Tally.merged(pool.map(_drive_here, jobs))


def check_journal(journal: Path, acked: dict[str, bytes], expected: Expected) -> dict[str, int]:
    """Lost, duplicated and unverifiable records, and the batches, from what the journal holds."""
    records = served_records(journal)
    by_id = Counter(r.request_id for r in records)
    leaves = Counter(r.leaf for r in records)
    journaled = {r.request_id: r.leaf for r in records}
    lost = sum(1 for rid, leaf in acked.items() if journaled.get(rid) != leaf)
    duplicated = sum(c - 1 for c in by_id.values() if c > 1) + sum(c - 1 for c in leaves.values() if c > 1)
    from vcp_toolkit.prover import verify_answer

    invalid = 0
    for record in records:
        try:
            verify_answer(AttestedAnswer.from_bytes(record.answer), expected)
        except ServingError:
            invalid += 1
    return {"journaled": len(records), "lost": lost, "duplicated": duplicated, "invalid_in_journal": invalid,
            "unacknowledged_in_journal": len(set(journaled) - set(acked)),
            "groups": len({r.group_id for r in records})}


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000 if values else float("nan")


def measure_window(config: LoadConfig, window_ms: float, inputs: np.ndarray, model_root: bytes) -> dict[str, Any]:
    key = SigningKey.generate()
    expected = Expected(prover=key.address, model_root=model_root, domain=Domain(CHAIN_ID, REGISTRY))
    with tempfile.TemporaryDirectory(prefix="vcp-load-") as folder:
        with ServerProcess(Path(folder), key, window_ms, config.max_batch) as server:
            load_before, server_cpu = os.getloadavg()[0], server.cpu_seconds()
            tally = generate_load(server.url, expected, inputs, config, f"w{window_ms:g}-")
            server_cpu = None if server_cpu is None else server.cpu_seconds() - server_cpu
            exit_code = server.stop()
        checked = check_journal(server.journal, tally.acked, expected)
    span = max(tally.measured_to - tally.measured_from, 1e-9)
    return {"window_ms": window_ms, "clients": config.clients, "processes": config.processes,
            "max_batch": config.max_batch,
            "seconds": round(span, 3), "requests": len(tally.latencies),
            "requests_per_s": len(tally.latencies) / span, "p50_ms": _percentile(tally.latencies, 50),
            "p99_ms": _percentile(tally.latencies, 99), "max_ms": _percentile(tally.latencies, 100),
            "acknowledged": len(tally.acked), "mean_batch": checked["journaled"] / max(checked["groups"], 1),
            "errors": sum(tally.errors.values()), "error_kinds": dict(tally.errors), "server_exit": exit_code,
            # CPU per acknowledged request, warm-up included: what each side would need of a core of
            # its own; the load average says how much of the machine others were using meanwhile
            "server_cpu_ms_per_request": None if server_cpu is None else 1000 * server_cpu / max(len(tally.acked), 1),
            "client_cpu_ms_per_request": 1000 * tally.cpu_s / max(len(tally.acked), 1),
            "load_average_before": load_before, **checked}


def environment() -> dict[str, Any]:
    import importlib.metadata as md

    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "aiohttp": md.version("aiohttp"), "numpy": np.__version__}


def run_load(config: LoadConfig, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The curve: one row per batch window, on the built-in digits model."""
    note = progress or (lambda _msg: None)
    model = demo_model()
    inputs = random_inputs(model, 1024, seed=11)
    model_root = ModelCommitment(model).root
    rows = []
    for window in config.windows:
        note(f"vcp bench --load: window {window:g} ms, {config.clients} clients, {config.seconds:g} s")
        rows.append(measure_window(config, window, inputs, model_root))
    return {"environment": environment(), "config": asdict(config), "model": model.name, "rows": rows,
            "date": time.strftime("%Y-%m-%d", time.gmtime())}


def write_load(result: dict[str, Any], out_dir: Path) -> Path:
    import json

    path = Path(out_dir) / LOAD_JSON
    write_atomic(path, (json.dumps(result, indent=2) + "\n").encode())
    return path
