"""Client for contracts/src/DataAnchor.sol: data published in calldata, found by its keccak256.

``publish`` sends items in one transaction; ``find`` looks up the ``DataPublished`` events naming a
digest, fetches each such transaction from the node and returns the item whose bytes hash to it.
Only a direct call of ``publish`` (a transaction to the anchor) can be read back this way: items
passed through another contract are in that contract's calldata, which a reader cannot decode
without knowing it, so they are skipped rather than trusted.
"""

from __future__ import annotations

from typing import Iterator

from eth_abi import decode as abi_decode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address
from web3.contract import Contract

from vcp_toolkit.chain.boundary import chain_errors
from vcp_toolkit.chain.nodes import Chain
from vcp_toolkit.chain.tx import Sender, TxOutcome, calldata
from vcp_toolkit.contracts import load_artifact
from vcp_toolkit.errors import ChainError, InvalidInput

ARTIFACT = "DataAnchor"
PUBLISHED_TOPIC = keccak(text="DataPublished(bytes32,address,uint256,uint256)")
PUBLISH_SELECTOR = function_signature_to_4byte_selector("publish(bytes[])")


class DataAnchor:
    """A deployed DataAnchor on ``chain``; ``since_block`` bounds the event search from below."""

    def __init__(self, chain: Chain, address: str, since_block: int = 0) -> None:
        self.chain = chain
        self.address = to_checksum_address(address)
        self.since_block = since_block
        self.contract: Contract = chain.w3.eth.contract(address=self.address, abi=load_artifact(ARTIFACT)["abi"])

    @classmethod
    def at(cls, chain: Chain, address: str, since_block: int = 0) -> "DataAnchor":
        """The DataAnchor at ``address``, checked to hold DataAnchor's code: publishing to any other
        address would succeed and publish nothing."""
        anchor = cls(chain, address, since_block)
        with chain_errors("reading the anchor's code"):
            code = bytes(chain.w3.eth.get_code(anchor.address))
        if "0x" + code.hex() != load_artifact(ARTIFACT)["deployedBytecode"]:
            raise InvalidInput(f"{anchor.address} on chain {chain.chain_id} is not a DataAnchor "
                               f"({'no code' if not code else 'other code'}): name the address `vcp deploy` printed")
        return anchor

    @classmethod
    def deploy(cls, sender: Sender) -> tuple["DataAnchor", TxOutcome]:
        artifact = load_artifact(ARTIFACT)
        outcome = sender.transact(to=None, data=bytes.fromhex(artifact["bytecode"][2:]), action="deploying DataAnchor")
        return cls(sender.chain, outcome.contract_address, outcome.block_number), outcome

    def publish_calldata(self, items: list[bytes]) -> bytes:
        return calldata(self.contract.functions.publish([bytes(i) for i in items]))

    def publish(self, sender: Sender, items: list[bytes]) -> TxOutcome:
        """Publish ``items`` (non-empty, none empty) in one transaction, checked to have named each
        one in an event (what a reader looks for)."""
        outcome = sender.transact(to=self.address, data=self.publish_calldata(items),
                                  action=f"publishing {len(items)} item(s) in calldata")
        named = sum(1 for log in outcome.logs if to_checksum_address(log["address"]) == self.address
                    and bytes(log["topics"][0]) == PUBLISHED_TOPIC)
        if named != len(items):
            raise ChainError(f"publishing to {self.address}: {named} of {len(items)} items named in events")
        return outcome

    def _transactions(self, digest: bytes) -> Iterator[str]:
        """Hashes of the transactions whose events name ``digest``, oldest first."""
        with chain_errors("looking up published data"):
            logs = self.chain.w3.eth.get_logs({"address": self.address, "fromBlock": self.since_block,
                                               "toBlock": "latest", "topics": [PUBLISHED_TOPIC, digest]})
        seen = set()
        for log in logs:
            tx_hash = bytes(log["transactionHash"]).hex()
            if tx_hash not in seen:
                seen.add(tx_hash)
                yield tx_hash

    def _items_of(self, tx_hash: str) -> list[bytes]:
        """The items of a direct ``publish`` call, or [] for anything else."""
        with chain_errors("fetching a publishing transaction"):
            tx = self.chain.w3.eth.get_transaction("0x" + tx_hash)
        data = bytes(tx["input"])
        if tx.get("to") is None or to_checksum_address(tx["to"]) != self.address or data[:4] != PUBLISH_SELECTOR:
            return []
        try:
            (items,) = abi_decode(["bytes[]"], data[4:])
        except Exception:  # noqa: BLE001 - a call the contract accepted always decodes; anything else is skipped
            return []
        return list(items)

    def find(self, digest: bytes) -> bytes | None:
        """The bytes published under ``digest`` (checked to hash to it), or None."""
        for tx_hash in self._transactions(digest):
            for item in self._items_of(tx_hash):
                if keccak(item) == digest:
                    return bytes(item)
        return None
