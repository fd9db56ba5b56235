"""The client of an HTTP store (``vcp exchange serve``): a ``BlobStore`` over ``http://host:port``.

Nothing a server says is trusted: fetched bytes are hashed and refused (BlobMismatch) unless they
are the digest asked for, and reads stop at ``max_bytes``. Redirects are not followed. Proxies
from the environment are not used, so a loopback or private address is reached directly. Transport errors (refused, reset,
timed out, an answer outside the protocol) become StoreUnreachable.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.parse
import urllib.request

from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.ops.blobdir import DEFAULT_MAX_BYTES
from vcp_toolkit.ops.da import (BlobMissing, BlobTooLarge, DataUnavailable, StoreUnreachable, checked, digest_of,
                                parse_digest)

class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A store answers for itself: a redirect is an error, so no store can point a client elsewhere."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001 - urllib's signature
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


def store_url(url: str) -> str:
    """``scheme://host[:port]`` of a store URL; InvalidInput for anything with a path, query or user."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise InvalidInput(f"not a store URL: {url[:80]!r} (expected http://host:port)") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.query \
            or parts.fragment or parts.path not in ("", "/"):
        raise InvalidInput(f"not a store URL: {url[:80]!r} (expected http://host:port, nothing after it)")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


class HttpStore:
    """Blobs on an HTTP store."""

    def __init__(self, url: str, timeout: float = 10.0, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.base = store_url(url)
        self.where = self.base
        self.timeout = timeout
        self.max_bytes = max_bytes

    def _call(self, method: str, digest: str, data: bytes | None = None) -> tuple[int, bytes]:
        """(status, body read up to max_bytes + 1) of one request, whatever the status."""
        request = urllib.request.Request(f"{self.base}/blobs/{digest}", data=data, method=method,
                                         headers={"Content-Type": "application/octet-stream"})
        try:
            try:
                response = _OPENER.open(request, timeout=self.timeout)
            except urllib.error.HTTPError as exc:  # a 4xx/5xx is an answer, read like one
                response = exc
            with response:
                return response.status, response.read(self.max_bytes + 1)
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise StoreUnreachable(f"{self.where}: {method} failed: {reason}", digest) from exc

    def put(self, data: bytes) -> str:
        data = bytes(data)
        if len(data) > self.max_bytes:
            raise BlobTooLarge(f"{len(data):,} bytes is over the client limit of {self.max_bytes:,}")
        digest = digest_of(data)
        status, body = self._call("PUT", digest, data)
        if status in (200, 201):
            return digest
        text = body[:200].decode("utf-8", "replace").strip()
        kind: type[DataUnavailable] = BlobTooLarge if status == 413 else StoreUnreachable
        raise kind(f"{self.where} refused the blob ({status}): {text}", digest)

    def get(self, digest: str) -> bytes:
        digest = parse_digest(digest)
        status, body = self._call("GET", digest)
        if status == 404:
            raise BlobMissing(f"{self.where} holds no blob 0x{digest[:16]}...", digest)
        if status != 200:
            raise StoreUnreachable(f"{self.where} answered {status} for 0x{digest[:16]}...", digest)
        if len(body) > self.max_bytes:
            raise BlobTooLarge(f"{self.where} sent more than {self.max_bytes:,} bytes for 0x{digest[:16]}...", digest)
        return checked(body, digest, self.where)

    def has(self, digest: str) -> bool:
        digest = parse_digest(digest)
        status, _ = self._call("HEAD", digest)
        if status not in (200, 404):
            raise StoreUnreachable(f"{self.where} answered {status} for 0x{digest[:16]}...", digest)
        return status == 200
