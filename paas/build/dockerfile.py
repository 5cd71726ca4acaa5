"""The `dockerfile` strategy: the app's Dockerfile through a daemon's API, else a CLI, then a push.

With a Docker-compatible daemon that answers (``DOCKER_HOST``, else podman's
or Docker's socket), the build goes through its API with the ``docker``
Python SDK, which serves Docker and podman alike and streams structured
progress (``stream``, ``status``, ``error``/``errorDetail``, ``aux``); the
API version is negotiated (podman 4.3 serves 1.41). Without one, the first of
podman, buildah and docker found on the PATH builds it daemonless. Either
way ``build.env`` and ``--build-env`` become build args (over the API, or
as ``--build-arg NAME`` with the value in the tool's environment: never on
a command line), the image is tagged and each tag pushed; the digest of the
pushed manifest is what `paas build` prints, and a failing instruction is
named the same way.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paas.build.buildenv import by_name_env
from paas.build.plan import BuildPlan
from paas.build.tools import OutputLine, ToolRun, docker_host, find_tool, run_tool
from paas.errors import BuildError

TOOLS = ("podman", "buildah", "docker")

_STEP = re.compile(
    r"^(?:\[\d+/\d+\] )?STEP (\d+/\d+): (.*)$|^Step (\d+/\d+) : (.*)$|^#\d+ \[[^\]]*\] (.*)$"
)
_DIGEST = re.compile(r"digest: (sha256:[0-9a-f]{64})")


def find_image_tool(env: Mapping[str, str]) -> tuple[str, str]:
    """Return (name, path) of the first of podman, buildah and docker on the PATH.

    Raises:
        BuildError: none is installed.
    """
    for name in TOOLS:
        path = find_tool(name, env)
        if path:
            return name, path
    raise BuildError(
        "Neither podman, buildah nor docker is installed to build the Dockerfile.",
        "Install one of them (`apt-get install podman`), or build with `--strategy cluster`.",
    )


def build_arguments(tool: str, plan: BuildPlan, context: Path) -> list[str]:
    """The arguments that build `plan`'s Dockerfile in `context` with `tool`.

    Build args are named only (``--build-arg NAME``): the tool takes each
    value from its environment (`build_env()`).
    """
    if plan.dockerfile is None:
        raise ValueError("a Dockerfile build needs a Dockerfile")
    verb = ["bud"] if tool == "buildah" else ["build"]
    args = [*verb, "-f", str(context / plan.dockerfile), "-t", plan.image]
    for key in sorted(plan.env):
        args += ["--build-arg", key]
    if tool != "docker":
        args += ["--layers"] if tool == "buildah" else []
    args.append(str(context))
    return args


def build_env(tool: str, plan: BuildPlan, env: Mapping[str, str]) -> dict[str, str]:
    """The environment of `tool`'s build: `env` with the values of `plan`'s build args.

    Raises:
        BuildError: a build arg is named like a variable the tool itself runs with.
    """
    return {**env, **by_name_env(plan.env, tool=tool)}


def push_arguments(tool: str, plan: BuildPlan, ref: str, digest_file: Path) -> list[str]:
    """The arguments that push `ref` with `tool`, writing the digest to `digest_file`."""
    if tool == "docker":
        return ["push", ref]
    args = ["push", "--digestfile", str(digest_file)]
    if plan.insecure_registry:
        args.append("--tls-verify=false")
    return [*args, ref]


def failed_step(run: ToolRun) -> str | None:
    """The last Dockerfile step the output shows as started, like `3/6: RUN pip install ...`."""
    step = None
    for text in run.tail:
        match = _STEP.match(text.strip())
        if match:
            number = match.group(1) or match.group(3)
            what = match.group(2) or match.group(4) or match.group(5)
            step = f"{number}: {what}" if number else what
    return step


def dockerfile_build(
    plan: BuildPlan, context: Path, *, env: Mapping[str, str], on_line: OutputLine
) -> str:
    """Build the Dockerfile of `plan` in `context`, push every tag; return the digest.

    Through the daemon's API when one answers, else with a CLI (`cli_build`).

    Raises:
        BuildError: no daemon and no tool, a failing step (named), or a failed push.
    """
    client = daemon_client(env)
    if client is not None:
        return daemon_build(plan, context, client=client, env=env, on_line=on_line)
    return cli_build(plan, context, env=env, on_line=on_line)


def cli_build(
    plan: BuildPlan, context: Path, *, env: Mapping[str, str], on_line: OutputLine
) -> str:
    """Build and push with the first of podman, buildah and docker on the PATH (no daemon).

    Raises:
        BuildError: no tool, a failing step (named), or a failed push.
    """
    tool, path = find_image_tool(env)
    run = run_tool(
        [path, *build_arguments(tool, plan, context)],
        env=build_env(tool, plan, env),
        on_line=on_line,
    )
    if run.exit_code != 0:
        step = failed_step(run)
        where = f" at step {step}" if step else ""
        raise BuildError(
            f"The Dockerfile build of `{plan.app}` failed{where}.",
            f"Fix `{plan.dockerfile}` there; the output above shows the error. "
            f"Try it with `{tool} build -f {plan.dockerfile} .`.",
        )
    digest = ""
    for ref in plan.image_tags:
        if ref != plan.image:
            tagged = run_tool([path, "tag", plan.image, ref], env=env, on_line=on_line)
            if tagged.exit_code != 0:
                raise BuildError(
                    f"`{tool} tag {plan.image} {ref}` failed.", "See the output above."
                )
        with tempfile.TemporaryDirectory(prefix="paas-push-") as tmp:
            digest_file = Path(tmp) / "digest"
            pushed = run_tool(
                [path, *push_arguments(tool, plan, ref, digest_file)],
                env=env,
                on_line=on_line,
                keep=True,
            )
            if pushed.exit_code != 0:
                raise BuildError(
                    f"Pushing `{ref}` to `{plan.registry}` failed.",
                    "Check that the registry is up and that you are logged in "
                    "(`podman login`, or `PAAS_REGISTRY_USERNAME`/`PAAS_REGISTRY_PASSWORD`).",
                )
            if not digest:
                if digest_file.is_file():
                    digest = digest_file.read_text().strip()
                else:
                    digest = next(
                        (m.group(1) for t in pushed.lines if (m := _DIGEST.search(t))), ""
                    )
    if not digest.startswith("sha256:"):
        raise BuildError(f"The push of `{plan.image}` reported no digest.", "See the output above.")
    return digest


#: How long one read of the daemon's stream may wait: a RUN step may print nothing for long.
DAEMON_TIMEOUT = 3600


def daemon_client(env: Mapping[str, str]) -> Any | None:
    """A ``docker.APIClient`` for the daemon of `env`, if one answers a ping; else None."""
    host = docker_host(env)
    if host is None:
        return None
    import docker  # the SDK is imported only when a Dockerfile build runs: `paas --help` stays fast
    from docker.errors import DockerException

    try:
        client = docker.APIClient(base_url=host, version="auto", timeout=5)
        client.ping()
    except (DockerException, OSError):
        return None
    client.timeout = DAEMON_TIMEOUT
    return client


@dataclass
class DaemonProgress:
    """The daemon's JSON stream read into output lines, the error and the pushed digest.

    Attributes:
        output: The last lines shown (for naming the failed step).
        error: The daemon's error message, if it sent one.
        digest: The digest of the pushed manifest, once pushed.
    """

    output: ToolRun = field(default_factory=lambda: ToolRun(exit_code=0))
    error: str = ""
    digest: str = ""
    _partial: str = ""

    def read(self, chunk: Mapping[str, Any]) -> list[str]:
        """The lines one chunk of the stream adds (`stream` text may end mid-line)."""
        lines: list[str] = []
        if isinstance(chunk.get("stream"), str):
            text = self._partial + chunk["stream"]
            *complete, self._partial = text.split("\n")
            lines += [line.rstrip("\r") for line in complete]
        if isinstance(chunk.get("status"), str):
            status = chunk["status"]
            digest = _DIGEST.search(status)
            if digest and not self.digest:
                self.digest = digest.group(1)
            progress = chunk.get("progress")
            ident = chunk.get("id")
            # Per-layer byte counters would flood a log; the layer's state is enough.
            if not progress:
                lines.append(f"{ident}: {status}" if ident else status)
        aux = chunk.get("aux")
        if isinstance(aux, Mapping) and isinstance(aux.get("Digest"), str) and not self.digest:
            self.digest = aux["Digest"]
        detail = chunk.get("errorDetail")
        message = detail.get("message") if isinstance(detail, Mapping) else None
        if message or chunk.get("error"):
            self.error = str(message or chunk.get("error")).strip()
            lines.append(f"error: {self.error}")
        for line in lines:
            self.output.tail.append(line)
        return lines

    def flush(self) -> list[str]:
        """The last line, if the stream ended without a newline."""
        rest, self._partial = self._partial, ""
        if rest.strip():
            self.output.tail.append(rest)
            return [rest]
        return []


def read_stream(chunks: Iterable[Mapping[str, Any]], on_line: OutputLine) -> DaemonProgress:
    """Show a build or push stream of the daemon line by line; return what it said."""
    progress = DaemonProgress()
    for chunk in chunks:
        for line in progress.read(chunk):
            on_line(line)
    for line in progress.flush():
        on_line(line)
    return progress


def _split_ref(ref: str) -> tuple[str, str]:
    repository, _, tag = ref.rpartition(":")
    return repository, tag


def _stream(client: Any, call: str, *args: Any, **kwargs: Any) -> Iterator[Mapping[str, Any]]:
    from docker.errors import DockerException

    try:
        yield from getattr(client, call)(*args, **kwargs)
    except (DockerException, OSError) as exc:
        yield {"error": f"the daemon's API failed: {exc}"}


def daemon_build(
    plan: BuildPlan,
    context: Path,
    *,
    client: Any,
    env: Mapping[str, str],
    on_line: OutputLine,
) -> str:
    """Build and push `plan` through the daemon's API (Docker or podman); return the digest.

    A plain-HTTP registry must be one the daemon itself treats as insecure
    (Docker's ``insecure-registries``, podman's registries.conf), as for
    ``docker push``: the API has no per-push switch.

    Raises:
        BuildError: a failing step (named), or a failed push.
    """
    from paas.registry import credentials

    if plan.dockerfile is None:
        raise ValueError("a Dockerfile build needs a Dockerfile")
    built = read_stream(
        _stream(
            client,
            "build",
            path=str(context),
            dockerfile=plan.dockerfile,
            tag=plan.image,
            buildargs=dict(sorted(plan.env.items())),
            rm=True,
            forcerm=True,
            decode=True,
        ),
        on_line,
    )
    if built.error:
        step = failed_step(built.output)
        where = f" at step {step}" if step else ""
        reason = "" if step else f": {built.error}"
        raise BuildError(
            f"The Dockerfile build of `{plan.app}` failed{where}{reason}.",
            f"Fix `{plan.dockerfile}` there; the output above shows the error. "
            f"Try it with `docker build -f {plan.dockerfile} .`.",
        )
    auth = credentials(plan.registry, env)
    auth_config = {"username": auth[0], "password": auth[1]} if auth else None
    digest = ""
    for ref in plan.image_tags:
        repository, tag = _split_ref(ref)
        if ref != plan.image and not client.tag(plan.image, repository, tag):
            raise BuildError(f"Tagging `{plan.image}` as `{ref}` failed.", "See the output above.")
        on_line(f"Pushing {ref}")
        pushed = read_stream(
            _stream(
                client,
                "push",
                repository,
                tag=tag,
                stream=True,
                decode=True,
                auth_config=auth_config,
            ),
            on_line,
        )
        if pushed.error:
            raise BuildError(
                f"Pushing `{ref}` to `{plan.registry}` failed: {pushed.error}",
                "Check that the registry is up and that you are logged in "
                "(`docker login`, or `PAAS_REGISTRY_USERNAME`/`PAAS_REGISTRY_PASSWORD`); "
                "a plain-HTTP registry must be marked insecure in the daemon's own settings.",
            )
        digest = digest or pushed.digest
    if not digest.startswith("sha256:"):
        raise BuildError(f"The push of `{plan.image}` reported no digest.", "See the output above.")
    return digest
