"""A pushed commit exported to a private directory: only files and directories, capped.

`git archive` of the commit is read as a tar stream and written by paas
itself: regular files and directories only, written before any link exists,
so nothing is written through a link; a symbolic link is made last, and only
when it points inside the directory; the total size and the number of files
are capped while reading, so a push cannot fill the disk.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import subprocess
import tarfile
from pathlib import Path

from paas.errors import BuildError
from paas.receiver.repository import git_environment

CHUNK = 1024 * 1024


def _inside(name: str) -> str | None:
    """`name` as a relative path inside the directory, or None when it is not one."""
    path = posixpath.normpath(name)
    if path.startswith(("/", "../")) or path in {"..", "."} or "\x00" in path:
        return None
    if ".git" in path.split("/"):
        return None
    return path


def _link_inside(name: str, target: str) -> bool:
    if target.startswith("/"):
        return False
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
    return not (resolved == ".." or resolved.startswith("../"))


def export_commit(
    commit: str,
    destination: Path,
    *,
    max_bytes: int,
    max_files: int,
    env: dict[str, str] | None = None,
    repository: Path | None = None,
) -> list[str]:
    """Write the tree of `commit` into the empty directory `destination`.

    Runs in `repository` (default: the hook's current directory), with `env` holding the
    quarantine git gives a hook (the pushed objects are there until it passes).
    Returns warnings for what was left out (links that point outside).

    Raises:
        BuildError: the commit is larger than `max_bytes` or has more than
            `max_files` entries, or git could not read it.
    """
    warnings: list[str] = []
    links: list[tuple[str, str]] = []
    written = 0
    files = 0
    process = subprocess.Popen(
        ["git", "archive", "--format=tar", commit],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=git_environment() if env is None else env,
        cwd=repository,
    )
    assert process.stdout is not None
    try:
        with tarfile.open(fileobj=process.stdout, mode="r|") as archive:
            for member in archive:
                if member.type == tarfile.XGLTYPE or member.name == "pax_global_header":
                    continue
                files += 1
                if files > max_files:
                    raise BuildError(
                        f"The pushed commit has more than {max_files} files.",
                        "Push the app without generated or vendored files.",
                    )
                path = _inside(member.name)
                if path is None:
                    warnings.append(f"left out `{member.name[:200]}`: not a path inside the app")
                    continue
                target = destination / path
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True, mode=0o755)
                elif member.isreg():
                    written += member.size
                    if written > max_bytes:
                        raise BuildError(
                            f"The pushed commit is larger than {max_bytes // (1024 * 1024)} MiB.",
                            "Push the app without large or generated files.",
                        )
                    target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
                    mode = 0o755 if member.mode & 0o100 else 0o644
                    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
                    source = archive.extractfile(member)
                    assert source is not None
                    with os.fdopen(fd, "wb") as out:
                        shutil.copyfileobj(source, out, CHUNK)
                elif member.issym():
                    if _link_inside(path, member.linkname):
                        links.append((path, member.linkname))
                    else:
                        warnings.append(
                            f"left out the link `{path[:200]}`: it points outside the app"
                        )
                else:
                    warnings.append(f"left out `{path[:200]}`: not a file or directory")
        for path, link in links:  # last: no file above was written through a link
            (destination / path).parent.mkdir(parents=True, exist_ok=True, mode=0o755)
            os.symlink(link, destination / path)
        warnings += _drop_links_outside(destination, [path for path, _ in links])
        while process.stdout.read(CHUNK):  # the archive's padding, so git ends cleanly
            pass
    except tarfile.TarError as error:
        raise BuildError(f"Could not read the pushed commit: {error}.") from None
    finally:
        process.stdout.close()
        if process.poll() is None:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
        stderr = process.stderr.read(4096).decode(errors="replace") if process.stderr else ""
        code = process.wait()
        if process.stderr:
            process.stderr.close()
    if code != 0:
        raise BuildError(f"`git archive` of the pushed commit failed: {stderr.strip()[:300]}")
    return warnings


def _drop_links_outside(destination: Path, links: list[str]) -> list[str]:
    """Remove the links that resolve outside `destination`, through other links too.

    A link that looks inside on its own can leave through another one
    (`sub/up -> ..`, `sub/out -> up/..`), so each is resolved on disk, and again
    after a removal, until every link left stays inside.
    """
    root = os.path.realpath(destination)
    dropped: list[str] = []
    changed = True
    while changed:
        changed = False
        for path in links:
            if path in dropped:
                continue
            real = os.path.realpath(destination / path)
            if real != root and not real.startswith(root + os.sep):
                os.unlink(destination / path)
                dropped.append(path)
                changed = True
    return [f"left out the link `{p[:200]}`: it points outside the app" for p in dropped]
