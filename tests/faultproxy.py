"""A TCP proxy on 127.0.0.1 in front of a node, to inject network faults in tests.

    pass       forward both ways
    refuse     stop listening: new connections are refused
    blackhole  accept connections and never answer (clients time out)
"""

from __future__ import annotations

import socket
import threading

from vcp_toolkit.chain.nodes import free_port


class FaultProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.mode = "pass"
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._held: list[socket.socket] = []
        self._open: list[socket.socket] = []  # live forwarded connections, cut on a fault
        self._thread: threading.Thread | None = None
        self._listen()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _listen(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(64)
        sock.settimeout(0.1)
        self._listener = sock
        self._thread = threading.Thread(target=self._accept, args=(sock,), daemon=True)
        self._thread.start()

    def _accept(self, sock: socket.socket) -> None:
        while not self._stop.is_set() and self._listener is sock:
            try:
                client, _ = sock.accept()
            except (socket.timeout, OSError):
                continue
            if self.mode == "blackhole":
                self._held.append(client)  # read nothing, answer nothing
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def set(self, mode: str) -> None:
        if mode not in ("pass", "refuse", "blackhole"):
            raise ValueError(mode)
        if mode != "pass":  # a fault also breaks connections a client keeps alive
            for conn in self._open:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                    conn.close()
                except OSError:
                    pass
            self._open.clear()
        if mode == "refuse" and self._listener is not None:
            listener, self._listener = self._listener, None
            listener.close()
        elif mode != "refuse" and self._listener is None:
            self._listen()
        if mode == "pass":
            for held in self._held:
                held.close()
            self._held.clear()
        self.mode = mode

    def close(self) -> None:
        self._stop.set()
        self.set("refuse")
        for held in self._held:
            held.close()
