"""Read-only access to the files of an app directory, and nothing beyond it.

Everything paas reads from an app directory goes through here: paas.yaml, the
Procfile, app.json and heroku.yml (`AppDir.manifest_text`), detection's files
(`AppDir.read_text`, `json_object`, `toml_table`), the ignore files and the
Dockerfile of a build. The app may be source that someone else pushed (the git
receiver, a pull request in CI), so:

- a file is only read when its real path stays inside the app directory: a
  symlink such as ``.python-version -> /var/run/secrets/...`` is treated as
  absent by detection and refused by name for a manifest file, and neither
  its target nor its content is ever shown;
- a FIFO, socket or device is never opened (opening a FIFO blocks): the file
  is checked with `os.lstat` and opened with ``O_NOFOLLOW | O_NONBLOCK``;
- reads are capped (`MAX_BYTES`), so a huge or endless file cannot stall a
  command, and a manifest file that is not UTF-8 is an error naming the line.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import tomllib
from pathlib import Path

from paas.errors import DetectError, ManifestError, PaasError
from paas.yaml_places import MAX_DEPTH, json_depth

#: A file read by paas (a manifest, a detection file) may not be larger than this.
MAX_BYTES = 1024 * 1024

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_TOML_AT_END = re.compile(r"\s*\(at end of document\)$")

#: What a path turned out to be, when it is not a regular file to read.
OUTSIDE = "a symlink that leads outside the app directory"
LOOP = "a symlink loop"


class RefusedFileError(Exception):
    """A path that paas will not read: `what` says why, like ``a FIFO``."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def special_kind(mode: int) -> str | None:
    """Name the kind of a file that is not a regular file, directory or symlink, else None."""
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode):
        return None
    return "a special file"


def open_regular(path: Path) -> int:
    """Open the regular file `path`, which is no symlink, for reading; return the descriptor.

    The file is checked with `os.lstat`, opened with ``O_NOFOLLOW | O_NONBLOCK``
    and checked again on the open descriptor, so a FIFO or device is never
    read (nor waited for).

    Raises:
        RefusedFileError: `path` is a symlink, a directory or a special file.
        OSError: it cannot be opened (absent, permissions).
    """
    mode = os.lstat(path).st_mode
    if not stat.S_ISREG(mode):
        raise RefusedFileError(_kind(mode))
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # it became a symlink after the lstat
            raise RefusedFileError(OUTSIDE) from None
        raise
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise RefusedFileError(_kind(mode))
    return fd


def read_regular(path: Path, limit: int = MAX_BYTES) -> bytes:
    """Read at most `limit` + 1 bytes of the regular file `path` (see `open_regular`).

    Raises:
        RefusedFileError: `path` is a symlink, a directory or a special file.
        OSError: it cannot be read (absent, permissions).
    """
    fd = open_regular(path)
    try:
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISLNK(mode):  # `path` was resolved: a symlink left is a loop
        return LOOP
    return special_kind(mode) or "not a regular file"


