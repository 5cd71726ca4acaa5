"""The fast transport against a real HTTPS server on loopback: TLS, credentials, errors, keep-alive.

The server is the standard library's, with certificates made here by a test CA;
it answers the paths below as an API server answers, and records what it saw.
"""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from unit_helpers import ROOT

from paas.errors import ClusterError, NotFoundError
from paas.kube import server_version
from paas.kube.api import Kube, KubeApiError
from paas.kube.kubeconfig import Endpoint
from paas.kube.logs import stream_log
from paas.kube.transport import Transport, UnreachableError

TOKEN = "t0ken-for-the-unit-tests"
NAMESPACE = {
    "metadata": {
        "name": "a",
        "labels": {"app.kubernetes.io/managed-by": "paas", "paas.dev/app": "a"},
        "creationTimestamp": "2026-01-02T03:04:05Z",
    }
}


@dataclass(frozen=True)
class Pki:
    """A CA, a server certificate for 127.0.0.1 and `kube.test`, and a client certificate."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[str, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool = False,
    sans: list[x509.GeneralName] | None = None,
) -> bytes:
    now = datetime.datetime.now(datetime.UTC)
    issuer_name, issuer_key = issuer or (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(issuer_key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    where = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    server_key = ec.generate_private_key(ec.SECP256R1())
    client_key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("kube.test")]
    files = {
        "ca.crt": _certificate("test-ca", ca_key, None, ca=True),
        "server.crt": _certificate("apiserver", server_key, ("test-ca", ca_key), sans=sans),
        "server.key": _pem_key(server_key),
        "client.crt": _certificate("alice", client_key, ("test-ca", ca_key)),
        "client.key": _pem_key(client_key),
    }
    for name, data in files.items():
        (where / name).write_bytes(data)
    return Pki(*(where / n for n in files))


@dataclass
class Seen:
    """What the server saw: each request's method, path, headers, client certificate, port."""

    requests: list[dict[str, Any]] = field(default_factory=list)

    def ports(self) -> set[int]:
        return {r["port"] for r in self.requests}


class ApiHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    seen: Seen
    token: str | None

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: Any, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _status(self, code: int, reason: str, message: str) -> None:
        self._answer(
            code,
            {"kind": "Status", "status": "Failure", "reason": reason, "message": message},
        )

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        peer = self.connection.getpeercert() if hasattr(self.connection, "getpeercert") else None
        self.seen.requests.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": dict(self.headers),
                "body": body,
                "client": dict(x[0] for x in peer["subject"]) if peer else None,
                "port": self.client_address[1],
            }
        )
        if self.token is not None and self.headers.get("Authorization") != f"Bearer {self.token}":
            self._status(401, "Unauthorized", "Unauthorized")
        elif self.path.startswith("/api/v1/namespaces?"):
            self._answer(200, {"kind": "NamespaceList", "items": [NAMESPACE]})
        elif self.path == "/api/v1/namespaces/missing":
            self._status(404, "NotFound", 'namespaces "missing" not found')
        elif self.path == "/api/v1/namespaces" and self.command == "POST":
            self._status(409, "AlreadyExists", 'namespaces "a" already exists')
        elif self.path == "/version":
            self._answer(200, {"major": "1", "minor": "33", "gitVersion": "v1.33.0"})
        elif self.path == "/boom":
            self._answer(500, b"<html>the proxy broke</html>", "text/html")
        elif self.path == "/slow":
            time.sleep(1.5)
            self._answer(200, {})
        elif "/pods/gone/" in self.path:
            self._status(404, "NotFound", 'pods "gone" not found')
        elif self.path.startswith("/log") or "/pods/web/log?" in self.path:
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in (b"one\ntw", b"o\n", b"three"):
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                self.wfile.flush()
                time.sleep(0.05)
            self.wfile.write(b"0\r\n\r\n")
        else:
            self._answer(200, {"path": self.path, "method": self.command})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


@dataclass
class Server:
    url: str
    seen: Seen
    pki: Pki


