"""Client for contracts/src/BlobAnchor.sol: data published in EIP-4844 blobs, found by its keccak256.

``publish`` encodes items into blobs (vcp_toolkit.chain.blob_encoding) and sends one type-3
transaction calling BlobAnchor, which binds each item's digest to the versioned hashes of the blobs
holding it (``BlobPublished``). ``find`` looks up the events naming a digest, fetches the blobs from
a ``BlobSource`` and accepts an item only if every blob matches its versioned hash (KZG commitment)
and the decoded item hashes to the digest; every refusal is kept with its reason.

Blobs are not execution-layer data: a node keeps them for 4096 epochs (~18 days), then prunes them.
Two sources: ``NodeBlobs`` (Anvil's ``anvil_getBlobByHash``) and ``BeaconBlobs`` (a consensus
node's ``/eth/v1/beacon/blobs/{block_id}``, what a reader of a real network asks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import requests
from eth_abi import decode as abi_decode
from eth_utils import keccak, to_checksum_address
from web3.contract import Contract

from vcp_toolkit.chain import blob_encoding as enc
from vcp_toolkit.chain.boundary import chain_errors
from vcp_toolkit.chain.nodes import Chain
from vcp_toolkit.chain.tx import Sender, TxOutcome, calldata
from vcp_toolkit.contracts import load_artifact
from vcp_toolkit.errors import BlobsUnsupported, ChainError, InvalidInput, VcpError

ARTIFACT = "BlobAnchor"
PUBLISHED_TOPIC = keccak(text="BlobPublished(bytes32,address,uint256,bytes32[],uint256,uint256)")


class BlobRefused(VcpError):
    """A claimed item refused: a blob that fails its versioned hash, a malformed encoding, or bytes
    that do not hash to the claimed digest."""


class BlobNotServed(VcpError):
    """The blob source has no blob for a versioned hash (pruned after ~18 days, or never seen)."""


def require_blobs(chain: Chain) -> None:
    """BlobsUnsupported unless ``chain`` carries blob transactions (Cancun or later, not py-evm)."""
    if chain.kind == "embedded":
        raise BlobsUnsupported("the embedded chain (py-evm via eth-tester) neither takes blob transactions nor "
                               "keeps blobs: use Anvil (`--chain anvil`, Cancun or later) or a node by RPC URL")
    if chain.hardfork is not None and not chain.hardfork.at_least("cancun"):
        raise BlobsUnsupported(f"{chain.kind} runs {chain.hardfork}: blobs (EIP-4844) arrive with Cancun")
    try:
        with chain_errors("reading the blob base fee"):
            chain.w3.eth.blob_base_fee
    except ChainError as exc:
        raise BlobsUnsupported(f"the node has no blob base fee (eth_blobBaseFee): no blobs there ({exc})") from exc


class BlobSource(Protocol):
    """Where a reader gets a blob by its versioned hash, given the block that carried it."""

    where: str

    def blob(self, versioned_hash: bytes, block_number: int) -> bytes | None: ...


class NodeBlobs:
    """Blobs from Anvil's ``anvil_getBlobByHash`` (Anvil keeps every blob it mined)."""

    def __init__(self, chain: Chain) -> None:
        self.chain, self.where = chain, "the node's anvil_getBlobByHash"

    def blob(self, versioned_hash: bytes, block_number: int) -> bytes | None:
        with chain_errors("fetching a blob"):
            reply = self.chain.w3.provider.make_request("anvil_getBlobByHash", ["0x" + versioned_hash.hex()])
        if "error" in reply:
            raise BlobsUnsupported(f"the node does not serve blobs (anvil_getBlobByHash): {reply['error']}")
        return bytes.fromhex(reply["result"][2:]) if reply.get("result") else None


