"""Which files of the app directory are sent to a build.

``.paasignore`` decides, in gitignore syntax; without it, ``.gitignore`` at
the root of the app directory does. ``.git/`` is never sent. A directory that
is ignored is not entered, so a later ``!pattern`` cannot bring back a file
inside it (as with git).

`IgnoreRules` is pure (text in, decisions out); `source_files()` and
`copy_source()` walk and copy the directory.

Example:
    rules = IgnoreRules.parse("node_modules/\\n*.log\\n!keep.log\\n")
    rules.ignored("app/debug.log", is_dir=False)   # True
    rules.ignored("keep.log", is_dir=False)        # False
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

IGNORE_FILES = (".paasignore", ".gitignore")
ALWAYS_IGNORED = (".git",)


@dataclass(frozen=True)
class IgnoreRule:
    """One line of an ignore file.

    Attributes:
        pattern: The line as written (trimmed).
        regex: The compiled pattern, matched against the whole relative path.
        negated: A ``!`` line: matching paths are included again.
        dir_only: A pattern ending in ``/``: it only matches directories.
    """

    pattern: str
    regex: re.Pattern[str]
    negated: bool
    dir_only: bool


def _translate(glob: str) -> str:
    """Turn a gitignore glob (without `!` and trailing `/`) into a regex body."""
    anchored = "/" in glob.rstrip("/")
    glob = glob.lstrip("/")
    out: list[str] = []
    i = 0
    while i < len(glob):
        c = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("/**", i) and i + 3 == len(glob):
            out.append("/.*")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = glob.find("]", i + 2 if glob[i + 1 : i + 2] in ("!", "]") else i + 1)
            if end == -1:
                out.append(re.escape(c))
                i += 1
            else:
                body = glob[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body.replace(chr(92), chr(92) * 2)}]")
                i = end + 1
        elif c == "\\" and i + 1 < len(glob):
            out.append(re.escape(glob[i + 1]))
            i += 2
        else:
            out.append(re.escape(c))
            i += 1
    body = "".join(out)
    return body if anchored else f"(?:.*/)?{body}"


@dataclass(frozen=True)
class IgnoreRules:
    """The rules of one ignore file, in order; the last matching rule decides.

    Attributes:
        rules: The parsed lines.
        source: The file they came from (``.paasignore``, ``.gitignore``) or empty.
    """

    rules: tuple[IgnoreRule, ...] = ()
    source: str = ""

    @classmethod
    def parse(cls, text: str, source: str = "") -> IgnoreRules:
        """Parse gitignore-syntax `text`."""
        rules = []
        for raw in text.splitlines():
            line = raw.rstrip("\r")
            # Trailing spaces are dropped unless escaped with a backslash.
            stripped = line.rstrip(" ")
            if stripped.endswith("\\") and len(stripped) < len(line):
                stripped += " "
            line = stripped
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            if negated or line.startswith("\\!") or line.startswith("\\#"):
                line = line[1:]
            dir_only = line.endswith("/")
            glob = line.rstrip("/")
            if not glob:
                continue
            regex = re.compile(rf"^{_translate(glob)}$", re.DOTALL)
            rules.append(IgnoreRule(raw.strip(), regex, negated, dir_only))
        return cls(tuple(rules), source)

    def ignored(self, rel: str, *, is_dir: bool) -> bool:
        """Tell whether the path `rel` (relative, `/`-separated) is left out.

        Only the path itself is judged; `source_files()` does not enter an
        ignored directory, which is how a file inside one is left out.
        """
        if rel.split("/", maxsplit=1)[0] in ALWAYS_IGNORED:
            return True
        result = False
        for rule in self.rules:
            if rule.dir_only and not is_dir:
                continue
            if rule.regex.match(rel):
                result = not rule.negated
        return result


def read_ignore_rules(app_dir: Path) -> IgnoreRules:
    """Read ``.paasignore``, else ``.gitignore``, at the root of `app_dir`."""
    for name in IGNORE_FILES:
        path = app_dir / name
        if path.is_file():
            return IgnoreRules.parse(path.read_text(errors="replace"), name)
    return IgnoreRules()


def source_files(app_dir: Path, rules: IgnoreRules | None = None) -> Iterator[str]:
    """Yield the relative paths (files and symlinks) that a build gets, sorted per directory."""
    rules = rules if rules is not None else read_ignore_rules(app_dir)
    for top, dirs, files in os.walk(app_dir):
        base = Path(top).relative_to(app_dir).as_posix()
        prefix = "" if base == "." else f"{base}/"
        kept = []
        for d in sorted(dirs):
            rel = prefix + d
            if (Path(top) / d).is_symlink():
                if not rules.ignored(rel, is_dir=False):
                    yield rel
            elif not rules.ignored(rel, is_dir=True):
                kept.append(d)
        dirs[:] = kept
        for f in sorted(files):
            rel = prefix + f
            if not rules.ignored(rel, is_dir=False):
                yield rel


def copy_source(app_dir: Path, dest: Path, rules: IgnoreRules | None = None) -> int:
    """Copy the files a build gets from `app_dir` into `dest`; return how many.

    Symlinks are copied as symlinks; file modes are kept.
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
