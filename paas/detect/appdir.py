"""Read-only access to the files of an app directory, and nothing beyond it.

Detection may run on source that someone else pushed (the git receiver), so a
file is only read when it is a regular file whose real path stays inside the
app directory: a symlink such as ``.python-version -> /var/run/secrets/...``
is treated as absent rather than echoed back as a "version". Reads are capped
so that a huge or endless file cannot stall detection.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from paas.errors import DetectError

#: Files parsed whole (JSON, TOML) may not be larger than this.
MAX_BYTES = 1024 * 1024

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_TOML_AT_END = re.compile(r"\s*\(at end of document\)$")


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
        self._real_root = root.resolve()

    def _real(self, rel: str) -> Path | None:
        """Return the real path of `rel` when it stays inside the app directory."""
        try:
            real = (self.root / rel).resolve()
        except (OSError, RuntimeError):  # a symlink loop, or a path that cannot be resolved
            return None
        return real if real.is_relative_to(self._real_root) else None

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

    def _read_bytes(self, rel: str, *, whole: bool) -> bytes | None:
        real = self._real(rel)
        if real is None or not real.is_file():
            return None
        try:
            with real.open("rb") as stream:
                data = stream.read(MAX_BYTES + 1)
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
            DetectError: The file exists but cannot be read.
        """
        data = self._read_bytes(rel, whole=False)
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
        data = self._read_bytes(rel, whole=True)
        if data is None:
            return None
        try:
            value = json.loads(data.decode("utf-8-sig", errors="replace"))
        except json.JSONDecodeError as exc:
            raise DetectError(
                f"{rel}:{exc.lineno}: invalid JSON: {_lower_first(exc.msg)} at column {exc.colno}.",
                _syntax_hint(rel),
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
        data = self._read_bytes(rel, whole=True)
        if data is None:
            return None
        try:
            return tomllib.loads(data.decode("utf-8-sig", errors="replace"))
        except tomllib.TOMLDecodeError as exc:
            raise DetectError(_toml_error_message(rel, str(exc)), _syntax_hint(rel)) from None


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
