"""paas.yaml, Procfile and app.json: valid files, merge rules, and every kind of error."""

from __future__ import annotations

from pathlib import Path

import pytest

from paas.errors import DetectError, ExitCode, ManifestError
from paas.manifest import load_app, parse_procfile, read_app_json, read_manifest


def write(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def error_of(tmp_path: Path, files: dict[str, str]) -> str:
    with pytest.raises(ManifestError) as caught:
        load_app(write(tmp_path, files))
    assert caught.value.exit_code == ExitCode.MANIFEST
    return str(caught.value)


FULL = """\
name: hello
build:
  path: .
  builder: paas/builder
  buildpacks: []
  env: {PIP_INDEX_URL: "https://pypi.example.com"}
processes:
  web:
    command: gunicorn app:app
    replicas: 2
    size: small
    port: 8080
    healthcheck: /healthz
    autoscale: {min: 2, max: 10, cpu: 70}
  worker:
    command: python worker.py
release: python manage.py migrate
cron:
  - {name: nightly, schedule: "0 3 * * *", command: python cleanup.py}
env: {LOG_LEVEL: info}
domains: [hello.example.com]
kubernetes:
  patches:
    - target: {kind: Deployment, process: web}
      merge: {spec: {template: {spec: {nodeSelector: {pool: web}}}}}
    - target: {kind: Ingress}
      json: [{op: add, path: /metadata/annotations/x, value: y}]
"""


def test_the_product_example_manifest_is_valid(tmp_path: Path) -> None:
    app = load_app(write(tmp_path, {"paas.yaml": FULL}))
    assert app.name == "hello"
    assert list(app.processes) == ["web", "worker"]
    web = app.processes["web"]
    assert (web.command, web.replicas, web.size, web.port) == ("gunicorn app:app", 2, "small", 8080)
    assert web.healthcheck is not None
    assert web.healthcheck.path == "/healthz"
    assert web.autoscale is not None
    assert (web.autoscale.min, web.autoscale.max, web.autoscale.cpu) == (2, 10, 70)
    assert app.processes["worker"].healthcheck is None
    assert app.release_command == "python manage.py migrate"
    assert [(c.name, c.schedule) for c in app.cron] == [("nightly", "0 3 * * *")]
    assert app.env == {"LOG_LEVEL": "info"}
    assert app.domains == ("hello.example.com",)
    assert [p.place for p in app.patches] == [
        "paas.yaml:24: kubernetes.patches[0]",
        "paas.yaml:26: kubernetes.patches[1]",
    ]
    assert app.build.env == {"PIP_INDEX_URL": "https://pypi.example.com"}
    assert app.sources == ("paas.yaml",)


def test_paas_yaml_wins_over_procfile_which_wins_over_app_json_and_detection(
    tmp_path: Path,
) -> None:
    app = load_app(
        write(
            tmp_path,
            {
                "requirements.txt": "flask\n",
                "app.py": "from flask import Flask\napp = Flask(__name__)\n",
                "Procfile": "web: gunicorn app:app --workers 4\nworker: python worker.py\n"
                "release: ./migrate\n",
                "app.json": '{"formation": {"web": {"quantity": 3, "size": "standard-2x"},'
                ' "worker": {"quantity": 2}}, "env": {"A": "from-app-json", "B": "b"}}',
                "paas.yaml": "processes:\n  worker: {command: python other.py, replicas: 5}\n"
                "env: {A: from-paas-yaml}\n",
            },
        )
    )
    web, worker = app.processes["web"], app.processes["worker"]
    assert web.command == "gunicorn app:app --workers 4"  # Procfile over detection
    assert (web.replicas, web.size) == (3, "large")  # app.json formation, Heroku size mapped
    assert (worker.command, worker.replicas) == ("python other.py", 5)  # paas.yaml over all
    assert app.release_command == "./migrate"
    assert app.env == {"A": "from-paas-yaml", "B": "b"}
    assert app.sources == ("paas.yaml", "Procfile", "app.json")
    assert app.language == "python"


def test_detection_gives_the_web_command_when_nothing_else_does(tmp_path: Path) -> None:
    app = load_app(
        write(
            tmp_path,
            {
                "requirements.txt": "flask\ngunicorn\n",
                "app.py": "from flask import Flask\napp = Flask(__name__)\n",
            },
        )
    )
    assert app.processes["web"].command is not None
    assert "app:app" in app.processes["web"].command
    assert app.processes["web"].healthcheck is not None
    assert app.processes["web"].healthcheck.tcp  # default: TCP readiness on the port


def test_app_name_defaults_to_the_directory_name_made_valid(tmp_path: Path) -> None:
    app_dir = tmp_path / "My_Shop.v2"
    write(app_dir, {"Procfile": "web: ./run\n"})
    assert load_app(app_dir).name == "my-shop-v2"
    assert load_app(app_dir, name="override").name == "override"


def test_app_json_env_required_generated_and_postdeploy(tmp_path: Path) -> None:
    app = load_app(
        write(
            tmp_path,
            {
                "Procfile": "web: ./run\n",
                "app.json": '{"env": {"SECRET_KEY": {"generator": "secret"}, "TOKEN": {"required": true},'
                ' "OPTIONAL": {"required": false}, "PORTS": 3, "DEBUG": true},'
                ' "scripts": {"postdeploy": "./seed"},'
                ' "cron": [{"command": "./tick", "schedule": "*/5 * * * *"}]}',
            },
        )
    )
    assert app.required_env == ("TOKEN",)
    assert app.generated_env == ("SECRET_KEY",)
    assert app.env == {"PORTS": "3", "DEBUG": "true"}
    assert app.postdeploy == "./seed"
    assert [(c.name, c.command) for c in app.cron] == [("cron-1", "./tick")]


def test_env_values_may_be_numbers_and_booleans(tmp_path: Path) -> None:
    app = load_app(
        write(
            tmp_path,
            {
                "paas.yaml": "processes: {web: {command: x}}\n"
                "env: {WORKERS: 4, DEBUG: false, RATIO: 0.5}\n"
            },
        )
    )
    assert app.env == {"WORKERS": "4", "DEBUG": "false", "RATIO": "0.5"}


def test_healthcheck_forms(tmp_path: Path) -> None:
    app = load_app(
        write(
            tmp_path,
            {
                "paas.yaml": """\
processes:
  web: {command: a, healthcheck: {path: /up, timeout: 2, period: 4}}
  tcp: {command: b, healthcheck: {tcp: true}}
  quiet: {command: c, healthcheck: none}
  off2: {command: d, healthcheck: false}
"""
            },
        )
    )
    web = app.processes["web"].healthcheck
    assert web is not None
    assert (web.path, web.timeout, web.period) == ("/up", 2, 4)
    tcp = app.processes["tcp"].healthcheck
    assert tcp is not None
    assert tcp.tcp
    assert app.processes["quiet"].healthcheck is None
    assert app.processes["off2"].healthcheck is None


def test_dockerfile_app_web_uses_the_image_command(tmp_path: Path) -> None:
    app = load_app(write(tmp_path, {"Dockerfile": "FROM scratch\n"}))
    assert app.dockerfile == "Dockerfile"
    assert app.processes["web"].command is None


def test_build_dockerfile_in_paas_yaml_skips_detection(tmp_path: Path) -> None:
    app = load_app(
        write(
            tmp_path,
            {
                "docker/app.Dockerfile": "FROM scratch\n",
                "package.json": "{}",
                "paas.yaml": "build: {dockerfile: docker/app.Dockerfile}\n",
            },
        )
    )
    assert app.dockerfile == "docker/app.Dockerfile"
    assert app.language == "dockerfile"


# ---- errors: each a one-sentence message with the place and the fix


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "name: hello\nprocesses:\n  web:\n    command: x\n    port: eighty\n",
            "paas.yaml:5: processes.web.port: must be an integer",
        ),
        (
            "name: hello\nprocesses:\n  web:\n    comand: x\n",
            "paas.yaml:4: processes.web.comand: unknown key `comand` Did you mean `command`?",
        ),
        ("nmae: hello\n", "paas.yaml:1: nmae: unknown key `nmae` Did you mean `name`?"),
        (
            "name: Hello_World\n",
            "paas.yaml:1: name: `Hello_World` must be lowercase letters, digits and dashes, start with "
            "a letter and not end with a dash",
        ),
        (
            "name: " + "a" * 41 + "\n",
            "paas.yaml:1: name: `" + "a" * 41 + "` must be at most 40 characters (it has 41)",
        ),
        (
            "processes:\n  web:\n    command: x\n    size: huge\n",
            "paas.yaml:4: processes.web.size: must be one of 'nano', 'small', 'medium', 'large' or "
            "'xlarge'",
        ),
        (
            "processes:\n  web:\n    command: x\n    replicas: -1\n",
            "paas.yaml:4: processes.web.replicas: must be greater than or equal to 0",
        ),
        (
            "processes:\n  web:\n    command: x\n    autoscale: {min: 5, max: 2}\n",
            "paas.yaml:4: processes.web.autoscale: min (5) must not be greater than max (2)",
        ),
        (
            "processes:\n  web:\n    command: x\n    healthcheck: healthz\n",
            "paas.yaml:4: processes.web.healthcheck: path `healthz` must start with `/`",
        ),
        (
            "processes:\n  Web_1:\n    command: x\n",
            "paas.yaml:2: processes.Web_1: process type `Web_1` must be lowercase letters, digits and dashes, "
            "start with a letter and not end with a dash",
        ),
        (
            "cron:\n  - {name: x, schedule: every day, command: y}\nprocesses: {web: {command: z}}\n",
            "paas.yaml:2: cron[0].schedule: `every day` is not a cron schedule; write five fields like "
            "`0 3 * * *` or a macro like `@daily`",
        ),
        (
            "domains: [not a host]\nprocesses: {web: {command: z}}\n",
            "paas.yaml:1: domains: `not a host` is not a host name like `www.example.com`",
        ),
        (
            "env: {1BAD: x}\nprocesses: {web: {command: z}}\n",
            "paas.yaml:1: env: `1BAD` is not an environment variable name (letters, digits and `_`, "
            "not starting with a digit)",
        ),
        (
            "kubernetes:\n  patches:\n    - target: {kind: Ingress}\n",
            "paas.yaml:3: kubernetes.patches[0]: set exactly one of `merge` or `json`",
        ),
        (
            "- just\n- a list\n",
            "paas.yaml:1: must be a mapping of keys like `name:` and `processes:`",
        ),
        (
            "name: a\nname: b\n",
            "paas.yaml:2: key `name` appears twice (first on line 1) Keep one of the two.",
        ),
    ],
)
def test_manifest_errors_name_file_line_and_path(tmp_path: Path, text: str, expected: str) -> None:
    assert error_of(tmp_path, {"paas.yaml": text}) == expected


