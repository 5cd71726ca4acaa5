"""The app layer: written byte for byte as the lifecycle writes it; a hostile one refused."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from paas.build.applayer import (
    KIND_DIR,
    KIND_FILE,
    KIND_LINK,
    Entry,
    LayerRefused,
    header,
    read_layer,
    write_layer,
)

#: The app layer of the Python starter as the CNB lifecycle v0.20 exported it.
FIXTURE = Path(__file__).parent / "fixtures" / "lifecycle-app-layer.tar"


def test_a_lifecycle_layer_read_and_written_again_is_the_same_bytes() -> None:
    data = FIXTURE.read_bytes()
    entries = read_layer(data)
    assert [e.path for e in entries][:3] == ["", ".gitignore", ".python-version"]
    assert write_layer(entries) == data
    assert hashlib.sha256(write_layer(entries)).hexdigest() == hashlib.sha256(data).hexdigest()


def test_the_header_has_go_ustar_fields() -> None:
    block = header(Entry("app.py", KIND_FILE, 0o644, b"x" * 1042))
    assert block[:17] == b"/workspace/app.py"
    assert block[100:108] == b"0000644\0"
    assert block[108:124] == b"0001750\x000001750\0"
    assert block[124:136] == b"00000002022\0"
    assert block[136:148] == b"02263523001\0"  # 1980-01-01T00:00:01Z
    assert block[154:156] == b"\0 "  # the checksum as Go writes it
    assert int(block[148:154], 8) == sum(block[:148]) + 256 + sum(block[156:])
    assert block[257:265] == b"ustar\x0000"
    assert block[265:329] == bytes(64)  # no user or group name
    assert block[329:345] == b"0000000\x000000000\0"


def test_entries_are_written_in_the_walk_order_with_directories_first() -> None:
    entries = [
        Entry("z.py", KIND_FILE, 0o644, b"z"),
        Entry("a", KIND_DIR, 0o755),
        Entry("a/b.py", KIND_FILE, 0o644, b"b"),
        Entry("", KIND_DIR, 0o755),
        Entry("a-b", KIND_LINK, 0o777, target="a/b.py"),
    ]
    with tarfile.open(fileobj=io.BytesIO(write_layer(entries))) as archive:
        names = [m.name for m in archive]
    # Go's filepath.Walk: "a" < "a-b" < "z.py" by name, "a/b.py" right after "a".
    assert names == [
        "/workspace",
        "/workspace/a",
        "/workspace/a/b.py",
        "/workspace/a-b",
        "/workspace/z.py",
    ]


def test_a_long_name_is_split_like_go_and_one_too_long_is_refused() -> None:
    deep = "d" * 60 + "/" + "f" * 60
    block = header(Entry(deep, KIND_FILE, 0o644))
    assert block[345:].split(b"\0")[0] == b"/workspace/" + b"d" * 60
    assert block[:100].split(b"\0")[0] == b"f" * 60
    with pytest.raises(LayerRefused):
        header(Entry("x" * 120, KIND_FILE, 0o644))
    with pytest.raises(LayerRefused, match="ASCII"):
        header(Entry("café.py", KIND_FILE, 0o644))


def _tar(*members: tuple[str, bytes, bytes]) -> bytes:
    """A USTAR archive of (name, type, data-or-linkname) members."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for name, kind, payload in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                info.linkname = payload.decode()
                archive.addfile(info)
            else:
                info.size = len(payload)
                archive.addfile(info, io.BytesIO(payload))
    return out.getvalue()


ROOT = ("/workspace", tarfile.DIRTYPE, b"")


@pytest.mark.parametrize(
    ("members", "reason"),
    [
        ([ROOT, ("/etc/passwd", tarfile.REGTYPE, b"x")], "not under"),
        ([ROOT, ("/workspace/../etc/passwd", tarfile.REGTYPE, b"x")], "plain path"),
        ([ROOT, ("/workspace/up", tarfile.SYMTYPE, b"../../etc")], "leads outside"),
        ([ROOT, ("/workspace/abs", tarfile.SYMTYPE, b"/etc/passwd")], "leads outside"),
        ([ROOT, ("/workspace/hard", tarfile.LNKTYPE, b"/workspace/x")], "neither"),
        ([ROOT, ("/workspace/dev", tarfile.CHRTYPE, b"")], "neither"),
        (
            [
                ROOT,
                ("/workspace/a", tarfile.REGTYPE, b"1"),
                ("/workspace/a", tarfile.REGTYPE, b"2"),
            ],
            "twice",
        ),
        ([("/workspace/a", tarfile.REGTYPE, b"1")], "start with"),
        ([ROOT, ("/workspace/d/a", tarfile.REGTYPE, b"1")], "before its directory"),
    ],
)
def test_a_hostile_layer_is_refused(members: list[tuple[str, bytes, bytes]], reason: str) -> None:
    with pytest.raises(LayerRefused, match=reason):
        read_layer(_tar(*members))


def test_a_link_into_the_buildpack_layers_is_kept() -> None:
    target = "/layers/paas_nodejs/modules/node_modules"
    entries = read_layer(_tar(ROOT, ("/workspace/node_modules", tarfile.SYMTYPE, target.encode())))
    assert entries[1].target == target
    with pytest.raises(LayerRefused, match="leads outside"):
        read_layer(_tar(ROOT, ("/workspace/n", tarfile.SYMTYPE, b"/layers/../etc")))


def test_a_pax_header_a_bad_checksum_and_trailing_data_are_refused() -> None:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as archive:
        archive.addfile(tarfile.TarInfo("/workspace/" + "é" * 3))
    with pytest.raises(LayerRefused):
        read_layer(out.getvalue())
    data = bytearray(FIXTURE.read_bytes())
    data[0] = ord("X")
    with pytest.raises(LayerRefused, match="checksum"):
        read_layer(bytes(data))
    with pytest.raises(LayerRefused, match="after its end"):
        read_layer(FIXTURE.read_bytes() + b"junk")
    with pytest.raises(LayerRefused, match="ends inside"):
        read_layer(FIXTURE.read_bytes()[:700])


def test_a_layer_too_large_is_refused_before_it_is_read() -> None:
    with pytest.raises(LayerRefused, match="larger than"):
        read_layer(bytes(65 << 20))