def _serve(pki: Pki, *, client_certs: bool, token: str | None) -> Iterator[Server]:
    seen = Seen()
    handler = type("Handler", (ApiHandler,), {"seen": seen, "token": token})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(pki.server_cert, pki.server_key)
    if client_certs:
        tls.verify_mode = ssl.CERT_REQUIRED
        tls.load_verify_locations(pki.ca)
    httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(f"https://127.0.0.1:{httpd.server_address[1]}", seen, pki)
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def token_server(pki: Pki) -> Iterator[Server]:
    """A server that wants the bearer token TOKEN, and no client certificate."""
    yield from _serve(pki, client_certs=False, token=TOKEN)


@pytest.fixture
def cert_server(pki: Pki) -> Iterator[Server]:
    """A server that refuses a client without a certificate of the test CA."""
    yield from _serve(pki, client_certs=True, token=None)


def token_endpoint(server: Server, **more: Any) -> Endpoint:
    return Endpoint(server=server.url, ca_file=str(server.pki.ca), token=TOKEN, **more)


def test_a_bearer_token_is_sent_and_the_server_certificate_checked(token_server: Server) -> None:
    answer = Transport(token_endpoint(token_server)).request(
        "GET", "/api/v1/namespaces", query={"labelSelector": "a=b,c"}
    )
    assert answer.status == 200
    (seen,) = token_server.seen.requests
    assert seen["path"] == "/api/v1/namespaces?labelSelector=a%3Db%2Cc"
    assert seen["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert seen["headers"]["User-Agent"] == "paas"


def test_a_wrong_token_gets_the_servers_401(token_server: Server) -> None:
    transport = Transport(Endpoint(server=token_server.url, ca_file=str(token_server.pki.ca)))
    assert transport.request("GET", "/api/v1/namespaces").status == 401


def test_the_ca_as_data_and_tls_server_name(token_server: Server) -> None:
    port = token_server.url.rsplit(":", 1)[1]
    endpoint = Endpoint(
        server=f"https://localhost:{port}",  # not in the certificate: kube.test is
        ca_data=token_server.pki.ca.read_bytes(),
        tls_server_name="kube.test",
        token=TOKEN,
    )
    assert Transport(endpoint).request("GET", "/x").status == 200
    wrong = Endpoint(server=f"https://localhost:{port}", ca_data=token_server.pki.ca.read_bytes())
    with pytest.raises(UnreachableError, match="certificate verify failed"):
        Transport(wrong).request("GET", "/x")


def test_an_unknown_ca_is_refused_unless_verification_is_skipped(token_server: Server) -> None:
    with pytest.raises(UnreachableError, match="certificate verify failed"):
        Transport(Endpoint(server=token_server.url, token=TOKEN)).request("GET", "/x")
    insecure = Endpoint(server=token_server.url, insecure=True, token=TOKEN)
    assert Transport(insecure).request("GET", "/x").status == 200


@pytest.mark.parametrize("as_data", [False, True], ids=["files", "data"])
def test_a_client_certificate_the_server_requires(cert_server: Server, as_data: bool) -> None:
    pki = cert_server.pki
    if as_data:
        endpoint = Endpoint(
            server=cert_server.url,
            ca_file=str(pki.ca),
            cert_data=pki.client_cert.read_bytes(),
            key_data=pki.client_key.read_bytes(),
        )
    else:
        endpoint = Endpoint(
            server=cert_server.url,
            ca_file=str(pki.ca),
            cert_file=str(pki.client_cert),
            key_file=str(pki.client_key),
        )
    before = set(os.listdir(os.environ.get("TMPDIR", "/tmp")))
    assert Transport(endpoint).request("GET", "/x").status == 200
    assert cert_server.seen.requests[0]["client"] == {"commonName": "alice"}
    left = {n for n in set(os.listdir(os.environ.get("TMPDIR", "/tmp"))) - before}
    assert not [n for n in left if n.startswith("paas-kube-")]  # the key was not left on disk


def test_without_a_client_certificate_the_handshake_fails(cert_server: Server) -> None:
    endpoint = Endpoint(server=cert_server.url, ca_file=str(cert_server.pki.ca))
    with pytest.raises(UnreachableError, match=cert_server.url):
        Transport(endpoint).request("GET", "/x")


def test_requests_of_a_thread_share_one_connection_and_threads_have_their_own(
    token_server: Server,
) -> None:
    transport = Transport(token_endpoint(token_server))
    for _ in range(5):
        transport.request("GET", "/x")
    assert len(token_server.seen.ports()) == 1

    def three() -> None:
        for _ in range(3):
            transport.request("GET", "/y")

    threads = [threading.Thread(target=three) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(token_server.seen.requests) == 11
    assert len(token_server.seen.ports()) == 3  # the main thread's, and one per thread


def test_a_connection_the_server_closed_is_opened_again(token_server: Server) -> None:
    transport = Transport(token_endpoint(token_server))
    transport.request("GET", "/x")
    conn = transport._local.conn
    conn.sock.shutdown(socket.SHUT_RDWR)  # as a server's idle timeout leaves it: unusable
    assert transport.request("PUT", "/x", body=b"{}").status == 200
    assert len(token_server.seen.ports()) == 2


def test_a_timeout_is_honoured(token_server: Server) -> None:
    transport = Transport(token_endpoint(token_server))
    started = time.monotonic()
    with pytest.raises(UnreachableError, match=r"no answer within 0\.3 s"):
        transport.request("GET", "/slow", timeout=0.3)
    assert time.monotonic() - started < 1.2
    assert transport.request("GET", "/x", timeout=5).status == 200  # a fresh connection


def test_a_stream_comes_in_chunks_and_leaves_the_connection_usable(token_server: Server) -> None:
    transport = Transport(token_endpoint(token_server))
    status, chunks = transport.stream("/log")
    assert status == 200
    assert b"".join(chunks) == b"one\ntwo\nthree"
    assert transport.request("GET", "/x").status == 200
    assert len(token_server.seen.ports()) == 1


def test_a_stream_stopped_early_does_not_spoil_the_next_request(token_server: Server) -> None:
    transport = Transport(token_endpoint(token_server))
    _, chunks = transport.stream("/log")
    assert next(iter(chunks)) == b"one\ntw"
    answer = transport.request("GET", "/api/v1/namespaces", query={"limit": 1})
    assert json.loads(answer.data)["items"] == [NAMESPACE]


def kubeconfig_for(server: Server, tmp_path: Path, token: str = TOKEN) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {"name": "c", "cluster": {"server": server.url, "certificate-authority": "ca"}}
                ],
                "users": [{"name": "u", "user": {"token": token}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    (tmp_path / "ca").write_bytes(server.pki.ca.read_bytes())  # relative to the kubeconfig
    return path


@pytest.fixture
def kube(token_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Kube:
    monkeypatch.delenv("PAAS_KUBECONFIG", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig_for(token_server, tmp_path)))
    return Kube()


def test_kube_goes_through_the_transport_and_decodes_json(kube: Kube, token_server: Server) -> None:
    assert kube.transport is not None
    assert kube._client is None  # the official client is not loaded
    items = kube.list("v1", "Namespace", selector="paas.dev/app")
    assert items == [{**NAMESPACE, "apiVersion": "v1", "kind": "Namespace"}]
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}})
    applied = token_server.seen.requests[-1]
    assert applied["method"] == "PATCH"
    assert applied["path"] == "/api/v1/namespaces/a?fieldManager=paas&force=true"
    assert applied["headers"]["Content-Type"] == "application/apply-patch+yaml"
    assert json.loads(applied["body"]) == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "a"},
    }
    assert applied["headers"]["User-Agent"].startswith("paas/")


