"""Issue 16, "every command explains itself": one --out rule (several files: a folder; one file: a
file), --json is the result on stdout and nothing else, numbers written for people, tables that
never cut an identifier when piped, and one-line errors that name the file at fault and the fix."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from vcp_toolkit.attest.keys import SigningKey, create_keystore
from vcp_toolkit.bench.output import human
from vcp_toolkit.cli import build_parser, main
from vcp_toolkit.cli.measure import target_row
from vcp_toolkit.cli.render import third_party_output

OFFLINE = ["--chain-id", "1", "--registry", "0x" + "5a" * 20]
PASSWORD = "correct horse battery staple"
ROOT_HEX = re.compile(r"0x[0-9a-f]{64}")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VCP_") or k == "VCP_ZK_CACHE"}
    return {**env, **extra}


def vcp(*args, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vcp_toolkit.cli", *map(str, args)], cwd=cwd, env=env or _env(),
                          capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL)


@pytest.fixture
def run(capsys, monkeypatch, tmp_path):
    """``main`` in this process, in tmp_path, without the caller's VCP_* variables: (code, out, err)."""
    for name in list(os.environ):
        if name.startswith("VCP_") and name != "VCP_ZK_CACHE":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", open(os.devnull))

    def call(*args, **env: str) -> tuple[int, str, str]:
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        capsys.readouterr()
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        for k in env:
            monkeypatch.delenv(k)
        return code, out, err

    return call


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# ---------------------------------------------------------------- numbers


def test_numbers_for_people():
    assert human(36570.4) == "36,570" and human(40_000) == "40,000" and human(1_383_003) == "1,383,003"
    assert human(999.96) == "1,000" and human(12.5) == "12.5" and human(1.23456) == "1.235"
    assert human(0.0123456) == "0.01235" and human(0.00012345) == "0.0001234" and human(0.0) == "0"
    assert human(1.5e-7) == "1.500e-07" and human(None) == "n/a" and human(True) == "True"
    assert "e+" not in human(3.657e4) and "e+" not in human(1e12)


def test_bench_target_row_has_no_exponent_next_to_its_limit():
    name, text = target_row({"name": "gas", "value": 36570.4, "limit": 40000, "better": "lower", "met": True})
    assert text == "36,570 (met, limit ≤ 40,000)"
    _, text = target_row({"name": "rate", "value": 99.5, "limit": 100, "better": "higher", "met": False})
    assert text == "99.5 (MISSED, limit ≥ 100)"


# ---------------------------------------------------------------- tables