def test_malformed_yaml(tmp_path: Path) -> None:
    message = error_of(tmp_path, {"paas.yaml": "name: hello\nprocesses:\n  web: [unclosed\n"})
    assert message.startswith("paas.yaml:4: cannot parse YAML: ")
    assert message.endswith("Check the indentation and quoting on that line.")


def test_several_errors_are_counted(tmp_path: Path) -> None:
    message = error_of(tmp_path, {"paas.yaml": "processes:\n  web: {port: x, replicas: y}\n"})
    assert message.endswith("(1 more problem after this one.)")


def test_empty_procfile(tmp_path: Path) -> None:
    assert error_of(tmp_path, {"Procfile": "# nothing yet\n\n"}) == (
        "Procfile: the Procfile defines no process types Add a line like `web: gunicorn app:app`,"
        " or delete the empty file."
    )


def test_procfile_with_a_duplicate_type(tmp_path: Path) -> None:
    assert error_of(tmp_path, {"Procfile": "web: a\nworker: b\nweb: c\n"}) == (
        "Procfile:3: process type `web` is defined twice (first on line 1) Keep one of the two "
        "lines."
    )


def test_procfile_bad_line_and_empty_command() -> None:
    with pytest.raises(ManifestError, match=r"^Procfile:2: the line is not `type: command`"):
        parse_procfile("web: ok\nthis is not a process\n")
    with pytest.raises(ManifestError, match=r"^Procfile:1: process type `web` has no command"):
        parse_procfile("web:\n")


