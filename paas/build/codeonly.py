"""Whether a push may take the code-only fast path, and the app layer it then writes.

The paas buildpacks declare, each with one label `io.paas.code-only.NAME`
(`paas/NAME` in the group), that their part of the image does not depend on
the app's files other than their dependency files:
``{"deps": [PATTERN...], "generated": [PATH...]}``. `deps` are gitignore-style
patterns of app files whose change needs the full build (`requirements.txt`,
`package.json`, ...); `generated` are the app-relative paths the buildpack
itself writes into `/workspace` (Node's `node_modules` symlink), which the fast
path carries over from the previous layer. A buildpack that ran a step reading
app code (collectstatic, `npm run build`, a compile) writes no label.

`refusal()` says why a change cannot take the fast path (None: it can);
`source_entries()` and `changed_paths()` compare the new source with the
previous app layer; `new_layer_entries()` makes the entries of the new layer,
with the modes the build strategy would give them.
"""

from __future__ import annotations

import json
import os
import posixpath
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pathspec import PathSpec

from paas.build.applayer import KIND_DIR, KIND_FILE, KIND_LINK, Entry, LayerRefused
from paas.build.source import read_ignore_rules, source_files
from paas.detect.appdir import RefusedFileError, open_regular

LABEL_PREFIX = "io.paas.code-only."
BUILD_METADATA = "io.buildpacks.build.metadata"
LIFECYCLE_METADATA = "io.buildpacks.lifecycle.metadata"
#: Files whose change always takes the full build, whatever the buildpacks say.
ALWAYS_FULL = (
    "/Procfile",
    "/paas.yaml",
    "/paas.yml",
    "/app.json",
    "/project.toml",
    "/.paasignore",
    "/Dockerfile",
    "/Containerfile",
    "/heroku.yml",
)
MAX_SOURCE_BYTES = 64 << 20


@dataclass(frozen=True)
class CodeOnly:
    """What the buildpacks of an image declared.

    Attributes:
        deps: Patterns (gitignore syntax) of files whose change needs the full build.
        generated: App-relative paths the buildpacks wrote into `/workspace`.
    """

    deps: tuple[str, ...]
    generated: tuple[str, ...]

    def matches(self, path: str) -> bool:
        """Whether a change of `path` needs the full build."""
        spec = PathSpec.from_lines("gitignore", (*ALWAYS_FULL, *self.deps))
        return spec.match_file(path)

    def is_generated(self, path: str) -> bool:
        """Whether `path` is, or is under, a path a buildpack generated."""
        return any(path == g or path.startswith(g.rstrip("/") + "/") for g in self.generated)


def declared(labels: Mapping[str, str]) -> CodeOnly | str:
    """The union of the code-only labels of every buildpack in the image's group, or why not.

    A string is the reason the image cannot take the fast path: a buildpack
    without the label, an unreadable label, no build metadata.
    """
    try:
        group = json.loads(labels.get(BUILD_METADATA, "")).get("buildpacks") or []
    except (ValueError, AttributeError):
        return f"the image has no readable `{BUILD_METADATA}` label"
    if not group:
        return "the image names no buildpacks"
    deps: list[str] = []
    generated: list[str] = []
    for buildpack in group:
        ident = str(buildpack.get("id", "")) if isinstance(buildpack, dict) else ""
        owner, _, name = ident.partition("/")
        label = labels.get(f"{LABEL_PREFIX}{name}") if owner == "paas" else None
        if label is None:
            return f"the buildpack `{ident}` did not declare its output independent of the app code"
        try:
            value = json.loads(label)
            deps += [str(p) for p in value["deps"]]
            generated += [str(p).strip("/") for p in value.get("generated", [])]
        except (ValueError, KeyError, TypeError):
            return f"the label `{LABEL_PREFIX}{name}` is not readable"
    if any(not g or ".." in g.split("/") for g in generated):
        return "a buildpack declared a generated path that is not a plain relative path"
    return CodeOnly(tuple(deps), tuple(generated))


