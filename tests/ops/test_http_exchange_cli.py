"""`vcp exchange serve` as its own process: prints where it listens, stores what it is given,
stops cleanly on SIGTERM and SIGINT; `vcp exchange put/get` over several stores; bad usage is
one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from vcp_toolkit.cli import main
from vcp_toolkit.commit.encoding import keccak256
from vcp_toolkit.ops.http_server import RunningStore
from vcp_toolkit.ops.da import BlobTooLarge
from vcp_toolkit.ops.http_store import HttpStore


def start(tmp_path, *extra: str) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, "-m", "vcp_toolkit.cli", "exchange", "serve", "--dir", str(tmp_path / "store"),
               "--port", "0", *extra]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if "http://" not in line:
        process.kill()
        pytest.fail(f"no URL from vcp exchange serve: {line!r} {process.stderr.read()!r}")
    return process, line.split(" on ")[1].split()[0]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_stores_blobs_and_stops_cleanly(tmp_path, signum):
    process, url = start(tmp_path, "--max-bytes", "100")
    try:
        store = HttpStore(url)
        digest = store.put(b"kept on disk")
        assert (tmp_path / "store" / "blobs" / digest[:2] / digest).read_bytes() == b"kept on disk"
        with pytest.raises(BlobTooLarge, match="413"):
            store.put(b"x" * 101)
    finally:
        process.send_signal(signum)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "store stopped" in out and err == ""


def test_serve_on_a_busy_port_is_one_line(tmp_path):
    with RunningStore(tmp_path / "other") as url:
        port = url.rsplit(":", 1)[1]
        done = subprocess.run([sys.executable, "-m", "vcp_toolkit.cli", "exchange", "serve", "--dir",
                               str(tmp_path / "s"), "--port", port], cwd=tmp_path, capture_output=True, text=True,
                              timeout=30)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "cannot listen" in done.stderr and "--port" in done.stderr


@pytest.mark.parametrize("argv", [["--max-bytes", "0"], ["--timeout", "-1"], ["--port", "70000"]])
def test_serve_refuses_bad_limits_in_one_line(tmp_path, capsys, argv):
    assert main(["exchange", "serve", "--dir", str(tmp_path / "s"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("vcp: error:")


def test_put_and_get_over_several_stores(tmp_path, capsys):
    blob = tmp_path / "blob.bin"
    blob.write_bytes(bytes(range(256)))
    digest = "0x" + keccak256(blob.read_bytes()).hex()
    with RunningStore(tmp_path / "http") as url:
        assert main(["exchange", "put", str(blob), "--store", url, "--store", str(tmp_path / "dir")]) == 0
        assert capsys.readouterr().out.strip() == digest
        out = tmp_path / "back.bin"
        assert main(["exchange", "get", digest, "--store", str(tmp_path / "empty"), "--store", url,
                     "--out", str(out)]) == 0
        assert out.read_bytes() == blob.read_bytes()
    assert main(["exchange", "get", digest, "--store", str(tmp_path / "dir"), "--out", str(out)]) == 0


def test_get_of_what_no_store_holds_is_one_line(tmp_path, capsys):
    assert main(["exchange", "get", "ab" * 32, "--store", str(tmp_path), "--out", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not available" in err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("digest", ["../../etc/passwd", "ab" * 31, "é" * 64])
def test_get_refuses_a_name_that_is_not_a_digest(tmp_path, capsys, digest):
    assert main(["exchange", "get", digest, "--store", str(tmp_path), "--out", str(tmp_path / "x")]) == 2
    assert "64 hex digits" in capsys.readouterr().err


def test_put_of_a_special_file_is_refused(tmp_path, capsys):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert main(["exchange", "put", str(fifo), "--store", str(tmp_path / "s")]) == 2
    assert "not a regular file" in capsys.readouterr().err
