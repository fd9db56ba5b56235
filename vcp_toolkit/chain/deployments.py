"""The deployments file: where each contract lives, per chainId and per contract set, for later
commands to find. A set is what one `vcp deploy` made (an AttestationRegistry and the contracts
deployed with it); a redeploy adds a set and never drops one, so attestations made for an earlier
registry keep verifying against it (docs/encoding.md, "deployments.json"):

    {"31337": {"AttestationRegistry": {"address": "0x..", "tx": "0x..", "block": 1,
                                        "deployer": "0x..", "code_keccak": "0x.."},
               "OptimisticInference": {...},
               "previous": {"0xOLDREGISTRY": {"AttestationRegistry": {...}, "OptimisticInference": {...}}}}}

The contracts at the top of a chain's entry are its current set (files written before sets existed
are exactly that); "previous" holds the earlier sets keyed by their registry's checksum address.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from eth_utils import keccak, to_checksum_address

from vcp_toolkit.chain.nodes import Chain
from vcp_toolkit.errors import DeploymentNotFound, InvalidAttestationFile, InvalidInput
from vcp_toolkit.attest.files import dump_json, loads_strict, write_atomic

DEFAULT_PATH = Path("deployments.json")
REGISTRY = "AttestationRegistry"
PREVIOUS = "previous"


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


def _address(value: object, path: Path, where: str) -> str:
    try:
        return to_checksum_address(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInput(f"deployments file {path}: {where}: {str(value)[:60]!r} is not an address") from None


def _chain_entry(data: dict, path: Path, chain_id: int) -> dict:
    entry = data.get(str(chain_id), {})
    previous = entry.get(PREVIOUS, {}) if isinstance(entry, dict) else None
    if not isinstance(previous, dict) or not all(isinstance(s, dict) for s in previous.values()):
        raise InvalidInput(f"deployments file {path}: chain {chain_id} must map contract names to entries "
                           f"and {PREVIOUS!r} registry addresses to contract sets")
    return entry


def _current(entry: dict) -> dict:
    return {name: value for name, value in entry.items() if name != PREVIOUS}


def _registry_of(contracts: dict, path: Path, chain_id: int) -> str | None:
    if REGISTRY not in contracts:
        return None
    value = contracts[REGISTRY].get("address") if isinstance(contracts[REGISTRY], dict) else None
    return _address(value, path, f"{REGISTRY} on chain {chain_id}")


def registries(path: Path, chain_id: int) -> list[str]:
    """The registry address of every contract set recorded for ``chain_id``: the current one, then
    the earlier ones, newest first."""
    entry = _chain_entry(_read(path), path, chain_id)
    current = _registry_of(_current(entry), path, chain_id)
    older = [_address(a, path, f"{PREVIOUS} on chain {chain_id}") for a in reversed(entry.get(PREVIOUS, {}))]
    return ([current] if current else []) + [a for a in older if a != current]


def record(path: Path, chain_id: int, name: str, deployment: Deployment, registry: str | None = None) -> str | None:
    """Record ``name`` in the set of ``registry`` (default: the current set). Recording an
    AttestationRegistry starts a new current set; the set that was current is kept under "previous"
    (unless it had this very address: its chain was reset), and its registry address is returned
    (None when no set was moved aside)."""
    data = _read(path)
    entry = data[str(chain_id)] = _chain_entry(data, path, chain_id)
    previous = entry.get(PREVIOUS, {})
    moved = None
    if name == REGISTRY:
        new, current = _address(deployment.address, path, name), _registry_of(_current(entry), path, chain_id)
        if current is not None and current != new:
            previous[current], moved = _current(entry), current
        entry = data[str(chain_id)] = {}  # a registry starts a set: nothing of the set before belongs to it
        for address in [a for a in previous if _address(a, path, f"{PREVIOUS} on chain {chain_id}") == new]:
            del previous[address]  # a set at this very address is gone (its chain was reset): this replaces it
        entry[name] = asdict(deployment)
    else:
        _set_for(entry, path, chain_id, registry)[name] = asdict(deployment)
    if previous:
        entry[PREVIOUS] = previous
    else:
        entry.pop(PREVIOUS, None)
    write_atomic(path, dump_json(data))
    return moved


def _set_for(entry: dict, path: Path, chain_id: int, registry: str | None) -> dict:
    """The contract set of ``registry`` in a chain's entry (None: the current set)."""
    if registry is None:
        return entry
    wanted = _address(registry, path, "the registry asked for")
    if _registry_of(_current(entry), path, chain_id) == wanted:
        return entry
    for address, contracts in entry.get(PREVIOUS, {}).items():
        if _address(address, path, f"{PREVIOUS} on chain {chain_id}") == wanted:
            return contracts
    raise DeploymentNotFound(f"no contract set with {REGISTRY} {wanted} is recorded for chain {chain_id} in "
                             f"{path}: pass the --deployments file that `vcp deploy` wrote for it")


def lookup(path: Path, chain: Chain, name: str, registry: str | None = None) -> Deployment:
    """The recorded deployment of ``name`` on ``chain``, in the set of ``registry`` (default: the
    current set), checked to still hold the same code."""
    entry = _chain_entry(_read(path), path, chain.chain_id)
    raw = _set_for(entry, path, chain.chain_id, registry).get(name)
    if raw is None:
        raise DeploymentNotFound(f"no {name} recorded for chain {chain.chain_id} in {path}: run `vcp deploy` first")
    try:
        deployment = Deployment(**raw)
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
