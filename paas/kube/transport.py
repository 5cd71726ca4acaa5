"""HTTP to the API server on the standard library: `http.client` and `ssl`, one connection a thread.

Why not the official client here: importing it costs about 0.45 s, more than a
whole `kubectl get`; `http.client` and `ssl` cost about 0.05 s (httpx about
0.2 s, and no gain for one host). Each thread keeps one keep-alive connection,
so a command's requests share one TLS handshake and the app lock's renewer
thread has its own connection beside the main thread's.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import select
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from paas.kube.kubeconfig import Endpoint

# A reused connection the server closed while idle fails on the next request
# with one of these before any answer came: the request is sent again once.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class UnreachableError(Exception):
    """The API server could not be reached, or did not answer in time."""


@dataclass(frozen=True)
class Answer:
    """The API server's answer: status, reason phrase and the whole body."""

    status: int
    reason: str
    data: bytes


class _TLSConnection(http.client.HTTPSConnection):
    """An HTTPS connection whose certificate is checked against `tls-server-name` when set."""

    def __init__(
        self, host: str, port: int | None, tls: ssl.SSLContext, server_name: str | None
    ) -> None:
        super().__init__(host, port, context=tls)
        self._tls = tls
        self._server_name = server_name

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)  # TCP, and the proxy's CONNECT tunnel
        name = self._server_name or getattr(self, "_tunnel_host", None) or self.host
        self.sock = self._tls.wrap_socket(self.sock, server_hostname=name)


