"""The HTTP store under hostile clients: every refusal is a clear 4xx (or a closed connection for
a client too slow to answer) and leaves the store exactly as it was."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import urllib.request

import pytest

from vcp_toolkit.commit.encoding import keccak256
from vcp_toolkit.ops.http_server import RunningStore, StoreLimits

LIMITS = StoreLimits(max_bytes=1024, timeout=0.5)


def files_under(root) -> list[str]:
    """Every file the store holds, temporary ones included."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def raw(url: str, request: bytes, wait: float = 5.0) -> bytes:
    """What the server sends back to ``request`` sent as is, until it closes or ``wait`` passes."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        sock.sendall(request)
        return read_all(sock, wait)


def read_all(sock: socket.socket, wait: float) -> bytes:
    data, deadline = b"", time.monotonic() + wait
    sock.settimeout(0.2)
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def status(response: bytes) -> int:
    """The status code of a raw response, 0 for none (the connection was closed unanswered)."""
    match = re.match(rb"HTTP/1\.[01] (\d{3}) ", response)
    return int(match.group(1)) if match else 0


def call(url: str, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url + path, data=body, method=method)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def store(tmp_path):
    root = tmp_path / "store"
    with RunningStore(root, limits=LIMITS) as url:
        yield url, root


def test_put_get_head_and_health(store):
    url, root = store
    blob = b"\x00\xffsome bytes"
    digest = keccak256(blob).hex()
    assert call(url, "PUT", f"/blobs/{digest}", blob)[0] == 201
    assert call(url, "PUT", f"/blobs/0x{digest.upper()}", blob)[0] == 200  # already there: same name, same bytes
    assert call(url, "GET", f"/blobs/{digest}") == (200, blob)
    head = raw(url, f"HEAD /blobs/{digest} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert status(head) == 200 and f"Content-Length: {len(blob)}".encode() in head
    code, body = call(url, "POST", "/blobs", b"posted")
    assert code == 201 and json.loads(body)["digest"] == "0x" + keccak256(b"posted").hex()
    code, body = call(url, "GET", "/health")
    assert code == 200 and json.loads(body) == {"status": "ok", "max_bytes": 1024, "timeout": 0.5, "max_uploads": 32}
    assert files_under(root) == sorted(f"blobs/{d[:2]}/{d}" for d in (digest, keccak256(b"posted").hex()))


def test_hash_mismatched_upload_is_400_and_stores_nothing(store):
    url, root = store
    code, body = call(url, "PUT", f"/blobs/{keccak256(b'claimed').hex()}", b"other bytes")
    assert code == 400 and b"nothing stored" in body
    assert files_under(root) == []


def test_unknown_blob_is_404(store):
    url, _ = store
    assert call(url, "GET", f"/blobs/{'ab' * 32}")[0] == 404
    assert call(url, "GET", "/nothing-here")[0] == 404


@pytest.mark.parametrize("name", [
    "abc", "g" * 64, "a" * 63, "a" * 65, "0x" + "a" * 63, "0X" + "a" * 64, " " + "a" * 64, "a" * 64 + "%00",
    "%2e%2e", "..%2f..%2fetc%2fpasswd", "%C3%A9" * 32, "é" * 64, "a" * 62 + "%0A", "%ef%bc%a1" * 64,
])
def test_malformed_blob_names_are_400_and_store_nothing(store, name):
    url, root = store
    target = f"/blobs/{name}".encode("utf-8")
    response = raw(url, b"PUT " + target + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc")
    assert status(response) == 400
    assert status(raw(url, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) == 400
    assert files_under(root) == []


@pytest.mark.parametrize("target", ["/blobs/../../etc/passwd", "/blobs/..", "/../blobs", "/blobs/./x", "//etc/passwd",
                                    "/blobs/%2e%2e/%2e%2e/etc/passwd"])
def test_dot_dot_paths_reach_no_file(store, target, tmp_path):
    url, root = store
    (tmp_path / "secret").write_bytes(b"not yours")
    response = raw(url, f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert status(response) in (400, 404) and b"not yours" not in response
    response = raw(url, f"PUT {target} HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nConnection: close\r\n\r\nz".encode())
    assert status(response) in (400, 404, 405)
    assert files_under(root) == []


def test_oversized_body_is_413_before_it_is_read(store):
    url, root = store
    digest = "ab" * 32
    head = f"PUT /blobs/{digest} HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n".encode()
    response = raw(url, head)  # the body is never sent: the answer must not wait for it
    assert status(response) == 413 and b"Connection: close" in response
    assert files_under(root) == []


def test_chunked_body_over_the_limit_is_413(store):
    url, root = store
    chunk = b"x" * 600
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(3)) + b"0\r\n\r\n"
    response = raw(url, b"POST /blobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
    assert status(response) == 413
    assert files_under(root) == []


@pytest.mark.parametrize("length", ["1" + "0" * 30, "-1", "12abc", "99999999999999999999"])
def test_absurd_content_length_is_refused(store, length):
    url, root = store
    response = raw(url, f"PUT /blobs/{'ab' * 32} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode())
    assert 400 <= status(response) < 500
    assert files_under(root) == []


def test_slow_body_times_out_and_stores_nothing(store):
    url, root = store
    blob = b"y" * 100
    host, port = url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(f"PUT /blobs/{keccak256(blob).hex()} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n".encode()
                     + blob[:10])
        response = read_all(sock, 5.0)  # never sends the other 90 bytes
        assert status(response) == 408 or response == b""
        assert time.monotonic() - started < 4.5  # the server ended it, not our own wait
    assert files_under(root) == []
    assert call(url, "GET", "/health")[0] == 200


def test_client_that_hangs_up_mid_body_stores_nothing(store):
    url, root = store
    blob = b"z" * 100
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(f"PUT /blobs/{keccak256(blob).hex()} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n".encode()
                     + blob[:50])
    time.sleep(0.3)
    assert files_under(root) == []
    assert call(url, "GET", f"/blobs/{keccak256(blob).hex()}")[0] == 404


@pytest.mark.parametrize("after_a_request", [False, True])
def test_headers_trickled_byte_by_byte_are_cut_off(store, after_a_request):
    url, _ = store
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        if after_a_request:  # a kept-alive connection gets no more patience than a new one
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert status(sock.recv(65536)) == 200
        started = time.monotonic()
        request = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
        sent = 0
        try:
            for byte in request:
                sock.sendall(bytes([byte]))
                sent += 1
                time.sleep(0.05)
        except OSError:  # the server hung up: a reset or a broken pipe
            pass
        assert sent < len(request)
        assert time.monotonic() - started < 5  # cut off after the timeout, long before the headers end


def test_garbage_request_line_is_400(store):
    url, root = store
    assert status(raw(url, b"\x16\x03\x01\x02\x00garbage\r\n\r\n")) == 400
    assert status(raw(url, b"PUT /blobs HTTP/9.9\r\n\r\n")) in (400, 505)
    assert files_under(root) == []


def test_other_methods_are_405(store):
    url, _ = store
    assert call(url, "DELETE", f"/blobs/{'ab' * 32}")[0] == 405
    assert call(url, "POST", f"/blobs/{'ab' * 32}", b"x")[0] == 405


def test_concurrent_uploads_of_one_blob_leave_one_whole_file(store):
    url, root = store
    blob = bytes(range(256)) * 3
    digest = keccak256(blob).hex()
    codes: list[int] = []
    threads = [threading.Thread(target=lambda: codes.append(call(url, "PUT", f"/blobs/{digest}", blob)[0]))
               for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(codes) == 16 and set(codes) <= {200, 201} and 201 in codes
    assert files_under(root) == [f"blobs/{digest[:2]}/{digest}"]  # no temporary file left behind
    assert (root / "blobs" / digest[:2] / digest).read_bytes() == blob


def test_a_blob_damaged_on_disk_is_never_served(store):
    url, root = store
    digest = keccak256(b"good").hex()
    assert call(url, "PUT", f"/blobs/{digest}", b"good")[0] == 201
    (root / "blobs" / digest[:2] / digest).write_bytes(b"rot!")
    code, body = call(url, "GET", f"/blobs/{digest}")
    assert code == 500 and b"rot!" not in body


def test_limits_are_checked():
    from vcp_toolkit.errors import InvalidInput

    for bad in ({"max_bytes": 0}, {"max_bytes": 2**41}, {"timeout": 0}, {"timeout": float("nan")}):
        with pytest.raises(InvalidInput):
            StoreLimits(**bad)


@pytest.mark.parametrize("body", [b"zz\r\nabc\r\n0\r\n\r\n", b"3\r\nabcdef\r\n0\r\n\r\n", b"-3\r\nabc\r\n0\r\n\r\n"])
def test_broken_chunking_is_400_and_stores_nothing(store, body):
    url, root = store
    response = raw(url, b"POST /blobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
    assert status(response) == 400
    assert files_under(root) == []


def test_uploads_beyond_the_limit_get_503_until_a_slot_frees(tmp_path):
    root = tmp_path / "store"
    with RunningStore(root, limits=StoreLimits(max_bytes=1024, timeout=1.0, max_uploads=1)) as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as slow:
            slow.sendall(b"POST /blobs HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")  # holds the slot
            time.sleep(0.2)
            code, body = call(url, "POST", "/blobs", b"second")
            assert code == 503 and b"try again" in body
            assert status(read_all(slow, 5.0)) == 408  # the slow one times out, which frees its slot
        assert call(url, "POST", "/blobs", b"second")[0] == 201
        assert files_under(root) == [f"blobs/{keccak256(b'second').hex()[:2]}/{keccak256(b'second').hex()}"]
