"""`vcp serve --http` and `vcp bench --load` refuse bad usage in one line, exit 2, before anything
starts."""

from __future__ import annotations

import pytest

from vcp_toolkit.cli import main

REGISTRY = "0x" + "5e" * 20


@pytest.mark.parametrize(("argv", "says"), [
    (["serve", "--http", "--port", "0"], "--chain-id and --registry"),
    (["serve", "--http", "--chain-id", "1", "--registry", REGISTRY, "--cheat", "wrong_output"], "--cheat"),
    (["serve", "--http", "--chain-id", "1", "--registry", REGISTRY, "--exchange", "x", "--state", "y"], "--exchange"),
    (["serve", "--http", "--chain-id", "1", "--registry", REGISTRY, "--batch-window-ms", "-1"], "--batch-window-ms"),
    (["serve", "--http", "--chain-id", "1", "--registry", REGISTRY, "--max-batch", "0"], "--max-batch"),
    (["serve", "--http", "--chain-id", "1", "--registry", REGISTRY, "--port", "70000"], "--port"),
    (["serve", "--http", "--chain-id", "1", "--registry", "0x12"], "registry"),
    (["serve", "--rpc-url", "http://127.0.0.1:1"], "--exchange, --state"),
    (["bench", "--load", "--load-windows", "5,x"], "--load-windows"),
    (["bench", "--load", "--load-windows", "5,-1"], "--load-windows"),
    (["bench", "--load", "--load-seconds", "0"], "--load-seconds"),
])
def test_bad_usage_is_one_line_and_exit_2(argv, says, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("VCP_PRIVATE_KEY", "0x" + "ab" * 32)
    assert main([*argv, *(["--journal", str(tmp_path / "j.sqlite")] if argv[0] == "serve" else
                          ["--out", str(tmp_path / "out")])]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and says in err, err


def _special_journal(tmp_path, kind):
    import os

    path = tmp_path / f"journal-{kind}"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    else:
        path.write_bytes(b"not a database, just text" * 100)
    return path


@pytest.mark.parametrize("kind", ["fifo", "directory", "garbage"])
def test_a_journal_that_is_not_a_database_file_is_refused(kind, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("VCP_PRIVATE_KEY", "0x" + "ab" * 32)
    journal = _special_journal(tmp_path, kind)
    assert main(["serve", "--http", "--port", "0", "--chain-id", "1", "--registry", REGISTRY,
                 "--journal", str(journal)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "journal" in err and ("regular file" in err or "not a vcp journal" in err)
