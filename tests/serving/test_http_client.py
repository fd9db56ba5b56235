"""The client returns an answer only once it verifies: every tampered field is refused, and the
server's refusals and absences come back as typed errors."""

from __future__ import annotations

import dataclasses
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from vcp_toolkit.attest.eip712 import Domain
from vcp_toolkit.attest.keys import SigningKey
from vcp_toolkit.chain.nodes import free_port
from vcp_toolkit.commit.commitments import ModelCommitment
from vcp_toolkit.model.synthetic import random_inputs
from vcp_toolkit.prover import (AnswerInvalid, AttestedAnswer, BackgroundServer, Expected, InferenceClient,
                                InferenceServer, Prover, RequestRejected, ServeSettings, ServerUnavailable,
                                ServingError, verify_answer)

DOMAIN = Domain(31337, "0x" + "5e" * 20)
KEY = SigningKey.generate()


@pytest.fixture(scope="module", params=[0, 2], ids=["single", "batch"])
def served(request, model, tmp_path_factory):
    journal = tmp_path_factory.mktemp("client") / "journal.sqlite"
    server = InferenceServer(Prover(model, KEY, DOMAIN), journal, ServeSettings(port=0, window_ms=request.param))
    with BackgroundServer(server) as background:
        yield background.url


@pytest.fixture(scope="module")
def expected(model):
    return Expected(prover=KEY.address, model_root=ModelCommitment(model).root, domain=DOMAIN, output_width=10)


def test_answers_verify_and_round_trip(served, model, expected):
    x = random_inputs(model, 3, seed=4)
    with InferenceClient(served, expected) as client:
        for row in x:
            answer = client.infer(row, int8=True)
            assert answer.output.tolist() == model.trace(row)[-1][0].tolist()
            assert answer.label == int(np.argmax(model.trace(row)[-1][0]))
            again = AttestedAnswer.from_json(json.loads(json.dumps(answer.to_json())))
            assert verify_answer(again, expected, row) == KEY.address


def _tampered(answer: AttestedAnswer) -> dict[str, AttestedAnswer]:
    flip = lambda b: bytes([b[0] ^ 1]) + b[1:]  # noqa: E731
    out = answer.output.copy()
    out[0] = out[0] ^ 1
    cases = {
        "output": dataclasses.replace(answer, output=out),
        "input": dataclasses.replace(answer, input=np.roll(answer.input, 1)),
        "input_salt": dataclasses.replace(answer, input_salt=flip(answer.input_salt)),
        "output_salt": dataclasses.replace(answer, output_salt=flip(answer.output_salt)),
        "trace_root": dataclasses.replace(answer, trace_root=flip(answer.trace_root)),
        "signature": dataclasses.replace(answer, signature=dataclasses.replace(answer.signature,
                                                                               r=flip(answer.signature.r))),
        "domain": dataclasses.replace(answer, domain=Domain(1, DOMAIN.verifying_contract)),
    }
    if answer.batch is not None:
        cases["count"] = dataclasses.replace(answer, batch=dataclasses.replace(answer.batch, count=answer.batch.count + 1))
        cases["root"] = dataclasses.replace(answer, batch=dataclasses.replace(
            answer.batch, records_root=flip(answer.batch.records_root)))
        cases["index"] = dataclasses.replace(answer, index=answer.index + 1)
        if answer.proof:
            cases["proof"] = dataclasses.replace(answer, proof=(flip(answer.proof[0]), *answer.proof[1:]))
    else:
        cases["nonce"] = dataclasses.replace(answer, attestation=dataclasses.replace(
            answer.attestation, nonce=answer.attestation.nonce + 1))
    return cases


def test_every_tampered_field_is_refused(served, model, expected):
    row = random_inputs(model, 1, seed=8)[0]
    with InferenceClient(served, expected) as client:
        answer = client.infer(row, int8=True)
    for name, bad in _tampered(answer).items():
        with pytest.raises(AnswerInvalid):
            verify_answer(bad, expected, row)
    with pytest.raises(AnswerInvalid, match="not the input sent"):
        verify_answer(answer, expected, np.roll(row, 1))
    for other in (dataclasses.replace(expected, prover="0x" + "12" * 20),
                  dataclasses.replace(expected, model_root=bytes(32)),
                  dataclasses.replace(expected, domain=Domain(5, DOMAIN.verifying_contract))):
        with pytest.raises(AnswerInvalid):
            verify_answer(answer, other, row)


class _Replay(BaseHTTPRequestHandler):
    """Answers every POST with the bytes the test set (a lying or broken server)."""

    status, body = 200, b""

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def liar():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Replay)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_the_client_refuses_a_tampered_answer_from_the_wire(served, liar, model, expected):
    row = random_inputs(model, 1, seed=9)[0]
    with InferenceClient(served, expected) as client:
        honest = client.infer(row, int8=True).to_json()
    url = f"http://127.0.0.1:{liar.server_address[1]}"
    lies = [dict(honest, output=[0] * 9 + [127]), dict(honest, input_salt="0x" + "00" * 32), dict(honest, extra=1),
            dict(honest, proof=["0x" + "ab" * 32] * 40)]
    with InferenceClient(url, expected) as client:
        for lie in lies:
            _Replay.status, _Replay.body = 200, json.dumps(lie).encode()
            with pytest.raises(AnswerInvalid):
                client.infer(row, int8=True)
        for raw in (b"{", b'{"format": 1, "format": 2}', b"\xff", b"[]", b"NaN"):
            _Replay.body = raw
            with pytest.raises(AnswerInvalid, match="malformed answer"):
                client.infer(row, int8=True)
        _Replay.status, _Replay.body = 422, b'{"error": "no"}'
        with pytest.raises(RequestRejected) as refused:
            client.infer(row, int8=True)
        assert (refused.value.status, refused.value.reason) == (422, "no")
        _Replay.status, _Replay.body = 503, b"down"
        with pytest.raises(ServerUnavailable, match="503"):
            client.infer(row, int8=True)


def test_typed_errors_for_refusals_and_absence(served, model, expected):
    with InferenceClient(served, expected) as client:
        with pytest.raises(RequestRejected) as refused:
            client.infer(np.zeros(63), int8=True)
        assert refused.value.status == 400 and "64 numbers" in refused.value.reason
        with pytest.raises(ValueError):
            client.infer(np.zeros((2, 64)), int8=True)
    with InferenceClient(f"http://127.0.0.1:{free_port()}", expected, timeout=2) as client:
        with pytest.raises(ServerUnavailable):
            client.infer(np.zeros(64), int8=True)
    assert issubclass(AnswerInvalid, ServingError) and issubclass(RequestRejected, ServingError)


def test_without_expectations_the_client_pins_what_health_declares(served, model):
    with InferenceClient(served) as client:
        client.infer(random_inputs(model, 1, seed=1)[0], int8=True)
        assert client.expected.prover == KEY.address and client.expected.domain == DOMAIN
