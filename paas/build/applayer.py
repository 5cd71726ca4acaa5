"""The app layer of a CNB image, read and written as the lifecycle writes it.

The lifecycle exports `/workspace` as one layer through its normalising tar
writer (Go's `archive/tar`): USTAR headers, every path absolute under
`/workspace` (directories without a trailing `/`), the walk in byte order of
names per directory with each directory before its contents, mtime
1980-01-01T00:00:01Z, uid/gid of the CNB user, empty user and group names,
devmajor/devminor written as zeros, the checksum as Go writes it (six octal
digits, NUL, space), and the archive ended by two zero blocks with no padding
to a record. `write_layer()` writes exactly that, so a layer made here has the
same bytes, and so the same diffID, as the lifecycle's for the same files.

`read_layer()` reads a previous image's app layer, which came from a registry:
only USTAR entries of regular files, directories and symlinks under
`/workspace`, no `..`, symlinks that stay inside `/workspace` (or lead into a
buildpack's layer under `/layers`, as Node's `node_modules`), bounded sizes.
Anything else is `LayerRefused` (the caller then takes the full build).

Pure: bytes in, bytes out.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

ROOT = "/workspace"
LAYERS = "/layers"
BLOCK = 512
#: The lifecycle's normalised mtime: 1980-01-01T00:00:01Z.
NORMALISED_MTIME = 315532801
CNB_UID = CNB_GID = 1000
MAX_LAYER_BYTES = 64 << 20
MAX_ENTRIES = 20000

KIND_FILE, KIND_DIR, KIND_LINK = "0", "5", "2"


class LayerRefused(Exception):  # noqa: N818 - a reason, not a failure of paas
    """The layer (or the files meant for one) is not what the fast path can handle."""


@dataclass(frozen=True)
class Entry:
    """One entry of the app layer.

    Attributes:
        path: Relative to `/workspace` (`""` is `/workspace` itself), `/`-separated.
        kind: `KIND_FILE`, `KIND_DIR` or `KIND_LINK`.
        mode: The permission bits (and setuid/setgid/sticky), as in the header.
        data: The contents of a file.
        target: The target of a symlink.
    """

    path: str
    kind: str
    mode: int
    data: bytes = b""
    target: str = ""

    @property
    def name(self) -> str:
        """The name in the tar: `/workspace/PATH`."""
        return f"{ROOT}/{self.path}" if self.path else ROOT


def _octal(value: int, width: int) -> bytes:
    """Go's USTAR numeric field: zero-padded octal digits and a NUL."""
    text = f"{value:0{width - 1}o}".encode()
    if len(text) > width - 1:
        raise LayerRefused(f"a value ({value}) too large for a USTAR header")
    return text + b"\0"


def _split_name(name: str) -> tuple[bytes, bytes]:
    """The USTAR (prefix, name) of `name`, as Go's `splitUSTARPath` splits it."""
    if not name.isascii():
        raise LayerRefused(f"`{name}` is not ASCII (the lifecycle writes a PAX header)")
    raw = name.encode()
    if len(raw) <= 100:
        return b"", raw
    length = len(raw)
    if length > 156:
        length = 156
    elif raw[length - 1 : length] == b"/":
        length -= 1
    i = raw.rfind(b"/", 0, length)
    rest = len(raw) - i - 1
    if i <= 0 or rest > 100 or rest == 0 or i > 155:
        raise LayerRefused(f"`{name}` does not fit a USTAR header")
    return raw[:i], raw[i + 1 :]


def header(entry: Entry) -> bytes:
    """The 512-byte USTAR header the lifecycle writes for `entry`."""
    prefix, name = _split_name(entry.name)
    target = entry.target.encode()
    if not entry.target.isascii() or len(target) > 100:
        raise LayerRefused(f"the symlink `{entry.path}` has a target a USTAR header cannot hold")
    size = len(entry.data) if entry.kind == KIND_FILE else 0
    block = bytearray(BLOCK)
    block[0 : len(name)] = name
    block[100:108] = _octal(entry.mode, 8)
    block[108:116] = _octal(CNB_UID, 8)
    block[116:124] = _octal(CNB_GID, 8)
    block[124:136] = _octal(size, 12)
    block[136:148] = _octal(NORMALISED_MTIME, 12)
    block[148:156] = b" " * 8
    block[156] = ord(entry.kind)
    block[157 : 157 + len(target)] = target
    block[257:265] = b"ustar\x0000"
    block[329:337] = _octal(0, 8)
    block[337:345] = _octal(0, 8)
    block[345 : 345 + len(prefix)] = prefix
    checksum = sum(block)
    block[148:156] = f"{checksum:06o}".encode() + b"\0 "
    return bytes(block)