def decode_utf8(data: bytes, file: str) -> str:
    """Decode manifest bytes as UTF-8 (a byte order mark is dropped).

    Raises:
        ManifestError: the bytes are not UTF-8; the message names the line and column.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ManifestError(
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} at column {column})",
            "Save the file as UTF-8.",
            file=file,
            line=line,
        ) from None


def read_named_file(path: Path) -> str:
    """The text of a file the user named (`--settings FILE`), symlinks followed.

    Read like a manifest file: a regular file (a FIFO or device would block),
    at most `MAX_BYTES`, UTF-8.

    Raises:
        ManifestError: the file is absent, special, too large or not UTF-8.
    """
    file = str(path)
    try:
        data = read_regular(Path(os.path.realpath(path)))
    except RefusedFileError as exc:
        raise ManifestError(f"the file is {exc.what}", "Name a regular file.", file=file) from None
    except OSError as exc:
        raise ManifestError(
            f"the file cannot be read: {exc.strerror or type(exc).__name__}",
            "Check the path and its permissions.",
            file=file,
        ) from None
    if len(data) > MAX_BYTES:
        raise ManifestError(
            f"the file is larger than {MAX_BYTES // (1024 * 1024)} MiB",
            "Make it smaller.",
            file=file,
        )
    return decode_utf8(data, file)


def _syntax_hint(rel: str) -> str:
    return (
        f"fix the syntax of `{rel}`; paas reads it to detect the app's language, "
        "runtime version and start command"
    )


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


class AppDir:
    """The files of one app directory, seen through paths relative to it.

    Args:
        root: The app directory; the caller has checked that it is a directory.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._real_root = Path(os.path.realpath(root))

    def inside(self, rel: str) -> bool:
        """Tell whether `rel`, symlinks followed, stays inside the app directory."""
        return self._real(rel) is not None

    def _real(self, rel: str) -> Path | None:
        """Return the real path of `rel` when it stays inside the app directory."""
        try:
            real = Path(os.path.realpath(self.root / rel))
        except (OSError, ValueError):  # a path that cannot be resolved, a NUL byte
            return None
        return real if real.is_relative_to(self._real_root) else None

    def _find(self, rel: str) -> Path | None:
        """Return the real path of `rel` when it exists.

        A dangling symlink or a symlink loop is absent.

        Raises:
            RefusedFileError: `rel` exists but leads outside the app directory.
        """
        try:
            os.lstat(self.root / rel)
        except (OSError, ValueError):
            return None
        real = self._real(rel)
        if real is None:
            if not os.path.lexists(os.path.realpath(self.root / rel)):
                return None  # dangling
            raise RefusedFileError(OUTSIDE)
        return real if os.path.lexists(real) else None

    def is_file(self, rel: str) -> bool:
        """Return True when `rel` is a regular file inside the app directory."""
        real = self._real(rel)
        return real is not None and real.is_file()

    def is_dir(self, rel: str) -> bool:
        """Return True when `rel` is a directory inside the app directory."""
        real = self._real(rel)
        return real is not None and real.is_dir()

    def subdirs(self) -> list[str]:
        """Return the names of the top-level directories, sorted, hidden ones left out."""
        try:
            entries = sorted(self._real_root.iterdir())
        except OSError:
            return []
        return [e.name for e in entries if not e.name.startswith(".") and self.is_dir(e.name)]

    def read_bytes(self, rel: str, *, error: type[PaasError] = DetectError) -> bytes | None:
        """Return the bytes of `rel` (at most `MAX_BYTES`), or None when it is absent.

        Strict, for a file whose content decides something (a manifest, an
        ignore file, a Dockerfile): a symlink out of the app directory, a
        special file or a file over `MAX_BYTES` is an `error` naming `rel`.

        Raises:
            PaasError: of class `error` (a `ManifestError` names the file as its place).
        """
        try:
            real = self._find(rel)
            if real is None:
                return None
            data = read_regular(real)
        except RefusedFileError as exc:
            raise _refused(error, rel, f"the file is {exc.what}", _REFUSED_HINT) from None
        except OSError as exc:
            raise _refused(
                error,
                rel,
                f"the file cannot be read: {exc.strerror or type(exc).__name__}",
                f"Check the permissions of `{rel}`.",
            ) from None
        if len(data) > MAX_BYTES:
            raise _refused(
                error,
                rel,
                f"the file is larger than {MAX_BYTES // (1024 * 1024)} MiB",
                "paas reads files of at most that size from an app directory; make it smaller.",
            )
        return data

    def manifest_text(self, rel: str) -> str | None:
        """Return the text of the manifest file `rel` (paas.yaml, Procfile, app.json, heroku.yml).

        Returns:
            The text, or None when the file is absent.

        Raises:
            ManifestError: the file leads outside the app directory, is a
                special file, is larger than `MAX_BYTES` or is not UTF-8.
        """
        data = self.read_bytes(rel, error=ManifestError)
        return None if data is None else decode_utf8(data, rel)

    def _detect_bytes(self, rel: str, *, whole: bool) -> bytes | None:
        """Detection's read: a file outside the app directory is absent, a special file an error."""
        real = self._real(rel)
        if real is None:
            return None
        try:
            data = read_regular(real)
        except FileNotFoundError:
            return None
        except RefusedFileError as exc:
            if exc.what in ("a directory", OUTSIDE, LOOP):
                return None
            raise DetectError(
                f"`{rel}` is {exc.what}, not a regular file, and is not read.",
                "Replace it with a regular file, or remove it.",
            ) from None
        except OSError as exc:
            raise DetectError(
                f"`{rel}` could not be read: {exc.strerror or exc}.",
                f"check the permissions of `{rel}`",
            ) from None
        if len(data) > MAX_BYTES:
            if whole:
                raise DetectError(
                    f"`{rel}` is larger than {MAX_BYTES // 1024} KiB, too large to be parsed.",
                    f"make `{rel}` smaller",
                )
            data = data[:MAX_BYTES]
        return data

    def read_text(self, rel: str) -> str | None:
        """Return the text of `rel` (at most `MAX_BYTES`), or None when it is absent.

        Bytes that are not UTF-8 become U+FFFD; a UTF-8 byte order mark is dropped.

        Raises:
            DetectError: The file exists but cannot be read, or is a special file.
        """
        data = self._detect_bytes(rel, whole=False)
        return None if data is None else data.decode("utf-8-sig", errors="replace")

    def first_line(self, rel: str) -> str | None:
        """Return the first line of `rel` that is not blank or a ``#`` comment, stripped.

        Returns:
            The line, or None when the file is absent or has no such line.
        """
        text = self.read_text(rel)
        if text is None:
            return None
        for line in text.splitlines():
            stripped = line.strip()
            if stripped and not stripped.startswith("#"):
                return stripped
        return None

    def json_object(self, rel: str) -> dict[str, object] | None:
        """Parse `rel` as a JSON object.

        Returns:
            The object, or None when the file is absent.

        Raises:
            DetectError: The file is not valid JSON or not an object; the
                message names the file and line (``package.json:3: ...``).
        """
        data = self._detect_bytes(rel, whole=True)
        if data is None:
            return None
        text = data.decode("utf-8-sig", errors="replace")
        deep = json_depth(text)
        if deep is not None:
            raise DetectError(
                f"{rel}:{deep}: invalid JSON: nested more than {MAX_DEPTH} levels deep.",
                _syntax_hint(rel),
            )
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DetectError(
                f"{rel}:{exc.lineno}: invalid JSON: {_lower_first(exc.msg)} at column {exc.colno}.",
                _syntax_hint(rel),
            ) from None
        except ValueError:  # an integer of more digits than Python converts
            raise DetectError(
                f"{rel}: invalid JSON: a number has too many digits.", _syntax_hint(rel)
            ) from None
        if not isinstance(value, dict):
            raise DetectError(
                f"`{rel}` must hold a JSON object, not {_json_kind(value)}.",
                _syntax_hint(rel),
            )
        return value

    def toml_table(self, rel: str) -> dict[str, object] | None:
        """Parse `rel` as TOML.

        Returns:
            The top-level table, or None when the file is absent.

        Raises:
            DetectError: The file is not valid TOML; the message names the file
                and line (``pyproject.toml:3: ...``).
        """
        data = self._detect_bytes(rel, whole=True)
        if data is None:
            return None
        try:
            return tomllib.loads(data.decode("utf-8-sig", errors="replace"))
        except tomllib.TOMLDecodeError as exc:
            raise DetectError(_toml_error_message(rel, str(exc)), _syntax_hint(rel)) from None
        except (ValueError, RecursionError):  # too many digits, or nested too deep
            raise DetectError(
                f"{rel}: invalid TOML: a number has too many digits or the file nests too deep.",
                _syntax_hint(rel),
            ) from None


