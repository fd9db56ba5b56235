"""EZKL itself: importing it, its version, its input file, its error text, and the witness and
proof it makes in the calling process."""

from __future__ import annotations

import json
import resource
from pathlib import Path

import numpy as np

from vcp_toolkit.errors import ToolMissing, ZkError

INSTALL_HINT = "the zk backend needs EZKL: pip install 'vcp-toolkit[zk]' (or pip install ezkl)"


def ezkl_version() -> str | None:
    try:
        import importlib.metadata

        return importlib.metadata.version("ezkl")
    except Exception:
        return None


def require_ezkl():
    try:
        import ezkl
    except ImportError as exc:
        raise ToolMissing(INSTALL_HINT) from exc
    return ezkl


def ezkl_failure(what: str, exc: Exception) -> ZkError:
    """A ZkError for an exception EZKL raised (RuntimeError/ValueError with its own text)."""
    return ZkError(f"{what}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")


def write_input(path: Path, x: np.ndarray) -> None:
    """EZKL's input file for one int8 vector."""
    path.write_text(json.dumps({"input_data": [[float(v) for v in x.reshape(-1)]]}))


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def witness_and_proof(witness_in: str, compiled: str, pk: str, proof_out: str, srs: str, witness: str) -> float:
    """EZKL's witness and proof, in this process; returns its peak RSS (MB). The prover runs this in
    a fresh process, so it lives here, where importing it costs what importing EZKL's wrapper costs."""
    import ezkl

    ezkl.gen_witness(witness_in, compiled, witness)
    ezkl.prove(witness, compiled, pk, proof_out, srs)
    return peak_rss_mb()