def test_error_statuses_keep_their_classes_and_messages(kube: Kube) -> None:
    assert kube.get("v1", "Namespace", None, "missing") is None
    with pytest.raises(NotFoundError, match='namespaces "missing" not found'):
        kube.request("GET", "/api/v1/namespaces/missing")
    with pytest.raises(KubeApiError) as conflict:
        kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}})
    assert (conflict.value.status, conflict.value.reason) == (409, "AlreadyExists")
    assert conflict.value.message == 'namespaces "a" already exists'
    with pytest.raises(KubeApiError) as broken:
        kube.request("GET", "/boom")
    assert (broken.value.status, broken.value.message) == (500, "<html>the proxy broke</html>")


def test_a_refused_connection_says_so_with_the_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pki: Pki
) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = Server(f"https://127.0.0.1:{port}", Seen(), pki)
    monkeypatch.delenv("PAAS_KUBECONFIG", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig_for(server, tmp_path)))
    with pytest.raises(KubeApiError) as caught:
        Kube().list("v1", "Namespace")
    assert caught.value.message.startswith(f"cannot reach the cluster: https://127.0.0.1:{port}: ")
    assert "Connection refused" in caught.value.message
    assert caught.value.hint == (
        "Check `KUBECONFIG` and that the API server is up; `paas doctor` says more."
    )


