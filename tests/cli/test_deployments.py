"""Deployments kept per chain and per contract set: a second `vcp deploy` adds a set beside the
first and says so, attestations made for the first keep verifying and landing against their own
registry, and one made for a registry nobody recorded is refused naming its address. Also what
`vcp run` and `vcp status` report: this run's work, and paths that tell two att.json apart."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from vcp_toolkit.chain import deployments
from vcp_toolkit.chain.deploy import deploy_contracts
from vcp_toolkit.chain.nodes import EmbeddedChain, LocalNode
from vcp_toolkit.chain.tx import Sender
from vcp_toolkit.attest.keys import SigningKey
from vcp_toolkit.errors import DeploymentNotFound, InvalidInput

KEY = "0x" + "4b" * 32
UNKNOWN_REGISTRY = "0x" + "5a" * 20


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    def error(self) -> str:
        lines = self.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in self.stderr, self.stderr
        return lines[0]


@pytest.fixture
def cli(capsys, monkeypatch, tmp_path):
    """``vcp`` in this process, in ``tmp_path``, with only the given VCP_ variables set."""
    from vcp_toolkit.cli import main

    for name in list(os.environ):
        if name.startswith("VCP_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", open(os.devnull))

    def run(*args, key: str | None = KEY) -> Result:
        if key:
            monkeypatch.setenv("VCP_PRIVATE_KEY", key)
        else:
            monkeypatch.delenv("VCP_PRIVATE_KEY", raising=False)
        capsys.readouterr()
        code = main([str(a) for a in args])
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    return run


# ---------------------------------------------------------------- the file, through the library


def _deploy(chain, path: Path, key: bytes | None = None):
    from vcp_toolkit.model.builtin import demo_model

    sender = Sender(chain, key)
    chain.fund(sender.address)
    return deploy_contracts(sender, demo_model(), deployments_path=path)


@pytest.mark.chain
def test_a_second_deploy_keeps_the_first_set(tmp_path):
    path = tmp_path / "deployments.json"
    with EmbeddedChain() as chain:
        first = _deploy(chain, path)
        assert first.previous_sets == ()
        second = _deploy(chain, path)
        third = _deploy(chain, path)
        assert third.previous_sets == (second.registry, first.registry)  # newest first
        assert deployments.registries(path, chain.chain_id) == [third.registry, second.registry, first.registry]
        for d in (first, second, third):
            assert deployments.lookup(path, chain, "AttestationRegistry", d.registry).address == d.registry
            assert deployments.lookup(path, chain, "OptimisticInference", d.registry).address == d.optimistic
            # any spelling of the address finds the same set
            assert deployments.lookup(path, chain, "OptimisticInference", d.registry.lower()).address == d.optimistic
        assert deployments.lookup(path, chain, "AttestationRegistry").address == third.registry  # current
        with pytest.raises(DeploymentNotFound, match=f"AttestationRegistry {UNKNOWN_REGISTRY[:4]}") as info:
            deployments.lookup(path, chain, "AttestationRegistry", UNKNOWN_REGISTRY)
        assert "--deployments" in str(info.value)
    data = json.loads(path.read_text())[str(chain.chain_id)]
    assert data["AttestationRegistry"]["address"] == third.registry  # readers of the old layout see the current set
    assert list(data["previous"]) == [first.registry, second.registry]


@pytest.mark.chain
def test_a_redeploy_at_the_same_address_on_a_reset_chain_replaces_that_set(tmp_path):
    """A dev node restarted with the same deployer key gives the same addresses: the old set is gone
    from the chain, so the new one takes its place rather than piling up beside it."""
    path = tmp_path / "deployments.json"
    key = bytes.fromhex(KEY[2:])
    with EmbeddedChain() as chain:
        old = _deploy(chain, path, key)
    with EmbeddedChain() as chain:
        new = _deploy(chain, path, key)
        assert new.registry == old.registry and new.previous_sets == ()
        assert deployments.registries(path, chain.chain_id) == [new.registry]
        assert deployments.lookup(path, chain, "OptimisticInference", new.registry).address == new.optimistic


@pytest.mark.chain
def test_a_file_from_before_sets_still_loads(tmp_path):
    path = tmp_path / "deployments.json"
    with EmbeddedChain() as chain:
        d = _deploy(chain, tmp_path / "scratch.json")
        entry = {"address": d.registry, "tx": "0x01", "block": 1, "deployer": d.owner,
                 "code_keccak": deployments.code_keccak(chain, d.registry)}
        path.write_text(json.dumps({str(chain.chain_id): {"AttestationRegistry": entry}}))
        assert deployments.lookup(path, chain, "AttestationRegistry", d.registry).address == d.registry
        assert deployments.registries(path, chain.chain_id) == [d.registry]
        again = _deploy(chain, path)
        assert again.previous_sets == (d.registry,)
        assert deployments.lookup(path, chain, "AttestationRegistry", d.registry).address == d.registry


@pytest.mark.parametrize("previous", ['[]', '{"0x1": {}}', '{"%s": []}' % UNKNOWN_REGISTRY, '"x"'])
def test_a_malformed_previous_is_a_clear_error(tmp_path, previous):
    path = tmp_path / "deployments.json"
    path.write_text('{"31337": {"previous": %s}}' % previous)
    with pytest.raises(InvalidInput, match="deployments file"):
        deployments.registries(path, 31337)
    with pytest.raises(InvalidInput, match="deployments file"):
        deployments.record(path, 31337, "AttestationRegistry", deployments.Deployment(
            address=UNKNOWN_REGISTRY, tx="0x", block=1, deployer=UNKNOWN_REGISTRY, code_keccak="0x"))
    assert json.loads(path.read_text()) == {"31337": {"previous": json.loads(previous)}}  # left as it was


# ---------------------------------------------------------------- the CLI on Anvil


@pytest.fixture(scope="module")
def node():
    with LocalNode("anvil") as n:
        yield n


def _registry_of(att: Path) -> str:
    return json.loads(att.read_text())["domain"]["verifyingContract"]


@pytest.mark.chain
@pytest.mark.node
def test_attestations_keep_verifying_after_a_redeploy(cli, node, tmp_path):
    prover = SigningKey(bytes.fromhex(KEY[2:])).address
    dep = ("--rpc-url", node.rpc_url, "--deployments", "d.json")
    res = cli("deploy", *dep, "--prover", prover)
    assert res.returncode == 0, res.stderr
    assert "previous set kept" not in res.stdout
    assert cli("prove", *dep, "--input", "digits:1", "--out", "a/att.json").returncode == 0
    first = _registry_of(tmp_path / "a/att.json")
    res = cli("deploy", *dep, "--prover", prover)
    assert res.returncode == 0, res.stderr
    assert f"previous set kept: AttestationRegistry {first} in d.json" in res.stdout
    assert cli("prove", *dep, "--input", "digits:2", "--out", "b/att.json").returncode == 0
    second = _registry_of(tmp_path / "b/att.json")
    assert second != first
    sets = json.loads((tmp_path / "d.json").read_text())[str(node.chain_id)]
    assert sets["AttestationRegistry"]["address"] == second and set(sets["previous"]) == {first}
    for att in ("a/att.json", "b/att.json"):
        res = cli("verify", att, *dep)
        assert res.returncode == 1 and "not recorded on-chain" in res.error()  # its own registry was asked
        res = cli("submit", att, *dep)
        assert res.returncode == 0, res.stderr
        res = cli("verify", att, *dep)
        assert res.returncode == 0 and "recorded on-chain" in res.stdout, res.stderr
    res = cli("deploy", *dep, "--prover", prover, "--json")
    assert json.loads(res.stdout)["previous_sets"] == [second, first]


@pytest.mark.chain
@pytest.mark.node
def test_an_attestation_for_an_unrecorded_registry_is_refused_naming_it(cli, node, tmp_path):
    from eth_utils import to_checksum_address

    dep = ("--rpc-url", node.rpc_url, "--deployments", "d.json")
    assert cli("deploy", *dep).returncode == 0
    res = cli("prove", "--chain-id", node.chain_id, "--registry", UNKNOWN_REGISTRY, "--input", "digits:3",
              "--out", "att.json")
    assert res.returncode == 0, res.stderr
    address = to_checksum_address(UNKNOWN_REGISTRY)
    res = cli("submit", "att.json", *dep)
    assert res.returncode == 1 and f"AttestationRegistry {address}" in res.error() and "d.json" in res.error()
    res = cli("verify", "att.json", *dep)
    assert res.returncode == 3 and f"AttestationRegistry {address}" in res.error()


@pytest.mark.chain
@pytest.mark.node
def test_run_reports_this_run_not_the_journal(cli, node, tmp_path):
    prover = SigningKey(bytes.fromhex(KEY[2:])).address
    dep = ("--rpc-url", node.rpc_url, "--deployments", "d.json")
    assert cli("deploy", *dep, "--prover", prover).returncode == 0
    res = cli("run", "--inputs", "digits:0-3", *dep, "--out", "runs")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["inputs 0..2, this run: proved 3, landed 3, already landed 0, failed 0",
                                       "journal, all runs: landed 3"]
    res = cli("run", "--inputs", "digits:1-5", *dep, "--out", "runs")
    assert res.stdout.splitlines() == ["inputs 1..4, this run: proved 2, landed 2, already landed 2, failed 0",
                                       "journal, all runs: landed 5"]
    # a fresh journal: the files are kept (not proved again) and the chain says they landed
    res = cli("run", "--inputs", "digits:0-2", *dep, "--out", "runs", "--journal", "other.sqlite")
    assert res.stdout.splitlines()[0] == "inputs 0..1, this run: proved 0, landed 0, already landed 2, failed 0"
    # a key the registry does not authorise: each attestation reverts, is counted failed, and the run goes on
    res = cli("run", "--inputs", "digits:0-2", *dep, "--out", "unauthorised", "--journal", "other.sqlite",
              key="0x" + "4c" * 32)
    assert res.returncode == 1
    assert res.stdout.splitlines() == ["inputs 0..1, this run: proved 2, landed 0, already landed 0, failed 2",
                                       "journal, all runs: failed 2, landed 2"]


def test_status_shows_paths_that_tell_files_apart(cli, tmp_path, tmp_path_factory):
    offline = ("--chain-id", 31337, "--registry", UNKNOWN_REGISTRY)
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "att.json"
    for i, out in enumerate(("a/att.json", "b/att.json", elsewhere)):
        res = cli("prove", *offline, "--input", f"digits:{i}", "--out", out)
        assert res.returncode == 0, res.stderr
    res = cli("status")
    assert res.returncode == 0, res.stderr
    lines = [line for line in res.stdout.splitlines() if line.startswith("pending")]
    assert [line.rsplit(" ", 1)[1] for line in lines] == ["a/att.json", "b/att.json", str(elsewhere.resolve())]
    assert res.stdout.splitlines()[0] == "attestations: pending 3"


@pytest.mark.chain
@pytest.mark.node
def test_resume_lands_what_was_made_for_every_set_and_names_what_it_cannot(cli, node, tmp_path):
    from eth_utils import to_checksum_address

    prover = SigningKey(bytes.fromhex(KEY[2:])).address
    dep = ("--rpc-url", node.rpc_url, "--deployments", "d.json")
    for out in ("a/att.json", "b/att.json"):  # one attestation per set, journaled, not sent
        assert cli("deploy", *dep, "--prover", prover).returncode == 0
        assert cli("prove", *dep, "--input", "digits:4", "--out", out).returncode == 0
    assert cli("prove", "--chain-id", node.chain_id, "--registry", UNKNOWN_REGISTRY, "--input", "digits:4",
               "--out", "c/att.json").returncode == 0
    res = cli("resume", *dep)
    assert res.returncode == 1, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith("2 of 2 resumed attestation(s) landed; journal, all runs: landed 2, pending 1")
    assert lines[1].startswith(f"1 attestation(s) for registry {to_checksum_address(UNKNOWN_REGISTRY)} not resumed: "
                               "no contract set")
    for att in ("a/att.json", "b/att.json"):
        res = cli("verify", att, *dep)
        assert res.returncode == 0 and "recorded on-chain" in res.stdout, res.stderr
