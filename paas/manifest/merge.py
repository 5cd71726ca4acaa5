"""Merging an app's files and what detection found into one `AppSpec`.

Strongest first: paas.yaml, then the Procfile, then app.json, then detection.
`read_app_files()` reads the files (and nothing outside the app directory);
`merge()` is pure and takes a typed `Detection`; `read_app()` does both with
one detection, which is what `paas.project.Project` calls once per command.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from paas.detect.appdir import AppDir
from paas.detect.heroku_yml import HEROKU_YML, read_heroku_yml
from paas.detect.model import Detection
from paas.errors import ManifestError, NothingToBuildError
from paas.manifest.app_json import APP_JSON, AppJson, heroku_size, read_app_json
from paas.manifest.paas_yaml import (
    MANIFEST_FILE,
    BuildSpec,
    Healthcheck,
    Manifest,
    ProcessSpec,
    read_manifest,
)
from paas.manifest.procfile import PROCFILE, ProcfileEntry, parse_procfile
from paas.manifest.spec import DEFAULT_PORT, DEFAULT_SIZE, AppSpec, CronJob, PatchRule, Process
from paas.names import app_name_problem, suggest_app_name
from paas.yaml_places import line_of


@dataclass(frozen=True)
class AppFiles:
    """The app's own files, each read and checked: paas.yaml, the Procfile, app.json.

    Attributes:
        manifest: paas.yaml (empty when there is none).
        node: paas.yaml's YAML node tree, for the line numbers of later errors.
        procfile: The Procfile's entries by process type.
        app_json: app.json (empty when there is none).
        sources: The files that were read, strongest first.
    """

    manifest: Manifest
    node: yaml.Node | None
    procfile: Mapping[str, ProcfileEntry]
    app_json: AppJson
    sources: tuple[str, ...]


def read_app_files(root: Path) -> AppFiles:
    """Read and check paas.yaml, the Procfile and app.json of the app directory `root`.

    Each is read through `AppDir.manifest_text`: nothing outside the app
    directory, no special file, at most 1 MiB of UTF-8.

    Raises:
        ManifestError: a file is invalid; the message names the file and line.
    """
    app = AppDir(root)
    sources: list[str] = []
    manifest, node = Manifest(), None
    if (text := app.manifest_text(MANIFEST_FILE)) is not None:
        manifest, node = read_manifest(text, MANIFEST_FILE)
        sources.append(MANIFEST_FILE)
    procfile: dict[str, ProcfileEntry] = {}
    if (text := app.manifest_text(PROCFILE)) is not None:
        procfile = parse_procfile(text, PROCFILE)
        sources.append(PROCFILE)
    heroku = read_heroku_yml(app)
    if heroku is not None and heroku.run:
        # heroku.yml's `run:` is read like a Procfile; the Procfile wins for a type in both.
        text = "".join(f"{name}: {command}\n" for name, command in heroku.run.items())
        for name, entry in parse_procfile(text, HEROKU_YML).items():
            procfile.setdefault(name, entry)
        sources.append(HEROKU_YML)
    app_json = AppJson()
    if (text := app.manifest_text(APP_JSON)) is not None:
        app_json = read_app_json(text, APP_JSON)
        sources.append(APP_JSON)
    check_build_paths(app, files_node=node, build=manifest.build)
    return AppFiles(manifest, node, procfile, app_json, tuple(sources))


def check_build_paths(app: AppDir, *, files_node: yaml.Node | None, build: BuildSpec) -> None:
    """Refuse a `build.path` or `build.dockerfile` that leads outside the app directory.

    paas.yaml's own check refuses absolute paths and `..`; this one follows
    symlinks, so `build.path: src` with `src -> ..` is refused too (the build
    would send the parent directory, with whatever it holds).

    Raises:
        ManifestError: on the line of `build.path` or `build.dockerfile`.
    """
    for key, rel in (("path", build.path), ("dockerfile", build.dockerfile)):
        if rel is None:
            continue
        full = rel if key == "path" else f"{build.path}/{rel}"
        if not app.inside(full):
            raise ManifestError(
                f"`{rel}` leads outside the app directory through a symlink",
                "Point it at a path inside the app directory; a build gets nothing outside it.",
                file=MANIFEST_FILE,
                line=line_of(files_node, ("build", key)),
                path=f"build.{key}",
            )


def read_app(
    path: Path, *, name: str | None = None, detect_language: bool = True
) -> tuple[AppSpec, Detection | None]:
    """Read an app directory: its files merged into an `AppSpec`, and what detection found.

    Detection runs once, on `build.path`, unless paas.yaml names a Dockerfile.

    Args:
        path: The app directory.
        name: The app name from `--app`; wins over paas.yaml and the directory name.
        detect_language: Insist on a recognisable language (something to build).
            When false (a prebuilt image is deployed) detection still gives the
            defaults where it can, but a directory with nothing to build is fine.

    Raises:
        ManifestError: a file is invalid or the app has no start command.
        DetectError: nothing to build and no Dockerfile (only when detecting).
    """
    from paas.detect import detect

    root = Path(path)
    files = read_app_files(root)
    app_name = check_app_name(name or files.manifest.name or suggest_app_name(root.resolve().name))
    build = files.manifest.build
    dockerfile = build.dockerfile
    if dockerfile is not None and not (root / build.path / dockerfile).is_file():
        raise ManifestError(
            f"`{dockerfile}` does not exist",
            "Fix the path; it is relative to `build.path`.",
            file=MANIFEST_FILE,
            line=line_of(files.node, ("build", "dockerfile")),
            path="build.dockerfile",
        )
    detection: Detection | None = None
    if dockerfile is None:
        try:
            detection = detect(root / build.path)
        except NothingToBuildError:
            # A Procfile or paas.yaml commands are enough to run a prebuilt image, and
            # so is the image's own command; a broken package.json is still an error
            # (DetectError is not caught).
            if files.manifest.processes or files.procfile or not detect_language:
                detection = None
            else:
                raise
    spec = merge(app_name, files, detection, image_has_own_command=not detect_language)
    return spec, detection


def load_app(path: Path, *, name: str | None = None, detect_language: bool = True) -> AppSpec:
    """The `AppSpec` of the app directory `path` (see `read_app`), for callers that need no more."""
    return read_app(path, name=name, detect_language=detect_language)[0]


def check_app_name(name: str) -> str:
    """`name`, if it can be an app name.

    Raises:
        ManifestError: it cannot, with a suggestion.
    """
    if problem := app_name_problem(name):
        suggestion = suggest_app_name(name)
        raise ManifestError(
            f"app name `{name}` {problem}",
            (
                f"Pick another, like `{suggestion}`."
                if suggestion not in (name, "app")
                else "Pick another with `--app`, or set `name:` in paas.yaml."
            ),
        )
    return name


def merge(
    name: str, files: AppFiles, detection: Detection | None, *, image_has_own_command: bool = False
) -> AppSpec:
    """Merge the app's files and what detection found into the decided `AppSpec` (pure).

    Args:
        name: The app name, already checked.
        files: The app's files.
        detection: What detection found in `build.path`; None when paas.yaml names a
            Dockerfile or nothing was recognised.
        image_has_own_command: A prebuilt image is deployed, so `web` may run the
            image's own command.

    Raises:
        ManifestError: a process type has no command, or the app has none at all.
    """
    manifest, node, procfile, app_json = files.manifest, files.node, files.procfile, files.app_json
    dockerfile = manifest.build.dockerfile
    if dockerfile is None and detection is not None and detection.language == "dockerfile":
        dockerfile = detection.evidence[0].file
    processes = _merge_processes(
        name,
        manifest,
        node,
        procfile=procfile,
        app_json=app_json,
        default_web=detection.default_web_command if detection else None,
        image_has_command=dockerfile is not None or image_has_own_command,
    )
    required = tuple(
        k
        for k, v in app_json.env.items()
        if v.required and v.value is None and v.generator is None and k not in manifest.env
    )
    generated = tuple(k for k, v in app_json.env.items() if v.generator == "secret")
    env = {k: v.value for k, v in app_json.env.items() if v.value is not None}
    env.update(manifest.env)

    release_command = manifest.release or (
        procfile["release"].command if "release" in procfile else None
    )
    cron = [
        CronJob(name=c.name, schedule=c.schedule, command=c.command, size=c.size or DEFAULT_SIZE)
        for c in manifest.cron
    ]
    if not cron:
        cron = [
            CronJob(name=f"cron-{i}", schedule=c.schedule, command=c.command, size=DEFAULT_SIZE)
            for i, c in enumerate(app_json.cron, start=1)
        ]
    patches = tuple(
        PatchRule(
            target=p.target,
            merge=p.merge,
            json_ops=p.json_ops,
            place=f"{MANIFEST_FILE}:{line_of(node, ('kubernetes', 'patches', i))}: "
            f"kubernetes.patches[{i}]",
        )
        for i, p in enumerate(manifest.kubernetes.patches)
    )
    return AppSpec(
        name=name,
        processes=processes,
        build=manifest.build,
        release_command=release_command,
        cron=tuple(cron),
        env=env,
        required_env=required,
        generated_env=generated,
        domains=tuple(manifest.domains),
        patches=patches,
        read_only_root=manifest.kubernetes.read_only_root,
        routing=manifest.kubernetes.routing,
        postdeploy=app_json.scripts.postdeploy,
        declared_replicas=tuple(
            n for n, p in manifest.processes.items() if p.replicas is not None and n in processes
        ),
        language=detection.language if detection else ("dockerfile" if dockerfile else None),
        dockerfile=dockerfile,
        sources=files.sources,
    )


def _merge_processes(
    app: str,
    manifest: Manifest,
    node: yaml.Node | None,
    *,
    procfile: Mapping[str, ProcfileEntry],
    app_json: AppJson,
    default_web: str | None,
    image_has_command: bool,
) -> dict[str, Process]:
    names = [n for n in procfile if n != "release"]
    names += [n for n in manifest.processes if n not in names]
    if "web" not in names and (default_web or (image_has_command and not names)):
        names.insert(0, "web")
    if not names:
        raise ManifestError(
            f"app `{app}` has no start command",
            "Add `web:` to the Procfile or `processes.web.command` to paas.yaml.",
        )

    processes: dict[str, Process] = {}
    for name in names:
        spec = manifest.processes.get(name, ProcessSpec())
        formation = app_json.formation.get(name)
        command = spec.command or (procfile[name].command if name in procfile else None)
        if command is None and name == "web":
            command = default_web
        if command is None and not (image_has_command and name == "web"):
            raise ManifestError(
                f"process type `{name}` has no command",
                f"Add `{name}:` to the Procfile or `processes.{name}.command` to paas.yaml.",
                file=MANIFEST_FILE,
                line=line_of(node, ("processes", name)),
                path=f"processes.{name}",
            )
        size = spec.size or (
            heroku_size(formation.size) if formation and formation.size else DEFAULT_SIZE
        )
        replicas = (
            spec.replicas
            if spec.replicas is not None
            else (formation.quantity if formation and formation.quantity is not None else 1)
        )
        healthcheck = spec.healthcheck
        if healthcheck is None:
            healthcheck = Healthcheck(tcp=True) if name == "web" else Healthcheck(disabled=True)
        processes[name] = Process(
            name=name,
            command=command,
            replicas=replicas,
            size=size,
            port=spec.port or DEFAULT_PORT,
            healthcheck=None if healthcheck.disabled else healthcheck,
            autoscale=spec.autoscale,
        )
    return processes
