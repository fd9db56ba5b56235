"""Signing and sending transactions from a local key, with revert data decoded into typed errors.

Every transaction vcp sends takes one path, through ``Sender``:

    gas_limit (estimate + vcp.chain.gas.with_margin) -> sign -> journal (when given) -> broadcast -> receipt

``Sender.transact`` and ``Sender.transact_many`` run all of it; the submitter (vcp.ops.submitter),
which keeps its own journal and replaces stuck transactions, calls the same steps one by one.
``Sender.transact_blobs`` runs them for a type-3 transaction carrying EIP-4844 blobs (estimated
with their versioned hashes; not journaled).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import rlp
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3.exceptions import TransactionNotFound

from vcp_toolkit.chain import blob_encoding
from vcp_toolkit.chain.gas import intrinsic_gas, with_margin
from vcp_toolkit.chain.nodes import Chain
from vcp_toolkit.chain.boundary import chain_errors
from vcp_toolkit.errors import ChainError

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
    raw: bytes = b""  # the signed transaction as broadcast: what a rollup charges L1 data for
    blob_gas_used: int = 0  # EIP-4844: 2**17 per blob a type-3 transaction carried
    blob_gas_price: int = 0  # the blob base fee it paid, wei per blob gas

    @property
    def execution_gas(self) -> int:
        """Gas beyond the intrinsic 21,000 + calldata: what the contract itself spent. On Prague and
        later a transaction that paid the EIP-7623 calldata floor (vcp.chain.gas.calldata_floor)
        did not spend all of this on execution: compare gas_used with the floor first."""
        return self.gas_used - intrinsic_gas(self.calldata)


@dataclass(frozen=True)
class Fees:
    """EIP-1559 fee caps, in wei."""

    max_fee: int
    priority_fee: int

    def bumped(self, percent: int) -> "Fees":
        """Both caps raised by ``percent`` % (plus one wei): what a node takes as a replacement."""
        return Fees(self.max_fee * percent // 100 + 1, self.priority_fee * percent // 100 + 1)


@dataclass(frozen=True)
class SignedTx:
    """A signed transaction, not yet broadcast: everything a journal needs to send it again."""

    tx_hash: str
    raw: bytes
    sender: str
    nonce: int
    fees: Fees
    gas: int
    to: str | None
    data: bytes
    value: int


TxJournal = Callable[[SignedTx], None]
"""Called with each signed transaction before it is broadcast (a crash after the send can find it)."""


def _decode_receipt(raw: dict) -> dict:
    """The fields vcp reads from a raw JSON-RPC receipt (as web3 would format them)."""
    from eth_utils import to_checksum_address

    return {
        "status": int(raw["status"], 16), "gasUsed": int(raw["gasUsed"], 16), "blockNumber": int(raw["blockNumber"], 16),
        "contractAddress": to_checksum_address(raw["contractAddress"]) if raw.get("contractAddress") else None,
        "logs": [{"address": to_checksum_address(log["address"]), "topics": [bytes.fromhex(t[2:]) for t in log["topics"]],
                  "data": bytes.fromhex(log["data"][2:])} for log in raw.get("logs", [])],
    }


def blob_sidecar(blobs: list[bytes]) -> list:
    """[blobs, commitments, cell proofs] of a type-3 transaction's network wrapper (EIP-7594).
    Built here rather than by eth-account 0.14, which reloads the KZG trusted setup for every blob
    (seconds each) and names the transaction by the hash of its whole wrapper."""
    blobs = [bytes(b) for b in blobs]
    proofs = [p for b in blobs for p in blob_encoding.cell_proofs(b)]
    return [blobs, [blob_encoding.commitment(b) for b in blobs], proofs]


def blob_wrapper(signed_body: bytes, sidecar: list) -> bytes:
    """The transaction as broadcast: 0x03 || rlp([body, 1, blobs, commitments, cell proofs])."""
    return signed_body[:1] + rlp.encode([rlp.decode(signed_body[1:]), 1, *sidecar])


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

    # ------------------------------------------------------------------ reads

    def pending_nonce(self) -> int:
        """The next nonce the node expects from this key, counting its pending transactions."""
        with chain_errors("reading the nonce"):
            return int(self.chain.w3.eth.get_transaction_count(self.address, "pending"))

    def fees(self) -> Fees:
        """Twice the latest base fee plus the tip: enough for the next blocks' base fee to rise."""
        with chain_errors("reading the base fee"):
            base = int(self.chain.w3.eth.get_block("latest").get("baseFeePerGas", 0) or 0)
        return Fees(2 * base + PRIORITY_FEE_WEI, PRIORITY_FEE_WEI)

    def receipt(self, tx_hash: str) -> dict | None:
        """The receipt of ``tx_hash``, or None while it is not mined (or unknown to the node)."""
        return self._lookup("reading a receipt", lambda: dict(self.chain.w3.eth.get_transaction_receipt(tx_hash)))

    def is_known(self, tx_hash: str) -> bool:
        """Whether the node knows ``tx_hash`` at all (mined or in its mempool)."""
        return self._lookup("looking up a transaction", lambda: self.chain.w3.eth.get_transaction(tx_hash)) is not None

    @staticmethod
    def _lookup(action: str, read: Callable[[], Any]) -> Any:
        try:
            with chain_errors(action):
                return read()
        except ChainError as exc:
            if isinstance(exc.__cause__, TransactionNotFound) or "not found" in str(exc).lower():
                return None
            raise

    # ------------------------------------------------------------------ the steps of the one path

    def gas_limit(self, *, to: str | None, data: bytes, value: int = 0, action: str = "estimating gas",
                  replacing: bool = False) -> int:
        """The node's estimate plus the margin (vcp.chain.gas.with_margin). A call that would revert
        raises its typed error here, before anything is signed. ``replacing``: the transaction takes
        the place of one still pending, so it is estimated on the latest block, without it."""
        tx: dict[str, Any] = {"from": self.address, "data": data, "value": value}
        if to:
            tx["to"] = to
        block = "latest" if replacing and self.chain.estimate_block is not None else self.chain.estimate_block
        cap = self.chain.hardfork.tx_gas_cap if self.chain.hardfork else None
        with chain_errors(action):
            return with_margin(int(self.chain.w3.eth.estimate_gas(tx, block)), cap)

    def sign(self, *, to: str | None, data: bytes, gas: int, value: int = 0, nonce: int | None = None,
             fees: Fees | None = None) -> SignedTx:
        """Sign a type-2 transaction. Without ``nonce``, the next one of this process's sequence."""
        fees = fees or self.fees()
        if nonce is None:
            nonce = self._next_nonce()
        tx: dict[str, Any] = {"data": data, "value": value, "gas": gas, "nonce": nonce, "chainId": self.chain.chain_id,
                              "type": 2, "maxFeePerGas": fees.max_fee, "maxPriorityFeePerGas": fees.priority_fee}
        if to:
            tx["to"] = to
        signed = self.account.sign_transaction(tx)
        return SignedTx("0x" + bytes(signed.hash).hex(), bytes(signed.raw_transaction), self.address, nonce, fees,
                        gas, to, bytes(data), value)

    def broadcast(self, raw: bytes, action: str = "broadcasting") -> str:
        """Hand signed bytes to the node; returns the transaction hash."""
        try:
            with chain_errors(action):
                return "0x" + bytes(self.chain.w3.eth.send_raw_transaction(raw)).hex()
        except ChainError:
            self._nonce = None  # the node did not take it: re-read the nonce next time
            raise

    def wait(self, tx: SignedTx, started: float, action: str = "transaction",
             timeout_s: float = RECEIPT_TIMEOUT_S) -> TxOutcome:
        """Block until ``tx`` is mined; a reverted one raises its typed error."""
        with chain_errors(action):
            receipt = self.chain.w3.eth.wait_for_transaction_receipt(tx.tx_hash, timeout=timeout_s, poll_latency=0.005)
        return self._outcome(tx, dict(receipt), started, action)

    # ------------------------------------------------------------------ the whole path

    def transact(self, *, to: str | None, data: bytes, value: int = 0, action: str = "transaction",
                 journal: TxJournal | None = None) -> TxOutcome:
        """Estimate (which surfaces a revert with its reason), sign, journal, send, wait for the receipt."""
        gas = self.gas_limit(to=to, data=data, value=value, action=action)
        started = time.perf_counter()
        tx = self.sign(to=to, data=data, value=value, gas=gas)
        if journal is not None:
            journal(tx)
        self.broadcast(tx.raw, action)
        return self.wait(tx, started, action)

    def transact_many(self, calls: list[tuple[str, bytes]], action: str = "transactions",
                      journal: TxJournal | None = None) -> list[TxOutcome]:
        """Send many calls without waiting for each receipt: sign with consecutive nonces (the gas
        limit from one estimate per distinct call shape), broadcast them all, then confirm. Over
        HTTP the broadcast and the receipt polls go as JSON-RPC batches (one round trip each)."""
        fees = self.fees()
        limits: dict[tuple[str, int], int] = {}
        signed = []
        for to, data in calls:
            if (to, len(data)) not in limits:
                limits[(to, len(data))] = self.gas_limit(to=to, data=data, action=action)
            signed.append(self.sign(to=to, data=data, gas=limits[(to, len(data))], fees=fees))
        started = time.perf_counter()
        if journal is not None:
            for tx in signed:
                journal(tx)
        try:
            with chain_errors(action):
                if self.chain.rpc_url is None:
                    return self._send_one_by_one(signed, started, action)
                return self._send_batched(signed, started, action)
        except BaseException:
            self._nonce = None
            raise

    def _next_nonce(self) -> int:
        if self._nonce is None:
            self._nonce = self.pending_nonce()
        nonce = self._nonce
        self._nonce += 1
        return nonce

    def _send_one_by_one(self, signed: list[SignedTx], started: float, action: str) -> list[TxOutcome]:
        for tx in signed:
            self.broadcast(tx.raw, action)
        return [self.wait(tx, started, action) for tx in signed]

    def _send_batched(self, signed: list[SignedTx], started: float, action: str) -> list[TxOutcome]:
        provider = self.chain.w3.provider
        replies = provider.make_batch_request([("eth_sendRawTransaction", ["0x" + tx.raw.hex()]) for tx in signed])
        for reply in replies:
            if "error" in reply:
                raise ChainError(f"{action}: the node refused a transaction: {reply['error'].get('message')}")
        hashes = [tx.tx_hash for tx in signed]
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
        return [self._outcome(tx, receipts[tx.tx_hash], started, action) for tx in signed]

    def _outcome(self, tx: SignedTx, receipt: dict, started: float, action: str) -> TxOutcome:
        latency = time.perf_counter() - started
        if receipt["status"] != 1:
            # Replay at the mined block to learn why: the estimate passed, state moved since.
            replay: dict[str, Any] = {"from": self.address, "data": tx.data, "value": tx.value}
            if tx.to:
                replay["to"] = tx.to
            with chain_errors(action):
                self.chain.w3.eth.call(replay, int(receipt["blockNumber"]) - 1)
            raise ChainError(f"{action}: transaction {tx.tx_hash} reverted")
        return TxOutcome(tx_hash=tx.tx_hash, gas_used=int(receipt["gasUsed"]), calldata=tx.data, latency_s=latency,
                         block_number=int(receipt["blockNumber"]), contract_address=receipt.get("contractAddress"),
                         logs=tuple(receipt["logs"]), raw=tx.raw, blob_gas_used=int(receipt.get("blobGasUsed") or 0),
                         blob_gas_price=int(receipt.get("blobGasPrice") or 0))

    # ------------------------------------------------------------------ blob transactions (EIP-4844)

    def transact_blobs(self, *, to: str, data: bytes, blobs: list[bytes], versioned_hashes: list[bytes],
                       action: str = "blob transaction") -> TxOutcome:
        """The one path for a type-3 transaction carrying ``blobs``: estimated with their versioned
        hashes (so BLOBHASH reads them and a refusal surfaces here), the transaction signed by
        eth-account, sent in its network wrapper with the blobs, and waited for. The blob fee cap is
        twice the node's blob base fee."""
        hashes = ["0x" + bytes(h).hex() for h in versioned_hashes]
        with chain_errors(action):
            blob_fee = 2 * int(self.chain.w3.eth.blob_base_fee) + 1
            # With the fee cap: a node refuses to simulate a blob transaction that could not pay.
            call = {"from": self.address, "to": to, "data": "0x" + data.hex(), "blobVersionedHashes": hashes,
                    "maxFeePerBlobGas": blob_fee}
            gas = with_margin(int(self.chain.w3.eth.estimate_gas(call)),
                              self.chain.hardfork.tx_gas_cap if self.chain.hardfork else None)
        sidecar = blob_sidecar(blobs)  # before the nonce is taken: a malformed blob leaves no gap
        fees = self.fees()
        nonce = self._next_nonce()
        fields: dict[str, Any] = {"to": to, "data": data, "value": 0, "gas": gas, "nonce": nonce, "type": 3,
                                  "chainId": self.chain.chain_id, "maxFeePerGas": fees.max_fee,
                                  "maxPriorityFeePerGas": fees.priority_fee, "maxFeePerBlobGas": blob_fee,
                                  "blobVersionedHashes": hashes}
        started = time.perf_counter()
        signed = self.account.sign_transaction(fields)  # the body only: its hash is the transaction's
        raw = blob_wrapper(bytes(signed.raw_transaction), sidecar)
        tx = SignedTx("0x" + bytes(signed.hash).hex(), raw, self.address, nonce, fees, gas, to, bytes(data), 0)
        sent = self.broadcast(tx.raw, action)
        if sent != tx.tx_hash:
            raise ChainError(f"{action}: the node names the transaction {sent}, not {tx.tx_hash}")
        return self.wait(tx, started, action)

    def call(self, fn: Any, action: str) -> Any:
        """A read-only contract call with errors converted."""
        with chain_errors(action):
            return fn.call({"from": self.address})

    def ensure_funded(self, minimum_wei: int = 10**18) -> None:
        """On a dev chain, top the key up from the node's unlocked account if it is short."""
        if self.balance() < minimum_wei:
            with chain_errors("funding the account"):
                self.chain.fund(self.address)
