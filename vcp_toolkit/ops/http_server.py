"""The HTTP content-addressed store (``vcp exchange serve``), on aiohttp.

    PUT  /blobs/<hex>   store the body; it must hash to <hex> (400 and nothing stored if not)
    POST /blobs         store the body under its keccak256; the answer names it
    GET  /blobs/<hex>   the bytes (404 when absent); HEAD the same without the body
    GET  /health        {"status": "ok", ...}

A digest is 64 hex digits (0x allowed, any case) and is the only thing from a request that
becomes a file name (vcp_toolkit.ops.blobdir). Bodies over ``max_bytes`` get 413 (at once when
Content-Length says so), a body not received within ``timeout`` seconds 408, an upload beyond
``max_uploads`` at once 503, and all of them close the connection; a connection that sends no complete request within ``timeout`` is closed. A 2xx
answer to an upload is sent only once the blob is on disk (written, fsynced, renamed). The store
trusts nobody: it checks what it is given by hashing, and so does every client on what it fetches.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.ops.blobdir import DirectoryStore
from vcp_toolkit.ops.da import BlobMissing, DataUnavailable, digest_of, parse_digest

CHUNK = 64 * 1024


@dataclass(frozen=True)
class StoreLimits:
    """What one request may cost the store."""

    max_bytes: int = 16 * 1024 * 1024
    timeout: float = 10.0  # seconds to receive a whole request body, or a request on an idle connection
    max_uploads: int = 32  # bodies received at once: memory stays under max_uploads * max_bytes

    def __post_init__(self) -> None:
        if not 1 <= self.max_uploads <= 10_000:
            raise InvalidInput(f"--max-uploads must be between 1 and 10000, not {self.max_uploads}")
        if not 1 <= self.max_bytes <= 2**40:
            raise InvalidInput(f"--max-bytes must be between 1 and 2**40, not {self.max_bytes}")
        if not 0.05 <= self.timeout <= 3600:
            raise InvalidInput(f"--timeout must be between 0.05 and 3600 seconds, not {self.timeout}")


def _error(status: type[web.HTTPException], text: str, close: bool = False, **fields) -> web.HTTPException:
    exc = status(text=text + "\n", content_type="text/plain", **fields)
    if close:  # a body left unread cannot be skipped safely: the next request would start inside it
        exc.force_close()
    return exc


def _too_large(limits: StoreLimits, size: int, text: str) -> web.HTTPException:
    return _error(web.HTTPRequestEntityTooLarge, text, close=True, max_size=limits.max_bytes, actual_size=size)


def _digest(request: web.Request) -> str:
    try:
        return parse_digest(request.match_info["digest"])
    except InvalidInput:
        raise _error(web.HTTPBadRequest, "not a blob name: expected 64 hex digits (keccak256)") from None


async def _body(request: web.Request, limits: StoreLimits) -> bytes:
    length = request.content_length
    if length is not None and length > limits.max_bytes:
        raise _too_large(limits, length, f"body of {length} bytes is over the limit of {limits.max_bytes} bytes")
    chunks, total = [], 0
    try:
        async with asyncio.timeout(limits.timeout):
            async for chunk in request.content.iter_chunked(CHUNK):
                total += len(chunk)
                if total > limits.max_bytes:
                    raise _too_large(limits, total, f"body is over the limit of {limits.max_bytes} bytes")
                chunks.append(chunk)
    except TimeoutError:
        raise _error(web.HTTPRequestTimeout, f"body not received within {limits.timeout:g} s", close=True) from None
    except (HttpProcessingError, ConnectionError):  # a broken chunked body, a client gone mid-body
        raise _error(web.HTTPBadRequest, "body ended before it was complete", close=True) from None
    data = b"".join(chunks)
    if length is not None and len(data) != length:  # the client hung up mid-body
        raise _error(web.HTTPBadRequest, "body shorter than its Content-Length", close=True)
    return data


class BlobServer:
    """The request handlers over one directory store."""

    def __init__(self, store: DirectoryStore, limits: StoreLimits) -> None:
        self.store = store
        self.limits = limits
        self.uploads = 0  # bodies being received now (one event loop: no lock needed)

    async def _upload(self, request: web.Request) -> bytes:
        """The request body, or 503 at once when ``max_uploads`` bodies are already coming in."""
        if self.uploads >= self.limits.max_uploads:
            exc = _error(web.HTTPServiceUnavailable, f"{self.uploads} uploads in progress: try again shortly",
                         close=True)
            exc.headers["Retry-After"] = "1"
            raise exc
        self.uploads += 1
        try:
            return await _body(request, self.limits)
        finally:
            self.uploads -= 1

    async def _store(self, data: bytes, expected: str | None) -> web.Response:
        digest = digest_of(data)
        if expected is not None and digest != expected:
            raise _error(web.HTTPBadRequest, f"body hashes to {digest}, not {expected}: nothing stored")
        loop = asyncio.get_running_loop()
        existed = await loop.run_in_executor(None, self.store.has, digest)
        try:
            await loop.run_in_executor(None, self.store.put, data)
        except DataUnavailable as exc:
            raise _error(web.HTTPInsufficientStorage, f"could not store the blob: {exc}") from None
        return web.json_response({"digest": "0x" + digest, "size": len(data)}, status=200 if existed else 201,
                                 headers={"Location": f"/blobs/{digest}"})

    async def put(self, request: web.Request) -> web.Response:
        expected = _digest(request)
        return await self._store(await self._upload(request), expected)

    async def post(self, request: web.Request) -> web.Response:
        return await self._store(await self._upload(request), None)

    async def get(self, request: web.Request) -> web.StreamResponse:
        digest = _digest(request)
        loop = asyncio.get_running_loop()
        try:
            data = await loop.run_in_executor(None, self.store.get, digest)
        except BlobMissing:
            raise _error(web.HTTPNotFound, f"no blob {digest}") from None
        except DataUnavailable as exc:  # damaged on this disk: never served
            raise _error(web.HTTPInternalServerError, f"blob {digest} is unreadable here: {exc}") from None
        headers = {"ETag": f'"{digest}"', "Cache-Control": "public, max-age=31536000, immutable",
                   "X-Content-Type-Options": "nosniff"}
        if request.method == "HEAD":
            return web.Response(status=200, headers={**headers, "Content-Length": str(len(data))})
        return web.Response(body=data, content_type="application/octet-stream", headers=headers)

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "max_bytes": self.limits.max_bytes, "timeout": self.limits.timeout,
                                  "max_uploads": self.limits.max_uploads})


def make_app(root: Path, limits: StoreLimits = StoreLimits()) -> web.Application:
    server = BlobServer(DirectoryStore(root, max_bytes=limits.max_bytes), limits)
    app = web.Application(client_max_size=limits.max_bytes)
    app.router.add_put("/blobs/{digest}", server.put)
    app.router.add_post("/blobs", server.post)
    app.router.add_get("/blobs/{digest}", server.get)
    app.router.add_get("/health", server.health)
    return app


async def _start(app: web.Application, host: str, port: int, limits: StoreLimits) -> tuple[web.AppRunner, str]:
    # lingering_time: how long an unread body is drained after a refusal before the socket closes
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=limits.timeout,
                           lingering_time=limits.timeout, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise InvalidInput(f"cannot listen on {host}:{port}: {exc.strerror or exc}; pick another --port") from None
    bound_host, bound_port = runner.addresses[0][:2]
    return runner, f"http://{bound_host}:{bound_port}"


def serve_forever(root: Path, host: str, port: int, limits: StoreLimits, ready: Callable[[str], None]) -> None:
    """Serve until SIGTERM or SIGINT, then close connections and return. ``ready`` gets the URL."""

    async def main() -> None:
        runner, url = await _start(make_app(root, limits), host, port, limits)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        try:
            ready(url)
            await stop.wait()
        finally:
            await runner.cleanup()

    asyncio.run(main())


class RunningStore:
    """A store served from a background thread: ``with RunningStore(root) as url:`` (tests, demos).
    Binds loopback at a free port by default and stops when the block ends. ``app`` serves another
    application instead (a test's misbehaving store)."""

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0, limits: StoreLimits = StoreLimits(),
                 app: web.Application | None = None):
        self.host, self.port, self.limits = host, port, limits
        self.app = app if app is not None else make_app(Path(root), limits)
        self.url = ""

    def __enter__(self) -> str:
        started = threading.Event()
        failure: list[BaseException] = []

        async def main() -> None:
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
            try:
                runner, self.url = await _start(self.app, self.host, self.port, self.limits)
            except BaseException as exc:  # handed to the caller's thread
                failure.append(exc)
                return
            finally:
                started.set()
            await self._stop.wait()
            await runner.cleanup()

        self._thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True, name="vcp-store")
        self._thread.start()
        started.wait()
        if failure:
            self._thread.join()
            raise failure[0]
        return self.url

    def __exit__(self, *exc_info) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)
