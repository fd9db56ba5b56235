"""Deploy everything a model needs on one chain: the AttestationRegistry (model registered, provers
authorised), the OptimisticInference contract (model registered), a DataAnchor (calldata data
availability), a BlobAnchor where the chain carries blobs and, optionally, the model's zk verifier; each contract recorded in the deployments
file for later commands to find.

    from vcp_toolkit.chain.deploy import deploy_contracts
    deployed = deploy_contracts(sender, model, provers=["0x.."], deployments_path=Path("deployments.json"))
    deployed.registry, deployed.optimistic, deployed.deploy_gas
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

from vcp_toolkit.chain import deployments
from vcp_toolkit.chain.anchor import DataAnchor
from vcp_toolkit.chain.blob_anchor import BlobAnchor, require_blobs
from vcp_toolkit.chain.optimistic import OptimisticInference, OptimisticParams
from vcp_toolkit.chain.registry import Registry
from vcp_toolkit.chain.tx import Sender, TxOutcome
from vcp_toolkit.commit.commitments import ModelCommitment
from vcp_toolkit.errors import BlobsUnsupported
from vcp_toolkit.model.quantize import QuantizedModel

__all__ = ["Deployed", "ZkVerifierDeployment", "deploy_contracts", "deploy_zk_verifier"]


@dataclass(frozen=True)
class ZkVerifierDeployment:
    """The model's EZKL verifier, deployed and registered with the registry."""

    verifier: str
    deploy_gas: int
    srs: str  # "local, UNSAFE for production" or the SRS file used


@dataclass(frozen=True)
class Deployed:
    """Where everything landed and what it cost."""

    chain_id: int
    registry: str
    optimistic: str
    owner: str
    deploy_gas: int
    deploy_gas_optimistic: int
    model_root: str  # 0x-prefixed hex
    register_gas: int
    provers: tuple[str, ...]
    authorize_gas: tuple[int, ...]
    zk: ZkVerifierDeployment | None = None
    # The registries of the sets deployed on this chain before, newest first: kept in the
    # deployments file, so attestations made for them still verify.
    previous_sets: tuple[str, ...] = ()
    # DataAnchor: where `--exchange calldata:` publishes (contracts/src/DataAnchor.sol).
    data_anchor: str = ""
    deploy_gas_data_anchor: int = 0
    # BlobAnchor: where `--exchange blobs:` publishes; only on a chain that carries blobs ("" elsewhere).
    blob_anchor: str = ""
    deploy_gas_blob_anchor: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (lists for tuples, a dict or None for zk)."""
        out = asdict(self)
        out["provers"], out["authorize_gas"] = list(self.provers), list(self.authorize_gas)
        out["previous_sets"] = list(self.previous_sets)
        return out


def _record(path: Path | None, sender: Sender, name: str, address: str, tx: TxOutcome, registry: str) -> None:
    """Record ``name`` in the set of ``registry`` (a registry starts a new set; earlier sets are kept)."""
    if path is None:
        return
    chain = sender.chain
    deployments.record(path, chain.chain_id, name, deployments.Deployment(
        address=address, tx=tx.tx_hash, block=tx.block_number, deployer=sender.address,
        code_keccak=deployments.code_keccak(chain, address)), registry=registry)


def deploy_zk_verifier(sender: Sender, registry: Registry, model: QuantizedModel, srs: Path | None = None,
                       model_root: bytes | None = None) -> ZkVerifierDeployment:
    """Set up the model's EZKL circuit (cached), deploy its verifier and register it for the
    model's root (pass ``model_root`` if you have it: hashing every neuron is the slow part).
    Needs ``pip install 'vcp-toolkit[zk]'``."""
    from vcp_toolkit import zk

    circuit = zk.prepare_circuit(model, srs=srs)
    tx = registry.deploy_zk_verifier(sender, circuit.verifier_bytecode)
    root = ModelCommitment(model).root if model_root is None else model_root
    registry.set_zk_verifier(sender, root, tx.contract_address, circuit.input_scale,
                             circuit.in_width, circuit.out_width)
    return ZkVerifierDeployment(verifier=tx.contract_address, deploy_gas=tx.gas_used,
                                srs="local, UNSAFE for production" if circuit.srs_unsafe else str(circuit.srs_path))


def deploy_contracts(sender: Sender, model: QuantizedModel, provers: Sequence[str] = (),
                     params: OptimisticParams = OptimisticParams(), deployments_path: Path | None = None,
                     zk: bool = False, srs: Path | None = None) -> Deployed:
    """Deploy the registry (register ``model``, authorise ``provers``), then OptimisticInference
    (register ``model``), then with ``zk`` the model's verifier; ``sender`` owns them all. With
    ``deployments_path``, each contract is recorded there as soon as it is deployed, as a new
    contract set beside the sets deployed on this chain before."""
    registry, tx = Registry.deploy(sender)
    _record(deployments_path, sender, "AttestationRegistry", registry.address, tx, registry.address)
    commitment = ModelCommitment(model)
    reg_tx = registry.register_model(sender, commitment.root)
    prover_gas = tuple(registry.set_prover(sender, p).gas_used for p in provers)
    optimistic, opt_tx = OptimisticInference.deploy(sender, params)
    _record(deployments_path, sender, "OptimisticInference", optimistic.address, opt_tx, registry.address)
    optimistic.register_model(sender, commitment)
    anchor, anchor_tx = DataAnchor.deploy(sender)
    _record(deployments_path, sender, "DataAnchor", anchor.address, anchor_tx, registry.address)
    blobs = _deploy_blob_anchor(sender, deployments_path, registry.address)
    zk_info = deploy_zk_verifier(sender, registry, model, srs, commitment.root) if zk else None
    return Deployed(chain_id=sender.chain.chain_id, registry=registry.address, optimistic=optimistic.address,
                    owner=sender.address, deploy_gas=tx.gas_used, deploy_gas_optimistic=opt_tx.gas_used,
                    model_root="0x" + commitment.root.hex(), register_gas=reg_tx.gas_used, provers=tuple(provers),
                    authorize_gas=prover_gas, zk=zk_info, previous_sets=_previous_sets(deployments_path, sender),
                    data_anchor=anchor.address, deploy_gas_data_anchor=anchor_tx.gas_used,
                    blob_anchor=blobs[0], deploy_gas_blob_anchor=blobs[1])


def _deploy_blob_anchor(sender: Sender, path: Path | None, registry: str) -> tuple[str, int]:
    """(address, gas) of a BlobAnchor, or ("", 0) on a chain without blobs (py-evm, Ganache, pre-Cancun)."""
    try:
        require_blobs(sender.chain)
    except BlobsUnsupported:
        return "", 0
    anchor, tx = BlobAnchor.deploy(sender)
    _record(path, sender, "BlobAnchor", anchor.address, tx, registry)
    return anchor.address, tx.gas_used


def _previous_sets(path: Path | None, sender: Sender) -> tuple[str, ...]:
    return () if path is None else tuple(deployments.registries(path, sender.chain.chain_id)[1:])