def test_paas_apps_imports_neither_the_kubernetes_client_nor_the_release_model(
    token_server: Server, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAAS_")}
    env.update(
        KUBECONFIG=str(kubeconfig_for(token_server, tmp_path)),
        PYTHONPATH=str(ROOT),
        NO_COLOR="1",
    )
    probe = (
        "import atexit, runpy, sys\n"
        "atexit.register(lambda: print('LOADED', sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('kubernetes', 'urllib3') "
        "or m in ('paas.manifest', 'paas.render', 'paas.deploy')), file=sys.stderr))\n"
        "sys.argv = ['paas', 'apps', '--json']\n"
        "runpy.run_module('paas', run_name='__main__')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)["apps"]
    assert (row["name"], row["created"]) == ("a", "2026-01-02T03:04:05Z")
    assert "LOADED []" in result.stderr
    assert any(r["path"].startswith("/api/v1/namespaces?") for r in token_server.seen.requests)


def test_the_server_version_and_a_refused_token(
    token_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PAAS_KUBECONFIG", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig_for(token_server, tmp_path)))
    assert server_version() == "v1.33.0"
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig_for(token_server, tmp_path, token="wrong")))
    with pytest.raises(ClusterError) as caught:
        server_version()
    assert caught.value.message == "cannot reach the cluster: (401) Unauthorized"
    assert "wrong" not in caught.value.message + caught.value.hint


def test_pod_logs_stream_through_the_transport_line_by_line(
    kube: Kube, token_server: Server
) -> None:
    lines = list(stream_log(kube, "ns", "web", follow=True, tail=5, timestamps=True))
    assert lines == ["one", "two", "three"]
    assert token_server.seen.requests[-1]["path"] == (
        "/api/v1/namespaces/ns/pods/web/log?follow=true&timestamps=true&tailLines=5"
    )
    assert list(stream_log(kube, "ns", "gone", follow=False)) == []
    assert kube.list("v1", "Namespace", selector="x")  # the connection is still good
    assert len(token_server.seen.ports()) == 1


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        target.close()


@pytest.fixture
def connect_proxy() -> Iterator[tuple[str, list[str]]]:
    """An http proxy that tunnels CONNECT requests; yields its URL and the targets asked for."""
    asked: list[str] = []
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            head = b""
            while b"\r\n\r\n" not in head:
                head += client.recv(4096)
            target = head.split(b" ")[1].decode()
            asked.append(target)
            host, port = target.rsplit(":", 1)
            upstream = socket.create_connection((host, int(port)))
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", asked
    listener.close()


def test_an_http_proxy_tunnels_to_the_server(
    token_server: Server, connect_proxy: tuple[str, list[str]]
) -> None:
    proxy, asked = connect_proxy
    transport = Transport(token_endpoint(token_server, proxy=proxy))
    assert transport.request("GET", "/version").status == 200
    assert transport.request("GET", "/version").status == 200  # the same tunnel
    assert asked == [token_server.url.removeprefix("https://")]
    assert token_server.seen.requests[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"


def test_a_token_file_is_read_again_when_it_changes(token_server: Server, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("expired\n")
    ca = str(token_server.pki.ca)
    transport = Transport(Endpoint(server=token_server.url, ca_file=ca, token_file=str(token)))
    assert transport.request("GET", "/x").status == 401
    token.write_text(f"{TOKEN}\n")  # the kubelet rotated it
    assert transport.request("GET", "/x").status == 200
    assert token_server.seen.requests[-1]["headers"]["Authorization"] == f"Bearer {TOKEN}"