def test_procfile_parses_comments_and_spacing() -> None:
    entries = parse_procfile("# comment\nweb:    gunicorn app:app  \n\nworker:python w.py\n")
    assert {k: (v.command, v.line) for k, v in entries.items()} == {
        "web": ("gunicorn app:app", 2),
        "worker": ("python w.py", 4),
    }


def test_app_json_errors() -> None:
    with pytest.raises(ManifestError) as caught:
        read_app_json('{\n  "env": {\n    "A": 1,\n  }\n}')
    assert str(caught.value).startswith("app.json:4: cannot parse JSON: ")
    with pytest.raises(ManifestError) as caught:
        read_app_json('{\n  "formation": {\n    "web": {"size": "gigantic"}\n  }\n}')
    assert str(caught.value).startswith(
        "app.json:3: formation.web.size: `gigantic` is not a dyno size"
    )
    with pytest.raises(ManifestError, match=r"unknown key `scirpts` Did you mean `scripts`\?"):
        read_app_json('{"scirpts": {}}')


def test_no_language_no_dockerfile_no_procfile(tmp_path: Path) -> None:
    write(tmp_path, {"README.md": "hi\n"})
    with pytest.raises(DetectError) as caught:
        load_app(tmp_path)
    assert caught.value.exit_code == ExitCode.DETECT


