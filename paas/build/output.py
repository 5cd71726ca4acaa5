"""What a build shows, and the full log it keeps.

pack, the CNB lifecycle, podman, docker and kaniko print much that only
matters when something goes wrong: the lifecycle's phase headers, every layer
and label it reuses or adds, the SBOMs it did not find, timers, podman's blob
copies. Like Heroku, a build shows the buildpacks' own lines (``----->`` and
the details they indent) and whatever a buildpack prints that is not the
lifecycle's (pip, npm, errors); a Dockerfile build shows its ``STEP n/m:``
lines, what the steps print, and errors.

Every line, hidden or shown (escape codes removed), also goes to a full log
file, ``$XDG_CACHE_HOME/paas/logs/APP-YYYYmmddTHHMMSSZ.log``; the newest
`KEEP_LOGS` per app are kept. A failed build ends with the last `TAIL_LINES`
lines of that log and its path. `PAAS_VERBOSE=1` or `set_verbose(True)`
(`--verbose`) shows every line.

`BuildLines.read` decides what a line shows (pure); `presented()` puts it
together around a build: the full log, the step with its elapsed time, and
the CI log group.
"""

from __future__ import annotations

import os
import re
import time
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from paas.build.tools import OutputLine

if TYPE_CHECKING:
    from paas.console import Console

#: How many full logs are kept per app.
KEEP_LOGS = 20
#: How many lines of the full log a failed build shows.
TAIL_LINES = 30

# CSI (colours, cursor moves), OSC (titles, links; ended by BEL or ST) and the
# two-character escapes.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
# The lifecycle's phase prefix in pack's untrusted (five-container) flow.
_PHASE_PREFIX = re.compile(
    r"^\[(?:analyzer|detector|restorer|builder|exporter|extender|creator|rebaser)\] ?"
)
_PHASE = re.compile(r"^===> ([A-Z]+)")
# A line that reports a failure is shown wherever it comes from.
_FAILURE = re.compile(r"^\s*(?:ERROR|Error|error|FATAL|fatal|panic)\b|^\s*!\s")
#: The lifecycle's, pack's and the image tools' own chatter: hidden unless verbose.
INTERNAL = re.compile(
    "|".join(
        (
            # CNB lifecycle (pack and the creator pod)
            r"^Timer: ",
            r"^(?:Reusing|Adding) (?:cache )?layer '",
            r"^(?:Reusing|Adding) \d+/\d+ app layer",
            r"^Adding label '",
            r"^Setting default process type '",
            r"^Saving \S+\.\.\.$",
            r"^\*\*\* (?:Images|Digest|Manifest Size)",
            r"^Did not find SBOM",
            r"^Warning: .*\bSBOM\b",
            r"^Restoring (?:metadata|data) for ",
            r"^Restoring data for SBOM",
            r"^Previous image with name ",
            r"^Image with name \S+ not found",
            r"^Skipping buildpack layer analysis",
            r"^Warning: No cached data will be used",
            r"^Layer cache not found",
            r"^Retrieving (?:previous image|cache)",
            r"^Found image ",
            r"^Removing .* from cache",
            r"^Warning: Builder is trusted but additional modules",
            r"^Warning: Platform requested deprecated API",
            r"^Warning: Detected pack is running in a container",
            r"^Reusing layers from image '",
            r"^Added \d+/\d+ app layer",
            r"^Successfully built image '",
            # image pulls and pushes (pack, docker, podman)
            r"^\S+: Pulling from ",
            r"^[0-9a-f]{12}: (?:Pulling fs layer|Waiting|Downloading|Verifying Checksum|"
            r"Download complete|Extracting|Pull complete|Already exists|Preparing|Pushing|"
            r"Pushed|Layer already exists|Mounted from \S+)$",
            r"^Digest: sha256:",
            r"^Status: (?:Downloaded newer image|Image is up to date)",
            r"^The push refers to repository ",
            r"^\S+: digest: sha256:[0-9a-f]{64} size: \d+$",
            # podman and buildah
            r"^--> ",
            r"^COMMIT(?: |$)",
            r"^Getting image source signatures$",
            r"^Copying (?:blob|config) ",
            r"^Writing manifest to image destination$",
            r"^Storing signatures$",
            r"^Successfully tagged ",
            r"^[0-9a-f]{64}$",
            r"^Trying to pull ",
            r"^Resolved \"",
            # docker
            r"^ ---> ",
            r"^Removing intermediate container ",
            r"^Successfully built ",
            r"^Sending build context to Docker daemon",
        )
    )
)
# Phases whose every line is the lifecycle's own (their failures aside).
_QUIET_PHASES = frozenset({"ANALYZING", "DETECTING", "RESTORING", "EXPORTING", "EXTENDING"})

_verbose: bool | None = None


def set_verbose(verbose: bool) -> None:
    """Show every line of the builds this process runs (the CLI's `--verbose`)."""
    global _verbose  # noqa: PLW0603 - one setting per process, like the console
    _verbose = verbose


def is_verbose(env: Mapping[str, str] | None = None) -> bool:
    """Whether builds show every line: `set_verbose(True)`, else ``PAAS_VERBOSE=1``."""
    if _verbose is not None:
        return _verbose
    value = (os.environ if env is None else env).get("PAAS_VERBOSE", "")
    return value.strip().lower() in ("1", "true", "yes", "on")