def _walk_order(entries: Iterable[Entry]) -> list[Entry]:
    """The entries in the lifecycle's walk order: per directory, names in byte order."""

    def key(entry: Entry) -> tuple[bytes, ...]:
        return tuple(part.encode() for part in entry.path.split("/")) if entry.path else ()

    return sorted(entries, key=key)


def write_layer(entries: Iterable[Entry]) -> bytes:
    """The uncompressed app layer of `entries` (which must include `/workspace` itself).

    Raises:
        LayerRefused: an entry cannot be written as the lifecycle writes it.
    """
    out = bytearray()
    for entry in _walk_order(entries):
        out += header(entry)
        if entry.kind == KIND_FILE and entry.data:
            out += entry.data
            out += bytes(-len(entry.data) % BLOCK)
    out += bytes(2 * BLOCK)
    return bytes(out)


def _field(block: bytes, start: int, end: int) -> bytes:
    return block[start:end].split(b"\0", 1)[0]


def _number(block: bytes, start: int, end: int) -> int:
    text = _field(block, start, end).strip(b" ")
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise LayerRefused("a header has a field that is not an octal number") from None


def _relative(name: str) -> str:
    """The path under `/workspace` of the tar name `name`; refuses any other."""
    if name == ROOT:
        return ""
    if not name.startswith(ROOT + "/"):
        raise LayerRefused(f"`{name}` is not under {ROOT}")
    rel = name[len(ROOT) + 1 :]
    parts = rel.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise LayerRefused(f"`{name}` is not a plain path")
    return rel


def read_layer(data: bytes) -> list[Entry]:
    """The entries of an uncompressed app layer, in their order.

    Raises:
        LayerRefused: the layer is larger than `MAX_LAYER_BYTES`, has more than
            `MAX_ENTRIES` entries, or an entry that is not a USTAR regular file,
            directory or symlink under `/workspace` (see the module docstring).
    """
    if len(data) > MAX_LAYER_BYTES:
        raise LayerRefused(f"the app layer is larger than {MAX_LAYER_BYTES >> 20} MiB")
    entries: list[Entry] = []
    seen: set[str] = set()
    offset = 0
    while True:
        block = data[offset : offset + BLOCK]
        if len(block) < BLOCK:
            raise LayerRefused("the app layer ends inside a header")
        if block == bytes(BLOCK):
            break
        if block[257:263] != b"ustar\0":
            raise LayerRefused("the app layer has a header that is not USTAR")
        stored = _number(block, 148, 156)
        if stored != sum(block[:148]) + 8 * 32 + sum(block[156:]):
            raise LayerRefused("the app layer has a header with a wrong checksum")
        prefix = _field(block, 345, 500).decode("ascii", "replace")
        name = _field(block, 0, 100).decode("ascii", "replace")
        full = f"{prefix}/{name}" if prefix else name
        kind = chr(block[156])
        if kind == KIND_DIR and full.endswith("/"):
            full = full[:-1]
        rel = _relative(full)
        size = _number(block, 124, 136)
        mode = _number(block, 100, 108)
        offset += BLOCK
        if kind not in (KIND_FILE, KIND_DIR, KIND_LINK):
            raise LayerRefused(f"`{full}` is neither a file, a directory nor a symlink")
        if rel in seen:
            raise LayerRefused(f"`{full}` is in the app layer twice")
        if mode > 0o7777:
            raise LayerRefused(f"`{full}` has a mode with more than permission bits")
        if len(entries) >= MAX_ENTRIES:
            raise LayerRefused(f"the app layer has more than {MAX_ENTRIES} entries")
        if (rel == "") != (not entries) or (rel == "" and kind != KIND_DIR):
            raise LayerRefused(f"the app layer does not start with the directory {ROOT}")
        if kind != KIND_FILE and size:
            raise LayerRefused(f"`{full}` is not a file but has contents")
        contents = data[offset : offset + size]
        if len(contents) < size:
            raise LayerRefused("the app layer ends inside a file")
        offset += size + (-size % BLOCK)
        target = ""
        if kind == KIND_LINK:
            target = _field(block, 157, 257).decode("ascii", "replace")
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(full), target))
            inside = (resolved + "/").startswith(ROOT + "/") and not target.startswith("/")
            # A buildpack's link into its layers (Node's node_modules), never followed here.
            layers = target.startswith(LAYERS + "/") and resolved == target
            if not (inside or layers):
                raise LayerRefused(f"the symlink `{full}` leads outside {ROOT}")
        parent = posixpath.dirname(rel)
        if rel and parent and parent not in seen:
            raise LayerRefused(f"`{full}` comes before its directory")
        seen.add(rel)
        entries.append(Entry(rel, kind, mode, contents, target))
    if data[offset:].strip(b"\0"):
        raise LayerRefused("the app layer has data after its end")
    return entries
