"""The off-chain side of data availability: a directory shared by requesters, provers and watchers.

    inputs/<inputCommitment>.json          the requester's input and salt, for the prover
    bundles/<chainId>-<contract>-<job>.trace.json   the prover's trace bundle, for anyone to check

A prover that does not publish its bundle here can be forced to reveal the trace on-chain
(``requestReveal``), and loses its bond if it does not.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from vcp_toolkit.attest.eip712 import hex32
from vcp_toolkit.commit.commitments import input_commitment
from vcp_toolkit.errors import InvalidAttestationFile, InvalidInput
from vcp_toolkit.attest.files import TraceBundle, dump_json, read_json, write_atomic


class Exchange:
    """A directory (possibly shared storage) where inputs and trace bundles are published."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _input_path(self, commitment: bytes) -> Path:
        return self.root / "inputs" / f"{hex32(commitment)}.json"

    def _bundle_path(self, chain_id: int, contract: str, job_id: int) -> Path:
        return self.root / "bundles" / f"{chain_id}-{contract.lower()}-{job_id}.trace.json"

    def put_input(self, values: np.ndarray, salt: bytes) -> bytes:
        """Publish an input for provers; returns its commitment (what the job names)."""
        commitment = input_commitment(salt, values)
        write_atomic(self._input_path(commitment), dump_json({"values": values.astype(int).tolist(),
                                                               "salt": hex32(salt)}))
        return commitment

    def get_input(self, commitment: bytes) -> tuple[np.ndarray, bytes] | None:
        """The input that opens ``commitment``, or None if nobody published it (or it does not open)."""
        path = self._input_path(commitment)
        if not path.exists():
            return None
        try:
            data = read_json(path, "input")
            values = np.array(data["values"], dtype=np.int64)
            if values.ndim != 1 or values.min() < -128 or values.max() > 127:
                return None
            values = values.astype(np.int8)
            salt = bytes.fromhex(data["salt"][2:])
        except (InvalidInput, KeyError, TypeError, ValueError, json.JSONDecodeError):
            return None
        return (values, salt) if input_commitment(salt, values) == commitment else None

    def put_bundle(self, chain_id: int, contract: str, job_id: int, bundle: TraceBundle) -> Path:
        path = self._bundle_path(chain_id, contract, job_id)
        bundle.save(path)
        return path

    def get_bundle(self, chain_id: int, contract: str, job_id: int) -> TraceBundle | None:
        path = self._bundle_path(chain_id, contract, job_id)
        if not path.exists():
            return None
        try:
            return TraceBundle.load(path)
        except (InvalidAttestationFile, InvalidInput):
            return None  # a damaged bundle counts as not published