class BeaconBlobs:
    """Blobs from a beacon node: ``GET {url}/eth/v1/beacon/blobs/{block_id}?versioned_hashes=...``.

    ``block_id`` maps the execution block to the beacon API's id; by default the slot,
    (timestamp - genesis_time) // seconds_per_slot, with the genesis time from /eth/v1/beacon/genesis.
    Anvil serves the same endpoint keyed by execution block number (``block_id=str``)."""

    def __init__(self, url: str, chain: Chain, block_id: Callable[[int], str] | None = None,
                 seconds_per_slot: int = 12, timeout: float = 10.0) -> None:
        self.url, self.chain, self.timeout = url.rstrip("/"), chain, timeout
        self.seconds_per_slot, self.block_id = seconds_per_slot, block_id or self.slot
        self.where = f"beacon node {self.url}"

    def _get(self, path: str, params: dict | None = None) -> dict:
        try:
            reply = requests.get(self.url + path, params=params, timeout=self.timeout)
        except requests.RequestException as exc:
            raise ChainError(f"{self.where}: unreachable ({type(exc).__name__})") from exc
        if reply.status_code == 404:
            return {"data": []}  # no such block (or pruned): no blob
        if reply.status_code != 200:
            raise ChainError(f"{self.where}: {path} answered {reply.status_code}: {reply.text[:200]}")
        try:
            return reply.json()
        except ValueError as exc:
            raise ChainError(f"{self.where}: {path} did not answer JSON") from exc

    def slot(self, block_number: int) -> str:
        genesis = int(self._get("/eth/v1/beacon/genesis")["data"]["genesis_time"])
        with chain_errors("reading a block's timestamp"):
            timestamp = int(self.chain.w3.eth.get_block(block_number)["timestamp"])
        return str((timestamp - genesis) // self.seconds_per_slot)

    def blob(self, versioned_hash: bytes, block_number: int) -> bytes | None:
        answer = self._get(f"/eth/v1/beacon/blobs/{self.block_id(block_number)}",
                           {"versioned_hashes": "0x" + versioned_hash.hex()})
        blobs = [bytes.fromhex(b[2:]) for b in answer.get("data") or []]
        # The filter is the node's word; the caller checks the commitment anyway.
        return blobs[0] if blobs else None


@dataclass(frozen=True)
class BlobClaim:
    """One ``BlobPublished`` event: what a publisher said a transaction's blobs hold."""

    digest: bytes
    publisher: str
    index: int
    versioned_hashes: tuple[bytes, ...]
    offset: int
    size: int
    tx_hash: str
    block_number: int


@dataclass(frozen=True)
class Lookup:
    """What ``find`` found: the verified item (or None), and why each other claim was refused."""

    data: bytes | None
    refused: tuple[str, ...] = ()
    unavailable: tuple[str, ...] = ()


class BlobAnchor:
    """A deployed BlobAnchor on ``chain``; blobs read from ``source`` (Anvil's RPC by default)."""

    def __init__(self, chain: Chain, address: str, since_block: int = 0, source: BlobSource | None = None) -> None:
        self.chain, self.since_block = chain, since_block
        self.address = to_checksum_address(address)
        self.source = source or NodeBlobs(chain)
        self.contract: Contract = chain.w3.eth.contract(address=self.address, abi=load_artifact(ARTIFACT)["abi"])

    @classmethod
    def deploy(cls, sender: Sender) -> tuple["BlobAnchor", TxOutcome]:
        require_blobs(sender.chain)
        artifact = load_artifact(ARTIFACT)
        outcome = sender.transact(to=None, data=bytes.fromhex(artifact["bytecode"][2:]), action="deploying BlobAnchor")
        return cls(sender.chain, outcome.contract_address, outcome.block_number), outcome

    def publish(self, sender: Sender, items: list[bytes]) -> TxOutcome:
        """Publish ``items`` (none empty) in the blobs of one transaction."""
        items = [bytes(i) for i in items]
        if not items:
            raise InvalidInput("nothing to publish")
        return self.publish_claims(sender, [(keccak(i), len(i)) for i in items], enc.encode(items))

    def publish_claims(self, sender: Sender, claims: list[tuple[bytes, int]], blobs: list[bytes]) -> TxOutcome:
        """Send ``blobs`` with a call claiming they hold items of these (digest, size): the raw step,
        which nothing checks against the blobs (``publish`` makes honest claims; readers check)."""
        require_blobs(self.chain)
        if not 1 <= len(blobs) <= enc.MAX_BLOBS_PER_TX:
            raise InvalidInput(f"{len(blobs)} blobs: one transaction carries 1 to {enc.MAX_BLOBS_PER_TX}")
        data = calldata(self.contract.functions.publish([(bytes(d), int(s)) for d, s in claims]))
        hashes = [enc.versioned_hash(b) for b in blobs]
        return sender.transact_blobs(to=self.address, data=data, blobs=blobs, versioned_hashes=hashes,
                                     action=f"publishing {len(claims)} item(s) in {len(blobs)} blob(s)")

    def claims(self, digest: bytes) -> list[BlobClaim]:
        """The ``BlobPublished`` events naming ``digest``, oldest first."""
        with chain_errors("looking up published blobs"):
            logs = self.chain.w3.eth.get_logs({"address": self.address, "fromBlock": self.since_block,
                                               "toBlock": "latest", "topics": [PUBLISHED_TOPIC, digest]})
        found = []
        for log in logs:
            index, hashes, offset, size = abi_decode(["uint256", "bytes32[]", "uint256", "uint256"], bytes(log["data"]))
            publisher = to_checksum_address(bytes(log["topics"][2])[12:])
            found.append(BlobClaim(bytes(log["topics"][1]), publisher, index, tuple(bytes(h) for h in hashes), offset,
                                   size, "0x" + bytes(log["transactionHash"]).hex(), int(log["blockNumber"])))
        return found

    def read(self, claim: BlobClaim) -> bytes:
        """The item ``claim`` names, every check made: each blob matches its versioned hash, the item
        decodes, and it hashes to the digest. BlobRefused or BlobNotServed otherwise."""
        blobs = []
        for wanted in claim.versioned_hashes:
            blob = self.source.blob(wanted, claim.block_number)
            if blob is None:
                raise BlobNotServed(f"{self.source.where} has no blob 0x{wanted.hex()[:16]}... (pruned after "
                                    f"~18 days, or never seen) for transaction {claim.tx_hash}")
            try:
                matches = enc.versioned_hash(blob) == wanted
            except InvalidInput:
                matches = False  # not even a valid blob (an element over the modulus, a wrong length)
            if not matches:
                raise BlobRefused(f"{self.source.where} served a blob whose KZG commitment is not versioned hash "
                                  f"0x{wanted.hex()[:16]}...: refused")
            blobs.append(blob)
        try:
            item = enc.decode(blobs, claim.offset, claim.size)
        except InvalidInput as exc:
            raise BlobRefused(f"transaction {claim.tx_hash}: {exc}: refused") from exc
        if keccak(item) != claim.digest:
            raise BlobRefused(f"transaction {claim.tx_hash} claims 0x{claim.digest.hex()[:16]}... but its blob holds "
                              f"bytes hashing to 0x{keccak(item).hex()[:16]}...: refused")
        return item

    def find(self, digest: bytes) -> Lookup:
        """The first claim of ``digest`` whose blobs check out, and why the others did not."""
        refused, unavailable = [], []
        for claim in self.claims(digest):
            try:
                return Lookup(self.read(claim), tuple(refused), tuple(unavailable))
            except BlobRefused as exc:
                refused.append(str(exc))
            except BlobNotServed as exc:
                unavailable.append(str(exc))
        return Lookup(None, tuple(refused), tuple(unavailable))
