"""Where `vcp serve --http` keeps what it answered, before it answers: two tables in the journal's
SQLite file (WAL, synchronous=FULL), written by one thread, one transaction (one fsync) per group
of answers.

    served_groups   one row per signature: a batch (its signed message) or a group of single
                    attestations answered together
    served_records  one row per answer: the record leaf (unique: every record has fresh salts),
                    the client's request id (unique when given: a retry gets the stored answer),
                    the full trace (for re-execution, a reveal or a dispute), and the answer sent
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vcp_toolkit.attest.eip712 import BatchAttestation, Domain, Signature
from vcp_toolkit.attest.files import BatchBundle, BatchFile, printable
from vcp_toolkit.errors import InvalidInput

SCHEMA = """
CREATE TABLE IF NOT EXISTS served_groups (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('single', 'batch')),
    batch TEXT,
    domain TEXT NOT NULL,
    signature TEXT,
    count INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS served_records (
    leaf TEXT PRIMARY KEY,
    request_id TEXT UNIQUE,
    group_id INTEGER NOT NULL REFERENCES served_groups(id),
    idx INTEGER NOT NULL,
    input BLOB NOT NULL,
    trace BLOB NOT NULL,
    input_salt BLOB NOT NULL,
    output_salt BLOB NOT NULL,
    answer BLOB NOT NULL,
    UNIQUE (group_id, idx)
);
"""


@dataclass(frozen=True)
class ServedRow:
    """One answer to journal."""

    leaf: bytes
    request_id: str | None
    input: bytes
    trace: bytes
    input_salt: bytes
    output_salt: bytes
    answer: bytes


@dataclass(frozen=True)
class ServedGroup:
    """What one signature covers: a batch (``batch`` set) or single attestations."""

    kind: str
    domain: Domain
    batch: BatchAttestation | None
    signature: Signature | None


class ServedJournal:
    """The served tables of one journal file; use it from one thread."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_file():  # a FIFO would block the first read forever
            raise InvalidInput(f"journal {printable(self.path)} is not a regular file: pass a file path (it is "
                               "created when missing)")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")  # an answer is sent only once its commit is on disk
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise InvalidInput(f"journal {printable(self.path)} is not a vcp journal ({exc})") from exc

    def close(self) -> None:
        self.db.close()

    def answers_for(self, request_ids: list[str]) -> dict[str, tuple[bytes, bytes]]:
        """request id -> (input, answer) of those already answered."""
        found: dict[str, tuple[bytes, bytes]] = {}
        for start in range(0, len(request_ids), 500):  # SQLite's bound-parameter limit
            part = request_ids[start:start + 500]
            rows = self.db.execute("SELECT request_id, input, answer FROM served_records WHERE request_id IN "
                                   f"({','.join('?' * len(part))})", part).fetchall()
            found.update((r[0], (bytes(r[1]), bytes(r[2]))) for r in rows)
        return found

    def record(self, group: ServedGroup, rows: list[ServedRow]) -> None:
        """Journal a group and its answers in one transaction: all of them, or none."""
        batch = None if group.batch is None else json.dumps(group.batch.message())
        signature = None if group.signature is None else group.signature.to_hex()
        with self.db:  # sqlite3's context manager commits or rolls back
            self.db.execute("BEGIN IMMEDIATE")
            cursor = self.db.execute(
                "INSERT INTO served_groups (kind, batch, domain, signature, count, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (group.kind, batch, json.dumps(group.domain.as_json()), signature, len(rows), time.time()))
            group_id = cursor.lastrowid
            self.db.executemany(
                "INSERT INTO served_records (leaf, request_id, group_id, idx, input, trace, input_salt, output_salt, "
                "answer) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(r.leaf.hex(), r.request_id, group_id, i, r.input, r.trace, r.input_salt, r.output_salt, r.answer)
                 for i, r in enumerate(rows)])


@dataclass(frozen=True)
class ServedRecord:
    """One journaled answer, as read back."""

    leaf: bytes
    request_id: str | None
    group_id: int
    index: int
    answer: bytes


def served_records(path: Path) -> list[ServedRecord]:
    """Every answer the journal at ``path`` holds, in the order they were journaled."""
    with sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True) as db:
        try:
            rows = db.execute("SELECT leaf, request_id, group_id, idx, answer FROM served_records "
                              "ORDER BY group_id, idx").fetchall()
        except sqlite3.OperationalError:  # no table: nothing served yet
            return []
    return [ServedRecord(bytes.fromhex(r[0]), r[1], r[2], r[3], bytes(r[4])) for r in rows]


def export_batch(path: Path, group_id: int, model_name: str, widths: list[int],
                 folder: Path) -> tuple[Path, Path]:
    """Write served batch ``group_id`` as a batch file and its bundle (what `vcp verify` and
    `vcp submit` take); ``widths`` are the model's layer widths, input first."""
    with sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True) as db:
        group = db.execute("SELECT kind, batch, domain, signature FROM served_groups WHERE id = ?",
                           (group_id,)).fetchone()
        rows = db.execute("SELECT trace, input_salt, output_salt FROM served_records WHERE group_id = ? "
                          "ORDER BY idx", (group_id,)).fetchall()
    if group is None or group[0] != "batch":
        raise InvalidInput(f"served group {group_id} is not a batch in {path}")
    batch = BatchAttestation.from_message(json.loads(group[1]))
    flat = np.frombuffer(b"".join(bytes(r[0]) for r in rows), dtype=np.int8).reshape(len(rows), sum(widths))
    bounds = np.cumsum([0, *widths])
    traces = tuple(np.ascontiguousarray(flat[:, bounds[i]:bounds[i + 1]]) for i in range(len(widths)))
    bundle = BatchBundle(batch.model_root, traces, b"".join(bytes(r[1]) for r in rows),
                         b"".join(bytes(r[2]) for r in rows))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    bundle_path = folder / f"served-{group_id}.bundle.npz"
    sha = bundle.save(bundle_path)
    batch_path = folder / f"served-{group_id}.json"
    BatchFile(batch, Domain.from_json(json.loads(group[2])), Signature.from_hex(group[3]), model_name,
              bundle_path.name, sha).save(batch_path)
    return batch_path, bundle_path
