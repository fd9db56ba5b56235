"""A small JSON state file for long-running loops (serve, watch): where to resume after a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vcp_toolkit.errors import InvalidAttestationFile, InvalidInput
from vcp_toolkit.attest.files import dump_json, loads_strict, write_atomic


class StateFile:
    """``{"last_block": N, ...}`` persisted atomically after every step."""

    def __init__(self, path: Path, defaults: dict[str, Any]) -> None:
        self.path = Path(path)
        self.data: dict[str, Any] = dict(defaults)
        if self.path.exists():
            try:
                loaded = loads_strict(self.path.read_bytes(), f"state file {self.path}")
            except (OSError, InvalidAttestationFile) as exc:
                raise InvalidInput(f"state file {self.path} is damaged ({exc}); move it away to start over") from exc
            if not isinstance(loaded, dict):
                raise InvalidInput(f"state file {self.path} must hold a JSON object")
            self.data.update(loaded)

    def save(self) -> None:
        write_atomic(self.path, dump_json(self.data))
