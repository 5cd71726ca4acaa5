"""Which files of the app directory are sent to a build.

``.paasignore`` decides, in gitignore syntax; without it, ``.gitignore`` at
the root of the app directory does. ``.git/`` is never sent. A directory that
is ignored is not entered, so a later ``!pattern`` cannot bring back a file
inside it (as with git).

`IgnoreRules` is pure (text in, decisions out), matched in linear time;
`source_files()` and `copy_source()` walk and copy the directory, and refuse
what a build must not get: a symlink leading outside the directory that is
built (``COPY .`` would put its target in the image) and a special file.

Example:
    rules = IgnoreRules.parse("node_modules/\\n*.log\\n!keep.log\\n")
    rules.ignored("app/debug.log", is_dir=False)   # True
    rules.ignored("keep.log", is_dir=False)        # False
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pathspec import PathSpec
from pathspec.pattern import Pattern

from paas.detect.appdir import AppDir, special_kind
from paas.errors import BuildError

IGNORE_FILES = (".paasignore", ".gitignore")
ALWAYS_IGNORED = (".git",)


def _spec(lines: tuple[str, ...]) -> PathSpec[Pattern]:
    """Compile gitignore lines for RE2, whose matching time is linear in the path.

    Python's own `re` backtracks: a pattern like ``a*a*a*...`` against a long
    name would take minutes.
    """
    return PathSpec.from_lines("gitignore", lines, backend="re2")


@dataclass(frozen=True)
class IgnoreRules:
    """The rules of one ignore file, in order; the last matching rule decides.

    Matching is `pathspec`'s gitignore syntax on the RE2 engine (linear time).

    Attributes:
        lines: The lines of the file.
        source: The file they came from (``.paasignore``, ``.gitignore``) or empty.
    """

    lines: tuple[str, ...] = ()
    source: str = ""
    spec: PathSpec[Pattern] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        try:
            spec = _spec(self.lines)
        except Exception:  # pathspec's GitIgnorePatternError, or RE2's error on a bad range
            number = next(n for n, line in enumerate(self.lines, 1) if not _valid(line))
            raise BuildError(
                f"{self.source or 'ignore rules'}:{number}: not a valid gitignore pattern.",
                "Fix or remove that line; the syntax is git's (`man gitignore`).",
            ) from None
        object.__setattr__(self, "spec", spec)

    @classmethod
    def parse(cls, text: str, source: str = "") -> IgnoreRules:
        """Parse gitignore-syntax `text`.

        Raises:
            BuildError: a line is not a valid pattern; the message names the line.
        """
        return cls(tuple(text.splitlines()), source)

    def ignored(self, rel: str, *, is_dir: bool) -> bool:
        """Tell whether the path `rel` (relative, `/`-separated) is left out.

        Only the path itself is judged; `source_files()` does not enter an
        ignored directory, which is how a file inside one is left out.
        """
        if rel.split("/", maxsplit=1)[0] in ALWAYS_IGNORED:
            return True
        return self.spec.match_file(f"{rel}/" if is_dir else rel)


def _valid(line: str) -> bool:
    try:
        _spec((line,))
    except Exception:  # as in `IgnoreRules.__post_init__`
        return False
    return True


def read_ignore_rules(app_dir: Path) -> IgnoreRules:
    """Read ``.paasignore``, else ``.gitignore``, at the root of `app_dir`.

    Read through `AppDir`: an ignore file that leads outside `app_dir`, is a
    special file or is larger than 1 MiB is an error.

    Raises:
        BuildError: the ignore file cannot be read, or has an invalid pattern.
    """
    app = AppDir(app_dir)
    for name in IGNORE_FILES:
        data = app.read_bytes(name, error=BuildError)
        if data is not None:
            return IgnoreRules.parse(data.decode("utf-8-sig", errors="replace"), name)
    return IgnoreRules()


def _refuse(rel: str, what: str, rules: IgnoreRules) -> BuildError:
    return BuildError(
        f"`{rel}` is {what}, which a build cannot be sent.",
        f"Remove it, or list it in `{rules.source or IGNORE_FILES[0]}`.",
    )


def source_files(app_dir: Path, rules: IgnoreRules | None = None) -> Iterator[str]:
    """Yield the relative paths (files and symlinks) that a build gets, sorted per directory.

    A symlink is kept (as a symlink) only when its target is relative and
    stays inside `app_dir`; a special file (FIFO, socket, device) is never
    sent. Ignored paths are not judged.

    Raises:
        BuildError: a path that is not ignored is a symlink leading outside
            `app_dir` or a special file; the message names it and the fix.
    """
    rules = rules if rules is not None else read_ignore_rules(app_dir)
    real_root = Path(os.path.realpath(app_dir))
    for top, dirs, files in os.walk(app_dir):
        base = Path(top).relative_to(app_dir).as_posix()
        prefix = "" if base == "." else f"{base}/"
        kept = []
        for d in sorted(dirs):
            rel = prefix + d
            if (Path(top) / d).is_symlink():
                if not rules.ignored(rel, is_dir=False):
                    _check_symlink(app_dir, real_root, rel, rules)
                    yield rel
            elif not rules.ignored(rel, is_dir=True):
                kept.append(d)
        dirs[:] = kept
        for f in sorted(files):
            rel = prefix + f
            if rules.ignored(rel, is_dir=False):
                continue
            mode = os.lstat(Path(top) / f).st_mode
            if (kind := special_kind(mode)) is not None:
                raise _refuse(rel, kind, rules)
            if (Path(top) / f).is_symlink():
                _check_symlink(app_dir, real_root, rel, rules)
            yield rel


def _check_symlink(app_dir: Path, real_root: Path, rel: str, rules: IgnoreRules) -> None:
    """Refuse the symlink `rel` unless its target is relative and stays inside `real_root`."""
    path = app_dir / rel
    target = os.readlink(path)
    if os.path.isabs(target) or not Path(os.path.realpath(path)).is_relative_to(real_root):
        raise _refuse(rel, "a symlink that leads outside the directory that is built", rules)


def copy_source(app_dir: Path, dest: Path, rules: IgnoreRules | None = None) -> int:
    """Copy the files a build gets from `app_dir` into `dest`; return how many.

    Symlinks are copied as symlinks; file modes are kept.

    Raises:
        BuildError: as `source_files()` does.
    """
    count = 0
    dest.mkdir(parents=True, exist_ok=True)
    for rel in source_files(app_dir, rules):
        src, dst = app_dir / rel, dest / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            dst.symlink_to(os.readlink(src))
        else:
            shutil.copy2(src, dst)
        count += 1
    return count
