"""What the commands do is callable from Python with one import: the deploy step of `vcp deploy`,
and the proving steps of `vcp prove` / `vcp run`, without the CLI."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from vcp_toolkit.chain import deployments
from vcp_toolkit.chain.deploy import Deployed, deploy_contracts
from vcp_toolkit.chain.nodes import EmbeddedChain
from vcp_toolkit.chain.optimistic import OptimisticInference, OptimisticParams
from vcp_toolkit.chain.registry import Registry
from vcp_toolkit.chain.tx import Sender
from vcp_toolkit.commit.commitments import ModelCommitment


@pytest.fixture(scope="module")
def model():
    from vcp_toolkit.model.builtin import demo_model

    return demo_model()


@pytest.mark.chain
def test_deploy_contracts_on_the_embedded_chain(model, tmp_path):
    path = tmp_path / "deployments.json"
    with EmbeddedChain() as chain:
        sender = Sender(chain)
        chain.fund(sender.address)
        prover = Sender(chain).address
        deployed = deploy_contracts(sender, model, [prover], OptimisticParams(challenge_window=7),
                                    deployments_path=path)
        assert isinstance(deployed, Deployed)
        with pytest.raises(dataclasses.FrozenInstanceError):
            deployed.registry = "0x0"  # type: ignore[misc]
        assert deployed.model_root == "0x" + ModelCommitment(model).root.hex()
        assert deployed.provers == (prover,) and len(deployed.authorize_gas) == 1 and deployed.zk is None
        assert min(deployed.deploy_gas, deployed.deploy_gas_optimistic, deployed.register_gas) > 0
        registry = Registry(chain, deployed.registry)
        assert registry.is_prover(prover) and registry.owner() == sender.address
        assert OptimisticInference(chain, deployed.optimistic).params.challenge_window == 7
        assert deployments.lookup(path, chain, "AttestationRegistry").address == deployed.registry
        assert deployments.lookup(path, chain, "OptimisticInference").address == deployed.optimistic
        out = deployed.as_dict()
        assert out["provers"] == [prover] and out["zk"] is None and out["chain_id"] == chain.chain_id


def test_prove_range_writes_and_journals_each_file_once(model, tmp_path):
    from vcp_toolkit.prover import Prover
    from vcp_toolkit.attest.eip712 import Domain
    from vcp_toolkit.attest.keys import SigningKey
    from vcp_toolkit.ops.landing import journal_file, prove_range
    from vcp_toolkit.ops.journal import Journal

    prover = Prover(model, SigningKey.generate(), Domain(31337, "0x" + "11" * 20))
    samples = np.random.default_rng(0).random((3, model.input_width))  # float inputs
    with Journal(tmp_path / "j.sqlite") as journal:
        paths = prove_range(prover, samples, range(3), tmp_path / "out", journal)
        first = [p.read_bytes() for p in paths]
        again = prove_range(prover, samples, range(3), tmp_path / "out", journal)  # a rerun keeps the files
        assert again == paths and [p.read_bytes() for p in paths] == first
        assert journal.counts() == {"pending": 3}
    assert journal_file(tmp_path / "j.sqlite", paths[0]).status == "pending"
