"""Where token records are kept: one interface, a file store now, Secrets in the cluster later.

The file store is a JSON file, mode 0600, rewritten whole through a temporary
file and a rename under an exclusive `flock`, so a reader never sees half a
file and two `token create` at once both land.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from paas.errors import NotFoundError, UsageError
from paas.receiver.auth import Token, revoke

MAX_STORE_BYTES = 4 * 1024 * 1024


class TokenStore(Protocol):
    """Token records: listed, added, revoked."""

    def tokens(self) -> list[Token]:
        """Every record."""
        ...

    def add(self, token: Token) -> None:
        """Keep a new record."""
        ...

    def revoke(self, token_id: str, now: float) -> Token:
        """Revoke a record; return it revoked.

        Raises:
            NotFoundError: no token has that id.
        """
        ...


class MemoryTokenStore:
    """Records in memory: for tests and a receiver that is given its tokens."""

    def __init__(self, records: list[Token] | None = None) -> None:
        self._records = list(records or [])
        self._lock = threading.Lock()

    def tokens(self) -> list[Token]:
        """Every record."""
        with self._lock:
            return list(self._records)

    def add(self, token: Token) -> None:
        """Keep a new record."""
        with self._lock:
            self._records.append(token)

    def revoke(self, token_id: str, now: float) -> Token:
        """Revoke a record; return it revoked."""
        with self._lock:
            self._records = _revoked(self._records, token_id, now)
            return next(r for r in self._records if r.id == token_id)


class FileTokenStore:
    """Records in a JSON file (`--tokens FILE`), read again on every request."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def tokens(self) -> list[Token]:
        """Every record; an absent file has none."""
        with self._locked(exclusive=False):
            return self._read()

    def add(self, token: Token) -> None:
        """Keep a new record."""
        self._change(lambda records: [*records, token])

    def revoke(self, token_id: str, now: float) -> Token:
        """Revoke a record; return it revoked."""
        records = self._change(lambda records: _revoked(records, token_id, now))
        return next(r for r in records if r.id == token_id)

    def _change(self, change: Callable[[list[Token]], list[Token]]) -> list[Token]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._locked(exclusive=True):
            records = change(self._read())
            text = json.dumps({"tokens": [r.to_dict() for r in records]}, indent=2) + "\n"
            temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
            return records

    @contextlib.contextmanager
    def _locked(self, *, exclusive: bool) -> Iterator[None]:
        lock_path = self.path.with_name(f".{self.path.name}.lock")
        if not exclusive and not lock_path.parent.is_dir():
            yield
            return
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)

    def _read(self) -> list[Token]:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            return []
        except OSError as error:
            raise UsageError(
                f"Cannot read the token file `{self.path}`: {error.strerror}.",
                "Pass a regular file with `--tokens`.",
            ) from None
        with os.fdopen(fd, "rb") as source:
            raw = source.read(MAX_STORE_BYTES + 1)
        try:
            if len(raw) > MAX_STORE_BYTES:
                raise ValueError("the file is larger than 4 MiB")
            data = json.loads(raw)
            return [Token.from_dict(item) for item in data["tokens"]]
        except (ValueError, KeyError, TypeError) as error:
            raise UsageError(
                f"The token file `{self.path}` is not a token store: {error}.",
                "Point `--tokens` at a file `paas receiver token create` wrote.",
            ) from None


def _revoked(records: list[Token], token_id: str, now: float) -> list[Token]:
    try:
        return revoke(records, token_id, now)
    except KeyError:
        raise NotFoundError(
            f"No token has the id `{token_id[:40]}`.",
            "See `paas receiver token list` for the ids.",
        ) from None


def create_token(
    store: TokenStore, apps: list[str], ttl: str, *, note: str = ""
) -> tuple[str, Token]:
    """Make a token for `apps` that lasts `ttl` (`30d`), keep its record; return both.

    Raises:
        UsageError: a bad app name or duration.
    """
    import secrets
    import time

    from paas.receiver.auth import new_token, parse_ttl

    try:
        token, record = new_token(
            apps,
            ttl=parse_ttl(ttl),
            now=time.time(),
            secret=secrets.token_urlsafe(32),
            token_id=secrets.token_hex(6),
            note=note,
        )
    except ValueError as error:
        raise UsageError(f"{str(error)[:1].upper()}{str(error)[1:]}.") from None
    store.add(record)
    return token, record