@pytest.fixture(scope="module")
def onnx_model(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("onnx")
    proc = vcp("export", "--out", d / "m.onnx", cwd=d)
    assert proc.returncode == 0, proc.stderr
    return d / "m.onnx"


def test_piped_table_keeps_every_identifier_whole(onnx_model, tmp_path):
    proc = vcp("inspect", onnx_model, cwd=tmp_path, env=_env(COLUMNS="60"))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    root = [line for line in lines if line.strip().startswith("model root")]
    assert len(root) == 1 and ROOT_HEX.search(root[0]), proc.stdout  # the whole root on its own line
    assert not any(ch in proc.stdout for ch in "│┃┏━└") and lines[0] == "vcp inspect"


def _on_a_terminal(code: str, columns: int) -> str:
    """What ``code`` prints with its stdout on a pseudo-terminal ``columns`` wide."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=slave, stderr=subprocess.PIPE,
                            env=_env(COLUMNS=str(columns), TERM="xterm"))
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait(timeout=60) == 0, proc.stderr.read()
    return b"".join(chunks).decode()


def test_terminal_table_is_boxed_when_it_fits_and_plain_when_it_does_not():
    code = ("from vcp_toolkit.cli.render import table; "
            f"table('t', [('model root', '0x' + 'ab' * 32), ('gas', '36,570')])")
    wide = _on_a_terminal(code, 160)
    assert "│" in wide and ROOT_HEX.search(wide)
    narrow = _on_a_terminal(code, 40)
    assert "│" not in narrow and ROOT_HEX.search(narrow)  # too narrow for a box: plain, uncut


# ---------------------------------------------------------------- --out and --json


def _fake_render(monkeypatch):
    """The report's contents are tests/bench's business: here only where its files go."""
    from vcp_toolkit.bench import report

    monkeypatch.setattr(report, "render",
                        lambda result, fee_params=None: ("<html>report</html>", {"plot.png": b"png"}))


def _bench_folder(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "bench.json").write_text(json.dumps({"rows": [], "targets": [], "environment": {}}))
    return path


def test_report_takes_the_bench_folder_and_writes_into_its_out_folder(run, tmp_path, monkeypatch):
    _fake_render(monkeypatch)
    bench = _bench_folder(tmp_path / "runs" / "one")
    code, out, err = run("report", "--bench", bench)  # default --out: the bench's folder
    assert code == 0, err
    assert (bench / "report.html").read_text() == "<html>report</html>" and (bench / "plot.png").exists()
    code, out, err = run("report", "--bench", bench / "bench.json", "--out", tmp_path / "site")
    assert code == 0, err
    assert (tmp_path / "site" / "report.html").exists() and (tmp_path / "site" / "plot.png").exists()
    assert not (tmp_path / "site.html").exists() and not (tmp_path / "plot.png").exists()
    code, out, err = run("report", "--bench", bench, "--out", tmp_path / "page" / "r.html", "--json")
    assert code == 0, err
    assert json.loads(out)["report"] == str(tmp_path / "page" / "r.html")  # stdout is the JSON, all of it
    assert (tmp_path / "page" / "plot.png").exists()


def test_report_and_bench_refuse_the_wrong_kind_of_out(run, tmp_path, monkeypatch):
    _fake_render(monkeypatch)
    bench = _bench_folder(tmp_path / "b")
    (tmp_path / "notes.txt").write_text("x")
    code, out, err = run("report", "--bench", bench, "--out", tmp_path / "notes.txt")
    assert code == 2 and "notes.txt" in one_line(err) and "name a folder" in err and out == ""
    code, out, err = run("report", "--bench", tmp_path / "nothing-here")
    assert code == 2 and "nothing-here" in one_line(err) and "vcp bench --out DIR" in err
    for args in (["bench", "--quick", "--out", tmp_path / "notes.txt"],
                 ["demo", "--out", tmp_path / "notes.txt", "--repeats", "1"]):
        code, out, err = run(*args)  # refused before anything runs
        assert code == 2 and "notes.txt" in one_line(err) and "folder" in err and out == ""


def test_json_is_the_result_and_nothing_else(onnx_model, tmp_path):
    proc = vcp("inspect", onnx_model, "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert ROOT_HEX.fullmatch(json.loads(proc.stdout)["model_root"])


# ---------------------------------------------------------------- -v


def test_verbose_is_accepted_before_and_after_the_command_and_only_lasts_the_command(monkeypatch):
    parser = build_parser()
    assert parser.parse_args(["-v", "status"]).verbose and parser.parse_args(["status", "--verbose"]).verbose
    assert not parser.parse_args(["status"]).verbose
    monkeypatch.delenv("VCP_VERBOSE", raising=False)
    with third_party_output(True):
        assert os.environ["VCP_VERBOSE"] == "1"
    assert "VCP_VERBOSE" not in os.environ
    with third_party_output(False):
        assert "VCP_VERBOSE" not in os.environ


# ---------------------------------------------------------------- errors that name the file


@pytest.fixture
def keystores(tmp_path) -> dict[str, Path]:
    d = tmp_path / "keys"
    d.mkdir()
    create_keystore(d / "good.json", PASSWORD, SigningKey(bytes(range(1, 33))), kdf="pbkdf2")
    (d / "empty.json").write_bytes(b"")
    (d / "text.json").write_text("0x" + "ab" * 32 + "\n")  # a raw key pasted in: never echoed
    (d / "object.json").write_text('{"address": "x"}')
    (d / "folder.json").mkdir()
    os.mkfifo(d / "fifo.json")
    return {p.name.removesuffix(".json"): p for p in d.iterdir()} | {"missing": d / "missing.json"}


@pytest.mark.parametrize("name, words", [
    ("missing", "No such file or directory"), ("folder", "is a folder"), ("fifo", "named pipe"),
    ("empty", "is not a JSON keystore: the file is empty"), ("text", "is not a JSON keystore: its text is not JSON"),
    ("object", "is not a JSON keystore"), ("good", "wrong password")])
def test_keystore_errors_name_the_file_and_the_fix(run, keystores, name, words):
    code, out, err = run("prove", "--input", "digits:0", "--out", "a.json", *OFFLINE, "--keystore", keystores[name],
                         VCP_KEYSTORE_PASSWORD="wrong" if name == "good" else PASSWORD)
    line = one_line(err)
    assert code == 1 and out == "" and str(keystores[name]) in line and words in line, line
    assert "Expecting" not in line and "Errno" not in line and "ab" * 8 not in line
    assert "vcp keygen" in line or name in ("missing", "good")


def test_file_errors_name_the_path(run, tmp_path):
    (tmp_path / "folder").mkdir()
    for args in (["prove", "--input", "digits:0", "--out", tmp_path / "folder", *OFFLINE],
                 ["export", "--out", tmp_path / "folder"], ["inspect", tmp_path / "folder"]):
        code, out, err = run(*args, VCP_PRIVATE_KEY="0x" + "5a" * 32)
        line = one_line(err)
        assert code != 0 and str(tmp_path / "folder") in line and "folder" in line.split(str(tmp_path))[-1], line


@pytest.mark.parametrize("content, words", [(b"", "the file is empty"), (b"hello", "line 1, column 1"),
                                            (b'{"a": 1,\n "b": }', "line 2, column 7")])
def test_attestation_that_is_not_json_says_where_in_words(run, tmp_path, content, words):
    (tmp_path / "att.json").write_bytes(content)
    code, out, err = run("verify", tmp_path / "att.json")
    line = one_line(err)
    assert code == 1 and str(tmp_path / "att.json") in line and words in line and "Expecting" not in line
