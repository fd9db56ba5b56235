"""`--exchange calldata:` and `--exchange blobs:` from the command line: the chain itself as the only
store. `vcp deploy` records a DataAnchor and, on a chain with blobs, a BlobAnchor; the requester
publishes the input and the prover its bundle (one transaction each, in calldata or in blobs); the
watcher, with no key spent on publishing, fetches both from the chain and proves a lie."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vcp_toolkit.chain.nodes import LocalNode

pytestmark = [pytest.mark.node, pytest.mark.chain]
PASSWORD = "calldata-flow-password"


def vcp(cwd: Path, *argv: str, expect: int = 0) -> subprocess.CompletedProcess:
    env = {**{k: v for k, v in os.environ.items() if k != "VCP_PRIVATE_KEY"}, "VCP_KEYSTORE_PASSWORD": PASSWORD}
    done = subprocess.run([sys.executable, "-m", "vcp_toolkit.cli", *argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == expect, f"vcp {' '.join(argv)}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr
    return done


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    work = tmp_path_factory.mktemp("calldata-flow")
    with LocalNode("anvil") as node:
        for who in ("operator", "requester", "prover", "watcher"):
            vcp(work, "keygen", "--out", f"{who}.json", "--kdf", "pbkdf2")
        out = vcp(work, "deploy", "--rpc-url", node.rpc_url, "--keystore", "operator.json").stdout
        assert "DataAnchor at 0x" in out and "BlobAnchor at 0x" in out  # Anvil runs Osaka: it carries blobs
        yield work, node.rpc_url


@pytest.mark.parametrize("store, where", [("calldata:", "calldata of DataAnchor 0x"),
                                          ("blobs:", "blobs bound by BlobAnchor 0x")])
def test_a_lie_is_proven_from_data_found_only_on_chain(deployed, store, where):
    work, rpc = deployed
    node = ["--rpc-url", rpc, "--exchange", store]
    opened = vcp(work, "request", *node, "--keystore", "requester.json", "--input", "digits:3").stdout
    assert f"input published in {where}" in opened
    job = opened.split()[1]
    served = vcp(work, "serve", *node, "--keystore", "prover.json", "--state", f"p-{store[:-1]}.json", "--once",
                 "--cheat", "wrong_hidden_layer").stdout
    assert f"job {job}: answered" in served and "CHEAT" in served
    watched = vcp(work, "watch", *node, "--keystore", "watcher.json", "--state", f"w-{store[:-1]}.json",
                  "--once").stdout
    assert f"job {job}: " in watched and "fraud proven, prover slashed" in watched
    assert not list(work.glob("calldata*"))  # nothing went to a folder of that name


@pytest.mark.parametrize("spec, message", [
    ("calldata:0x1234", "--exchange calldata:ADDRESS"),
    ("calldata:0x" + "12" * 20, "is not a DataAnchor (no code)"),
    ("blobs:0x" + "12" * 20, "is not a BlobAnchor (no code)"),
    ("calldata", "reads like the on-chain store calldata"),
    (" calldata:", "reads like the on-chain store calldata"),
    ("calldata\uff1a", "reads like the on-chain store calldata"),
    ("calldata\u200b:", "reads like the on-chain store calldata"),
    ("CALLDATA", "reads like the on-chain store calldata"),
])
def test_bad_on_chain_store_names_are_refused_in_one_line(deployed, spec, message):
    work, rpc = deployed
    done = vcp(work, "watch", "--rpc-url", rpc, "--exchange", spec, "--keystore", "watcher.json", "--state", "x.json",
               "--once", expect=2)
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_deployment_without_an_anchor_is_told_what_to_pass(deployed, tmp_path):
    """A deployments file from before vcp deployed a DataAnchor: the advice is calldata:0xADDRESS,
    not a redeploy (which would strand the jobs of the recorded contracts)."""
    work, rpc = deployed
    recorded = json.loads((work / "deployments.json").read_text())
    for contract_set in recorded.values():  # chainId -> the current set (and "previous" sets)
        contract_set.pop("DataAnchor")
    (tmp_path / "deployments.json").write_text(json.dumps(recorded))
    for key in ("watcher.json",):
        (tmp_path / key).write_bytes((work / key).read_bytes())
    done = vcp(tmp_path, "watch", "--rpc-url", rpc, "--exchange", "calldata:", "--keystore", "watcher.json",
               "--state", "x.json", "--once", expect=1)
    assert "records no DataAnchor" in done.stderr and "calldata:0xADDRESS" in done.stderr
    assert "DataAnchor" in (work / "deployments.json").read_text()  # the fixture's own file is untouched


def test_exchange_put_refuses_an_on_chain_store(tmp_path):
    (tmp_path / "blob").write_bytes(b"x")
    done = vcp(tmp_path, "exchange", "put", "blob", "--store", "calldata:", expect=2)
    assert "is an on-chain store" in done.stderr


def test_a_folder_named_like_the_store_is_still_a_folder(tmp_path):
    (tmp_path / "calldata").mkdir()
    (tmp_path / "blob").write_bytes(b"kept")
    done = vcp(tmp_path, "exchange", "put", "blob", "--store", "calldata")
    assert len(list((tmp_path / "calldata").rglob("*"))) >= 1 and done.returncode == 0
