"""`paas builder create`: the paas builder image, built offline from `buildpacks/`.

Steps, each named in errors:

1. ``base images``: the run and build images from ``buildpacks/images/Containerfile``
   on the Debian base (made with debootstrap), with podman or docker and
   ``--pull=never``. CPython is compiled into the build image here.
2. ``stage buildpacks``: each buildpack gets a copy of ``lib/``; the lifecycle
   tarball (a local file, never downloaded) goes beside ``builder.toml``.
3. ``pack builder create`` with ``--pull-policy never``.
4. ``push``: the run image (apps' images are layered on it in the registry)
   and the builder go to the registry.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from paas.build.tools import OutputLine, docker_host, find_tool, run_tool
from paas.errors import BuildError

BUILDPACKS = ("python", "nodejs", "go", "ruby", "java", "php", "static", "procfile")
DEFAULT_BASE_IMAGE = "localhost/debian:bookworm"
DEFAULT_TAG = "bookworm"


def buildpacks_dir() -> Path:
    """The `buildpacks/` directory: beside the package in a checkout, inside it when installed."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here.parent / "buildpacks", here / "buildpacks"):
        if (candidate / "builder.toml").is_file():
            return candidate
    raise BuildError(
        "The `buildpacks/` directory of paas was not found.",
        "Run `paas builder create` from a checkout of paas.",
    )


@dataclass(frozen=True)
class BuilderImages:
    """The names of the images `paas builder create` makes.

    Attributes:
        build: The build base image.
        run: The run base image (apps' images are layered on it).
        builder: The builder.
        runtimes: The runtime versions in the build image, by language.
    """

    build: str
    run: str
    builder: str
    runtimes: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def for_registry(cls, registry: str, tag: str = DEFAULT_TAG) -> BuilderImages:
        """The names under `registry`: ``paas/build``, ``paas/run``, ``paas/builder``."""
        return cls(
            build=f"{registry}/paas/build:{tag}",
            run=f"{registry}/paas/run:{tag}",
            builder=f"{registry}/paas/builder:latest",
        )

    def to_dict(self) -> dict[str, object]:
        """A JSON-friendly view."""
        return {
            "build": self.build,
            "run": self.run,
            "builder": self.builder,
            "runtimes": {language: list(versions) for language, versions in self.runtimes},
        }


def staged_builder_toml(text: str, images: BuilderImages, lifecycle_uri: str) -> str:
    """Return `builder.toml` with the image names and the lifecycle URI of this builder."""
    text = re.sub(
        r'(\[build\]\s*\n\s*image\s*=\s*)"[^"]*"', lambda m: f'{m.group(1)}"{images.build}"', text
    )
    text = re.sub(
        r'(\[\[run\.images\]\]\s*\n\s*image\s*=\s*)"[^"]*"',
        lambda m: f'{m.group(1)}"{images.run}"',
        text,
    )
    return re.sub(
        r'(\[lifecycle\]\s*\n\s*uri\s*=\s*)"[^"]*"',
        lambda m: f'{m.group(1)}"{lifecycle_uri}"',
        text,
    )


def stage_buildpacks(source: Path, dest: Path, images: BuilderImages, lifecycle: Path) -> Path:
    """Copy the buildpacks into `dest` ready for pack; return the staged builder.toml."""
    for name in BUILDPACKS:
        target = dest / name
        shutil.copytree(source / name, target, ignore=shutil.ignore_patterns("server"))
        shutil.copytree(source / "lib", target / "lib")
    shutil.copy2(lifecycle, dest / "lifecycle.tgz")
    toml = dest / "builder.toml"
    toml.write_text(
        staged_builder_toml(
            (source / "builder.toml").read_text(), images, (dest / "lifecycle.tgz").as_uri()
        )
    )
    return toml


# Printed by the build image: one `LANGUAGE VERSION` line per runtime it carries.
RUNTIMES_SCRIPT = """
for d in /opt/paas/python/* /opt/paas/ruby/*; do [ -d "$d" ] && echo "${d%/*}" "${d##*/}"; done
sed -n 's/^JAVA_VERSION="\\(.*\\)"$/java \\1/p' /usr/lib/jvm/*/release 2>/dev/null
command -v php >/dev/null && php -r 'echo "php ", PHP_VERSION, "\\n";'
true
"""
LANGUAGE_NAMES = {"python": "Python", "ruby": "Ruby", "java": "Java", "php": "PHP"}


