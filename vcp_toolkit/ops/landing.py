"""Proving a range of inputs into files and landing them: each file written and journaled before
anything is sent, so a run killed at any point and started again redoes nothing that was done
(``vcp run``). The prover is any object with ``prove`` and ``model``; this layer does not import it."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

__all__ = ["journal_file", "prove_and_land", "prove_range"]


def _add_to_journal(journal, attestation_path: Path):
    from vcp_toolkit.ops.submitter import load_any

    loaded = load_any(attestation_path)
    return journal.add(loaded.digest, loaded.kind, attestation_path, loaded.chain_id, loaded.registry,
                       loaded.prover, loaded.nonce)


def journal_file(journal_path: Path, attestation_path: Path):
    """Record an attestation file of any kind in the journal at ``journal_path`` (idempotent)."""
    from vcp_toolkit.ops.journal import Journal

    with Journal(journal_path) as journal:
        return _add_to_journal(journal, attestation_path)


def prove_range(prover, samples: np.ndarray, indices: Sequence[int], out: Path, journal) -> list[Path]:
    """Prove float ``samples[i]`` for each index into ``out/input-{i}.json``, each written and
    journaled before anything is sent. A file already there (proven before a crash) is kept: its
    nonce may be on-chain."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in indices:
        path = out / f"input-{index}.json"
        if not path.exists():
            prover.prove(prover.model.quantize_input(samples[index])).save(path)
        _add_to_journal(journal, path)
        paths.append(path)
    return paths


def prove_and_land(submitter, prover, samples: np.ndarray, indices: Sequence[int], out: Path) -> dict[str, int]:
    """``prove_range``, then land every file through ``submitter``; killed at any point and run
    again, it redoes nothing that was done. Returns the journal's counts by status."""
    for path in prove_range(prover, samples, indices, out, submitter.journal):
        submitter.submit(path)
    return submitter.journal.counts()
