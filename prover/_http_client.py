"""Clients of `vcp serve --http` that verify every answer before returning it.

    from vcp_toolkit.prover import Expected, InferenceClient
    client = InferenceClient("http://127.0.0.1:8080", Expected(prover="0x...", domain=domain))
    answer = client.infer(x_int8, int8=True)      # raises AnswerInvalid on a bad answer
    answer.output, answer.label, answer.record     # what verifyRecord takes, with answer.index/proof

Without ``expected`` the client pins what the server's /health declares (prover, model root,
domain) at its first call: answers must then be consistent, but whom to trust is the caller's
choice, so pass ``Expected`` to pin it yourself.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import requests

from vcp_toolkit.attest.eip712 import Domain, parse_address, parse_bytes32
from vcp_toolkit.attest.files import loads_strict
from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.prover._http_check import Expected, verify_answer
from vcp_toolkit.prover._http_wire import AttestedAnswer, RequestRejected, ServerUnavailable


def request_body(values: Any, int8: bool, request_id: str | None) -> tuple[bytes, np.ndarray | None]:
    """(JSON body, the int8 input the answer must carry, when the caller knows it)."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InvalidInput(f"one input vector per request, got shape {arr.shape}")
    body: dict[str, Any] = {"int8": [int(v) for v in arr]} if int8 else {"input": [float(v) for v in arr]}
    if request_id is not None:
        body["request_id"] = request_id
    return json.dumps(body).encode(), arr.astype(np.int8) if int8 else None


def expected_from_health(health: Any) -> Expected:
    if not isinstance(health, dict):
        raise ServerUnavailable("the server's /health is not a JSON object")
    try:
        return Expected(prover=parse_address(health.get("prover"), "prover"),
                        model_root=parse_bytes32(health.get("model_root"), "model_root"),
                        domain=Domain.from_json(health.get("domain")),
                        output_width=int(health.get("output_width")))
    except (InvalidInput, TypeError, ValueError) as exc:
        raise ServerUnavailable(f"the server's /health does not say who it is: {exc}") from None


def decode_answer(status: int, raw: bytes, expected: Expected, sent: np.ndarray | None) -> AttestedAnswer:
    """The verified answer of a response, or the typed error it amounts to."""
    if 400 <= status < 500:
        try:
            reason = str(loads_strict(raw, "error").get("error", ""))[:500]
        except (InvalidInput, AttributeError):
            reason = raw[:200].decode(errors="replace")
        raise RequestRejected(status, reason)
    if status != 200:
        raise ServerUnavailable(f"the server answered {status}: {raw[:200].decode(errors='replace')}")
    answer = AttestedAnswer.from_bytes(raw)
    verify_answer(answer, expected, sent)
    return answer


class InferenceClient:
    """A blocking client (requests); one connection pool per client."""

    def __init__(self, url: str, expected: Expected | None = None, timeout: float = 30.0, model=None) -> None:
        self.url = url.rstrip("/")
        self.expected = expected
        self.timeout = timeout
        self.model = model  # when given, float inputs are quantized here to check the answer's input
        self.session = requests.Session()

    def _get(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        try:
            response = self.session.request(method, self.url + path, data=body, timeout=self.timeout,
                                            headers={"Content-Type": "application/json"} if body else None)
        except requests.RequestException as exc:
            raise ServerUnavailable(f"no answer from {self.url}: {type(exc).__name__}") from None
        return response.status_code, response.content

    def health(self) -> dict:
        status, raw = self._get("GET", "/health")
        if status != 200:
            raise ServerUnavailable(f"{self.url}/health answered {status}")
        try:
            return loads_strict(raw, "health")
        except InvalidInput as exc:
            raise ServerUnavailable(str(exc)) from None

    def infer(self, values: Any, int8: bool = False, request_id: str | None = None) -> AttestedAnswer:
        """Send one input; return its answer once it verifies (AnswerInvalid otherwise)."""
        if self.expected is None:
            self.expected = expected_from_health(self.health())
        body, sent = request_body(values, int8, request_id)
        if sent is None and self.model is not None:
            sent = self.model.quantize_input(np.asarray(values, dtype=np.float64))
        return decode_answer(*self._get("POST", "/infer", body), self.expected, sent)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> "InferenceClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncInferenceClient:
    """The same on aiohttp, for many concurrent requests from one event loop."""

    def __init__(self, url: str, expected: Expected | None = None, timeout: float = 30.0,
                 connections: int = 100) -> None:
        self.url = url.rstrip("/")
        self.expected = expected
        self.timeout = timeout
        self.connections = connections
        self.session = None

    async def __aenter__(self) -> "AsyncInferenceClient":
        import aiohttp

        self.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            connector=aiohttp.TCPConnector(limit=self.connections))
        if self.expected is None:
            self.expected = expected_from_health(await self._health())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()

    async def _call(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        import aiohttp

        try:
            async with self.session.request(method, self.url + path, data=body,
                                            headers={"Content-Type": "application/json"} if body else None) as r:
                return r.status, await r.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ServerUnavailable(f"no answer from {self.url}: {type(exc).__name__}") from None

    async def _health(self) -> Any:
        status, raw = await self._call("GET", "/health", None)
        if status != 200:
            raise ServerUnavailable(f"{self.url}/health answered {status}")
        try:
            return loads_strict(raw, "health")
        except InvalidInput as exc:
            raise ServerUnavailable(str(exc)) from None

    async def infer(self, values: Any, int8: bool = False, request_id: str | None = None) -> AttestedAnswer:
        body, sent = request_body(values, int8, request_id)
        return decode_answer(*(await self._call("POST", "/infer", body)), self.expected, sent)
