"""`heroku.yml`: how a Heroku app says it is built, and its `run:` process types.

Heroku builds with buildpacks unless the app is on the container stack, where
``heroku.yml`` names a Dockerfile per process type (``build: docker: web:
Dockerfile``). paas follows that: a Dockerfile beside a language's files is not
used unless ``heroku.yml`` says ``build: docker`` (or paas.yaml names it in
``build.dockerfile``). ``build: languages: [go]`` names the buildpacks to use,
so that language's detector is asked first. ``run:`` is read like a Procfile.

Example:
    spec = read_heroku_yml(AppDir(Path(".")))
    spec.dockerfile, spec.languages, spec.run
    # ('Dockerfile', (), {'web': 'bundle exec puma -C config/puma.rb'})
"""

from __future__ import annotations

from dataclasses import dataclass, field

from paas.detect.appdir import AppDir
from paas.errors import DetectError, ManifestError
from paas.yaml_places import load_yaml

HEROKU_YML = "heroku.yml"

#: heroku.yml's language names (and Heroku's buildpack names) to paas detectors.
LANGUAGES = {
    "python": "python",
    "nodejs": "node",
    "node": "node",
    "go": "go",
    "golang": "go",
    "ruby": "ruby",
    "java": "java",
    "jvm": "java",
    "gradle": "java",
    "php": "php",
    "static": "static",
}


@dataclass(frozen=True)
class HerokuYml:
    """What `heroku.yml` says.

    Attributes:
        dockerfile: The Dockerfile of the ``web`` process (or the only one) under
            ``build: docker:``; None when heroku.yml does not build with Docker.
        languages: The paas languages under ``build: languages:``, in order.
        run: The ``run:`` process types and their commands.
    """

    dockerfile: str | None = None
    languages: tuple[str, ...] = ()
    run: dict[str, str] = field(default_factory=dict)


def _problem(message: str, hint: str) -> DetectError:
    return DetectError(f"{HEROKU_YML}: {message}", hint)


def _command(name: str, value: object) -> str:
    if isinstance(value, dict):
        value = value.get("command")
    if isinstance(value, list) and all(isinstance(part, str) for part in value):
        value = " ".join(value)
    if not isinstance(value, str) or not value.strip():
        raise _problem(
            f"`run: {name}` has no command.",
            f"write it as `{name}: COMMAND` or `{name}: {{command: [COMMAND]}}` under `run:`",
        )
    return value.strip()


def read_heroku_yml(app: AppDir) -> HerokuYml | None:
    """Read `heroku.yml` of the app directory; None when there is none.

    Raises:
        DetectError: heroku.yml is not YAML, or its `build`/`run` are malformed.
        ManifestError: heroku.yml leads outside the app directory, is a special file,
            is larger than 1 MiB or is not UTF-8.
    """
    text = app.manifest_text(HEROKU_YML)
    if text is None:
        return None
    try:
        data, _ = load_yaml(text, HEROKU_YML)
    except ManifestError as exc:
        where = f" at line {exc.line}" if exc.line is not None else ""
        reason = exc.message.split(": ", 1)[-1].removeprefix("cannot parse YAML: ")
        raise _problem(f"invalid YAML{where}: {reason}.", "fix the syntax of heroku.yml") from None
    if data is None:
        return HerokuYml()
    if not isinstance(data, dict):
        raise _problem("the file is not a mapping.", "start it with `build:` or `run:`")
    build = data.get("build") or {}
    if not isinstance(build, dict):
        raise _problem("`build` is not a mapping.", "write `build: docker: web: Dockerfile`")
    dockerfile: str | None = None
    docker = build.get("docker")
    if docker is not None:
        if not isinstance(docker, dict) or not docker:
            raise _problem(
                "`build: docker` names no Dockerfile.", "write `build: docker: web: Dockerfile`"
            )
        chosen = docker.get("web", next(iter(docker.values())))
        if isinstance(chosen, dict):
            chosen = chosen.get("dockerfile")
        if not isinstance(chosen, str) or not chosen.strip():
            raise _problem(
                "`build: docker: web` is not a Dockerfile path.",
                "write `build: docker: web: Dockerfile`",
            )
        dockerfile = chosen.strip().removeprefix("./")
    raw_languages = build.get("languages") or []
    if not isinstance(raw_languages, list):
        raise _problem("`build: languages` is not a list.", "write `languages: [go]`")
    languages: list[str] = []
    for item in raw_languages:
        name = str(item).strip().lower().removeprefix("heroku/")
        if name in LANGUAGES and LANGUAGES[name] not in languages:
            languages.append(LANGUAGES[name])
    run = data.get("run") or {}
    if not isinstance(run, dict):
        raise _problem("`run` is not a mapping.", "write `run: web: COMMAND`")
    commands = {str(name): _command(str(name), value) for name, value in run.items()}
    return HerokuYml(dockerfile=dockerfile, languages=tuple(languages), run=commands)
