"""Submitting attestations so that nothing is lost and nothing lands twice.

Every step is journaled before it happens (vcp.ops.journal): the attestation when it is proven, the
signed transaction before it is broadcast. Before sending, the chain is asked whether this exact
digest is already recorded; a transaction that vanished is re-broadcast, and one stuck in the
mempool is replaced with a 25% higher fee (same nonce, so at most one of them can be mined).
Node faults (refused, timed out) are retried a bounded number of times; then the attestation stays
pending with the reason, for `vcp resume`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TypeVar

from vcp_toolkit.attest.eip712 import hex32
from vcp_toolkit.chain.boundary import chain_errors
from vcp_toolkit.chain.registry import Registry
from vcp_toolkit.chain.tx import Fees, Sender
from vcp_toolkit.commit.encoding import int8_bytes
from vcp_toolkit.errors import ChainError, ContractReverted, InvalidAttestationFile
from vcp_toolkit.attest.files import AttestationFile, BatchFile, load_attestation_file
from vcp_toolkit.ops.journal import Journal, JournalEntry, JournalTx

T = TypeVar("T")
RETRY_DELAYS_S = (0.2, 0.5, 1.0, 2.0)
FEE_BUMP_PERCENT = 125
ZERO = b"\x00" * 32


@dataclass(frozen=True)
class Loaded:
    """An attestation file of any kind, as the submitter needs it."""

    digest: str
    kind: str
    prover: str
    nonce: int
    chain_id: int
    registry: str
    calldata: Callable[[Registry], bytes]


def load_any(path: Path) -> Loaded:
    """An attestation file of any kind, read once, as the submitter needs it."""
    f = load_attestation_file(path)
    if isinstance(f, AttestationFile):
        return Loaded(hex32(f.attestation.digest(f.domain)), "signed", f.attestation.prover, f.attestation.nonce,
                      f.domain.chain_id, f.domain.verifying_contract,
                      lambda reg: reg.submit_calldata(f.attestation, f.signature))
    if isinstance(f, BatchFile):
        return Loaded(hex32(f.batch.digest(f.domain)), "batch", f.batch.prover, f.batch.nonce, f.domain.chain_id,
                      f.domain.verifying_contract, lambda reg: reg.submit_batch_calldata(f.batch, f.signature))
    return Loaded(hex32(f.attestation.digest(f.domain)), "zk", f.attestation.prover, f.attestation.nonce,
                  f.domain.chain_id, f.domain.verifying_contract,
                  lambda reg: reg.submit_zk_calldata(f.attestation, f.proof, list(f.instances), int8_bytes(f.input),
                                                     f.input_salt, f.output_salt))


def _nonce_used(exc: ChainError) -> bool:
    """The node says this sender's nonce was already used (wording differs per node)."""
    text = str(exc).lower()
    return any(m in text for m in ("nonce too low", "correct nonce", "invalid transaction nonce", "nonce has already"))


def _transient(exc: ChainError) -> bool:
    text = str(exc)
    return not isinstance(exc, ContractReverted) and ("unreachable" in text or "timed out" in text)


