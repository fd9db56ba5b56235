"""`vcp demo --mode network`: Anvil, two stores, three provers (one lying on some jobs), two
watchers and a requester as separate processes on 127.0.0.x, with a prover, a watcher and a store
killed (SIGKILL) and restarted while hundreds of jobs run. Every lie is caught, no honest prover is
slashed, nothing is lost, and nothing is left running."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.node, pytest.mark.chain]
JOBS = 200


def vcp(cwd: Path, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "VCP_PRIVATE_KEY"}
    return subprocess.run([sys.executable, "-m", "vcp_toolkit.cli", *argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def processes_in(folder: Path) -> list[int]:
    """Processes whose working directory is inside ``folder`` (the demo's, and their children)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and Path(os.readlink(entry / "cwd")).is_relative_to(folder):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.fixture(scope="module")
def network_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("network")
    try:
        done = vcp(out, "demo", "--mode", "network", "--jobs", str(JOBS), "--json", "--out", "runs", timeout=1200)
        (run,) = (out / "runs").iterdir()
        yield done, json.loads(done.stdout), run
    finally:
        left = processes_in(out)  # what a killed or timed-out demo left behind: never outlives the test
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_every_lie_caught_no_honest_prover_slashed_nothing_lost(network_run):
    done, report, _ = network_run
    assert done.returncode == 0, f"{report['problems']}\n{done.stderr[-2000:]}"
    assert report["ok"] and report["problems"] == []
    assert report["jobs"]["opened"] == report["jobs"]["finalized"] == JOBS
    # "ok" includes: the lies told are exactly the first answers of the liar to jobs whose id is a multiple
    # of 5, and none was finalized (docs/network.md lists every rule)
    assert report["cheats"]["told"] >= 1
    assert report["cheats"]["caught"] == report["cheats"]["told"] == report["fraud_proofs"]
    assert report["cheats"]["finalized"] == 0 and report["honest_provers_slashed"] == 0
    assert report["records_lost"] == 0 and report["failed_challenges"] == 0
    assert report["results_submitted"] == JOBS + report["cheats"]["caught"]  # each lie answered once more
    assert report["cheat_to_slash"]["median_blocks"] <= 10  # the watchers look every 0.2 s, blocks come every 0.2 s


def test_a_prover_a_watcher_and_a_store_crashed_and_came_back(network_run):
    _, report, run = network_run
    assert [f["process"] for f in report["faults"]] == ["prover-2", "watcher-1", "store-1"]
    assert [f["jobs_opened_before"] for f in report["faults"]] == sorted(f["jobs_opened_before"] for f in report["faults"])
    for name in ("prover-2", "watcher-1", "store-1"):
        assert (run / "logs" / f"{name}.log").read_text().count("--- start") == 2
    restarted = (run / "logs" / "store-1.log").read_text().split("--- start")[-1]
    assert "serving blobs from" in restarted  # listening again, at the same address
    assert "http://127.0.0.3:" in restarted


def test_servers_listen_on_their_own_loopback_addresses(network_run):
    _, _, run = network_run
    logs = {p.stem: p.read_text() for p in (run / "logs").glob("*.log")}
    assert "http://127.0.0.2:" in logs["anvil"]
    assert "http://127.0.0.3:" in logs["store-1"] and "http://127.0.0.4:" in logs["store-2"]
    assert "DISHONEST" in logs["prover-3"] and "DISHONEST" not in logs["prover-1"] + logs["prover-2"]


def test_nothing_is_left_running(network_run):
    _, _, run = network_run
    assert processes_in(run) == []


@pytest.mark.parametrize("argv, message", [
    (("--jobs", "0"), "--jobs 0: expected 1..359"),
    (("--jobs", "360"), "--jobs 360: expected 1..359"),
    (("--model", "lenet"), "--mode network runs the built-in digits model"),
])
def test_bad_network_arguments_get_one_line(tmp_path, argv, message):
    done = vcp(tmp_path, "demo", "--mode", "network", *argv)
    assert done.returncode == 2 and message in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / ".vcp").exists()  # refused before anything started or was written


def test_a_server_address_the_machine_lacks_is_named_with_the_fix():
    from vcp_toolkit.demo.network import check_addresses
    from vcp_toolkit.errors import InvalidInput

    check_addresses(("127.0.0.2", "127.0.0.3"))
    with pytest.raises(InvalidInput, match=r"192\.0\.2\.1 is not an address of this machine.*ifconfig lo0 alias"):
        check_addresses(("127.0.0.2", "192.0.2.1"))