def parse_runtimes(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The runtimes from the output of `RUNTIMES_SCRIPT`, by language, versions sorted."""
    found: dict[str, set[str]] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 2:
            continue
        language = parts[0].rsplit("/", 1)[-1]
        if language in LANGUAGE_NAMES:
            found.setdefault(language, set()).add(parts[1])

    def key(version: str) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", version))

    return tuple(
        (language, tuple(sorted(found[language], key=key)))
        for language in LANGUAGE_NAMES
        if language in found
    )


def runtimes_line(runtimes: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    """One line for the user: what the builder carries and what builds fetch."""
    carried = "; ".join(
        f"{LANGUAGE_NAMES[language]} {', '.join(versions)}" for language, versions in runtimes
    )
    return (
        f"-----> Runtimes in the builder: {carried}. Node.js and Go are fetched by each "
        "build at the version the app asks for (Node.js wheels from the Python package "
        "index, Go toolchains from the Go module proxy)."
    )


def _check(run_exit: int, step: str, hint: str) -> None:
    if run_exit != 0:
        raise BuildError(f"`paas builder create` failed in step `{step}`.", hint)


def create_builder(
    *,
    registry: str,
    lifecycle: Path,
    env: Mapping[str, str],
    on_line: OutputLine,
    base_image: str = DEFAULT_BASE_IMAGE,
    tag: str = DEFAULT_TAG,
    ca_file: Path | None = None,
    insecure_registry: bool = False,
    push: bool = True,
) -> BuilderImages:
    """Build the base images and the builder, and push them to `registry`.

    Raises:
        BuildError: a tool is missing or a step failed (named in the message).
    """
    source = buildpacks_dir()
    images = BuilderImages.for_registry(registry, tag)
    if not lifecycle.is_file():
        raise BuildError(
            f"The lifecycle tarball `{lifecycle}` does not exist.",
            "Pass `--lifecycle PATH` (or set `PAAS_LIFECYCLE_TGZ`); "
            "`hack/testbed up` builds one from the Go module proxy.",
        )
    tool = find_tool("podman", env) or find_tool("docker", env)
    if tool is None:
        raise BuildError(
            "Neither podman nor docker is installed to build the base images.",
            "Install podman (`apt-get install podman`).",
        )
    pack = find_tool("pack", env, env_var="PAAS_PACK")
    if pack is None:
        raise BuildError(
            "`pack` is not installed; the builder is made with `pack builder create`.",
            "Install pack v0.39 (`hack/testbed up` builds one) or set `PAAS_PACK`.",
        )
    host = docker_host(env)
    if host is None:
        raise BuildError(
            "No Docker-compatible daemon was found for pack.",
            "Start one (`podman system service --time=0 unix:///run/podman/podman.sock &`) "
            "and set `DOCKER_HOST`.",
        )
    with tempfile.TemporaryDirectory(prefix="paas-builder-") as tmp:
        context = Path(tmp) / "images"
        shutil.copytree(source / "images", context)
        shutil.copytree(source / "static" / "server", context / "static-server")
        extra_ca = context / "extra-ca.crt"
        extra_ca.write_bytes(ca_file.read_bytes() if ca_file else b"")
        for target, ref in (("run", images.run), ("build", images.build)):
            on_line(f"-----> {target} image {ref}")
            run = run_tool(
                [
                    tool,
                    "build",
                    "--pull=never",
                    "--target",
                    target,
                    "--build-arg",
                    f"BASE_IMAGE={base_image}",
                    "-t",
                    ref,
                    str(context),
                ],
                env=env,
                on_line=on_line,
            )
            _check(
                run.exit_code,
                f"base images: {target}",
                f"Check that `{base_image}` exists (`hack/testbed up` imports it) "
                "and see the output above.",
            )
        listed = run_tool(
            [tool, "run", "--rm", "--user", "1000:1000", images.build, "sh", "-c", RUNTIMES_SCRIPT],
            env=env,
            on_line=lambda _line: None,
            keep=True,
        )
        _check(listed.exit_code, "base images: list runtimes", "See the output above.")
        images = replace(images, runtimes=parse_runtimes("\n".join(listed.lines)))
        on_line(runtimes_line(images.runtimes))
        staged = Path(tmp) / "builder"
        staged.mkdir()
        toml = stage_buildpacks(source, staged, images, lifecycle)
        on_line(f"-----> pack builder create {images.builder}")
        run = run_tool(
            [
                pack,
                "builder",
                "create",
                images.builder,
                "--config",
                str(toml),
                "--pull-policy",
                "never",
            ],
            env={**env, "DOCKER_HOST": host},
            on_line=on_line,
        )
        _check(run.exit_code, "pack builder create", "See the output above.")
    if push:
        for ref in (images.run, images.builder):
            on_line(f"-----> push {ref}")
            args = [tool, "push"]
            if insecure_registry and tool.endswith("podman"):
                args.append("--tls-verify=false")
            run = run_tool([*args, ref], env=env, on_line=on_line)
            _check(
                run.exit_code,
                f"push {ref}",
                f"Check that the registry `{registry}` is up and that you may push to it.",
            )
    return images
