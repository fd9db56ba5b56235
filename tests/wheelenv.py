"""The packaged wheel as a pip user gets it: built from what a fresh clone holds, installed with its
pinned dependencies into a fresh venv outside the repository (tests/package/conftest.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONSTRAINTS = REPO / "constraints.txt"


def tracked_files() -> list[str]:
    """The files a fresh clone has (tracked, still present in the work tree)."""
    if not (REPO / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout")
    out = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True, check=True).stdout
    return sorted(name for name in out.decode().split("\0") if name and (REPO / name).is_file())


def build_wheel(src: Path, dist: Path) -> Path:
    """The wheel, built (as pip would) from a copy of what a fresh clone holds."""
    for name in tracked_files():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, src / name)
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--build-constraint",
                           str(CONSTRAINTS), "--wheel-dir", str(dist), str(src)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (built,) = dist.glob("vcp_toolkit-*.whl")
    return built


def fresh_venv(root: Path, wheel: Path) -> Path:
    """A venv outside the repository (no system site-packages) with the wheel and its pinned deps."""
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-compile",
                           "--constraint", str(CONSTRAINTS), str(wheel)], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return venv


def user_env(venv: Path) -> dict[str, str]:
    """The environment of a user whose PATH starts with ``venv/bin`` and holds nothing of the repository."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join([str(venv / "bin"), *(p for p in env.get("PATH", "").split(os.pathsep)
                                                       if not p.startswith(str(REPO)))])
    env["VCP_NODE_MODULES"] = str(REPO / "node_modules")  # Anvil and Ganache, as a user would point to them
    return env
