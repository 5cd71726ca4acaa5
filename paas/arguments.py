"""Checks of command-line arguments, made before any kubeconfig is read or cluster contacted.

Pure: each takes what the user typed and returns the parsed value, or raises
a `UsageError` (exit code 2) that says what is wrong and how to write it. The
commands that talk to a cluster call these first, so a typo never waits for a
cluster or ends as a cluster error.
"""

from __future__ import annotations

import ipaddress
import re

from paas.errors import UsageError
from paas.names import ENV_NAME, app_name_problem, process_name_problem

MAX_REPLICAS = 100  # as paas.yaml's `processes.*.replicas`
HOST_MAX = 253
LABEL_MAX = 63
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DURATION_PART = re.compile(r"(\d{1,9})([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# The longest `--since` the API server takes is far beyond this; a year is what a log keeps.
SINCE_MAX_SECONDS = 366 * 86400
# Process types `paas logs --process` may name beside the app's own.
LOG_SOURCES = frozenset({"release", "postdeploy", "run"})


def check_app(name: str) -> str:
    """`--app NAME` (or the name paas.yaml or the directory gives) as an app name."""
    problem = app_name_problem(name)
    if problem:
        raise UsageError(
            f"`{name}` is not an app name: it {problem}",
            "Pass `--app NAME` with a name like `hello-world`.",
        )
    return name


def parse_formation(pairs: list[str]) -> dict[str, int]:
    """`["web=3", "worker=0"]` -> `{"web": 3, "worker": 0}`; each count from 0 to 100."""
    out: dict[str, int] = {}
    for pair in pairs:
        name, sep, count = pair.partition("=")
        if not sep:
            raise UsageError(f"`{pair}` is not TYPE=COUNT", "Write it like `web=3 worker=0`.")
        problem = process_name_problem(name)
        if problem:
            raise UsageError(
                f"`{pair}`: the process type `{name}` {problem}",
                "Write it like `web=3 worker=0`; `paas ps` lists the app's process types.",
            )
        if not count.isascii() or not count.isdigit() or int(count) > MAX_REPLICAS:
            raise UsageError(
                f"`{pair}`: the count must be a whole number from 0 to {MAX_REPLICAS}",
                f"Write it like `{name}=3`; `{name}=0` stops the process type.",
            )
        if name in out:
            raise UsageError(f"`{name}` is given twice", f"Give each process type once: `{pair}`.")
        out[name] = int(count)
    return out


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """`["A=1", "B=x=y"]` -> `{"A": "1", "B": "x=y"}`; names are environment variable names."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"`{pair}` is not KEY=VALUE", "Write it like `GREETING=hello`.")
        out[check_env_name(key)] = value
    return out


def check_env_name(key: str) -> str:
    """A config var name: letters, digits and `_`, not starting with a digit."""
    if not ENV_NAME.match(key):
        raise UsageError(
            f"`{key}` is not an environment variable name",
            "Use letters, digits and `_`, not starting with a digit.",
        )
    return key


def check_process(name: str, *, log_sources: bool = False) -> str:
    """A process type; with `log_sources`, also `release`, `postdeploy` and `run` (`paas logs`)."""
    if log_sources and name in LOG_SOURCES:
        return name
    problem = process_name_problem(name)
    if problem:
        raise UsageError(
            f"`{name}` is not a process type: it {problem}",
            "`paas ps` lists the app's process types, like `web` and `worker`.",
        )
    return name


def release_version(text: str) -> int:
    """`v3` or `3` -> 3."""
    number = text.lower().removeprefix("v")
    if not number.isascii() or not number.isdigit() or len(number) > 9 or int(number) < 1:
        raise UsageError(f"`{text}` is not a release", "Write it like `v3`; see `paas releases`.")
    return int(number)


def since_seconds(text: str) -> int:
    """`--since 90s`, `10m`, `2h`, `1d`, `1h30m` -> seconds, from 1 s to a year."""
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise UsageError(
            f"`--since {text}` is not a duration",
            "Write it like `30s`, `10m`, `2h`, `1d` or `1h30m`.",
        )
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in parts)
    if not 1 <= seconds <= SINCE_MAX_SECONDS:
        raise UsageError(
            f"`--since {text}` must be from 1 s to 366 days",
            "Write it like `10m`; leave `--since` out for all the lines kept.",
        )
    return seconds


def check_host(host: str, *, adding: bool = True) -> str:
    """A custom domain: a fully qualified host name (not an IP address), as an Ingress takes it.

    Labels are lowercase letters, digits and `-` (not at either end), 1 to 63
    characters, 253 in all; the last one is not all digits. A leading `*.` is
    left to the cluster's rules on wildcards. Without `adding` (`domains
    remove`), a single-label name or an IP address an older paas let in is not
    refused, so it can be removed.
    """
    example = "Write the host name alone, like `www.example.com`."
    if "://" in host or "/" in host or ":" in host.removeprefix("[").split("]")[-1]:
        if _is_ip(host):
            raise UsageError(f"`{host}` is an IP address, not a domain name", _IP_HINT)
        raise UsageError(f"`{host}` is not a host name: it has a scheme, port or path", example)
    if _is_ip(host):
        if not adding and "/" not in host and ":" not in host:
            return host  # an IPv4 address an older paas let in: let it go
        raise UsageError(f"`{host}` is an IP address, not a domain name", _IP_HINT)
    if host.endswith("."):
        raise UsageError(f"`{host}` ends with a dot", f"Write it without: `{host.rstrip('.')}`.")
    if host != host.lower():
        raise UsageError(
            f"`{host}` has capital letters", f"Write it in lower case: `{host.lower()}`."
        )
    if len(host) > HOST_MAX:
        raise UsageError(f"`{host[:40]}...` is longer than {HOST_MAX} characters", example)
    labels = host.removeprefix("*.").split(".")
    for label in labels:
        if len(label) > LABEL_MAX:
            raise UsageError(
                f"`{host}` has a label longer than {LABEL_MAX} characters (`{label[:20]}...`)",
                "Each part between dots is at most 63 characters.",
            )
        if not _LABEL.fullmatch(label):
            shown = label or "(empty)"
            raise UsageError(
                f"`{host}` is not a host name: `{shown}` may hold only lowercase letters, "
                "digits and `-`, not at its start or end",
                example,
            )
    if len(labels) < 2 and adding:
        raise UsageError(
            f"`{host}` is not a fully qualified domain name",
            "Add the whole name, like `www.example.com`.",
        )
    if labels[-1].isdigit() and adding:
        raise UsageError(f"`{host}` is not a domain name: its last part is a number", example)
    return host


_IP_HINT = "Point a host name at the cluster's ingress and add that, like `www.example.com`."


def _is_ip(host: str) -> bool:
    bare = host.split("://", 1)[-1].split("/", 1)[0]
    candidates = {bare, bare.strip("[]"), bare.rsplit(":", 1)[0].strip("[]")}
    for candidate in candidates:
        try:
            ipaddress.ip_address(candidate)
        except ValueError:
            continue
        return True
    return False
