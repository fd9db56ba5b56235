"""Signing and sending transactions from a local key, with revert data decoded into typed errors."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from vcp.chain.gas import intrinsic_gas
from vcp.chain.nodes import Chain
from vcp.chain.boundary import chain_errors
from vcp.errors import ChainError

PRIORITY_FEE_WEI = 10**9
RECEIPT_TIMEOUT_S = 120.0


def calldata(fn: Any) -> bytes:
    """The ABI-encoded call of a web3 contract function, as bytes (one place for web3's encoder)."""
    return bytes.fromhex(fn._encode_transaction_data()[2:])


@dataclass(frozen=True)
class TxOutcome:
    """A mined transaction and what it cost."""

    tx_hash: str
    gas_used: int
    calldata: bytes
    latency_s: float  # from signing to receipt
    block_number: int
    contract_address: str | None
    logs: tuple

    @property
    def execution_gas(self) -> int:
        """Gas beyond the intrinsic 21,000 + calldata: what the contract itself spent."""
        return self.gas_used - intrinsic_gas(self.calldata)


def _decode_receipt(raw: dict) -> dict:
    """The fields vcp reads from a raw JSON-RPC receipt (as web3 would format them)."""
    from eth_utils import to_checksum_address

    return {
        "status": int(raw["status"], 16), "gasUsed": int(raw["gasUsed"], 16), "blockNumber": int(raw["blockNumber"], 16),
        "contractAddress": to_checksum_address(raw["contractAddress"]) if raw.get("contractAddress") else None,
        "logs": [{"address": to_checksum_address(log["address"]), "topics": [bytes.fromhex(t[2:]) for t in log["topics"]],
                  "data": bytes.fromhex(log["data"][2:])} for log in raw.get("logs", [])],
    }


class Sender:
    """A funded local key that signs its own transactions (works with any node, no unlocking)."""

    def __init__(self, chain: Chain, private_key: bytes | str | None = None) -> None:
        self.chain = chain
        self.account: LocalAccount = Account.from_key(private_key) if private_key else Account.create()
        self._nonce: int | None = None

    @property
    def address(self) -> str:
        return self.account.address

    def balance(self) -> int:
        with chain_errors("reading the balance"):
            return int(self.chain.w3.eth.get_balance(self.address))

    def _next_nonce(self) -> int:
        if self._nonce is None:
            self._nonce = int(self.chain.w3.eth.get_transaction_count(self.address, "pending"))
        nonce = self._nonce
        self._nonce += 1
        return nonce

    def _fees(self) -> dict[str, int]:
        base = int(self.chain.w3.eth.get_block("latest").get("baseFeePerGas", 0) or 0)
        return {"maxFeePerGas": 2 * base + PRIORITY_FEE_WEI, "maxPriorityFeePerGas": PRIORITY_FEE_WEI}

    def transact(self, *, to: str | None, data: bytes, value: int = 0, action: str = "transaction") -> TxOutcome:
        """Estimate (which surfaces a revert with its reason), sign, send, wait for the receipt."""
        w3 = self.chain.w3
        base_tx: dict[str, Any] = {"from": self.address, "data": data, "value": value}
        if to:
            base_tx["to"] = to
        with chain_errors(action):
            gas = int(w3.eth.estimate_gas(base_tx, self.chain.estimate_block))
            tx = {**base_tx, **self._fees(), "gas": gas + gas // 10, "nonce": self._next_nonce(),
                  "chainId": self.chain.chain_id, "type": 2}
            del tx["from"]
            started = time.perf_counter()
            signed = self.account.sign_transaction(tx)
            try:
                tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
            except Exception:
                self._nonce = None  # the node did not take it: re-read the nonce next time
                raise
            receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT_S, poll_latency=0.01)
            latency = time.perf_counter() - started
            if receipt["status"] != 1:
                # Replay at the mined block to learn why: the estimate passed, state moved since.
                w3.eth.call(base_tx, receipt["blockNumber"] - 1)
                raise ChainError(f"{action}: transaction {tx_hash.hex()} reverted")
        return TxOutcome(
            tx_hash="0x" + bytes(tx_hash).hex(), gas_used=int(receipt["gasUsed"]), calldata=bytes(data),
            latency_s=latency, block_number=int(receipt["blockNumber"]),
            contract_address=receipt.get("contractAddress"), logs=tuple(receipt["logs"]),
        )

    def transact_many(self, calls: list[tuple[str, bytes]], action: str = "transactions") -> list[TxOutcome]:
        """Send many calls without waiting for each receipt: sign with consecutive nonces (the gas
        limit from one estimate per distinct call shape), broadcast them all, then confirm. Over
        HTTP the broadcast and the receipt polls go as JSON-RPC batches (one round trip each)."""
        w3 = self.chain.w3
        with chain_errors(action):
            fees = self._fees()
            limits: dict[tuple[str, int], int] = {}
            signed = []
            for to, data in calls:
                key = (to, len(data))
                if key not in limits:
                    gas = int(w3.eth.estimate_gas({"from": self.address, "to": to, "data": data}))
                    limits[key] = gas + gas // 5
                tx = {"to": to, "data": data, "value": 0, "gas": limits[key], "nonce": self._next_nonce(),
                      "chainId": self.chain.chain_id, "type": 2, **fees}
                signed.append((self.account.sign_transaction(tx).raw_transaction, data))
            started = time.perf_counter()
            try:
                if self.chain.rpc_url is None:
                    return self._send_one_by_one(signed, started, action)
                return self._send_batched(signed, started, action)
            except BaseException:
                self._nonce = None
                raise

    def _send_one_by_one(self, signed: list[tuple[bytes, bytes]], started: float, action: str) -> list[TxOutcome]:
        w3 = self.chain.w3
        hashes = [w3.eth.send_raw_transaction(raw) for raw, _ in signed]
        outcomes = []
        for tx_hash, (_, data) in zip(hashes, signed):
            receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT_S, poll_latency=0.005)
            outcomes.append(self._outcome("0x" + bytes(tx_hash).hex(), dict(receipt), data, started, action))
        return outcomes

    def _send_batched(self, signed: list[tuple[bytes, bytes]], started: float, action: str) -> list[TxOutcome]:
        provider = self.chain.w3.provider
        replies = provider.make_batch_request([("eth_sendRawTransaction", ["0x" + raw.hex()]) for raw, _ in signed])
        hashes = []
        for reply in replies:
            if "error" in reply:
                raise ChainError(f"{action}: the node refused a transaction: {reply['error'].get('message')}")
            hashes.append(reply["result"])
        receipts: dict[str, dict] = {}
        deadline = time.monotonic() + RECEIPT_TIMEOUT_S
        while len(receipts) < len(hashes):
            missing = [h for h in hashes if h not in receipts]
            for h, reply in zip(missing, provider.make_batch_request([("eth_getTransactionReceipt", [h])
                                                                      for h in missing])):
                if reply.get("result"):
                    receipts[h] = _decode_receipt(reply["result"])
            if len(receipts) < len(hashes):
                if time.monotonic() > deadline:
                    raise ChainError(f"{action}: {len(hashes) - len(receipts)} transactions not mined in time")
                time.sleep(0.005)
        return [self._outcome(h, receipts[h], data, started, action) for h, (_, data) in zip(hashes, signed)]

    @staticmethod
    def _outcome(tx_hash: str, receipt: dict, data: bytes, started: float, action: str) -> TxOutcome:
        if receipt["status"] != 1:
            raise ChainError(f"{action}: transaction {tx_hash} reverted")
        return TxOutcome(tx_hash=tx_hash, gas_used=int(receipt["gasUsed"]), calldata=data,
                         latency_s=time.perf_counter() - started, block_number=int(receipt["blockNumber"]),
                         contract_address=receipt.get("contractAddress"), logs=tuple(receipt["logs"]))

    def call(self, fn: Any, action: str) -> Any:
        """A read-only contract call with errors converted."""
        with chain_errors(action):
            return fn.call({"from": self.address})

    def ensure_funded(self, minimum_wei: int = 10**18) -> None:
        """On a dev chain, top the key up from the node's unlocked account if it is short."""
        if self.balance() < minimum_wei:
            with chain_errors("funding the account"):
                self.chain.fund(self.address)
