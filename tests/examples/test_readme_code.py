"""The README's Python code runs as written (in a fresh folder, as a user would paste it)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_python_block_in_the_readme_runs(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has no Python example"
    for number, code in enumerate(blocks):
        script = tmp_path / f"readme_{number}.py"
        script.write_text(code)
        proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"README block {number} failed:\n{proc.stderr}"
    assert (tmp_path / "att.json").exists() and (tmp_path / "att.trace.json").exists()
