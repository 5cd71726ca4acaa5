"""`paas receiver serve`: git's smart HTTP protocol, `git http-backend` behind a small front.

The front authenticates every request (HTTP Basic, a token as the password),
checks the URL against the receiver's layout before any file is touched,
makes the app's bare repository on its first push, serialises the pushes of
one app, and runs `git http-backend` as a CGI program for the request. The
request body is streamed into it and its answer streamed out, chunk by chunk
as it comes, so the `remote:` lines of a push reach the client while the
pipeline runs and no pack is held in memory.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO

import paas
from paas.console import sanitise
from paas.errors import PaasError
from paas.receiver.auth import Verdict, check_token
from paas.receiver.config import ReceiverConfig
from paas.receiver.hook import SETTINGS_VARIABLE, HookSettings
from paas.receiver.protocol import (
    CONTENT_TYPES,
    GIT_PROTOCOL,
    GitRequest,
    RequestRefused,
    content_encoding_problem,
    parse_basic,
    parse_request,
)
from paas.receiver.repository import ensure_repository, git_environment
from paas.receiver.store import TokenStore

CHUNK = 64 * 1024
MAX_CGI_HEADERS = 64 * 1024
#: Headers of `git http-backend`'s answer that are passed on; the rest are dropped.
PASSED_HEADERS = frozenset({"content-type", "cache-control", "expires", "pragma"})
REALM = 'Basic realm="paas receiver", charset="UTF-8"'


class BodyTooLarge(Exception):  # noqa: N818
    """The request body is larger than the receiver takes."""


class ReceiverServer(ThreadingHTTPServer):
    """The HTTP server: its configuration and its token store.

    It counts the requests being served, so a receiver told to stop waits for
    those (a push mid-deploy) and not for idle keep-alive connections, which
    a proxy in front may hold open for minutes.
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        config: ReceiverConfig,
        store: TokenStore,
        *,
        log: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(address, GitHandler)
        self.config = config
        self.store = store
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.stopping = False
        self._busy = 0
        self._idle = threading.Condition()
        config.root.mkdir(parents=True, exist_ok=True, mode=0o700)

    @contextlib.contextmanager
    def serving(self) -> Iterator[None]:
        """Count one request as being served while it runs."""
        with self._idle:
            self._busy += 1
        try:
            yield
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no request is being served; False when one still is after `timeout`."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    @property
    def url(self) -> str:
        """The URL it listens on."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class GitHandler(BaseHTTPRequestHandler):
    """One HTTP request of a git client."""

    server: ReceiverServer
    protocol_version = "HTTP/1.1"
    server_version = "paas-receiver"
    sys_version = ""
    timeout = 300  # seconds a client may stay silent

    def do_GET(self) -> None:
        """Serve `info/refs`, and `/healthz` for the kubelet's probes."""
        if self.path == "/healthz":
            self._health()
            return
        self._serve_counted()

    def _serve_counted(self) -> None:
        if self.server.stopping:
            self._refuse(503, "The receiver is stopping: push again in a moment.")
            return
        with self.server.serving():
            self._serve()

    def _health(self) -> None:
        """200 while the receiver can read its tokens, else 503: no token is needed."""
        try:
            self.server.store.tokens()
        except PaasError as error:
            self._refuse(503, f"The receiver cannot read its tokens: {error.message}")
            return
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        """Serve `git-receive-pack` and `git-upload-pack`."""
        self._serve_counted()

    def _method_not_allowed(self) -> None:
        self._refuse(405, "Only GET and POST of git's smart protocol are served.")

    # http.server's names for the other methods.
    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _method_not_allowed  # noqa: N815

    def log_message(self, format: str, *args: object) -> None:  # the base class names it so
        """Log one line, the client's text shown and never interpreted; not the probes."""
        if self.path == "/healthz":
            return
        self.server.log(sanitise(f"{self.address_string()} {format % args}")[:1000])

    def _refuse(self, status: int, message: str, *, authenticate: bool = False) -> None:
        body = (message + "\n").encode()
        self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        if authenticate:
            self.send_header("WWW-Authenticate", REALM)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _serve(self) -> None:
        try:
            request = parse_request(self.command, self.path)
        except RequestRefused as refused:
            self._refuse(refused.status, refused.message)
            return
        credentials = parse_basic(self.headers.get("Authorization"))
        try:
            records = self.server.store.tokens()
        except PaasError as error:
            self.server.log(sanitise(f"cannot read the tokens: {error.message}")[:1000])
            self._refuse(503, "The receiver cannot read its tokens now: try again shortly.")
            return
        check = check_token(
            records,
            credentials.password if credentials else None,
            request.app,
            time.time(),
        )
        if check.verdict is Verdict.OTHER_APP:
            self._refuse(403, f"This token may not use app `{request.app}`.")
            return
        if check.verdict is not Verdict.ALLOWED or check.token is None:
            self._refuse(
                401, "A valid paas receiver token is needed as the password.", authenticate=True
            )
            return
        problem = content_encoding_problem(self.headers.get("Content-Encoding"))
        if problem:
            self._refuse(415, problem)
            return
        if (
            request.kind == "rpc"
            and self.headers.get("Content-Type") != CONTENT_TYPES[request.service]
        ):
            self._refuse(415, f"Expected Content-Type `{CONTENT_TYPES[request.service]}`.")
            return
        config = self.server.config
        policy = config.policy_for(request.app)
        repo = ensure_repository(
            config.root,
            request.app,
            policy,
            max_input_bytes=config.max_request_bytes,
            create=request.is_push,
        )
        if repo is None:
            self._refuse(404, f"App `{request.app}` has no repository yet: push to it first.")
            return
        settings = HookSettings(
            app=request.app,
            pusher=check.token.id,
            pipeline=config.pipeline,
            policy=policy,
            max_source_bytes=config.max_source_bytes,
            max_source_files=config.max_source_files,
            lock_wait=config.lock_wait,
        )
        # Pushes of one app take turns in the pre-receive hook (a lock in the repository),
        # where a waiting push can say so to its client at once.
        self._run_backend(request, settings)

    def _cgi_environment(self, request: GitRequest, settings: HookSettings) -> dict[str, str]:
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("HTTP_", "PAAS_RECEIVER_")) and k not in _CGI_NAMES
        }
        env = git_environment(base)
        here = str(Path(paas.__file__).resolve().parents[1])  # the hook imports this paas
        env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH", "")) if p)
        env.update(
            GATEWAY_INTERFACE="CGI/1.1",
            GIT_PROJECT_ROOT=str(self.server.config.root.resolve()),
            GIT_HTTP_EXPORT_ALL="1",
            PATH_INFO=request.path_info,
            QUERY_STRING=request.query_string,
            REQUEST_METHOD=self.command,
            REMOTE_USER=settings.pusher,
            REMOTE_ADDR=self.client_address[0],
            SERVER_PROTOCOL="HTTP/1.1",
        )
        env[SETTINGS_VARIABLE] = settings.to_json()
        if request.kind == "rpc":
            env["CONTENT_TYPE"] = CONTENT_TYPES[request.service]
            encoding = self.headers.get("Content-Encoding")
            if encoding:
                env["HTTP_CONTENT_ENCODING"] = encoding.strip().lower()
            length = self._content_length()
            if length is not None:
                env["CONTENT_LENGTH"] = str(length)
        protocol = self.headers.get("Git-Protocol")
        if protocol and GIT_PROTOCOL.match(protocol):
            env["GIT_PROTOCOL"] = protocol
        return env

    def _content_length(self) -> int | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return None  # read until the last chunk; http-backend reads until EOF
        value = self.headers.get("Content-Length", "0")
        return int(value) if value.isdigit() else 0

    def _run_backend(self, request: GitRequest, settings: HookSettings) -> None:
        env = self._cgi_environment(request, settings)
        process = subprocess.Popen(
            ["git", "http-backend"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=self.server.config.root,
            bufsize=0,
        )
        assert process.stdin is not None
        assert process.stdout is not None
        assert process.stderr is not None
        errors = threading.Thread(target=self._log_stderr, args=(process.stderr,), daemon=True)
        errors.start()
        feeder = threading.Thread(target=self._feed, args=(process, request), daemon=True)
        feeder.start()
        try:
            self._relay(process.stdout)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True
        finally:
            if process.poll() is None:
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            feeder.join(timeout=5)
            errors.join(timeout=5)
            process.stdout.close()

    def _feed(self, process: subprocess.Popen[bytes], request: GitRequest) -> None:
        """Stream the request body into http-backend, decoding chunked transfer encoding."""
        assert process.stdin is not None
        limit = self.server.config.max_request_bytes
        try:
            if request.kind == "rpc":
                length = self._content_length()
                chunks = self._chunks() if length is None else self._exactly(length)
                sent = 0
                for data in chunks:
                    sent += len(data)
                    if sent > limit:
                        raise BodyTooLarge
                    process.stdin.write(data)
        except BodyTooLarge:
            self.log_message("request body over %d bytes: stopped", limit)
            process.kill()
        except (OSError, ValueError):
            pass  # the client went away, or http-backend stopped reading: it answers itself
        finally:
            with contextlib.suppress(OSError):
                process.stdin.close()

    def _exactly(self, length: int) -> Iterator[bytes]:
        left = length
        while left > 0:
            data = self.rfile.read(min(CHUNK, left))
            if not data:
                raise ValueError("the client sent less than its Content-Length")
            left -= len(data)
            yield data

    def _chunks(self) -> Iterator[bytes]:
        while True:
            line = self.rfile.readline(1024)
            size_text = line.split(b";", 1)[0].strip()
            if not size_text or any(c not in b"0123456789abcdefABCDEF" for c in size_text):
                raise ValueError("bad chunk size")
            size = int(size_text, 16)
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return
            yield from self._exactly(size)
            self.rfile.readline(3)  # the CRLF after the chunk

    def _relay(self, output: IO[bytes]) -> None:
        """Send http-backend's CGI answer: its status and headers, then its body in chunks."""
        status, headers = 200, []
        seen = 0
        while True:
            line = output.readline(8192)
            seen += len(line)
            if not line or seen > MAX_CGI_HEADERS:
                self._refuse(502, "git http-backend gave no answer.")
                return
            text = line.decode("latin-1").rstrip("\r\n")
            if not text:
                break
            name, _, value = text.partition(":")
            if name.strip().lower() == "status":
                code = value.strip().split(" ", 1)[0]
                status = int(code) if code.isdigit() else 502
            elif name.strip().lower() in PASSED_HEADERS:
                headers.append((name.strip(), value.strip()))
        self.close_connection = True
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        read = getattr(output, "read1", output.read)
        while True:
            data = read(CHUNK)
            if not data:
                break
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _log_stderr(self, stream: IO[bytes]) -> None:
        logged = 0
        for raw in iter(lambda: stream.readline(4096), b""):
            if logged < 100:
                self.log_message("http-backend: %s", raw.decode(errors="replace").rstrip())
                logged += 1
        stream.close()


_CGI_NAMES = frozenset(
    {
        "CONTENT_LENGTH",
        "CONTENT_TYPE",
        "PATH_INFO",
        "PATH_TRANSLATED",
        "QUERY_STRING",
        "REMOTE_USER",
        "REMOTE_ADDR",
        "REQUEST_METHOD",
        "GIT_PROTOCOL",
    }
)


def serve(
    config: ReceiverConfig,
    store: TokenStore,
    *,
    host: str,
    port: int,
    on_ready: Callable[[str], None],
    drain: float = 590,
) -> None:
    """Serve until interrupted or told to stop; `on_ready` gets the URL once the socket listens.

    SIGTERM (what Kubernetes sends a pod it stops) stops taking requests and
    lets the running ones, a push mid-deploy among them, finish first (for at
    most `drain` seconds); idle connections are simply closed.
    """
    import signal

    server = ReceiverServer((host, port), config, store)

    def stop(signum: int, frame: object) -> None:
        server.log("Stopping: no new requests; the running ones finish first.")
        server.stopping = True
        threading.Thread(target=server.shutdown, daemon=True).start()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
    on_ready(server.url)
    try:
        server.serve_forever()
        if not server.wait_idle(drain):
            server.log(f"Stopping with pushes still running after {drain:.0f} s.")
    finally:
        server.server_close()
