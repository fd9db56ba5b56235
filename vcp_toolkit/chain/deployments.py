"""The deployments file: where each contract lives, per chainId, for later commands to find.

    {"31337": {"AttestationRegistry": {"address": "0x..", "tx": "0x..", "block": 1,
                                        "deployer": "0x..", "code_keccak": "0x.."}}}
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from eth_utils import keccak, to_checksum_address

from vcp_toolkit.chain.nodes import Chain
from vcp_toolkit.errors import DeploymentNotFound, InvalidAttestationFile, InvalidInput
from vcp_toolkit.attest.files import dump_json, loads_strict, write_atomic

DEFAULT_PATH = Path("deployments.json")


@dataclass(frozen=True)
class Deployment:
    address: str
    tx: str
    block: int
    deployer: str
    code_keccak: str


def _read(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        data = loads_strict(path.read_bytes(), f"deployments file {path}")
    except OSError as exc:
        raise InvalidInput(f"cannot read deployments file {path} ({exc.strerror})") from exc
    except InvalidAttestationFile as exc:
        raise InvalidInput(str(exc)) from None
    if not isinstance(data, dict):
        raise InvalidInput(f"deployments file {path} must hold an object keyed by chainId")
    return data


def record(path: Path, chain_id: int, name: str, deployment: Deployment) -> None:
    data = _read(path)
    data.setdefault(str(chain_id), {})[name] = asdict(deployment)
    write_atomic(path, dump_json(data))


def lookup(path: Path, chain: Chain, name: str) -> Deployment:
    """The recorded deployment of ``name`` on ``chain``, checked to still hold the same code."""
    entry = _read(path).get(str(chain.chain_id), {}).get(name)
    if entry is None:
        raise DeploymentNotFound(f"no {name} recorded for chain {chain.chain_id} in {path}: run `vcp deploy` first")
    try:
        deployment = Deployment(**entry)
        address = to_checksum_address(deployment.address)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"deployments file {path}: bad entry for {name} on chain {chain.chain_id}") from exc
    code = bytes(chain.w3.eth.get_code(address))
    if not code or "0x" + keccak(code).hex() != deployment.code_keccak:
        raise DeploymentNotFound(
            f"{name} recorded at {address} on chain {chain.chain_id} is not there any more "
            "(node restarted or reset?): run `vcp deploy` again")
    return deployment


def code_keccak(chain: Chain, address: str) -> str:
    return "0x" + keccak(bytes(chain.w3.eth.get_code(address))).hex()
