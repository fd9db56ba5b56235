"""The journal: every attestation and transaction vcp produces, in SQLite (WAL), before it is sent.

    attestations  one row per attestation file (key: its EIP-712 digest): where it is on disk,
                  which chain and registry it is for, and its status:
                  pending -> sent -> landed, or failed (with the reason; resumable ones stay pending)
    transactions  every signed transaction, raw bytes included, written before broadcast, so a
                  restarted process can re-send exactly what it signed (same nonce, so it can land
                  once at most) or replace it with a higher fee.

Submission is idempotent on the attestation digest: the journal and the chain are both checked
before anything is sent, so a retry never lands twice.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from vcp_toolkit.errors import InvalidInput

SCHEMA = """
CREATE TABLE IF NOT EXISTS attestations (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    path TEXT NOT NULL,
    bundle_sha256 TEXT,
    chain_id INTEGER NOT NULL,
    registry TEXT NOT NULL,
    prover TEXT NOT NULL,
    nonce TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'landed', 'failed')),
    reason TEXT,
    tx_hash TEXT,
    block INTEGER,
    gas_used INTEGER,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS transactions (
    tx_hash TEXT PRIMARY KEY,
    attestation_id TEXT NOT NULL REFERENCES attestations(id),
    sender TEXT NOT NULL,
    nonce INTEGER NOT NULL,
    raw TEXT NOT NULL,
    max_fee INTEGER NOT NULL,
    priority_fee INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('signed', 'broadcast', 'mined', 'replaced', 'failed')),
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS tx_by_attestation ON transactions(attestation_id);
CREATE TABLE IF NOT EXISTS jobs (
    chain_id INTEGER NOT NULL,
    contract TEXT NOT NULL,
    job_id INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('prover', 'watcher')),
    status TEXT NOT NULL,
    detail TEXT,
    updated_at REAL NOT NULL,
    PRIMARY KEY (chain_id, contract, job_id, role)
);
"""


@dataclass(frozen=True)
class JournalEntry:
    id: str
    kind: str
    path: str
    chain_id: int
    registry: str
    prover: str
    nonce: int
    status: str
    reason: str | None
    tx_hash: str | None
    block: int | None
    gas_used: int | None


@dataclass(frozen=True)
class JournalTx:
    tx_hash: str
    attestation_id: str
    sender: str
    nonce: int
    raw: bytes
    max_fee: int
    priority_fee: int
    status: str


class Journal:
    """A SQLite journal in WAL mode; every write is its own committed transaction."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")  # a power cut must not lose a signed transaction
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise InvalidInput(f"journal {self.path} is not a vcp journal ({exc})") from exc

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ attestations

    def add(self, digest: str, kind: str, path: Path, chain_id: int, registry: str, prover: str, nonce: int,
            bundle_sha256: str | None = None) -> JournalEntry:
        """Record an attestation (once: adding it again returns the existing row)."""
        now = time.time()
        self.db.execute(
            "INSERT OR IGNORE INTO attestations (id, kind, path, bundle_sha256, chain_id, registry, prover, nonce, "
            "status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
            (digest, kind, str(Path(path).resolve()), bundle_sha256, chain_id, registry, prover, str(nonce), now, now))
        return self.get(digest)

    def get(self, digest: str) -> JournalEntry | None:
        row = self.db.execute(
            "SELECT id, kind, path, chain_id, registry, prover, nonce, status, reason, tx_hash, block, gas_used "
            "FROM attestations WHERE id = ?", (digest,)).fetchone()
        return None if row is None else JournalEntry(*row[:6], int(row[6]), *row[7:])

    def set_status(self, digest: str, status: str, reason: str | None = None, tx_hash: str | None = None,
                   block: int | None = None, gas_used: int | None = None) -> None:
        self.db.execute(
            "UPDATE attestations SET status = ?, reason = ?, tx_hash = COALESCE(?, tx_hash), "
            "block = COALESCE(?, block), gas_used = COALESCE(?, gas_used), updated_at = ? WHERE id = ?",
            (status, reason, tx_hash, block, gas_used, time.time(), digest))

    def entries(self, status: str | None = None) -> list[JournalEntry]:
        query = "SELECT id FROM attestations" + (" WHERE status = ?" if status else "") + " ORDER BY created_at"
        return [self.get(row[0]) for row in self.db.execute(query, (status,) if status else ())]

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, COUNT(*) FROM attestations GROUP BY status").fetchall())

    # ------------------------------------------------------------------ optimistic jobs

    def set_job(self, chain_id: int, contract: str, job_id: int, role: str, status: str, detail: str = "") -> None:
        """Where an optimistic job stands for us: prover (answering, answered, finalized,
        disputed) or watcher (verified, challenged, reveal requested, slashed)."""
        self.db.execute(
            "INSERT INTO jobs (chain_id, contract, job_id, role, status, detail, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (chain_id, contract, job_id, role) DO UPDATE SET status = excluded.status, "
            "detail = excluded.detail, updated_at = excluded.updated_at",
            (chain_id, contract, job_id, role, status, detail, time.time()))

    def jobs(self) -> list[tuple]:
        return self.db.execute("SELECT chain_id, contract, job_id, role, status, detail FROM jobs "
                               "ORDER BY updated_at").fetchall()

    # ------------------------------------------------------------------ transactions

    def add_tx(self, tx_hash: str, attestation_id: str, sender: str, nonce: int, raw: bytes, max_fee: int,
               priority_fee: int) -> None:
        now = time.time()
        self.db.execute(
            "INSERT OR IGNORE INTO transactions (tx_hash, attestation_id, sender, nonce, raw, max_fee, priority_fee, "
            "status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'signed', ?, ?)",
            (tx_hash, attestation_id, sender, nonce, raw.hex(), max_fee, priority_fee, now, now))

    def set_tx_status(self, tx_hash: str, status: str) -> None:
        self.db.execute("UPDATE transactions SET status = ?, updated_at = ? WHERE tx_hash = ?",
                        (status, time.time(), tx_hash))

    def txs_for(self, attestation_id: str) -> list[JournalTx]:
        rows = self.db.execute(
            "SELECT tx_hash, attestation_id, sender, nonce, raw, max_fee, priority_fee, status FROM transactions "
            "WHERE attestation_id = ? ORDER BY created_at", (attestation_id,)).fetchall()
        return [JournalTx(r[0], r[1], r[2], r[3], bytes.fromhex(r[4]), r[5], r[6], r[7]) for r in rows]

    def all_txs(self) -> Iterator[JournalTx]:
        for (digest,) in self.db.execute("SELECT DISTINCT attestation_id FROM transactions").fetchall():
            yield from self.txs_for(digest)
