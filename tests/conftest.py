"""Shared fixtures: chains (embedded always; Anvil and Ganache started from node_modules), a
funded sender, a deployed registry with the demo model registered, and a prover key.

The session never touches the user's own state: every default path of the CLI (the journal
.vcp/journal.sqlite, .vcp/demo, .vcp/bench, deployments.json) is relative to the working
directory, so the session runs in a temporary one (and so does every `vcp` it starts), and it
fails at the end if the repository's .vcp/ or deployments.json changed."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# One EZKL cache (keys, SRS, verifiers; keyed by model root) for every test and every `vcp` the
# tests start, so each circuit is set up once per machine rather than once per test. Always the
# tests' own cache, never one the user pointed VCP_ZK_CACHE at.
os.environ["VCP_ZK_CACHE"] = str(Path(tempfile.gettempdir()) / "vcp-test-zk-cache")

from vcp_toolkit.chain.nodes import Chain, open_chain
from vcp_toolkit.chain.registry import Registry
from vcp_toolkit.chain.tx import Sender
from vcp_toolkit.commit.commitments import ModelCommitment
from vcp_toolkit.attest.keys import SigningKey
from vcp_toolkit.model.builtin import demo_model

CHAIN_KINDS = ("embedded", "anvil", "ganache")
USER_STATE = (".vcp", "deployments.json")  # what the CLI writes by default, relative to the cwd


def user_state(root: Path = REPO) -> dict[str, tuple[bool, int, int]]:
    """(is a directory, size, mtime) of every path of the user's state under ``root``."""
    state = {}
    for name in USER_STATE:
        top = root / name
        for path in [top, *(top.rglob("*") if top.is_dir() else ())]:
            if path.exists() or path.is_symlink():
                st = path.lstat()
                state[str(path.relative_to(root))] = (path.is_dir(), 0 if path.is_dir() else st.st_size, st.st_mtime_ns)
    return state


def describe_change(before: dict, after: dict) -> str:
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    return ", ".join(changed[:10])


@pytest.fixture(scope="session", autouse=True)
def isolated_cwd(tmp_path_factory):
    """Run the session (and every subprocess it starts without a cwd) in a temporary directory,
    and check at the end that the repository's .vcp/ (the user's journal) was not touched."""
    before = user_state()
    work = tmp_path_factory.mktemp("cwd")
    previous = os.getcwd()
    os.chdir(work)
    try:
        yield work
    finally:
        os.chdir(previous)
    after = user_state()
    assert after == before, f"the test session touched the user's state in {REPO}: {describe_change(before, after)}"


@pytest.fixture(scope="session")
def model():
    return demo_model()


@pytest.fixture(scope="session")
def model_commitment(model):
    return ModelCommitment(model)


@pytest.fixture
def embedded_chain():
    with open_chain("embedded") as chain:
        yield chain


@pytest.fixture(scope="module", params=CHAIN_KINDS)
def any_chain(request) -> Chain:
    """Each test using this runs on all three chains; the node lives for the module."""
    with open_chain(request.param) as chain:
        yield chain


def deploy_registry(chain: Chain, model_commitment: ModelCommitment) -> tuple[Registry, Sender, SigningKey]:
    operator = Sender(chain)
    operator.ensure_funded()
    registry, _ = Registry.deploy(operator)
    registry.register_model(operator, model_commitment.root)
    prover_key = SigningKey.generate()
    registry.set_prover(operator, prover_key.address)
    return registry, operator, prover_key


@pytest.fixture
def registry_setup(embedded_chain, model_commitment):
    """(registry, operator sender, authorised prover key) on a fresh embedded chain."""
    return deploy_registry(embedded_chain, model_commitment)


# ---------------------------------------------------------------- the packaged wheel (tests/wheelenv.py)


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built as pip would from what a fresh clone holds."""
    from wheelenv import build_wheel

    return build_wheel(tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def installed(wheel, tmp_path_factory) -> tuple[Path, Path, dict[str, str]]:
    """(venv, a working directory outside the repository, the environment to run them in)."""
    from wheelenv import fresh_venv, user_env

    root = tmp_path_factory.mktemp("installed")
    venv = fresh_venv(root, wheel)
    (root / "work").mkdir()
    return venv, root / "work", user_env(venv)


# ---------------------------------------------------------------- the tiny ViT (issue 13)


@pytest.fixture(scope="session")
def vit_integer():
    """The built-in tiny ViT (vcp_toolkit/model/builtin/vit.onnx) as its integer model, calibrated on
    the first 256 MNIST train images: imported once per session (it takes a second or two)."""
    from vcp_toolkit.model.graph.vit_import import builtin_vit_path, calibration_images, import_vit

    return import_vit(builtin_vit_path(), calibration_images())