class Transport:
    """Requests to one endpoint; safe to share between threads."""

    def __init__(self, endpoint: Endpoint, user_agent: str = "paas") -> None:
        """Prepare TLS once (CA, client certificate).

        Raises:
            ssl.SSLError, OSError, ValueError: the CA or the client certificate is unusable.
        """
        url = urlsplit(endpoint.server)
        if not url.hostname:
            raise ValueError("the server URL has no host")
        self.endpoint = endpoint
        self.secure = url.scheme == "https"
        self.host = url.hostname
        self.port = url.port or (443 if self.secure else 80)
        self.prefix = url.path.rstrip("/")  # a server behind a path (some proxies)
        self.user_agent = user_agent
        self.tls = _tls_context(endpoint) if self.secure else None
        self._local = threading.local()
        self._token_lock = threading.Lock()
        self._token_seen: tuple[float, int] | None = None
        self._token = endpoint.token

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> Answer:
        """Send one request and read the whole answer.

        Raises:
            UnreachableError: no connection, a broken one, or no answer within `timeout` seconds.
        """
        response = self._send(method, path, query, body, headers or {}, timeout)
        try:
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self._drop()
            raise UnreachableError(self._describe(exc, timeout)) from None
        self._local.clean = True
        return Answer(response.status, response.reason, data)

    def stream(
        self,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> tuple[int, Iterator[bytes]]:
        """A GET whose body is read as it comes (pod logs): its status and its chunks.

        The chunks end with the body; read them in the thread that opened the
        stream. When a caller stops early, this thread's next request opens a
        new connection: a half-read answer cannot be reused.

        Raises:
            UnreachableError: as `request`.
        """
        response = self._send("GET", path, query, None, headers or {}, timeout)

        def chunks() -> Iterator[bytes]:
            try:
                while chunk := response.read1(65536):
                    yield chunk
            except (OSError, http.client.HTTPException) as exc:
                raise UnreachableError(self._describe(exc, timeout)) from None
            finally:
                response.close()
            self._local.clean = True

        return response.status, chunks()

    def close(self) -> None:
        """Close this thread's connection (others close with their threads)."""
        self._drop()

    def _send(
        self,
        method: str,
        path: str,
        query: dict[str, Any] | None,
        body: bytes | None,
        headers: dict[str, str],
        timeout: float | None,
    ) -> http.client.HTTPResponse:
        target = self.prefix + path
        if query:
            target += "?" + urlencode({k: _query_value(v) for k, v in query.items()})
        sent = {"User-Agent": self.user_agent, **headers}
        token = self._bearer()
        if token:
            sent["Authorization"] = f"Bearer {token}"
        for attempt in (1, 2):
            conn, reused = self._connection(timeout)
            try:
                conn.request(method, target, body=body, headers=sent)
                response = conn.getresponse()
            except _STALE as exc:
                self._drop()
                if reused and attempt == 1 and method != "POST":
                    continue
                raise UnreachableError(self._describe(exc, timeout)) from None
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                raise UnreachableError(self._describe(exc, timeout)) from None
            self._local.clean = False  # until its body is read to the end
            return response
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _connection(self, timeout: float | None) -> tuple[http.client.HTTPConnection, bool]:
        """This thread's connection and whether it served before; a new one when it was closed."""
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is not None and (
            not getattr(self._local, "clean", True)
            or (conn.sock is not None and _closed_by_peer(conn.sock))
        ):
            self._drop()
            conn = None
        if conn is None:
            conn = self._new_connection()
            self._local.conn = conn
            reused = False
        else:
            reused = conn.sock is not None
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        return conn, reused

    def _new_connection(self) -> http.client.HTTPConnection:
        proxy = urlsplit(self.endpoint.proxy) if self.endpoint.proxy else None
        host, port = (proxy.hostname or "", proxy.port or 80) if proxy else (self.host, self.port)
        conn: http.client.HTTPConnection
        if self.tls is not None:
            conn = _TLSConnection(host, port, self.tls, self.endpoint.tls_server_name)
        else:
            conn = http.client.HTTPConnection(host, port)
        if proxy:
            conn.set_tunnel(self.host, self.port)
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        self._local.clean = True
        if conn is not None:
            conn.close()

    def _describe(self, exc: BaseException, timeout: float | None) -> str:
        if isinstance(exc, TimeoutError):
            said = f"no answer within {timeout:g} s" if timeout else "timed out"
        elif isinstance(exc, OSError):
            said = str(exc) or type(exc).__name__
        else:
            said = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return f"{self.endpoint.server}: {said}"

    def _bearer(self) -> str | None:
        """The token; a token file is read again when it changed (kubelet rotates them)."""
        path = self.endpoint.token_file
        if path is None:
            return self._token
        with self._token_lock:
            try:
                info = os.stat(path)
                seen = (info.st_mtime, info.st_size)
                if seen != self._token_seen:
                    with open(path, encoding="utf-8") as f:
                        self._token = f.read().strip() or None
                    self._token_seen = seen
            except OSError:
                pass  # keep the last token read; the server says if it no longer works
            return self._token


def _tls_context(endpoint: Endpoint) -> ssl.SSLContext:
    if endpoint.insecure:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
    elif endpoint.ca_data:
        tls = ssl.create_default_context(cadata=endpoint.ca_data.decode("ascii", "replace"))
    elif endpoint.ca_file:
        tls = ssl.create_default_context(cafile=endpoint.ca_file)
    else:
        tls = ssl.create_default_context(cafile=_default_roots())
    if endpoint.cert_data or endpoint.key_data:
        _load_client_pair(tls, endpoint)
    elif endpoint.cert_file and endpoint.key_file:
        tls.load_cert_chain(endpoint.cert_file, endpoint.key_file)
    return tls


def _default_roots() -> str | None:
    """The roots the official client trusts when the kubeconfig names no CA (certifi's)."""
    try:
        import certifi
    except ImportError:
        return None
    return str(certifi.where())


def _load_client_pair(tls: ssl.SSLContext, endpoint: Endpoint) -> None:
    """Load a client certificate given as data: ssl reads only files, so write them briefly.

    The files live in a fresh directory only this user can open (0700, files 0600)
    and are deleted as soon as ssl has read them.
    """
    import tempfile

    directory = tempfile.mkdtemp(prefix="paas-kube-")
    paths = []
    try:
        for name, data, given in (
            ("client.crt", endpoint.cert_data, endpoint.cert_file),
            ("client.key", endpoint.key_data, endpoint.key_file),
        ):
            if data is None:
                paths.append(given)
                continue
            path = os.path.join(directory, name)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            paths.append(path)
        tls.load_cert_chain(paths[0] or "", paths[1])
    finally:
        for name in ("client.crt", "client.key"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(directory, name))
        os.rmdir(directory)


def _closed_by_peer(sock: Any) -> bool:
    """An idle keep-alive socket is readable only when the server closed it (or broke it)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
