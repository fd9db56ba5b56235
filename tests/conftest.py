"""Shared fixtures: chains (embedded always; Anvil and Ganache started from node_modules), a
funded sender, a deployed registry with the demo model registered, and a prover key."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# One EZKL cache (keys, SRS, verifiers; keyed by model root) for every test and every `vcp` the
# tests start, so each circuit is set up once per machine rather than once per test.
os.environ.setdefault("VCP_ZK_CACHE", str(Path(tempfile.gettempdir()) / "vcp-test-zk-cache"))

from vcp.chain.nodes import Chain, open_chain
from vcp.chain.registry import Registry
from vcp.chain.tx import Sender
from vcp.commitments import ModelCommitment
from vcp.keys import SigningKey
from vcp.models import demo_model

CHAIN_KINDS = ("embedded", "anvil", "ganache")


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
