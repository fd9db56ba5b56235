"""The README's quick start, as a new user runs it: a fresh clone (only what is committed), then
`make demo`. It must set itself up, print the demo's table, exit 0, and print nothing alarming
(no traceback, no setuptools build warnings); a second run reuses the setup."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
NOISE = ("Traceback", "BuildBackendWarning", "SetuptoolsDeprecationWarning", "!!\n", "DEPRECATION:")


def quick_start_commands() -> list[str]:
    """The commands of the README's quick start block, comments stripped."""
    section = README.read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.split("#", 1)[0].strip()]


def test_the_quick_start_is_exactly_two_make_commands():
    assert quick_start_commands() == ["make demo", "make test"]


def _base_python() -> str:
    """The interpreter the venv was made from: a user's python3.11, not this venv's."""
    return str(Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}")


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.fail("the quick-start test needs git and a git checkout")
    target = tmp_path_factory.mktemp("fresh") / "vcp"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(target)], check=True, timeout=300)
    return target


def _make_demo(clone: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(REPO)))
    return subprocess.run(["make", "demo", f"PYTHON={_base_python()}"], cwd=clone, env=env, capture_output=True,
                          text=True, timeout=1800, stdin=subprocess.DEVNULL)


@pytest.mark.slow
@pytest.mark.chain
def test_make_demo_from_a_fresh_clone(clone):
    first = _make_demo(clone)
    output = first.stdout + first.stderr
    assert first.returncode == 0, output[-4000:]
    assert not [n for n in NOISE if n in output], f"noise in `make demo`:\n{output[-4000:]}"
    assert "vcp demo on embedded" in first.stdout and "gas: submit attestation" in first.stdout
    assert (clone / ".vcp" / "demo").is_dir()  # the demo writes into the clone, where the user ran it

    again = _make_demo(clone)  # the stamps hold: nothing reinstalled, the demo runs again
    assert again.returncode == 0 and "pip install" not in again.stdout, again.stdout[-2000:]
