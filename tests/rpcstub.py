"""A JSON-RPC server on 127.0.0.1 at a free port that answers only the methods it is given (others:
"method not found"), to play a node that is not the one a test expects. Stops on close."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


class RpcStub:
    def __init__(self, methods: dict[str, Callable[[list], Any]], port: int = 0) -> None:
        self.methods = methods
        self.calls: list[str] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.calls.append(request["method"])
                reply: dict[str, Any] = {"jsonrpc": "2.0", "id": request.get("id")}
                if request["method"] in stub.methods:
                    reply["result"] = stub.methods[request["method"]](request.get("params", []))
                else:
                    reply["error"] = {"code": -32601, "message": f"the method {request['method']} does not exist"}
                body = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "RpcStub":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def chain_stub(chain_id: int = 31337, block: int = 7, **methods: Callable[[list], Any]) -> RpcStub:
    """A node that answers its chain id and a fixed block number, and ``methods``."""
    return RpcStub({"eth_chainId": lambda p: hex(chain_id), "eth_blockNumber": lambda p: hex(block), **methods})
