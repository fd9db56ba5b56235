"""One wheel and one fresh venv per session, shared by the packaging and README tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from wheelenv import build_wheel, fresh_venv, user_env


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def installed(wheel, tmp_path_factory) -> tuple[Path, Path, dict[str, str]]:
    """(venv, a working directory outside the repository, the environment to run them in)."""
    root = tmp_path_factory.mktemp("installed")
    venv = fresh_venv(root, wheel)
    (root / "work").mkdir()
    return venv, root / "work", user_env(venv)