class Submitter:
    """Lands attestation files on one registry, through one sender, journaled."""

    def __init__(self, registry: Registry, sender: Sender, journal: Journal, receipt_timeout_s: float = 20.0,
                 retry_delays_s: tuple[float, ...] = RETRY_DELAYS_S) -> None:
        self.registry = registry
        self.sender = sender
        self.journal = journal
        self.receipt_timeout_s = receipt_timeout_s
        self.retry_delays_s = retry_delays_s

    # ------------------------------------------------------------------ bounded retries

    def _retry(self, action: str, fn: Callable[[], T]) -> T:
        delays = iter(self.retry_delays_s)
        while True:
            try:
                with chain_errors(action):
                    return fn()
            except ChainError as exc:
                delay = next(delays, None)
                if delay is None or not _transient(exc):
                    raise
                time.sleep(delay)

    # ------------------------------------------------------------------ public

    def record(self, path: Path, loaded: Loaded | None = None) -> JournalEntry:
        """Journal an attestation file (idempotent); pass ``loaded`` if the file was read already."""
        loaded = loaded or load_any(path)
        return self.journal.add(loaded.digest, loaded.kind, path, loaded.chain_id, loaded.registry, loaded.prover,
                                loaded.nonce)

    def submit(self, path: Path, loaded: Loaded | None = None) -> JournalEntry:
        """Land one attestation file, exactly once (read once: pass ``loaded`` if it was read
        already). Raises ChainError after bounded retries (the journal keeps it pending with the
        reason) or ContractReverted (journal: failed)."""
        loaded = loaded or load_any(path)
        entry = self.record(path, loaded)  # journaled first, whatever the node does next
        if entry.status == "landed":
            return entry
        try:
            chain_id = self._retry("reading the chain id", lambda: self.registry.chain.chain_id)
            if (loaded.chain_id, loaded.registry) != (chain_id, self.registry.address):
                raise InvalidAttestationFile(
                    f"{path} is for chain {loaded.chain_id} registry {loaded.registry}, not chain "
                    f"{chain_id} registry {self.registry.address}")
            if loaded.kind == "zk" and loaded.prover != self.sender.address:
                raise InvalidAttestationFile(
                    f"{path} names {loaded.prover} as its submitter: send it with that key, not {self.sender.address}")
            self._land(loaded)
        except ContractReverted as exc:
            self.journal.set_status(loaded.digest, "failed", reason=str(exc))
            raise
        except ChainError as exc:
            current = self.journal.get(loaded.digest).status
            if current != "landed":  # a transaction already out stays "sent": resume will look for it
                self.journal.set_status(loaded.digest, "sent" if current == "sent" else "pending", reason=str(exc))
            raise
        return self.journal.get(loaded.digest)

    def resume(self) -> list[JournalEntry]:
        """Try again every attestation of this registry that has not landed (failed ones stay)."""
        done = []
        for entry in self.journal.entries():
            if entry.status in ("pending", "sent") and entry.chain_id == self.registry.domain.chain_id and \
                    entry.registry == self.registry.address:
                try:
                    done.append(self.submit(Path(entry.path)))
                except ChainError:
                    done.append(self.journal.get(entry.id))
        return done

    # ------------------------------------------------------------------ the steps

    def _recorded(self, loaded: Loaded) -> bytes:
        return self._retry("reading the registry", lambda: self.registry.recorded_digest(loaded.prover, loaded.nonce))

    def _land(self, loaded: Loaded) -> None:
        digest = bytes.fromhex(loaded.digest[2:])
        stored = self._recorded(loaded)
        if stored == digest:
            self._found_on_chain(loaded)
            return
        if stored != ZERO:
            self.journal.set_status(loaded.digest, "failed", reason="the prover's nonce holds another attestation")
            raise ChainError(f"attestation {loaded.digest}: the prover's nonce already holds another attestation")
        for tx in reversed(self.journal.txs_for(loaded.digest)):
            if tx.status in ("signed", "broadcast") and self._settle(loaded, tx):
                return
        self._send_new(loaded)

    def _found_on_chain(self, loaded: Loaded) -> None:
        for tx in self.journal.txs_for(loaded.digest):  # which of ours it was, for the record
            if tx.status in ("signed", "broadcast") and self._wait_once(loaded, tx):
                return
        self.journal.set_status(loaded.digest, "landed", reason="found on-chain")

    def _receipt(self, tx_hash: str) -> dict | None:
        return self._retry("reading a receipt", lambda: self.sender.receipt(tx_hash))

    def _known(self, tx_hash: str) -> bool:
        return self._retry("looking up a transaction", lambda: self.sender.is_known(tx_hash))

    def _wait(self, loaded: Loaded, tx: JournalTx) -> bool:
        deadline = time.monotonic() + self.receipt_timeout_s
        while time.monotonic() < deadline:
            receipt = self._receipt(tx.tx_hash)
            if receipt is not None:
                if receipt["status"] == 1:
                    self.journal.set_tx_status(tx.tx_hash, "mined")
                    self.journal.set_status(loaded.digest, "landed", tx_hash=tx.tx_hash,
                                            block=int(receipt["blockNumber"]), gas_used=int(receipt["gasUsed"]))
                    return True
                self.journal.set_tx_status(tx.tx_hash, "failed")
                return False
            time.sleep(0.05)
        return False

    def _settle(self, loaded: Loaded, tx: JournalTx) -> bool:
        """An earlier transaction for this attestation: done if mined, re-sent if vanished,
        replaced with a higher fee if stuck. True once the attestation has landed."""
        if self._wait_once(loaded, tx):
            return True
        if not self._known(tx.tx_hash):
            try:
                self._broadcast(tx)  # dropped (or never sent before a crash): the same bytes again
            except ChainError as exc:
                if not _nonce_used(exc):
                    raise
                # Its nonce went to another transaction of this sender: this one can never land.
                self.journal.set_tx_status(tx.tx_hash, "failed")
                return False
            if self._wait(loaded, tx):
                return True
        if self._recorded(loaded) == bytes.fromhex(loaded.digest[2:]):
            self._found_on_chain(loaded)
            return True
        bumped = self.sign(loaded, tx.nonce, Fees(tx.max_fee, tx.priority_fee).bumped(FEE_BUMP_PERCENT))
        self.journal.set_tx_status(tx.tx_hash, "replaced")
        self._broadcast(bumped)
        if self._wait(loaded, bumped):
            return True
        self.journal.set_status(loaded.digest, "sent", reason=f"transaction {bumped.tx_hash} not mined yet")
        raise ChainError(f"attestation {loaded.digest}: transaction {bumped.tx_hash} not mined within "
                         f"{self.receipt_timeout_s:.0f} s; run `vcp resume` later")

    def _wait_once(self, loaded: Loaded, tx: JournalTx) -> bool:
        receipt = self._receipt(tx.tx_hash)
        if receipt is None:
            return False
        if receipt["status"] == 1:
            self.journal.set_tx_status(tx.tx_hash, "mined")
            self.journal.set_status(loaded.digest, "landed", tx_hash=tx.tx_hash, block=int(receipt["blockNumber"]),
                                    gas_used=int(receipt["gasUsed"]))
            return True
        self.journal.set_tx_status(tx.tx_hash, "failed")
        return False

    def sign(self, loaded: Loaded, nonce: int, fees: Fees) -> JournalTx:
        """Sender's steps of the one transaction path: gas limit, sign; then the journal (nothing is
        sent: ``submit`` broadcasts what this journaled)."""
        to, data = self.registry.address, loaded.calldata(self.registry)
        # On the latest block: a pending transaction of ours for this attestation may be the one replaced.
        gas = self._retry("estimating gas", lambda: self.sender.gas_limit(to=to, data=data, replacing=True))
        signed = self.sender.sign(to=to, data=data, gas=gas, nonce=nonce, fees=fees)
        # Journaled before it leaves this process: a crash after the send can always find it.
        self.journal.add_tx(signed.tx_hash, loaded.digest, signed.sender, nonce, signed.raw, fees.max_fee,
                            fees.priority_fee)
        return JournalTx(signed.tx_hash, loaded.digest, signed.sender, nonce, signed.raw, fees.max_fee,
                         fees.priority_fee, "signed")

    def _broadcast(self, tx: JournalTx) -> None:
        try:
            self._retry("broadcasting", lambda: self.sender.broadcast(tx.raw))
        except ChainError as exc:
            text = str(exc).lower()
            if "already known" not in text and "already imported" not in text:
                raise
        self.journal.set_tx_status(tx.tx_hash, "broadcast")
        self.journal.set_status(tx.attestation_id, "sent", tx_hash=tx.tx_hash)

    def _send_new(self, loaded: Loaded) -> None:
        nonce = self._retry("reading the nonce", self.sender.pending_nonce)
        fees = self._retry("reading the base fee", self.sender.fees)
        tx = self.sign(loaded, nonce, fees)
        try:
            self._broadcast(tx)
        except ChainError as exc:
            if not _nonce_used(exc):
                raise
            # Another transaction of this sender took the nonce between reading and sending.
            self.journal.set_tx_status(tx.tx_hash, "failed")
            tx = self.sign(loaded, self._retry("reading the nonce", self.sender.pending_nonce), fees)
            self._broadcast(tx)
        if not self._wait(loaded, tx):
            self.journal.set_status(loaded.digest, "sent", reason=f"transaction {tx.tx_hash} not mined yet")
            raise ChainError(f"attestation {loaded.digest}: transaction {tx.tx_hash} not mined within "
                             f"{self.receipt_timeout_s:.0f} s; run `vcp resume` later")
