"""Hostile requests to `vcp serve --http`: each gets a 4xx naming what is wrong, and none leaves a
record in the journal; a good request still works afterwards."""

from __future__ import annotations

import json
import socket
import time

import pytest
import requests

from vcp_toolkit.attest.eip712 import Domain
from vcp_toolkit.attest.keys import SigningKey
from vcp_toolkit.prover import BackgroundServer, InferenceServer, Prover, ServeSettings, served_records

DOMAIN = Domain(31337, "0x" + "5e" * 20)


@pytest.fixture(scope="module")
def served(model, tmp_path_factory):
    journal = tmp_path_factory.mktemp("serve") / "journal.sqlite"
    server = InferenceServer(Prover(model, SigningKey.generate(), DOMAIN), journal,
                             ServeSettings(port=0, window_ms=2, timeout=0.5))
    with BackgroundServer(server) as background:
        yield background.url, journal


def _post(url: str, body: bytes, content_type: str = "application/json") -> requests.Response:
    return requests.post(url + "/infer", data=body, headers={"Content-Type": content_type}, timeout=10)


ZEROS = [0] * 64
HOSTILE = [
    (b'{"int8": [0], "int8": [1]}', "duplicate key"),
    (json.dumps({"input": ZEROS[:-1] + [float("nan")]}).encode(), "NaN"),
    (json.dumps({"input": ZEROS[:-1] + [float("inf")]}).encode(), "Infinity"),
    (b'{"input": [' + b"1e400," * 63 + b"1e400]}", "finite"),
    (b'{"input": [' + b"9" * 5000 + b"," + b"0," * 62 + b"0]}", "digit"),
    (b'{"int8": [' + b"9" * 400 + b"," + b"0," * 62 + b"0]}", "int8"),
    (json.dumps({"int8": ZEROS[:-1]}).encode(), "64 numbers, got 63"),
    (json.dumps({"int8": ZEROS + [0]}).encode(), "64 numbers, got 65"),
    (json.dumps({"int8": [ZEROS]}).encode(), "64 numbers, got 1"),
    (json.dumps({"int8": ZEROS[:-1] + [128]}).encode(), "[-128, 127]"),
    (json.dumps({"int8": ZEROS[:-1] + [1.5]}).encode(), "[-128, 127]"),
    (json.dumps({"int8": ZEROS[:-1] + [True]}).encode(), "numbers only"),
    (json.dumps({"input": ZEROS[:-1] + ["1"]}).encode(), "numbers only"),
    (json.dumps({"input": ZEROS[:-1] + [None]}).encode(), "numbers only"),
    (json.dumps({"input": "0" * 64}).encode(), "list of 64"),
    (json.dumps({"input": ZEROS, "int8": ZEROS}).encode(), "exactly one"),
    (json.dumps({"request_id": "a"}).encode(), "exactly one"),
    (json.dumps({"int8": ZEROS, "extra": 1}).encode(), "unknown key"),
    (json.dumps({"int8": ZEROS, "request_id": "\u202egnp.exe"}).encode(), "request_id"),
    (json.dumps({"int8": ZEROS, "request_id": "x" * 65}).encode(), "request_id"),
    (json.dumps({"int8": ZEROS, "request_id": 7}).encode(), "request_id"),
    (json.dumps([ZEROS]).encode(), "JSON object"),
    (b'{"int8": [0, 0', "not valid JSON"),
    (b"", "not valid JSON"),
    (b'\xff\xfe{\x00"\x00', "UTF-8"),
    ('{"int8": [0]}'.encode("utf-16"), "UTF-8"),
    (b"[" * 50_000 + b"]" * 10_000, "JSON"),
]


@pytest.mark.parametrize(("body", "says"), HOSTILE, ids=[f"hostile{i}" for i in range(len(HOSTILE))])
def test_hostile_bodies_get_400_and_leave_no_record(served, body, says):
    url, journal = served
    before = served_records(journal)
    response = _post(url, body)
    assert response.status_code == 400, response.text
    assert says.lower() in response.json()["error"].lower()
    assert served_records(journal) == before


def test_wrong_content_type_oversize_and_wrong_method(served):
    url, _ = served
    assert _post(url, json.dumps({"int8": ZEROS}).encode(), "text/plain").status_code == 415
    assert "application/json" in _post(url, b"{}", "application/x-www-form-urlencoded").json()["error"]
    assert _post(url, b'{"int8": [' + b"0," * 40_000 + b"0]}").status_code == 413
    assert requests.get(url + "/infer", timeout=10).status_code == 405
    assert requests.get(url + "/../../etc/passwd", timeout=10).status_code == 404


def test_a_slow_body_times_out_with_408(served):
    url, journal = served
    host, port = url.removeprefix("http://").split(":")
    before = len(served_records(journal))
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(b"POST /infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 400\r\n\r\n{\"int8\": [")
        started = time.monotonic()
        reply = conn.recv(4096)
        assert reply.startswith(b"HTTP/1.1 408"), reply[:80]
        assert time.monotonic() - started < 5
    assert len(served_records(journal)) == before


def test_a_request_id_is_answered_once_and_never_for_another_input(served, model):
    url, journal = served
    body = {"int8": ZEROS, "request_id": "retry-1"}
    first = _post(url, json.dumps(body).encode())
    again = _post(url, json.dumps(body).encode())
    assert first.status_code == again.status_code == 200
    assert first.content == again.content  # the journaled answer, not a second record
    other = _post(url, json.dumps({"int8": [1] * 64, "request_id": "retry-1"}).encode())
    assert other.status_code == 409 and "another input" in other.json()["error"]
    assert [r.request_id for r in served_records(journal)].count("retry-1") == 1


def test_floats_are_quantized_as_the_model_does(served, model):
    url, _ = served
    values = [0.5 * ((i % 7) - 3) for i in range(64)]
    answer = _post(url, json.dumps({"input": values}).encode()).json()
    assert answer["input"] == model.quantize_input(values).tolist()
    assert answer["output"] == model.trace(model.quantize_input(values))[-1][0].tolist()
