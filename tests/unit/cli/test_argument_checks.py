"""Bad arguments fail as usage errors before any cluster is contacted.

Each command runs as a user runs it, with a kubeconfig whose API server is a
socket this test listens on and never answers: a command that connected
would hang there (and the test would see the connection). Every case must
end at once with exit code 2 and the exact message.
"""

from __future__ import annotations

import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from unit_helpers import paas_env, run_paas, write_kubeconfig

from paas.arguments import (
    check_host,
    parse_formation,
    release_version,
    since_seconds,
)
from paas.errors import UsageError


@pytest.fixture(scope="module")
def silent_server() -> Iterator[socket.socket]:
    """A TCP socket that takes connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield server
    server.close()


@pytest.fixture(scope="module")
def kubeconfig(tmp_path_factory: pytest.TempPathFactory, silent_server: socket.socket) -> Path:
    port = silent_server.getsockname()[1]
    return write_kubeconfig(tmp_path_factory.mktemp("kube") / "config", port)


def _connections(server: socket.socket) -> int:
    count = 0
    while select.select([server], [], [], 0)[0]:
        conn, _ = server.accept()
        conn.close()
        count += 1
    return count


CASES = [
    (
        ["ps", "scale", "web=-1", "-a", "hello"],
        "`web=-1`: the count must be a whole number from 0 to 100",
        "Write it like `web=3`; `web=0` stops the process type.",
    ),
    (
        ["ps", "scale", "web=1000", "-a", "hello"],
        "`web=1000`: the count must be a whole number from 0 to 100",
        "Write it like `web=3`; `web=0` stops the process type.",
    ),
    (
        ["ps", "scale", "Web=1", "-a", "hello"],
        "`Web=1`: the process type `Web` must be lowercase letters, digits and dashes, start "
        "with a letter and not end with a dash",
        "Write it like `web=3 worker=0`; `paas ps` lists the app's process types.",
    ),
    (
        ["ps", "scale", "web", "-a", "hello"],
        "`web` is not TYPE=COUNT",
        "Write it like `web=3 worker=0`.",
    ),
    (
        ["ps", "scale", "web=1", "web=2", "-a", "hello"],
        "`web` is given twice",
        "Give each process type once: `web=2`.",
    ),
    (
        ["ps", "restart", "Web_1", "-a", "hello"],
        "`Web_1` is not a process type: it must be lowercase letters, digits and dashes, "
        "start with a letter and not end with a dash",
        "`paas ps` lists the app's process types, like `web` and `worker`.",
    ),
    (
        ["ps", "-a", "Hello_World"],
        "`Hello_World` is not an app name: it must be lowercase letters, digits and dashes, "
        "start with a letter and not end with a dash",
        "Pass `--app NAME` with a name like `hello-world`.",
    ),
    (
        ["rollback", "xyz", "-a", "hello"],
        "`xyz` is not a release",
        "Write it like `v3`; see `paas releases`.",
    ),
    (
        ["rollback", "v0", "-a", "hello"],
        "`v0` is not a release",
        "Write it like `v3`; see `paas releases`.",
    ),
    (
        ["releases", "info", "v-2", "-a", "hello"],
        "`v-2` is not a release",
        "Write it like `v3`; see `paas releases`.",
    ),
    (
        ["releases", "-a", "kube-system"],
        "`kube-system` is not an app name: it is reserved by Kubernetes or paas",
        "Pass `--app NAME` with a name like `hello-world`.",
    ),
    (
        ["logs", "--since", "10years", "-a", "hello"],
        "`--since 10years` is not a duration",
        "Write it like `30s`, `10m`, `2h`, `1d` or `1h30m`.",
    ),
    (
        ["logs", "--since", "0s", "-a", "hello"],
        "`--since 0s` must be from 1 s to 366 days",
        "Write it like `10m`; leave `--since` out for all the lines kept.",
    ),
    (
        ["logs", "--since", "999999999d", "-a", "hello"],
        "`--since 999999999d` must be from 1 s to 366 days",
        "Write it like `10m`; leave `--since` out for all the lines kept.",
    ),
    (
        ["logs", "-p", "../web", "-a", "hello"],
        "`../web` is not a process type: it must be lowercase letters, digits and dashes, "
        "start with a letter and not end with a dash",
        "`paas ps` lists the app's process types, like `web` and `worker`.",
    ),
    (
        ["domains", "add", "10.0.0.1", "-a", "hello"],
        "`10.0.0.1` is an IP address, not a domain name",
        "Point a host name at the cluster's ingress and add that, like `www.example.com`.",
    ),
    (
        ["domains", "add", "[::1]", "-a", "hello"],
        "`[::1]` is an IP address, not a domain name",
        "Point a host name at the cluster's ingress and add that, like `www.example.com`.",
    ),
    (
        ["domains", "add", "https://www.example.com/", "-a", "hello"],
        "`https://www.example.com/` is not a host name: it has a scheme, port or path",
        "Write the host name alone, like `www.example.com`.",
    ),
    (
        ["domains", "add", "www.exa_mple.com", "-a", "hello"],
        "`www.exa_mple.com` is not a host name: `exa_mple` may hold only lowercase letters, "
        "digits and `-`, not at its start or end",
        "Write the host name alone, like `www.example.com`.",
    ),
    (
        ["domains", "add", "a" * 64 + ".example.com", "-a", "hello"],
        f"`{'a' * 64}.example.com` has a label longer than 63 characters (`{'a' * 20}...`)",
        "Each part between dots is at most 63 characters.",
    ),
    (
        ["domains", "add", ("abc." * 64) + "com", "-a", "hello"],
        f"`{('abc.' * 10)}...` is longer than 253 characters",
        "Write the host name alone, like `www.example.com`.",
    ),
    (
        ["domains", "add", "WWW.Example.com", "-a", "hello"],
        "`WWW.Example.com` has capital letters",
        "Write it in lower case: `www.example.com`.",
    ),
    (
        ["domains", "add", "www.example.com.", "-a", "hello"],
        "`www.example.com.` ends with a dot",
        "Write it without: `www.example.com`.",
    ),
    (
        ["domains", "add", "intranet", "-a", "hello"],
        "`intranet` is not a fully qualified domain name",
        "Add the whole name, like `www.example.com`.",
    ),
    (
        ["domains", "remove", "www..example.com", "-a", "hello"],
        "`www..example.com` is not a host name: `(empty)` may hold only lowercase letters, "
        "digits and `-`, not at its start or end",
        "Write the host name alone, like `www.example.com`.",
    ),
    (
        ["config", "set", "1A=x", "-a", "hello"],
        "`1A` is not an environment variable name",
        "Use letters, digits and `_`, not starting with a digit.",
    ),
    (
        ["config", "set", "GREETING", "-a", "hello"],
        "`GREETING` is not KEY=VALUE",
        "Write it like `GREETING=hello`.",
    ),
    (
        ["config", "get", "../x", "-a", "hello"],
        "`../x` is not an environment variable name",
        "Use letters, digits and `_`, not starting with a digit.",
    ),
    (
        ["config", "unset", "A-B", "--purge", "-a", "hello"],
        "`A-B` is not an environment variable name",
        "Use letters, digits and `_`, not starting with a digit.",
    ),
    (
        ["addons", "create", "mysql", "-a", "hello"],
        "`mysql` is not an add-on type",
        "The types are: postgres, redis.",
    ),
    (
        ["addons:create", "postgres", "--plan", "huge", "-a", "hello"],
        "`huge` is not a plan",
        "The plans are: small, medium, large.",
    ),
    (
        ["addons", "create", "redis", "--name", "Bad_Name", "-a", "hello"],
        "add-on name `Bad_Name` must be lowercase letters, digits and dashes, start with a "
        "letter and not end with a dash",
        "Pick a name like `main-db`.",
    ),
    (
        ["addons", "create", "redis", "--name", "x" * 31, "-a", "hello"],
        f"add-on name `{'x' * 31}` must be at most 30 characters (it has 31)",
        "Pick a name like `main-db`.",
    ),
    (
        ["addons", "create", "postgres", "--as", "MY-DB", "-a", "hello"],
        "`--as MY-DB` does not make a config var name",
        "Use letters, digits and underscores, like `--as ANALYTICS_DB`.",
    ),
    (
        ["addons", "attach", "../etc", "-a", "hello"],
        "add-on name `../etc` must be lowercase letters, digits and dashes, start with a "
        "letter and not end with a dash",
        "Pick a name like `main-db`.",
    ),
]


@pytest.mark.parametrize(
    ("args", "message", "hint"), CASES, ids=lambda v: " ".join(v) if isinstance(v, list) else ""
)
def test_a_bad_argument_fails_at_once_without_connecting(
    args: list[str], message: str, hint: str, kubeconfig: Path, silent_server: socket.socket
) -> None:
    started = time.monotonic()
    result = run_paas(*args, columns=200, kubeconfig=kubeconfig, timeout=20)
    assert time.monotonic() - started < 10
    assert result.stderr == f"error: {message}\nhint: {hint}\n"
    assert result.returncode == 2
    assert result.stdout == ""
    assert _connections(silent_server) == 0


def test_the_silent_server_would_have_caught_a_connection(
    kubeconfig: Path, silent_server: socket.socket
) -> None:
    # The check above is meaningful: a valid command does connect (and is stopped here).
    process = subprocess.Popen(
        [sys.executable, "-m", "paas", "ps", "-a", "hello"],
        env=paas_env(kubeconfig=kubeconfig),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        ready = select.select([silent_server], [], [], 15)[0]
        assert ready, "a valid `paas ps` never connected"
    finally:
        process.kill()
        process.wait(timeout=10)
    assert _connections(silent_server) >= 1


def test_the_checks_accept_what_they_should() -> None:
    assert parse_formation(["web=0", "worker=100"]) == {"web": 0, "worker": 100}
    assert release_version("V12") == 12
    assert since_seconds("1h30m") == 5400
    assert since_seconds("366d") == 366 * 86400
    for host in ("www.example.com", "xn--bcher-kva.example", "a-b.c0.io", "*.example.com"):
        assert check_host(host) == host
    with pytest.raises(UsageError, match="its last part is a number"):
        check_host("www.example.123")


def test_domains_remove_lets_go_of_what_an_older_paas_let_in() -> None:
    assert check_host("10.0.0.1", adding=False) == "10.0.0.1"
    assert check_host("intranet", adding=False) == "intranet"
    with pytest.raises(UsageError, match="is not a host name: it has a scheme, port or path"):
        check_host("http://www.example.com/", adding=False)