_REFUSED_HINT = (
    "Replace it with a regular file inside the app directory; paas reads nothing outside it."
)


def _refused(error: type[PaasError], rel: str, problem: str, hint: str) -> PaasError:
    if issubclass(error, ManifestError):
        return error(problem, hint, file=rel)
    return error(f"`{rel}` cannot be read: {problem}.", hint)


def _toml_error_message(rel: str, text: str) -> str:
    """Turn tomllib's ``Msg (at line 3, column 5)`` into ``rel:3: invalid TOML: msg ...``."""
    position = _TOML_POSITION.search(text)
    if position:
        reason = _lower_first(text[: position.start()])
        return f"{rel}:{position.group(1)}: invalid TOML: {reason} at column {position.group(2)}."
    at_end = _TOML_AT_END.search(text)
    if at_end:
        reason = _lower_first(text[: at_end.start()])
        return f"{rel}: invalid TOML: {reason} at the end of the file."
    return f"{rel}: invalid TOML: {_lower_first(text)}."


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def str_value(table: object, *keys: str) -> str | None:
    """Return ``table[k1][k2]...`` when every step is a dict and the end is a string."""
    value = table
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value if isinstance(value, str) else None


def dict_value(table: object, *keys: str) -> dict[str, object]:
    """Return ``table[k1][k2]...`` when it is a dict, else an empty dict."""
    value = table
    for key in keys:
        if not isinstance(value, dict):
            return {}
        value = value.get(key)
    return value if isinstance(value, dict) else {}


def str_list(table: object, *keys: str) -> list[str]:
    """Return the strings of the list at ``table[k1][k2]...``; other items are skipped."""
    value: object = table
    for key in keys:
        if not isinstance(value, dict):
            return []
        value = value.get(key)
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []
