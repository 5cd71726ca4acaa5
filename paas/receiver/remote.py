"""`paas git remote`: the `paas` remote of a repository; its token kept by a credential helper."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from paas.errors import UsageError
from paas.receiver.protocol import REPOSITORY_SUFFIX


@dataclass(frozen=True)
class Remote:
    """What `add_remote` did."""

    name: str
    url: str
    replaced: bool
    token_stored: bool
    helper: str


def remote_url(base: str, app: str) -> str:
    """`https://git.example.com` and `hello` -> `https://git.example.com/hello.git` (pure).

    Raises:
        UsageError: `base` is not an http(s) URL, or it holds a user name or password.
    """
    url = urlsplit(base.strip())
    if url.scheme not in {"http", "https"} or not url.hostname:
        raise UsageError(
            f"`{base[:100]}` is not the receiver's URL.", "Pass one like `https://git.example.com`."
        )
    if url.username is not None or url.password is not None or url.query or url.fragment:
        raise UsageError(
            "The receiver URL may not hold a user, a token, a query or a fragment: "
            "`git remote -v` would show it.",
            "Pass the URL alone; `paas git remote --token-stdin` stores the token with git's "
            "credential helper.",
        )
    return f"{url.scheme}://{url.netloc}{url.path.rstrip('/')}/{app}{REPOSITORY_SUFFIX}"


def _git(path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(path), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def add_remote(path: Path, app: str, base: str, *, name: str, token: str | None) -> Remote:
    """Add (or point again) the remote `name` of the repository at `path` to the app's repository.

    With `token`, git's credential helper stores it (`git credential approve`);
    the URL never holds it.

    Raises:
        UsageError: `path` is not in a git repository, or git refused.
    """
    url = remote_url(base, app)
    if _git(path, "rev-parse", "--git-dir").returncode != 0:
        raise UsageError(f"`{path}` is not in a git repository.", "Run `git init` first.")
    replaced = _git(path, "remote", "get-url", name).returncode == 0
    done = _git(path, "remote", "set-url" if replaced else "add", name, url)
    if done.returncode != 0:
        raise UsageError(f"git did not set the remote `{name}`: {done.stderr.strip()[:300]}")
    helper = _git(path, "config", "--get", "credential.helper").stdout.strip()
    stored = False
    if token is not None and helper:
        parts = urlsplit(url)
        request = (
            f"protocol={parts.scheme}\nhost={parts.netloc}\nusername=paas\npassword={token}\n\n"
        )
        stored = _git(path, "credential", "approve", stdin=request).returncode == 0
    return Remote(name, url, replaced, stored, helper)
