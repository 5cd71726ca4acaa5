"""Files paas writes for the user: `paas init` (a paas.yaml, a starter app) and `paas eject`.

`manifest_text` is pure. The writers never write through a symbolic link or over
a special file: each file is created new (`O_CREAT | O_EXCL | O_NOFOLLOW`), so a
link (even a dangling one), a FIFO or a file in the way is refused by name; and
a failure leaves nothing half written.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from paas.errors import UsageError
from paas.manifest import MANIFEST_FILE, AppSpec

if TYPE_CHECKING:
    from paas.render.output import OutFile

# A new file, never through a link; the directory's umask applies to the mode.
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_SPACE_HINT = "Check the directory's permissions and free space."


def templates_dir() -> Path:
    """Where the starters live: inside the installed package, or beside it in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise UsageError("the starter templates are missing from this installation", "Reinstall paas.")


def template_names() -> list[str]:
    """The starters `paas init --template` accepts."""
    return sorted(
        p.name for p in templates_dir().iterdir() if p.is_dir() and (p / MANIFEST_FILE).is_file()
    )


def manifest_text(app: AppSpec, evidence: str) -> str:
    """A commented paas.yaml that reproduces what paas found for `app`.

    Args:
        app: The app as read from its files.
        evidence: One line saying what was detected and from which file.
    """
    lines = [
        "# paas.yaml: how paas builds and runs this app. Reference: docs/manifest.md",
        f"# {evidence}",
        f"name: {app.name}",
        "",
        "# build:",
        "#   dockerfile: Dockerfile    # build with a Dockerfile instead of buildpacks",
        "#   env: {}                   # build-time environment",
        "",
        "processes:",
    ]
    for process in app.processes.values():
        lines.append(f"  {process.name}:")
        if process.command is not None:
            lines.append(f"    command: {_yaml_scalar(process.command)}")
        lines.append(f"    replicas: {process.replicas}")
        lines.append(
            f"    size: {process.size}                # nano, small, medium, large, xlarge"
        )
        if process.name == "web":
            lines.append(f"    port: {process.port}                # paas sets $PORT to this")
            lines.append("    # healthcheck: /healthz     # an HTTP path; default: TCP connect")
            lines.append("    # autoscale: {min: 2, max: 10, cpu: 70}")
    lines += [
        "",
        "# release: python manage.py migrate   # runs before each rollout; failure stops it",
        "# cron:",
        '#   - {name: nightly, schedule: "0 3 * * *", command: python cleanup.py}',
        "",
        "env: {}                        # non-secret defaults; `paas config set` overrides",
        "# domains: [www.example.com]",
        "",
    ]
    return "\n".join(lines)


def _yaml_scalar(text: str) -> str:
    import yaml

    dumped: str = yaml.safe_dump(text, default_flow_style=True, width=10_000).strip()
    return dumped.removesuffix("\n...").strip()


def in_the_way(path: Path, exists_hint: str) -> UsageError:
    """The refusal for what is at `path`: a link, a special file, or a file (`exists_hint`)."""
    try:
        mode = path.lstat().st_mode
    except OSError:
        mode = stat.S_IFREG
    if stat.S_ISLNK(mode):
        return UsageError(
            f"`{path}` is a symbolic link, and paas does not write through links",
            "Remove the link, then run the command again.",
        )
    if not stat.S_ISREG(mode):
        return UsageError(
            f"`{path}` is not a regular file", "Move it away, then run the command again."
        )
    return UsageError(f"`{path}` already exists", exists_hint)


def _cannot_write(path: Path, error: OSError, hint: str = _SPACE_HINT) -> UsageError:
    return UsageError(f"cannot write `{path}`: {error.strerror or error}", hint)


def _write_new(path: Path, data: str | bytes, mode: int = 0o666) -> None:
    """Create `path` with `data`. Raises FileExistsError when anything is there, a link too."""
    fd = os.open(path, _CREATE, mode)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data.encode() if isinstance(data, str) else data)
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise


def create_file(path: Path, text: str, exists_hint: str) -> None:
    """Write `text` to a new file at `path`.

    Raises:
        UsageError: something is at `path` (a file, a link, a special file), or
            `path` cannot be written.
    """
    try:
        _write_new(path, text)
    except FileExistsError:
        raise in_the_way(path, exists_hint) from None
    except OSError as error:
        raise _cannot_write(path, error) from None


