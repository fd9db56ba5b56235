"""The optimistic flow from the CLI alone, on a fresh Anvil that `vcp node` starts: keys, deploy,
two jobs, a prover that lies on one of them (`serve --cheat`), a watcher that slashes it, blocks
advanced with `vcp mine`, both jobs finalized, everyone paid. The same commands are documented in
docs/optimistic.md ("The whole flow from the command line"); a test keeps the two the same."""

from __future__ import annotations

import json
import os
import queue
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from vcp_toolkit.chain.optimistic import OptimisticParams
from vcp_toolkit.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
DOC_URL = "http://127.0.0.1:8545"
PASSWORD = "demo-password"

# Exactly what docs/optimistic.md lists, in order ({url} is DOC_URL there).
NODE = "vcp node anvil --port {port}"
FLOW = [
    "vcp keygen --out operator.json",
    "vcp keygen --out requester.json",
    "vcp keygen --out prover.json",
    "vcp keygen --out watcher.json",
    "vcp deploy --rpc-url {url} --keystore operator.json --challenge-window 5",
    "vcp request --rpc-url {url} --keystore requester.json --exchange exchange --input digits:0",
    "vcp request --rpc-url {url} --keystore requester.json --exchange exchange --input digits:1",
    "vcp serve --rpc-url {url} --keystore prover.json --exchange exchange --state prover.state.json --once "
    "--cheat wrong_output --cheat-every 2",
    "vcp watch --rpc-url {url} --keystore watcher.json --exchange exchange --state watcher.state.json --once",
    "vcp serve --rpc-url {url} --keystore prover.json --exchange exchange --state prover.state.json --once",
    "vcp watch --rpc-url {url} --keystore watcher.json --exchange exchange --state watcher.state.json --once",
    "vcp mine --blocks 5 --rpc-url {url}",
    "vcp serve --rpc-url {url} --keystore prover.json --exchange exchange --state prover.state.json --once",
    "vcp withdraw --rpc-url {url} --keystore requester.json --dry-run",
    "vcp withdraw --rpc-url {url} --keystore requester.json",
    "vcp withdraw --rpc-url {url} --keystore prover.json",
    "vcp withdraw --rpc-url {url} --keystore watcher.json",
]
WEI = r"([\d,]+) wei"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _argv(command: str, **values: object) -> list[str]:
    words = shlex.split(command.format(**values))
    assert words[0] == "vcp"
    return [sys.executable, "-m", "vcp_toolkit.cli", *words[1:]]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "VCP_PRIVATE_KEY"}
    return {**env, "VCP_KEYSTORE_PASSWORD": PASSWORD}


