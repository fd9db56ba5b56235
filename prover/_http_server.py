"""`vcp serve --http`: attested inference over HTTP, on aiohttp.

    POST /infer   a request (prover._http_wire); 200 with the attested answer once it is journaled
    GET  /health  the prover, model root, EIP-712 domain and batching settings

Requests are grouped: a group closes ``window_ms`` after its first request arrived, or at
``max_batch`` requests, and is attested in one worker thread (one forward pass, one journal
transaction, one signature per group when ``window_ms`` > 0). The event loop only parses requests
and sends answers. Bodies over 64 KiB get 413, bodies not received within ``timeout`` seconds 408.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from aiohttp import web

from vcp_toolkit.attest.eip712 import hex32
from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.prover._http_attest import Outcome, RequestConflict, attest_group
from vcp_toolkit.prover._http_journal import ServedJournal
from vcp_toolkit.prover._http_wire import MAX_REQUEST_BYTES, InferenceRequest, error_text, parse_request
from vcp_toolkit.prover._prover import Prover

SWITCH_INTERVAL_S = 0.0005


@dataclass(frozen=True)
class ServeSettings:
    """How the server listens and groups requests."""

    host: str = "127.0.0.1"
    port: int = 8080
    window_ms: float = 5.0
    max_batch: int = 256
    timeout: float = 10.0  # seconds to receive a request body

    def __post_init__(self) -> None:
        if not 0 <= self.window_ms <= 10_000:
            raise InvalidInput(f"--batch-window-ms must be between 0 and 10000, not {self.window_ms}")
        if not 1 <= self.max_batch <= 65_536:
            raise InvalidInput(f"--max-batch must be between 1 and 65536, not {self.max_batch}")
        if not 0 <= self.port <= 65_535:
            raise InvalidInput(f"--port must be between 0 (any free port) and 65535, not {self.port}")


@dataclass
class _Pending:
    request: InferenceRequest
    arrived: float
    answer: asyncio.Future = field(repr=False)


class Batcher:
    """Groups pending requests and attests each group in the one worker thread."""

    def __init__(self, work: Callable[[list[InferenceRequest]], list[Outcome]], settings: ServeSettings) -> None:
        self.work = work
        self.window = settings.window_ms / 1000
        self.max_batch = settings.max_batch
        self.queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self.full = asyncio.Event()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vcp-attest")

    async def submit(self, request: InferenceRequest) -> bytes:
        loop = asyncio.get_running_loop()
        pending = _Pending(request, loop.time(), loop.create_future())
        self.queue.put_nowait(pending)
        if self.queue.qsize() >= self.max_batch:
            self.full.set()
        return await pending.answer

    async def _collect(self) -> list[_Pending]:
        first = await self.queue.get()
        remaining = first.arrived + self.window - asyncio.get_running_loop().time()
        if remaining > 0 and self.queue.qsize() + 1 < self.max_batch:
            self.full.clear()
            try:
                await asyncio.wait_for(self.full.wait(), remaining)
            except TimeoutError:
                pass
        group = [first]
        while len(group) < self.max_batch and not self.queue.empty():
            group.append(self.queue.get_nowait())
        return group

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            group = await self._collect()
            try:
                outcomes = await loop.run_in_executor(self.executor, self.work, [p.request for p in group])
            except Exception as exc:  # the journal could not be written: nobody is answered
                for pending in group:
                    if not pending.answer.done():
                        pending.answer.set_exception(exc)
                continue
            for pending, outcome in zip(group, outcomes):
                if pending.answer.done():  # the client went away
                    continue
                if isinstance(outcome, Exception):
                    pending.answer.set_exception(outcome)
                else:
                    pending.answer.set_result(outcome)


def _json_error(status: type[web.HTTPException], message: str) -> web.HTTPException:
    return status(text=error_text(message), content_type="application/json")


class InferenceServer:
    """The aiohttp application around one prover and one journal."""

    def __init__(self, prover: Prover, journal_path: Path, settings: ServeSettings) -> None:
        self.prover = prover
        self.settings = settings
        self.journal = ServedJournal(journal_path)
        batched = settings.window_ms > 0
        self.batcher: Batcher | None = None
        self._work = lambda requests: attest_group(prover, self.journal, requests, batched)
        self.port: int | None = None

    def health(self) -> dict:
        return {"status": "ok", "prover": self.prover.address, "model": self.prover.model.name,
                "model_root": hex32(self.prover.model_root), "domain": self.prover.domain.as_json(),
                "input_width": self.prover.model.input_width, "output_width": self.prover.model.output_width,
                "batch_window_ms": self.settings.window_ms, "max_batch": self.settings.max_batch}

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response(self.health())

    async def _body(self, request: web.Request) -> bytes:
        if request.content_type != "application/json":
            raise _json_error(web.HTTPUnsupportedMediaType, "send the body as Content-Type: application/json")
        try:
            async with asyncio.timeout(self.settings.timeout):
                return await request.read()
        except TimeoutError:
            raise _json_error(web.HTTPRequestTimeout, f"body not received within {self.settings.timeout:g} s") from None

    async def _infer(self, request: web.Request) -> web.Response:
        raw = await self._body(request)
        try:
            parsed = parse_request(raw, self.prover.model)
        except InvalidInput as exc:
            raise _json_error(web.HTTPBadRequest, str(exc)) from None
        try:
            answer = await self.batcher.submit(parsed)
        except RequestConflict as exc:
            raise _json_error(web.HTTPConflict, str(exc)) from None
        except InvalidInput as exc:
            raise _json_error(web.HTTPUnprocessableEntity, str(exc)) from None
        except Exception as exc:  # the answer could not be journaled, so it is not sent
            raise _json_error(web.HTTPServiceUnavailable, f"not journaled, try again: {type(exc).__name__}") from None
        return web.Response(body=answer, content_type="application/json")

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        app.router.add_post("/infer", self._infer)
        app.router.add_get("/health", self._health)
        return app

    async def serve(self, ready: Callable[[str], None], stop: asyncio.Event) -> None:
        """Listen until ``stop`` is set; ``ready`` gets the URL once the port is bound. Requests
        already received are answered before the journal closes."""
        self.batcher = Batcher(self._work, self.settings)
        collector = asyncio.create_task(self.batcher.run())
        runner = web.AppRunner(self.app(), access_log=None, handle_signals=False, shutdown_timeout=5.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.settings.host, self.settings.port, reuse_address=True)
            await site.start()
            self.port = runner.addresses[0][1]
            ready(f"http://{self.settings.host}:{self.port}")
            await stop.wait()
        finally:
            await runner.cleanup()  # stops listening, waits for open requests (the collector still runs)
            collector.cancel()
            self.batcher.executor.shutdown(wait=True)
            self.journal.close()

    def run(self, ready: Callable[[str], None]) -> None:
        """Serve in this (main) thread until SIGINT or SIGTERM."""
        # The event loop and the attesting thread share the GIL: at the default 5 ms switch interval
        # every socket read waits out the worker's slice, so hand the GIL over more often.
        sys.setswitchinterval(SWITCH_INTERVAL_S)

        async def main() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await self.serve(ready, stop)

        asyncio.run(main())


class BackgroundServer:
    """An InferenceServer in a thread of this process (tests, embedding): ``with`` starts it and
    stops it; ``url`` is where it listens."""

    def __init__(self, server: InferenceServer) -> None:
        self.server = server
        self.url = ""
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="vcp-serve-http", daemon=True)
        self._error: BaseException | None = None

    def _main(self) -> None:
        async def main() -> None:
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
            await self.server.serve(self._on_ready, self._stop)

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported by __enter__ when the server never came up
            self._error = exc
            self._ready.set()

    def _on_ready(self, url: str) -> None:
        self.url = url
        self._ready.set()

    def __enter__(self) -> "BackgroundServer":
        self._thread.start()
        self._ready.wait(30)
        if not self.url:
            raise self._error or RuntimeError("the server did not start within 30 s")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

