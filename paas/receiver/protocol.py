"""The receiver's URL layout and HTTP Basic credentials, parsed (pure).

Only git's smart protocol is served, and only these requests:

    GET  /APP.git/info/refs?service=git-receive-pack   (or git-upload-pack)
    POST /APP.git/git-receive-pack                     (or git-upload-pack)

Everything else is refused before any file is looked at: the app name is
checked as an app name (a DNS label: no `..`, no `/`, no leading `-`, no
uppercase), and the path given to `git http-backend` is rebuilt from the
checked parts, never copied from the request.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

from paas.names import app_name_problem

RECEIVE_PACK = "git-receive-pack"
UPLOAD_PACK = "git-upload-pack"
SERVICES = (RECEIVE_PACK, UPLOAD_PACK)
REPOSITORY_SUFFIX = ".git"
MAX_PATH = 512
MAX_AUTHORIZATION = 4096
#: `Git-Protocol` header values git sends (`version=2`), passed on as GIT_PROTOCOL.
GIT_PROTOCOL = re.compile(r"[a-z0-9=:.-]{1,64}\Z")
#: Request body encodings `git http-backend` decodes itself.
CONTENT_ENCODINGS = frozenset({"gzip", "x-gzip", "identity"})
CONTENT_TYPES = {
    RECEIVE_PACK: "application/x-git-receive-pack-request",
    UPLOAD_PACK: "application/x-git-upload-pack-request",
}


class RequestRefused(Exception):  # noqa: N818 (a refusal, answered with its status)
    """A request the receiver does not serve: the HTTP status and one sentence for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class GitRequest:
    """One request of the smart protocol, checked.

    Attributes:
        app: The app, a valid app name.
        service: `git-receive-pack` (push) or `git-upload-pack` (fetch).
        kind: `advertisement` (GET info/refs) or `rpc` (POST of the service).
    """

    app: str
    service: str
    kind: Literal["advertisement", "rpc"]

    @property
    def repository(self) -> str:
        """The repository's directory name under the receiver's root: `APP.git`."""
        return f"{self.app}{REPOSITORY_SUFFIX}"

    @property
    def path_info(self) -> str:
        """PATH_INFO for `git http-backend`, built from the checked parts."""
        tail = "info/refs" if self.kind == "advertisement" else self.service
        return f"/{self.repository}/{tail}"

    @property
    def query_string(self) -> str:
        """QUERY_STRING for `git http-backend`."""
        return f"service={self.service}" if self.kind == "advertisement" else ""

    @property
    def is_push(self) -> bool:
        """Whether the request is part of a push."""
        return self.service == RECEIVE_PACK


def repository_name_problem(segment: str) -> str | None:
    """Say what is wrong with `segment` (`APP.git`) as a repository name, or None if nothing."""
    if not segment.endswith(REPOSITORY_SUFFIX):
        return "must end with `.git`, like `/hello.git`"
    problem = app_name_problem(segment.removesuffix(REPOSITORY_SUFFIX))
    return f"is not an app name: it {problem}" if problem else None


def parse_request(method: str, target: str) -> GitRequest:
    """Check an HTTP request line's method and target against the receiver's URL layout.

    Raises:
        RequestRefused: anything but the four requests of the smart protocol
            (404 for an unknown path, 400 for a bad app name, 403 for the dumb
            protocol, 405 for another method).
    """
    if len(target) > MAX_PATH or not target.startswith("/"):
        raise RequestRefused(404, "Not a repository URL of the paas receiver.")
    if not target.isascii() or any(not 0x21 <= ord(c) <= 0x7E for c in target):
        # urlsplit drops tabs and newlines (WHATWG), so `/a\nb.git` would become `/ab.git`.
        raise RequestRefused(400, "The URL has a space or a control character.")
    url = urlsplit(target)
    segments = url.path.split("/")[1:]
    if not segments or not segments[0]:
        raise RequestRefused(404, "Not a repository URL: use `/APP.git`.")
    problem = repository_name_problem(segments[0])
    if problem:
        raise RequestRefused(400, f"Repository `{segments[0][:80]}` {problem}.")
    app = segments[0].removesuffix(REPOSITORY_SUFFIX)
    rest = segments[1:]
    if rest == ["info", "refs"]:
        if method != "GET":
            raise RequestRefused(405, "Only GET reads `info/refs`.")
        try:
            query = parse_qsl(url.query, strict_parsing=True, max_num_fields=4)
        except ValueError:
            query = []
        services = [value for key, value in query if key == "service"]
        if len(services) != 1 or services[0] not in SERVICES:
            raise RequestRefused(
                403, "Only git's smart protocol is served: `git-receive-pack` or `git-upload-pack`."
            )
        return GitRequest(app, services[0], "advertisement")
    if len(rest) == 1 and rest[0] in SERVICES and not url.query:
        if method != "POST":
            raise RequestRefused(405, f"Only POST runs `{rest[0]}`.")
        return GitRequest(app, rest[0], "rpc")
    raise RequestRefused(404, f"Nothing is served at `{url.path[:120]}`: only the git protocol.")


@dataclass(frozen=True)
class BasicCredentials:
    """The user name and password of an `Authorization: Basic` header."""

    user: str
    password: str

    def __repr__(self) -> str:  # never the password, in a log or a traceback
        return f"BasicCredentials(user={self.user!r}, password=<hidden>)"


def parse_basic(header: str | None) -> BasicCredentials | None:
    """The credentials of an `Authorization` header, or None when it has no valid Basic ones."""
    if not header or len(header) > MAX_AUTHORIZATION:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    if not colon or any(ord(c) < 0x20 or ord(c) == 0x7F for c in decoded):
        return None
    return BasicCredentials(user, password)


def content_encoding_problem(value: str | None) -> str | None:
    """Say why a request's `Content-Encoding` is refused, or None when http-backend decodes it."""
    if value is None or value.strip().lower() in CONTENT_ENCODINGS:
        return None
    return f"Content-Encoding `{value[:40]}` is not supported: send gzip or nothing."