def refusal(declared_: CodeOnly, changed: Iterable[str]) -> str | None:
    """Why these changed paths need the full build; None when none does."""
    paths = sorted(changed)
    for path in paths:
        if declared_.matches(path):
            return f"`{path}` changed, and a change to it needs the full build"
    return None


def _file_mode(mode: int, strategy: str) -> int:
    """The mode the build gives a file of mode `mode`.

    `local` (pack) keeps the file's mode; `cluster` extracts the source as
    the CNB user with `tar -x`, which applies the container's umask (022) and
    drops setuid/setgid.
    """
    perms = stat.S_IMODE(mode)
    return perms & 0o755 if strategy == "cluster" else perms


def source_entries(source_dir: Path, strategy: str) -> dict[str, Entry]:
    """The files and symlinks the build of `source_dir` gets, as app-layer entries.

    Raises:
        LayerRefused: a file cannot be read, is a hard link (the lifecycle
            writes those as links), or the source is larger than
            `MAX_SOURCE_BYTES`.
        BuildError: as `source_files()` does.
    """
    entries: dict[str, Entry] = {}
    total = 0
    for rel in source_files(source_dir, read_ignore_rules(source_dir)):
        path = source_dir / rel
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            entries[rel] = Entry(rel, KIND_LINK, 0o777, target=os.readlink(path))
            continue
        if info.st_nlink > 1:
            raise LayerRefused(f"`{rel}` is a hard link")
        try:
            fd = open_regular(path)
        except (RefusedFileError, OSError) as exc:
            raise LayerRefused(f"`{rel}` cannot be read") from exc
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(MAX_SOURCE_BYTES + 1 - total)
        total += len(data)
        if total > MAX_SOURCE_BYTES:
            raise LayerRefused(f"the source is larger than {MAX_SOURCE_BYTES >> 20} MiB")
        entries[rel] = Entry(rel, KIND_FILE, _file_mode(info.st_mode, strategy), data)
    return entries


def changed_paths(
    old: Iterable[Entry], new: Mapping[str, Entry], declared_: CodeOnly
) -> set[str] | str:
    """The app-relative paths added, deleted or changed (contents, mode, target), or why not.

    Directories are not compared (only the files in them); entries under a
    generated path are left out of the old layer. A string is a reason for the
    full build: the new source has a file at a generated path.
    """
    before = {e.path: e for e in old if e.kind != KIND_DIR and not declared_.is_generated(e.path)}
    for path in new:
        if declared_.is_generated(path):
            return f"the source has `{path}`, where a buildpack writes"
    changed = set(before) ^ set(new)
    changed |= {p for p in set(before) & set(new) if before[p] != new[p]}
    return changed


def new_layer_entries(
    old: list[Entry], new: Mapping[str, Entry], declared_: CodeOnly, strategy: str
) -> list[Entry]:
    """The entries of the new app layer: the new source, the generated entries carried over.

    `/workspace` itself and directories of generated entries keep their old
    headers; other directories get the mode the build gives them: `local`
    creates them as it creates the app directory (the mode of `/workspace`),
    `cluster` with `tar -x` under umask 022 (0755).
    """
    root = old[0]
    kept = {e.path: e for e in old if e.path and declared_.is_generated(e.path)}
    old_dirs = {e.path: e for e in old if e.kind == KIND_DIR}
    result: dict[str, Entry] = {"": root, **kept, **new}
    dir_mode = root.mode if strategy == "local" else 0o755
    for path in list(result):
        parent = posixpath.dirname(path)
        while parent and parent not in result:
            previous = old_dirs.get(parent)
            if previous is not None and _holds_generated(parent, kept):
                result[parent] = previous
            else:
                result[parent] = Entry(parent, KIND_DIR, dir_mode)
            parent = posixpath.dirname(parent)
    for path, entry in kept.items():
        if entry.kind == KIND_DIR and path in new:
            raise LayerRefused(f"`{path}` is both generated and in the source")
    return list(result.values())


def _holds_generated(directory: str, kept: Mapping[str, Entry]) -> bool:
    return any(k.startswith(directory + "/") for k in kept)
