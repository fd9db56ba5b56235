"""Where set-up circuits live: one directory per model root and EZKL version under
``$VCP_ZK_CACHE`` (default ``~/.cache/vcp/zk``), never in git (proving keys run to hundreds of MB)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from vcp_toolkit.zk.backend import ezkl_version

DONE = "circuit.json"  # written last: its presence means the directory is complete


def cache_root() -> Path:
    return Path(os.environ.get("VCP_ZK_CACHE") or Path.home() / ".cache" / "vcp" / "zk")


def circuit_directory(model_root: bytes) -> Path:
    """The cache directory of one model's circuit (created if missing)."""
    directory = cache_root() / f"{model_root.hex()}-ezkl{ezkl_version()}"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def load_meta(directory: Path) -> dict[str, Any] | None:
    """The cached circuit's description, or None when it has not been set up."""
    done = directory / DONE
    return json.loads(done.read_text()) if done.exists() else None


def save_meta(directory: Path, meta: dict[str, Any]) -> None:
    (directory / DONE).write_text(json.dumps(meta))
