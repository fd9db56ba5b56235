"""The EVM verifier of a circuit: EZKL writes ``Verifier.sol``, the project's solcjs compiles it.

``create_evm_verifier`` writes the file and then tries to download a native solc, which fails
offline; the file is complete, so vcp compiles it with the pinned solcjs."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

from vcp_toolkit.errors import ToolMissing, ZkError
from vcp_toolkit.zk.backend import require_ezkl


def write_verifier_source(directory: Path, srs: Path) -> Path:
    """EZKL's Solidity verifier for the circuit set up in ``directory``; returns its path."""
    ezkl = require_ezkl()
    sol = directory / "Verifier.sol"

    async def build_verifier() -> None:
        await ezkl.create_evm_verifier(str(directory / "vk.key"), str(directory / "settings.json"), str(sol),
                                       str(directory / "Verifier.abi"), str(srs))

    try:
        asyncio.run(build_verifier())
    except RuntimeError as exc:  # it writes Verifier.sol, then fails fetching a native solc
        if not sol.exists():
            raise ZkError(f"EZKL did not write the verifier: {exc}") from exc
    return sol


def compile_verifier(sol: Path) -> dict[str, Any]:
    """solcjs's artifact (``abi``, ``bytecode``, ...) for one Solidity file, via the shipped compile_file.mjs."""
    from vcp_toolkit.chain.nodes import find_tool

    node = shutil.which("node")
    if node is None:
        raise ToolMissing("compiling the zk verifier needs Node.js 20 and the project's npm install")
    modules = find_tool("solcjs").parent.parent
    script = Path(str(resources.files("vcp_toolkit.contracts") / "compile_file.mjs"))
    proc = subprocess.run([node, str(script), str(sol)], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "NODE_PATH": str(modules)})
    if proc.returncode != 0:
        raise ZkError(f"solcjs could not compile {sol.name}: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout)
