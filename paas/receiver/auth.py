"""Receiver tokens as plain data: made, checked, expired and revoked (pure).

A token is `paas_` and 43 random URL-safe characters (256 bits). Only its
SHA-256 is kept: with that much entropy a plain hash cannot be reversed by
guessing, and no salt or slow hash is needed. A token is scoped to apps, has
an expiry, and can be revoked. The records are plain data, so the file store
of `paas receiver` and, later, Secrets in `paas-system` keep the same thing.
The randomness and the clock are arguments: the caller brings them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from paas.names import app_name_problem

TOKEN_PREFIX = "paas_"  # noqa: S105 (the prefix, not a token)
TOKEN_PATTERN = re.compile(r"paas_[A-Za-z0-9_-]{43}\Z")
TOKEN_ID_PATTERN = re.compile(r"[a-f0-9]{12}\Z")
TTL_PATTERN = re.compile(r"([1-9][0-9]{0,5})([smhd])\Z")
TTL_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_TTL = 366 * 86400


def digest(token: str) -> str:
    """The SHA-256 of a token, as kept in the store."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Token:
    """A token's record: what it may do and until when; never the token itself.

    Attributes:
        id: 12 hex digits that name the token in `token list` and `token revoke`.
        apps: The apps it may push to and fetch from.
        sha256: The SHA-256 of the token, hex.
        created: When it was made (seconds since the epoch).
        expires: When it stops working.
        revoked: When it was revoked, or None.
        note: What it is for, as the platform engineer wrote it.
    """

    id: str
    apps: tuple[str, ...]
    sha256: str = field(repr=False)
    created: float
    expires: float
    revoked: float | None = None
    note: str = ""

    def state(self, now: float) -> str:
        """`active`, `expired` or `revoked`."""
        if self.revoked is not None:
            return "revoked"
        return "expired" if now >= self.expires else "active"

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data."""
        return {
            "id": self.id,
            "apps": list(self.apps),
            "sha256": self.sha256,
            "created": self.created,
            "expires": self.expires,
            "revoked": self.revoked,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Token:
        """A record read back; anything malformed is a ValueError."""
        if not isinstance(data, dict):
            raise ValueError("a token record must be an object")
        apps = data.get("apps")
        if not isinstance(apps, list) or not all(isinstance(a, str) for a in apps):
            raise ValueError("`apps` must be a list of app names")
        token = cls(
            id=str(data["id"]),
            apps=tuple(apps),
            sha256=str(data["sha256"]),
            created=float(data["created"]),
            expires=float(data["expires"]),
            revoked=None if data.get("revoked") is None else float(data["revoked"]),
            note=str(data.get("note", "")),
        )
        if not TOKEN_ID_PATTERN.match(token.id) or not re.fullmatch(r"[a-f0-9]{64}", token.sha256):
            raise ValueError(f"token record `{token.id[:20]}` has a bad id or hash")
        return token


def parse_ttl(text: str) -> int:
    """`30d`, `12h`, `90m`, `45s` -> seconds, at most 366 days.

    Raises:
        ValueError: it is not such a duration.
    """
    match = TTL_PATTERN.match(text.strip())
    if not match:
        raise ValueError(f"`{text[:40]}` is not a duration: write it like `30d`, `12h` or `90m`")
    seconds = int(match.group(1)) * TTL_UNITS[match.group(2)]
    if seconds > MAX_TTL:
        raise ValueError(f"`{text}` is longer than 366 days")
    return seconds


def new_token(
    apps: list[str], *, ttl: int, now: float, secret: str, token_id: str, note: str = ""
) -> tuple[str, Token]:
    """A new token and its record.

    Args:
        apps: The apps it may push to; each a valid app name.
        ttl: Seconds until it expires.
        now: The time it is made.
        secret: 43 random URL-safe characters (`secrets.token_urlsafe(32)`).
        token_id: 12 random hex digits (`secrets.token_hex(6)`).
        note: What it is for.

    Raises:
        ValueError: no app, a bad app name, or a bad secret or id.
    """
    if not apps:
        raise ValueError("a token needs at least one app (`--app`)")
    for app in apps:
        problem = app_name_problem(app)
        if problem:
            raise ValueError(f"`{app}` is not an app name: it {problem}")
    token = TOKEN_PREFIX + secret
    if not TOKEN_PATTERN.match(token) or not TOKEN_ID_PATTERN.match(token_id):
        raise ValueError("the token's secret or id is malformed")
    record = Token(
        id=token_id,
        apps=tuple(dict.fromkeys(apps)),
        sha256=digest(token),
        created=now,
        expires=now + ttl,
        note=note,
    )
    return token, record


class Verdict(Enum):
    """What a presented token may do for one app."""

    ALLOWED = "allowed"
    UNKNOWN = "unknown"  # no token, a wrong one, or not a paas token at all
    EXPIRED = "expired"
    REVOKED = "revoked"
    OTHER_APP = "other-app"  # a real token, for other apps: 403, not 401


@dataclass(frozen=True)
class Check:
    """The verdict on a presented token, and its record when it is known."""

    verdict: Verdict
    token: Token | None = None


def check_token(records: list[Token], presented: str | None, app: str, now: float) -> Check:
    """Decide whether `presented` may act on `app`.

    Every record's hash is compared with `hmac.compare_digest`, and all of them
    are compared, so the time taken does not say which record came close.
    """
    if not presented or not TOKEN_PATTERN.match(presented):
        return Check(Verdict.UNKNOWN)
    wanted = digest(presented)
    found: Token | None = None
    for record in records:
        if hmac.compare_digest(record.sha256, wanted):
            found = record
    if found is None:
        return Check(Verdict.UNKNOWN)
    if found.revoked is not None:
        return Check(Verdict.REVOKED, found)
    if now >= found.expires:
        return Check(Verdict.EXPIRED, found)
    if app not in found.apps:
        return Check(Verdict.OTHER_APP, found)
    return Check(Verdict.ALLOWED, found)


def revoke(records: list[Token], token_id: str, now: float) -> list[Token]:
    """The records with `token_id` revoked at `now` (a revoked token stays revoked).

    Raises:
        KeyError: no token has that id.
    """
    if not any(r.id == token_id for r in records):
        raise KeyError(token_id)
    return [
        replace(r, revoked=now) if r.id == token_id and r.revoked is None else r for r in records
    ]