def test_a_process_without_command(tmp_path: Path) -> None:
    assert error_of(tmp_path, {"paas.yaml": "processes:\n  web: {command: a}\n  worker: {}\n"}) == (
        "paas.yaml:3: processes.worker: process type `worker` has no command Add `worker:` to "
        "the Procfile or `processes.worker.command` to paas.yaml."
    )


def test_invalid_app_name_from_the_command_line(tmp_path: Path) -> None:
    write(tmp_path, {"Procfile": "web: x\n"})
    with pytest.raises(ManifestError) as caught:
        load_app(tmp_path, name="kube-system")
    assert str(caught.value) == (
        "app name `kube-system` is reserved by Kubernetes or paas Pick "
        "another with `--app`, or set `name:` in paas.yaml."
    )


def test_a_yaml_boolean_key_is_explained(tmp_path: Path) -> None:
    assert error_of(tmp_path, {"paas.yaml": "processes:\n  off: {command: x}\n"}) == (
        "paas.yaml:1: processes: key `off` is read by YAML as a boolean, not as text Put the key "
        "in quotes."
    )


def test_read_manifest_returns_the_model() -> None:
    manifest, _ = read_manifest("name: x\n")
    assert manifest.name == "x"


def test_a_broken_package_json_is_an_error_even_with_a_procfile(tmp_path: Path) -> None:
    write(tmp_path, {"Procfile": "web: node index.js\n", "package.json": '{\n  "name": \n}\n'})
    with pytest.raises(DetectError, match=r"^package.json:3: "):
        load_app(tmp_path)


def test_a_procfile_alone_is_enough_without_a_language(tmp_path: Path) -> None:
    app = load_app(write(tmp_path, {"Procfile": "web: ./server\n"}))
    assert app.language is None
    assert app.processes["web"].command == "./server"


def test_env_values_stay_as_written(tmp_path: Path) -> None:
    app = load_app(
        write(
            tmp_path,
            {
                "paas.yaml": "processes: {web: {command: x}}\n"
                "env: {PYTHON: 3.10, FLAG: yes, NOPE: NO, N: 007, Q: '3.10'}\n"
                "build: {env: {NODE: 20.10}}\n"
            },
        )
    )
    assert app.env == {"PYTHON": "3.10", "FLAG": "yes", "NOPE": "NO", "N": "007", "Q": "3.10"}
    assert app.build.env == {"NODE": "20.10"}


def test_heroku_dyno_sizes_never_give_less_memory() -> None:
    from paas.manifest import HEROKU_SIZES
    from paas.render.sizes import SIZE_TABLE

    dyno_memory_mib = {"eco": 512, "basic": 512, "standard-1x": 512, "standard-2x": 1024}
    for dyno, mib in dyno_memory_mib.items():
        memory = SIZE_TABLE[HEROKU_SIZES[dyno]].memory
        given = int(memory[:-2]) * (1024 if memory.endswith("Gi") else 1)
        assert given >= mib, dyno


@pytest.mark.parametrize(
    ("domain", "reason"),
    [
        ("10.0.0.1", "`10.0.0.1` is an IP address, not a domain name"),
        ("intranet", "`intranet` is not a fully qualified domain name"),
    ],
)
def test_paas_yaml_domains_follow_the_rules_of_domains_add(domain: str, reason: str) -> None:
    with pytest.raises(ManifestError) as caught:
        read_manifest(f"processes: {{web: {{command: ./w}}}}\ndomains: [{domain}]\n")
    assert caught.value.exit_code == ExitCode.MANIFEST
    assert caught.value.message == f"paas.yaml:2: domains: {reason}"


def test_a_trailing_newline_does_not_pass_the_name_rules() -> None:
    from paas.names import app_name_problem

    assert app_name_problem("shop\n") == (
        "must be lowercase letters, digits and dashes, start with a letter and not end with a dash"
    )
    with pytest.raises(ManifestError, match=r"is not a host name"):
        read_manifest('processes: {web: {command: ./w}}\ndomains: ["www.example.com\\n"]\n')
