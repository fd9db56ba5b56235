"""Nothing lost, nothing landed twice: chain faults (refused, timed out, node restarted with and
without its state, dropped and stuck transactions, nonce gaps, reverts) and process faults
(SIGKILL at random points), each injected and then checked against the chain itself."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from faultproxy import FaultProxy
from vcp_toolkit.prover import Prover
from vcp_toolkit.chain.nodes import LocalNode, RpcChain, free_port
from vcp_toolkit.chain.registry import Registry
from vcp_toolkit.ops.submitter import Submitter, load_any
from vcp_toolkit.chain.tx import Fees, Sender
from vcp_toolkit.commit.commitments import ModelCommitment
from vcp_toolkit.errors import ChainError, ContractReverted
from vcp_toolkit.ops.journal import Journal
from vcp_toolkit.attest.keys import SigningKey
from vcp_toolkit.model.synthetic import random_inputs

pytestmark = [pytest.mark.faults, pytest.mark.chain, pytest.mark.node]
FAST_RETRIES = (0.05, 0.1)
FAULTS: list[str] = []  # what was injected, for the report at the end of the module


class Setup:
    """Anvil, a registry with the demo model, a prover key and N attestation files on disk."""

    def __init__(self, tmp: Path, model, count: int, node_args: tuple[str, ...] = (), port: int | None = None) -> None:
        self.tmp, self.model, self.node_args = tmp, model, node_args
        self.node = LocalNode("anvil", port=port, extra_args=node_args)
        self.port = self.node.port
        self.operator = Sender(self.node)
        self.operator.ensure_funded()
        self.registry, _ = Registry.deploy(self.operator)
        self.registry.register_model(self.operator, ModelCommitment(model).root)
        self.key = SigningKey.generate()
        self.registry.set_prover(self.operator, self.key.address)
        prover = Prover(model, self.key, self.registry.domain)
        self.paths = []
        for i, x in enumerate(random_inputs(model, count, seed=count)):
            path = tmp / f"att-{i}.json"
            prover.prove(x).save(path)
            self.paths.append(path)
        self.journal = Journal(tmp / "journal.sqlite")
        self.submit_key = SigningKey.generate()
        Sender(self.node, self.submit_key.reveal()).ensure_funded()

    def submitter(self, url: str | None = None, timeout_s: float = 5.0, receipt_timeout_s: float = 10.0) -> Submitter:
        chain = RpcChain(url or self.node.rpc_url, timeout_s=timeout_s)
        return Submitter(Registry(chain, self.registry.address), Sender(chain, self.submit_key.reveal()),
                         self.journal, receipt_timeout_s=receipt_timeout_s, retry_delays_s=FAST_RETRIES)

    def landed_once(self) -> None:
        """Every file's digest is what the chain holds for its (prover, nonce); and the submitting
        key sent exactly one mined transaction per attestation (so nothing landed twice)."""
        for path in self.paths:
            loaded = load_any(path)
            assert self.registry.recorded_digest(loaded.prover, loaded.nonce) == bytes.fromhex(loaded.digest[2:])
            assert self.journal.get(loaded.digest).status == "landed"
        sent = self.node.w3.eth.get_transaction_count(Sender(self.node, self.submit_key.reveal()).address)
        assert sent == len(self.paths)

    def close(self) -> None:
        self.journal.close()
        self.node.close()


@pytest.fixture
def setup(tmp_path, model):
    s = Setup(tmp_path, model, 4)
    yield s
    s.close()


def test_connection_refused_then_resumed(setup):
    proxy = FaultProxy(setup.port)
    try:
        submitter = setup.submitter(proxy.url, timeout_s=2)
        submitter.submit(setup.paths[0])
        proxy.set("refuse")
        FAULTS.append("connection refused")
        for path in setup.paths[1:]:
            with pytest.raises(ChainError, match="unreachable"):
                submitter.submit(path)
            entry = setup.journal.get(load_any(path).digest)
            assert entry.status == "pending" and "unreachable" in entry.reason
        proxy.set("pass")
        assert all(e.status == "landed" for e in submitter.resume())
        setup.landed_once()
    finally:
        proxy.close()


def test_timeouts_then_resumed(setup):
    proxy = FaultProxy(setup.port)
    try:
        submitter = setup.submitter(proxy.url, timeout_s=0.5)
        proxy.set("blackhole")
        FAULTS.append("node timing out")
        with pytest.raises(ChainError, match="timed out"):
            submitter.submit(setup.paths[0])
        assert "timed out" in setup.journal.get(load_any(setup.paths[0]).digest).reason
        proxy.set("pass")
        for path in setup.paths:
            submitter.submit(path)
        setup.landed_once()
    finally:
        proxy.close()


def test_dropped_transaction_is_rebroadcast_and_a_stuck_one_replaced_with_a_higher_fee(setup):
    w3 = setup.node.w3
    w3.provider.make_request("evm_setAutomine", [False])
    submitter = setup.submitter(receipt_timeout_s=0.3)
    with pytest.raises(ChainError, match="not mined"):
        submitter.submit(setup.paths[0])
    digest = load_any(setup.paths[0]).digest
    assert setup.journal.get(digest).status == "sent"
    w3.provider.make_request("anvil_dropAllTransactions", [])
    FAULTS.append("dropped transaction")
    # Stuck: still not mined, so resume replaces it with a 25% higher fee (same nonce).
    with pytest.raises(ChainError, match="not mined"):
        submitter.submit(setup.paths[0])
    txs = setup.journal.txs_for(digest)
    assert [t.status for t in txs] == ["replaced", "broadcast"] and txs[1].nonce == txs[0].nonce
    assert txs[1].max_fee > txs[0].max_fee * 1.2
    FAULTS.append("stuck transaction (fee bump)")
    stop = threading.Event()

    def mine() -> None:
        while not stop.is_set():
            w3.provider.make_request("anvil_mine", ["0x1"])
            time.sleep(0.05)

    miner = threading.Thread(target=mine, daemon=True)
    miner.start()
    try:
        submitter.receipt_timeout_s = 10
        for path in setup.paths:
            submitter.submit(path)
    finally:
        stop.set()
        miner.join()
    assert [t.status for t in setup.journal.txs_for(digest)][-1] == "mined"
    setup.landed_once()


def test_a_nonce_taken_by_another_transaction(setup):
    submitter = setup.submitter()
    loaded = load_any(setup.paths[0])
    setup.journal.add(loaded.digest, loaded.kind, setup.paths[0], loaded.chain_id, loaded.registry, loaded.prover,
                      loaded.nonce)
    nonce = setup.node.w3.eth.get_transaction_count(submitter.sender.address)
    signed = submitter.sign(loaded, nonce, Fees(10**10, 10**9))  # signed and journaled; then the process "died"
    # Meanwhile the same key spends that nonce elsewhere (another tool, another machine).
    other = Sender(setup.node, setup.submit_key.reveal())
    other.transact(to=setup.operator.address, data=b"", value=1)
    FAULTS.append("nonce gap")
    for path in setup.paths:
        submitter.submit(path)
    assert [t.status for t in setup.journal.txs_for(loaded.digest)][0] == "failed" and signed.nonce == nonce
    for path in setup.paths:  # the chain holds every attestation, each once
        loaded = load_any(path)
        assert setup.registry.recorded_digest(loaded.prover, loaded.nonce) == bytes.fromhex(loaded.digest[2:])


def test_a_reverting_attestation_is_reported_failed_and_not_retried(setup):
    setup.registry.retire_model(setup.operator, ModelCommitment(setup.model).root)
    submitter = setup.submitter()
    with pytest.raises(ContractReverted, match="RegistryModelNotActive"):
        submitter.submit(setup.paths[0])
    entry = setup.journal.get(load_any(setup.paths[0]).digest)
    assert entry.status == "failed" and "RegistryModelNotActive" in entry.reason
    FAULTS.append("reverted transaction")
    before = setup.node.w3.eth.get_transaction_count(submitter.sender.address)
    assert all(e.status == "failed" for e in submitter.resume() if e.id == entry.id)
    assert setup.node.w3.eth.get_transaction_count(submitter.sender.address) == before


def test_node_restarted_mid_batch_with_its_state(tmp_path, model):
    state = tmp_path / "anvil-state.json"
    s = Setup(tmp_path, model, 6, node_args=("--state", str(state)))
    try:
        submitter = s.submitter()
        for path in s.paths[:3]:
            submitter.submit(path)
        port = s.port
        s.node.close()  # SIGTERM: anvil writes its state
        FAULTS.append("node restarted (state kept)")
        with pytest.raises(ChainError):
            submitter.submit(s.paths[3])
        s.node = LocalNode("anvil", port=port, extra_args=("--state", str(state)))
        s.registry = Registry(s.node, s.registry.address)
        submitter = s.submitter()
        submitter.resume()
        for path in s.paths:
            submitter.submit(path)
        s.landed_once()
    finally:
        s.close()


def test_node_reset_without_state_reports_pending_with_the_reason(tmp_path, model):
    s = Setup(tmp_path, model, 3)
    try:
        (tmp_path / "deployments.json").write_text(json.dumps({str(s.node.chain_id): {"AttestationRegistry": {
            "address": s.registry.address, "tx": "0x", "block": 1, "deployer": s.operator.address,
            "code_keccak": __import__("vcp_toolkit.chain.deployments", fromlist=["x"]).code_keccak(s.node, s.registry.address)}}}))
        s.submitter().submit(s.paths[0])
        port = s.port
        s.node.close()
        s.node = LocalNode("anvil", port=port)  # a fresh chain: the registry is gone
        FAULTS.append("node reset (state lost)")
        env = {**os.environ, "VCP_PRIVATE_KEY": "0x" + s.submit_key.reveal().hex()}
        proc = subprocess.run([sys.executable, "-m", "vcp_toolkit.cli", "resume", "--rpc-url", s.node.rpc_url, "--deployments",
                               str(tmp_path / "deployments.json"), "--journal", str(tmp_path / "journal.sqlite")],
                              capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
        assert proc.returncode == 1 and "not there any more" in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
        for path in s.paths[1:]:
            assert s.journal.get(load_any(path).digest) is None or \
                s.journal.get(load_any(path).digest).status != "landed"
        status = subprocess.run([sys.executable, "-m", "vcp_toolkit.cli", "status", "--journal",
                                 str(tmp_path / "journal.sqlite"), "--json"], capture_output=True, text=True,
                                timeout=60)
        counts = json.loads(status.stdout)["counts"]
        assert counts.get("landed") == 1  # landed before the reset; the files are all still on disk
        assert all(p.exists() for p in s.paths)
    finally:
        s.close()


def test_sigkill_during_a_batch_run_loses_nothing_and_lands_nothing_twice(tmp_path, model):
    """`vcp run` (prove, journal, submit) killed with SIGKILL at random points, then restarted."""
    node = LocalNode("anvil")
    try:
        key = "0x" + "3c" * 32
        env = {**os.environ, "VCP_PRIVATE_KEY": key}
        cli = [sys.executable, "-m", "vcp_toolkit.cli"]
        deploy = subprocess.run([*cli, "deploy", "--rpc-url", node.rpc_url, "--deployments", str(tmp_path / "d.json"),
                                 "--prover", SigningKey(bytes.fromhex(key[2:])).address, "--json"],
                                capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
        assert deploy.returncode == 0, deploy.stderr
        run = [*cli, "run", "--inputs", "digits:0-40", "--rpc-url", node.rpc_url, "--deployments",
               str(tmp_path / "d.json"), "--out", str(tmp_path / "out"), "--journal", str(tmp_path / "j.sqlite")]
        rng = random.Random(7)
        kills = 0
        for _ in range(8):
            proc = subprocess.Popen(run, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(rng.uniform(1.0, 3.0))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait()
        final = subprocess.run(run, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert final.returncode == 0, final.stderr
        FAULTS.append(f"SIGKILL of `vcp run` x{kills}")
        registry = Registry(node, json.loads(deploy.stdout)["registry"])
        journal = Journal(tmp_path / "j.sqlite")
        try:
            assert journal.counts() == {"landed": 40}
        finally:
            journal.close()
        for i in range(40):
            loaded = load_any(tmp_path / "out" / f"input-{i}.json")
            assert registry.recorded_digest(loaded.prover, loaded.nonce) == bytes.fromhex(loaded.digest[2:])
        # The key pays for the deploy (1 + register 1 + authorise 1 + TransformerOperators 1 + GraphOperators 1 + optimistic
        # deploy 1 + register 1 + DataAnchor 1 + BlobAnchor 1, Anvil carrying blobs) and one transaction per
        # attestation: any duplicate would show up here.
        sent = node.w3.eth.get_transaction_count(SigningKey(bytes.fromhex(key[2:])).address)
        assert sent == 9 + 40
        assert kills >= 1  # how many runs were cut depends on the machine's speed; each cut is a real SIGKILL
    finally:
        node.close()


def test_sigkill_of_the_watcher_misses_no_cheat_and_challenges_none_twice(tmp_path, model):
    from vcp_toolkit.prover import cheats
    from vcp_toolkit.chain.optimistic import OptimisticInference
    from vcp_toolkit.ops.exchange import Exchange

    node = LocalNode("anvil")
    try:
        key = "0x" + "4d" * 32
        env = {**os.environ, "VCP_PRIVATE_KEY": key}
        cli = [sys.executable, "-m", "vcp_toolkit.cli"]
        deploy = subprocess.run([*cli, "deploy", "--rpc-url", node.rpc_url, "--deployments", str(tmp_path / "d.json"),
                                 "--challenge-window", "500", "--json"], capture_output=True, text=True, timeout=300,
                                env=env, cwd=tmp_path)
        assert deploy.returncode == 0, deploy.stderr
        contract = OptimisticInference(node, json.loads(deploy.stdout)["optimistic"])
        exchange = Exchange(tmp_path / "exchange")
        requester, cheater = Sender(node), Sender(node)
        requester.ensure_funded()
        cheater.ensure_funded()
        from vcp_toolkit.prover import ProverService

        service = ProverService(contract, cheater, model, exchange, tmp_path / "cheater.json", cheats.wrong_output)
        watch = [*cli, "watch", "--rpc-url", node.rpc_url, "--deployments", str(tmp_path / "d.json"), "--exchange",
                 str(tmp_path / "exchange"), "--state", str(tmp_path / "watcher.json"), "--interval", "0.2"]
        rng = random.Random(3)
        jobs, kills = [], 0
        inputs = random_inputs(model, 12, seed=5)
        for round_ in range(4):
            proc = subprocess.Popen(watch, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for x in inputs[3 * round_:3 * round_ + 3]:
                jobs.append(contract.open_job(requester, ModelCommitment(model).root,
                                              exchange.put_input(x, os.urandom(32)), 10**15)[0])
                service.step()
                time.sleep(rng.uniform(0.1, 0.8))
            proc.send_signal(signal.SIGKILL)
            kills += 1
            proc.wait()
        for _ in range(10):  # restart until the watcher has caught up
            subprocess.run([*watch, "--once"], env=env, cwd=tmp_path, capture_output=True, timeout=300)
            if all(contract.job(j).status == 1 for j in jobs):  # every cheat slashed: jobs re-opened
                break
        FAULTS.append(f"SIGKILL of `vcp watch` x{kills}")
        latest = node.w3.eth.block_number
        answered = [log["args"]["jobId"] for log in contract.events("ResultSubmitted", 0, latest)]
        proven = [log["args"]["jobId"] for log in contract.events("FraudProven", 0, latest)]
        # The cheater answers re-opened jobs again (and lies again): every wrong answer, and only
        # those, is slashed exactly once; none is missed, none challenged twice, none in vain.
        assert set(answered) == set(jobs) and sorted(proven) == sorted(answered)
        assert not contract.events("ChallengeFailed", 0, latest)
        assert all(contract.job(j).status == 1 for j in jobs)
    finally:
        node.close()


def test_report_faults_survived():
    """Not a check of its own: prints what this module injected (for the closing note)."""
    print(f"faults injected and survived: {len(FAULTS)}: {', '.join(FAULTS)}")