def replace_file(path: Path, text: str) -> None:
    """Write `text` to `path`, replacing a regular file there but never a link or special file.

    The text goes to a new file beside `path` that is then renamed over it: the old
    file stays whole until the new one is, and the rename replaces a directory
    entry, never what a link points to.
    """
    if os.path.lexists(path) and not stat.S_ISREG(path.lstat().st_mode):
        raise in_the_way(path, "")
    try:
        handle, staged = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as error:
        raise _cannot_write(path, error) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(staged, 0o666 & ~_umask())
        os.replace(staged, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(staged)
        raise _cannot_write(path, error) from None


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def copy_template(name: str, dest: Path, app_name: str) -> list[Path]:
    """Copy starter `name` into `dest` and give its paas.yaml the name `app_name`.

    Nothing is overwritten: a file, link or special file of the same name in
    `dest` (or a link where the starter has a directory) is refused before
    anything is written, and a failure on the way removes what was written.

    Raises:
        UsageError: no such starter, something of the same name in `dest`, or a
            file that cannot be written.
    """
    names = template_names()
    if name not in names:
        raise UsageError(
            f"there is no template `{name}`", f"Pick one of: {', '.join(f'`{n}`' for n in names)}."
        )
    source = templates_dir() / name
    files = [p.relative_to(source) for p in sorted(source.rglob("*")) if p.is_file()]
    folders = sorted({parent for p in files for parent in p.parents if parent != Path(".")})
    hint = "Run `paas init --template` in an empty directory."
    links = [d for d in folders if (dest / d).is_symlink() or _not_a_folder(dest / d)]
    if links:
        raise in_the_way(dest / links[0], hint)
    clashes = [str(p) for p in files if os.path.lexists(dest / p)]
    if clashes:
        raise UsageError(f"`{dest}` already has {', '.join(f'`{c}`' for c in clashes[:3])}", hint)
    made: list[Path] = []
    try:
        for folder in folders:
            if not (dest / folder).is_dir():
                try:
                    (dest / folder).mkdir()
                except OSError as error:
                    raise _cannot_write(dest / folder, error) from None
                made.append(dest / folder)
        for relative in files:
            data: str | bytes = (source / relative).read_bytes()
            if relative == Path(MANIFEST_FILE):
                text = (source / relative).read_text(encoding="utf-8")
                data = re.sub(r"(?m)^name:.*$", f"name: {app_name}", text, count=1)
            target = dest / relative
            try:
                _write_new(target, data, (source / relative).stat().st_mode & 0o777)
            except FileExistsError:
                raise in_the_way(target, hint) from None
            except OSError as error:
                raise _cannot_write(target, error) from None
            made.append(target)
    except BaseException:
        for path in reversed(made):  # undo: newest first, so folders are empty by then
            with contextlib.suppress(OSError):
                if path.is_dir():
                    path.rmdir()
                else:
                    path.unlink()
        raise
    return [dest / p for p in files]


def _not_a_folder(path: Path) -> bool:
    return os.path.lexists(path) and not path.is_dir()


def write_tree(files: Sequence[OutFile], out: Path, *, force: bool = False) -> list[Path]:
    """Write `files` into directory `out`, all of them or none.

    A new `out` is filled as a hidden directory beside it and renamed into place.
    Into an existing one (`force`), the files are written to a hidden directory in
    it first, then renamed over their old versions; a failure puts the old ones
    back. Files holding Secret data are mode 0600, and a new `out` holding any
    is 0700.

    Raises:
        UsageError: `out` is not a directory, is not empty without `force`, holds
            a directory or special file of a name to write, or cannot be written.
    """
    if os.path.lexists(out) and not out.is_dir():
        raise UsageError(f"`{out}` exists and is not a directory", "Choose another `--out`.")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise UsageError(
            f"`{out}` is not empty",
            "Choose an empty or new directory, or pass `--force` to overwrite.",
        )
    for file in files:  # the names are made safe by render.output; never trust that blindly
        if Path(file.name).name != file.name or file.name.startswith("."):
            raise ValueError(f"unsafe file name {file.name!r}")
    try:
        if out.is_dir():
            for file in files:
                entry = out / file.name
                if os.path.lexists(entry) and not (entry.is_symlink() or entry.is_file()):
                    raise in_the_way(entry, "")
            _merge(files, out)
        else:
            _create(files, out)
    except OSError as error:
        raise _cannot_write(
            out,
            error,
            "Nothing was written; check its permissions and free space, or choose another `--out`.",
        ) from None
    return [out / file.name for file in files]


def _fill(folder: Path, files: Sequence[OutFile]) -> None:
    for file in files:
        _write_new(folder / file.name, file.text, 0o600 if file.secret else 0o666)


def _create(files: Sequence[OutFile], out: Path) -> None:
    made = []  # the missing parents of `out`, made here, removed again on failure
    for parent in reversed(out.parents):
        if not parent.is_dir():
            parent.mkdir()
            made.append(parent)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".eject", dir=out.parent))
        try:
            _fill(staging, files)
            if not any(file.secret for file in files):
                os.chmod(staging, 0o777 & ~_umask())  # mkdtemp made it 0700
            os.rename(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    except BaseException:
        for parent in reversed(made):
            with contextlib.suppress(OSError):
                parent.rmdir()
        raise


def _merge(files: Sequence[OutFile], out: Path) -> None:
    staging = Path(tempfile.mkdtemp(prefix=".paas-eject-", dir=out))
    try:
        new, old = staging / "new", staging / "old"
        new.mkdir()
        old.mkdir()
        _fill(new, files)
        kept: list[str] = []  # old files moved aside
        placed: list[str] = []  # new files renamed into `out`
        try:
            for file in files:
                if os.path.lexists(out / file.name):
                    os.replace(out / file.name, old / file.name)
                    kept.append(file.name)
                os.replace(new / file.name, out / file.name)
                placed.append(file.name)
        except BaseException:
            for name in placed:
                with contextlib.suppress(OSError):
                    (out / name).unlink()
            for name in kept:
                with contextlib.suppress(OSError):
                    os.replace(old / name, out / name)
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