def _first_url(proc: subprocess.Popen, timeout: float = 120.0) -> str:
    """The URL `vcp node` prints once its node answers (read on a thread, so a silent node times out)."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    while True:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            pytest.fail("`vcp node anvil` printed no URL")
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        if found:
            return found.group(0)


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """A fresh Anvil started by `vcp node anvil` on a free port, stopped (SIGTERM) after the module."""
    work = tmp_path_factory.mktemp("optimistic-cli")
    proc = subprocess.Popen(_argv(NODE, port=_free_port()), cwd=work, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        yield _first_url(proc), work
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def vcp(command: str, cwd: Path, url: str, expect: int = 0) -> subprocess.CompletedProcess:
    done = subprocess.run(_argv(command, url=url), cwd=cwd, env=_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == expect, f"{command}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr, done.stderr
    return done


def _owed(output: str) -> int:
    return int(re.search(r"owes 0x[0-9a-fA-F]{40} " + WEI, output).group(1).replace(",", ""))


def _withdrawn(output: str) -> int:
    return int(re.search(r"withdrew " + WEI, output).group(1).replace(",", ""))


def test_optimistic_flow_on_a_fresh_anvil_from_the_cli_alone(node):
    url, work = node
    out = [vcp(command, work, url) for command in FLOW]
    requester = re.search(r"wrote requester.json for address (0x[0-9a-fA-F]{40})", out[1].stdout).group(1)
    # Both jobs are the requester's, and it is told its address and what it is owed.
    assert re.search(rf"job 1 opened by requester {requester}", out[5].stdout)
    assert re.search(rf"job 2 opened by requester {requester}", out[6].stdout)
    # The dishonest pass warns once, lies on job 2 only, and marks the lie.
    serve = out[7]
    assert "WARNING: DISHONEST prover" in serve.stderr
    assert re.search(r"job 1: answered \(gas [\d,]+\)$", serve.stdout, re.M)
    assert re.search(r"job 2: answered \(gas [\d,]+\) \[CHEAT: wrong_output\]", serve.stdout)
    assert re.search(r"job 1: result verified", out[8].stdout)
    assert re.search(r"job 2: .*fraud proven, prover slashed", out[8].stdout)
    # The honest pass answers the re-opened job 2 again, truthfully this time; the watcher agrees.
    assert "job 2: answered" in out[9].stdout and "CHEAT" not in out[9].stdout + out[9].stderr
    assert "job 2: result verified" in out[10].stdout
    assert "job 1: finalized" in out[12].stdout and "job 2: finalized" in out[12].stdout
    # The requester's share of the slashed bond is visible, then withdrawn.
    params = OptimisticParams()
    share = params.prover_bond * (10_000 - params.challenger_reward_bps) // 10_000
    assert _owed(out[13].stdout) == share and "dry run: nothing sent" in out[13].stdout
    assert _withdrawn(out[14].stdout) == share
    fee = build_parser().parse_args(["request", "--rpc-url", url, "--exchange", "e", "--input", "digits:0"]).fee_wei
    assert _withdrawn(out[15].stdout) == 2 * (params.prover_bond + fee)  # two fees and two bonds
    assert _withdrawn(out[16].stdout) == params.challenge_bond + params.prover_bond - share
    after = vcp("vcp withdraw --rpc-url {url} --keystore requester.json --dry-run", work, url)
    assert _owed(after.stdout) == 0


def test_request_without_a_key_is_refused_in_one_line(node):
    url, work = node
    done = vcp("vcp request --rpc-url {url} --exchange exchange --input digits:0", work, url, expect=1)
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1
    assert "--keystore" in done.stderr and "vcp keygen" in done.stderr


@pytest.mark.parametrize("options, message", [
    ("--input digits:0 --count 0", "--count 0: expected at least 1 job"),
    ("--input digits:0 --count -5", "--count -5: expected at least 1 job"),
    ("--input digits:350 --count 20", "--input digits:359: N must be in 0..358"),
    ("--input x.npy --count 2", "--count 2 needs --input digits:K or mnist:K"),
    ("--input digits:+1 --count 2", "--count 2 needs --input digits:K or mnist:K"),
    ("--input digits:\u0661 --count 2", "--count 2 needs --input digits:K or mnist:K"),
    ("--input digits:0 --count 2 --interval -1", "--interval -1.0: expected seconds between 0 and 3600"),
    ("--input digits:0 --count 2 --interval nan", "--interval nan: expected seconds between 0 and 3600"),
    ("--input digits:0 --count 2 --interval inf", "--interval inf: expected seconds between 0 and 3600"),
])
def test_request_count_refuses_bad_options_before_anything_is_sent(node, options, message):
    url, work = node
    done = vcp("vcp request --rpc-url {url} --exchange exchange " + options, work, url, expect=2)
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1 and done.stdout == ""


@pytest.mark.parametrize("option", ["--answer-window 0", "--answer-window -3", "--challenge-window 0",
                                    "--reveal-window 18446744073709551616", "--prover-bond-wei 0"])
def test_deploy_refuses_bad_windows_and_bonds_before_sending_anything(node, option):
    url, work = node
    done = vcp("vcp deploy --rpc-url {url} --deployments refused.json " + option, work, url, expect=2)
    assert option.split()[0] in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (work / "refused.json").exists()


def test_request_count_opens_one_job_per_sample_and_prints_each(node):
    url, work = node
    for who in ("count-operator", "count-requester"):
        vcp(f"vcp keygen --out {who}.json --kdf pbkdf2", work, url)
    vcp("vcp deploy --rpc-url {url} --keystore count-operator.json --deployments count.json", work, url)
    done = vcp("vcp request --rpc-url {url} --keystore count-requester.json --deployments count.json "
               "--exchange exchange --input digits:5 --count 3 --json", work, url)
    jobs = json.loads(done.stdout)["jobs"]
    assert len(jobs) == 3 and len({j["input_commitment"] for j in jobs}) == 3
    assert [j["job_id"] for j in jobs] == list(range(jobs[0]["job_id"], jobs[0]["job_id"] + 3))


def test_cheat_every_needs_a_cheat(node):
    url, work = node
    command = "vcp serve --rpc-url {url} --exchange exchange --state s.json --once --cheat-every 2"
    done = vcp(command, work, url, expect=2)
    assert "--cheat-every needs --cheat" in done.stderr


def test_the_documented_flow_is_the_tested_one():
    doc = (REPO / "docs" / "optimistic.md").read_text()
    block = doc.split("## The whole flow from the command line", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line.split("  #")[0].strip() for line in block.splitlines() if line.startswith("vcp ")]
    assert commands == [NODE.format(port=8545)] + [c.format(url=DOC_URL) for c in FLOW]
    assert f"VCP_KEYSTORE_PASSWORD={PASSWORD}" in block
    params = OptimisticParams()  # the payouts the section states, from the defaults the flow uses
    share = params.prover_bond * (10_000 - params.challenger_reward_bps) // 10_000
    text = " ".join(doc.split())
    assert f"the requester is owed {share / 10**18:g} ETH" in text
    assert f"its {params.challenge_bond / 10**18:g} ETH challenge bond back" in text
    assert f"the slashed {params.prover_bond / 10**18:g} ETH bond" in text


def test_every_cheat_the_cli_offers_is_one_prover_cheats_plays():
    from vcp_toolkit.cli.parser import SERVE_CHEATS
    from vcp_toolkit.prover import cheats

    assert list(SERVE_CHEATS) == list(cheats.SERVE_CHEATS)
    for name in SERVE_CHEATS:
        args = build_parser().parse_args(["serve", "--rpc-url", DOC_URL, "--exchange", "e", "--state", "s",
                                          "--cheat", name])
        assert cheats.CheatPlan(args.cheat)(0) == (name, cheats.SERVE_CHEATS[name])


def test_cheat_plan_lies_on_the_chosen_jobs_only(model):
    from vcp_toolkit.errors import InvalidInput
    from vcp_toolkit.prover import cheats, honest

    plan = cheats.CheatPlan("wrong_output", every=2)
    assert [plan(job_id)[0] for job_id in (1, 2, 3, 4)] == ["", "wrong_output", "", "wrong_output"]
    assert plan(1)[1] is honest
    x = model.quantize_input(np.linspace(-1, 1, model.input_width))
    lie = plan(2)[1](model, x, b"\x01" * 32)
    assert not np.array_equal(lie.trace[-1], honest(model, x, b"\x01" * 32).trace[-1])
    swapped = cheats.SERVE_CHEATS["input_swapped"](model, x, b"\x01" * 32)
    assert not np.array_equal(swapped.trace[0], x)
    with pytest.raises(InvalidInput):
        cheats.CheatPlan("copied_output")
    with pytest.raises(InvalidInput):
        cheats.CheatPlan("wrong_output", every=0)


@pytest.mark.parametrize("name", ["wrong_hidden_layer", "other_weights", "input_swapped", "withheld_trace"])
def test_each_serve_cheat_is_marked_and_slashed(embedded_chain, model, tmp_path, name):
    """The cheats the e2e test does not play, on the embedded chain through the library the CLI calls."""
    import secrets

    from vcp_toolkit.chain.optimistic import JobStatus, OptimisticInference
    from vcp_toolkit.chain.tx import Sender
    from vcp_toolkit.commit.commitments import ModelCommitment
    from vcp_toolkit.ops.exchange import Exchange
    from vcp_toolkit.prover import ProverService, cheats
    from vcp_toolkit.verifier import Watcher

    owner, requester, prover, challenger = (Sender(embedded_chain) for _ in range(4))
    for sender in (owner, requester, prover, challenger):
        sender.ensure_funded()
    params = OptimisticParams(challenge_window=8, reveal_window=3)
    contract, _ = OptimisticInference.deploy(owner, params)
    contract.register_model(owner, ModelCommitment(model))
    exchange = Exchange(tmp_path / "exchange")
    x = model.quantize_input(np.linspace(-1, 1, model.input_width))
    job_id, _ = contract.open_job(requester, ModelCommitment(model).root, exchange.put_input(x, secrets.token_bytes(32)),
                                  10**16)
    service = ProverService(contract, prover, model, exchange, tmp_path / "p.json", plan=cheats.CheatPlan(name))
    watcher = Watcher(contract, challenger, [model], tmp_path / "w.json", exchange)
    assert service.step().cheated == {job_id: name}
    check = watcher.step()
    if name == "withheld_trace":
        assert job_id in check.reveal_requested
        assert service.step().cheated == {job_id: name}  # the ignored reveal request is marked, once
        assert service.step().cheated == {}
        embedded_chain.mine(params.reveal_window + 1)
        check = watcher.step()
        assert job_id in check.slashed_withheld
    else:  # the fraud proof docs/optimistic.md names for this cheat
        fault, outcome = check.challenged[job_id]
        assert outcome.fraud and fault.kind.name == ("INPUT" if name == "input_swapped" else "NEURON")
    assert contract.job(job_id).status == JobStatus.OPEN and contract.credit(requester.address) > 0
    again = service.step()  # the lie is told once: the re-opened job is answered honestly
    assert job_id in again.answered and again.cheated == {}
    assert watcher.step().verified == [job_id]