def clean(raw: str) -> str:
    """`raw` without escape codes; of a line redrawn with carriage returns, what it ended as."""
    text = _ANSI.sub("", raw).rstrip("\r\n")
    if "\r" in text:
        text = text.rsplit("\r", 1)[-1]
    return text.rstrip()


@dataclass
class BuildLines:
    """Decides, line by line, what a build shows.

    Attributes:
        verbose: Show every line (escape codes still removed).
        phase: The lifecycle phase the build is in (``BUILDING``), "" before the first.
    """

    verbose: bool = False
    phase: str = ""

    def read(self, raw: str) -> str | None:
        """The line to show for the tool's line `raw`, or None to hide it."""
        text = clean(raw)
        if self.verbose:
            self._follow_phase(_PHASE_PREFIX.sub("", text))
            return text
        text = _PHASE_PREFIX.sub("", text)
        if self._follow_phase(text):
            return None
        if _FAILURE.search(text):
            return text
        if INTERNAL.search(text) or self.phase in _QUIET_PHASES:
            return None
        if not text.strip() and self.phase != "BUILDING":
            return None
        return text

    def _follow_phase(self, text: str) -> bool:
        phase = _PHASE.match(text)
        if phase:
            self.phase = phase.group(1)
        return phase is not None


def log_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where full build logs go: ``$XDG_CACHE_HOME/paas/logs`` (default ``~/.cache``)."""
    env = os.environ if env is None else env
    cache = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "paas" / "logs"


_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def _log_name(app: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(_SAFE.sub('_', app))}-(\d{{8}}T\d{{6}}Z)(?:-(\d+))?\.log$")


def app_logs(directory: Path, app: str) -> list[Path]:
    """The full logs of `app` in `directory`, oldest first."""
    pattern = _log_name(app)
    found: list[tuple[str, int, Path]] = []
    try:
        entries = list(directory.iterdir())
    except OSError:
        return []
    for path in entries:
        match = pattern.match(path.name)
        if match:
            found.append((match.group(1), int(match.group(2) or 0), path))
    return [path for *_, path in sorted(found)]


def open_log(
    app: str, directory: Path, *, now: float | None = None, keep: int = KEEP_LOGS
) -> tuple[Path, IO[str]]:
    """Create a new full log for `app`; remove its older logs beyond the newest `keep`.

    Raises:
        OSError: the directory or the file cannot be made.
    """
    directory.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    base = f"{_SAFE.sub('_', app)}-{stamp}"
    for n in range(1000):
        path = directory / (f"{base}.log" if n == 0 else f"{base}-{n}.log")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        break
    else:  # pragma: no cover - a thousand builds of one app in one second
        raise FileExistsError(path)
    for old in app_logs(directory, app)[:-keep] if keep > 0 else []:
        if old != path:
            old.unlink(missing_ok=True)
    return path, os.fdopen(fd, "w", encoding="utf-8", errors="replace", buffering=1)


@dataclass
class Presenter:
    """An `OutputLine` for a build's tool: each line logged in full, shown when it matters.

    Attributes:
        on_line: Where shown lines go.
        lines: What to show (`BuildLines`).
        log: The full log file, None when it could not be made.
        path: Its path.
        tail: The last lines of the full log, for a failed build.
    """

    on_line: OutputLine
    lines: BuildLines = field(default_factory=BuildLines)
    log: IO[str] | None = None
    path: Path | None = None
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))

    def __call__(self, raw: str) -> None:
        """Take one line the build printed."""
        text = clean(raw)
        self.tail.append(text)
        if self.log is not None:
            try:
                self.log.write(text + "\n")
            except OSError:
                self.log = None
        shown = self.lines.read(raw)
        if shown is not None:
            self.on_line(shown)

    def close(self) -> None:
        """Close the full log."""
        if self.log is not None:
            self.log.close()
            self.log = None


def presenter(app: str, on_line: OutputLine, *, env: Mapping[str, str] | None = None) -> Presenter:
    """A `Presenter` for a build of `app` whose shown lines go to `on_line`, with its full log.

    Without a writable cache directory there is no full log; the build goes on.
    """
    shown = Presenter(on_line, BuildLines(verbose=is_verbose(env)))
    with suppress(OSError):
        shown.path, shown.log = open_log(app, log_dir(env))
    return shown


@contextmanager
def presented(
    app: str,
    on_line: OutputLine,
    *,
    start: str,
    say: OutputLine | None = None,
    console: Console | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[Presenter]:
    """Around a build of `app`: the step (`start`, then "Built in 12.3 s"), log group, full log.

    Yields the `Presenter` to give the build as its `on_line`. When the build
    fails, the last lines of the full log and its path are said (with `say`)
    before the error rises.
    """
    from paas.console import get_console

    console = console or get_console()
    shown = presenter(app, on_line, env=env)
    try:
        with (
            console.step("Building", start=start, done="Built", say=say),
            console.group("Build"),
        ):
            yield shown
    except Exception:
        tell = say or console.info
        if shown.tail:
            tell(f"The last {len(shown.tail)} lines of the build log:")
            for text in shown.tail:
                tell(f"  | {text}")
        if shown.path is not None:
            tell(f"full build log: {shown.path}")
        raise
    finally:
        shown.close()
