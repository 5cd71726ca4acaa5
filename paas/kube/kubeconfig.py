"""Where the cluster is and who we are, read from the kubeconfig for the fast transport.

The common kubeconfigs (a server, its CA, a client certificate or a bearer token,
an http proxy) and in-cluster service accounts are read here, without the
kubernetes client. Anything else (exec credential plugins, auth providers,
username and password, impersonation, a key this module does not know, a
kubeconfig it cannot make sense of) is a `Fallback`: the official client then
reads the kubeconfig as it always has, with its own messages.

Several files in `KUBECONFIG` are merged as kubectl merges them: the first file
that names a cluster, user or context, or sets `current-context`, wins.
Relative file paths are relative to the file that names them.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paas.kube import ENV_KUBECONFIG

#: Where a pod's service account is mounted (tests point it elsewhere).
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"

_CLUSTER_KEYS = {
    "server",
    "certificate-authority",
    "certificate-authority-data",
    "insecure-skip-tls-verify",
    "tls-server-name",
    "proxy-url",
    "extensions",
}
_USER_KEYS = {
    "token",
    "tokenFile",
    "client-certificate",
    "client-certificate-data",
    "client-key",
    "client-key-data",
    "extensions",
}
_CONTEXT_KEYS = {"cluster", "user", "namespace", "extensions"}


@dataclass(frozen=True)
class Endpoint:
    """An API server and the credentials to talk to it; data fields hold PEM bytes."""

    server: str  # scheme://host[:port], no trailing slash
    ca_file: str | None = None
    ca_data: bytes | None = None
    insecure: bool = False
    tls_server_name: str | None = None
    cert_file: str | None = None
    cert_data: bytes | None = None
    key_file: str | None = None
    key_data: bytes | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    token_file: str | None = None  # read at each request when it changed (rotated tokens)
    proxy: str | None = None  # http://host:port, reached with CONNECT


@dataclass(frozen=True)
class Fallback:
    """The kubeconfig is one for the official client; `reason` says why (never a secret)."""

    reason: str


class _UnsupportedError(Exception):
    pass


def find_endpoint(
    context: str | None = None, environ: Mapping[str, str] | None = None
) -> Endpoint | Fallback:
    """The endpoint the kubeconfig names for `context` (default: its current context).

    The same sources as the official client, in its order: `PAAS_KUBECONFIG` (a
    path or the content), else the files of `KUBECONFIG` (default
    `~/.kube/config`), else the pod's service account when there is no kubeconfig.
    """
    env = os.environ if environ is None else environ
    try:
        given = env.get(ENV_KUBECONFIG, "").strip()
        if given:
            return _from_env(given, context)
        if "KUBECONFIG" in env and not env["KUBECONFIG"].strip():
            raise _UnsupportedError("KUBECONFIG is set but empty")
        paths = [
            Path(p).expanduser()
            for p in env.get("KUBECONFIG", "~/.kube/config").split(os.pathsep)
            if p
        ]
        found = [p for p in paths if p.exists()]
        if not found:
            return in_cluster(env)
        return endpoint_of([(str(p.parent), _load_yaml(p.read_text())) for p in found], context)
    except _UnsupportedError as exc:
        return Fallback(str(exc))
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        return Fallback(f"unreadable kubeconfig ({type(exc).__name__})")


def _from_env(given: str, context: str | None) -> Endpoint:
    if "\n" not in given and Path(given).expanduser().is_file():
        path = Path(given).expanduser()
        return endpoint_of([(str(path.parent), _load_yaml(path.read_text()))], context)
    document = _load_yaml(given)
    if not isinstance(document, dict) or "clusters" not in document:
        raise _UnsupportedError(f"`{ENV_KUBECONFIG}` is neither a file nor a kubeconfig")
    return endpoint_of([("", document)], context)


def _load_yaml(text: str) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        raise _UnsupportedError("the kubeconfig is not YAML") from None


def in_cluster(environ: Mapping[str, str]) -> Endpoint:
    """The API server as a pod sees it: the service's address, the mounted token and CA."""
    host = environ.get("KUBERNETES_SERVICE_HOST", "")
    port = environ.get("KUBERNETES_SERVICE_PORT", "")
    token = Path(SERVICE_ACCOUNT_DIR) / "token"
    if not (host and port and token.is_file()):
        raise _UnsupportedError("no kubeconfig and not in a cluster")
    if ":" in host:  # IPv6
        host = f"[{host}]"
    ca = Path(SERVICE_ACCOUNT_DIR) / "ca.crt"
    return Endpoint(
        server=f"https://{host}:{port}",
        ca_file=str(ca) if ca.is_file() else None,
        token_file=str(token),
    )


