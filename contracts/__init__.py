"""The Solidity sources and their compiled artifacts (ABI + bytecode), shipped with the package.

Artifacts are built by ``node contracts/compile.mjs`` with the pinned solcjs (``make contracts``);
pip users load them from here and need no Node. A test fails when they are stale.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from vcp_toolkit.errors import ToolMissing

__all__ = ["load_artifact", "artifact_names", "EVM_VERSION", "EVM_EXCEPTIONS"]

# The EVM version (hardfork) everything runs, named once in contracts/evm.json: both compile scripts
# read it for solc's evmVersion, and vcp.chain.nodes for the chains it starts.
_EVM = json.loads(resources.files(__name__).joinpath("evm.json").read_text())
EVM_VERSION: str = _EVM["evmVersion"]
# Sources compiled for a newer EVM on their own (source under contracts/ -> evmVersion): BlobAnchor
# reads BLOBHASH (Cancun). Their artifacts record that version; they run only where it runs.
EVM_EXCEPTIONS: dict[str, str] = dict(_EVM.get("exceptions", {}))


def _artifacts():
    return resources.files(__name__).joinpath("artifacts")


def artifact_names(include_test: bool = False) -> list[str]:
    names = [p.name[:-5] for p in _artifacts().iterdir() if p.name.endswith(".json")]
    if include_test and _artifacts().joinpath("test").is_dir():
        names += ["test/" + p.name[:-5] for p in _artifacts().joinpath("test").iterdir() if p.name.endswith(".json")]
    return sorted(names)


@lru_cache(maxsize=None)
def load_artifact(name: str) -> dict[str, Any]:
    """The artifact of contract ``name`` (``"test/Name"`` for test-only contracts)."""
    path = _artifacts().joinpath(*f"{name}.json".split("/"))
    if not path.is_file():
        raise ToolMissing(f"no compiled artifact for {name}: run `make contracts`")
    return json.loads(path.read_text())