def merge(documents: list[tuple[str, Any]]) -> dict[str, Any]:
    """Merge several kubeconfigs as kubectl does: the first to name an entry or context wins.

    Each entry keeps the directory of the file it came from, for its relative paths:
    `{"clusters": {name: (directory, fields)}, ..., "current-context": name}`.
    """
    merged: dict[str, Any] = {"clusters": {}, "users": {}, "contexts": {}, "current-context": ""}
    for directory, document in documents:
        if document is None:
            continue
        if not isinstance(document, dict):
            raise _UnsupportedError("a kubeconfig that is not a mapping")
        for section, key in (("clusters", "cluster"), ("users", "user"), ("contexts", "context")):
            for entry in document.get(section) or []:
                name = entry.get("name")
                if isinstance(name, str) and name not in merged[section]:
                    merged[section][name] = (directory, entry.get(key) or {})
        if not merged["current-context"] and document.get("current-context"):
            merged["current-context"] = str(document["current-context"])
    return merged


def endpoint_of(documents: list[tuple[str, Any]], context: str | None) -> Endpoint:
    """The endpoint of `context` (default: the current one) in the merged `documents`.

    Raises:
        _UnsupportedError: the official client should read these kubeconfigs.
    """
    merged = merge(documents)
    name = context or merged["current-context"]
    if not name or name not in merged["contexts"]:
        raise _UnsupportedError("no such context")  # the official client names it
    _, ctx = merged["contexts"][name]
    _known(ctx, _CONTEXT_KEYS, "context")
    if ctx.get("cluster") not in merged["clusters"]:
        raise _UnsupportedError("the context's cluster is not defined")
    cluster_dir, cluster = merged["clusters"][ctx["cluster"]]
    _known(cluster, _CLUSTER_KEYS, "cluster")
    user_dir, user = "", {}
    if ctx.get("user"):
        if ctx["user"] not in merged["users"]:
            raise _UnsupportedError("the context's user is not defined")
        user_dir, user = merged["users"][ctx["user"]]
    _known(user, _USER_KEYS, "user")
    server = cluster.get("server")
    if not isinstance(server, str) or not server.startswith(("https://", "http://")):
        raise _UnsupportedError("the cluster's server is not an http(s) URL")
    proxy = cluster.get("proxy-url") or None
    if proxy is not None and not (isinstance(proxy, str) and proxy.startswith("http://")):
        raise _UnsupportedError("a proxy that is not http://")
    ca_data, ca_file = _file_or_data(cluster, "certificate-authority", cluster_dir)
    cert_data, cert_file = _file_or_data(user, "client-certificate", user_dir)
    key_data, key_file = _file_or_data(user, "client-key", user_dir)
    if bool(cert_data or cert_file) != bool(key_data or key_file):
        raise _UnsupportedError("a client certificate without its key, or a key without one")
    token = user.get("token") or None
    token_file = None
    if not token and user.get("tokenFile"):
        token_file = _resolve(str(user["tokenFile"]), user_dir)
    insecure = cluster.get("insecure-skip-tls-verify", False)
    if not isinstance(insecure, bool):
        raise _UnsupportedError("insecure-skip-tls-verify is not a boolean")
    return Endpoint(
        server=server.rstrip("/"),
        ca_file=ca_file,
        ca_data=ca_data,
        insecure=insecure,
        tls_server_name=cluster.get("tls-server-name") or None,
        cert_file=cert_file,
        cert_data=cert_data,
        key_file=key_file,
        key_data=key_data,
        token=str(token) if token else None,
        token_file=token_file,
        proxy=proxy,
    )


def _known(fields: Any, allowed: set[str], what: str) -> None:
    if not isinstance(fields, dict):
        raise _UnsupportedError(f"the {what} is not a mapping")
    unknown = sorted(set(fields) - allowed)
    if unknown:
        # Key names only, never their values (an exec plugin's env may hold secrets).
        raise _UnsupportedError(f"the {what} uses {', '.join(map(str, unknown))}")


def _file_or_data(
    fields: dict[str, Any], key: str, directory: str
) -> tuple[bytes | None, str | None]:
    """`KEY-data` decoded (preferred, as kubectl and the official client do), or `KEY`'s path."""
    data = fields.get(f"{key}-data")
    if data:
        try:
            decoded = base64.b64decode("".join(str(data).split()), validate=True)
        except ValueError:
            decoded = b""
        if not decoded:
            raise _UnsupportedError(f"{key}-data is not base64")
        return decoded, None
    path = fields.get(key)
    return None, (_resolve(str(path), directory) if path else None)


def _resolve(path: str, directory: str) -> str:
    return os.path.normpath(os.path.join(directory, path)) if directory else path
