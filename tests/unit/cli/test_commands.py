"""Each command run the way a user runs it: a real process, its full output and exit code."""

from __future__ import annotations

import json
import shutil
from functools import partial
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from unit_helpers import NO_CLUSTER, ROOT, run_paas

from paas import __version__
from paas.cli import expand_aliases

TEMPLATES = ROOT / "templates"
FIXTURES = ROOT / "tests" / "fixtures" / "apps"


# No cluster: these commands work offline, and say that they use the local defaults (NO_CLUSTER).
paas = partial(run_paas, columns=100)


def test_version() -> None:
    result = paas("version")
    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == f"paas:   {__version__}"
    as_json = json.loads(paas("version", "--json").stdout)
    assert as_json["paas"] == __version__


def test_help_lists_every_command() -> None:
    result = paas("--help")
    assert result.returncode == 0
    for command in ("version", "detect", "init", "render", "eject"):
        assert f"\n  {command} " in result.stdout


def test_no_arguments_shows_help_and_fails_as_usage() -> None:
    result = paas()
    assert result.returncode == 2
    assert "Usage: paas" in result.stdout + result.stderr


def test_heroku_topic_verb_alias_is_split() -> None:
    assert expand_aliases(["config:set", "A=1"]) == ["config", "set", "A=1"]
    assert expand_aliases(["--debug", "apps:info", "-a", "x"]) == [
        "--debug",
        "apps",
        "info",
        "-a",
        "x",
    ]
    assert expand_aliases(["render", "a:b"]) == ["render", "a:b"]
    result = paas("config:set", "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: paas config set [OPTIONS]")


def test_detect_prints_the_decision_and_evidence() -> None:
    result = paas("detect", FIXTURES / "python-getting-started")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"=== Detected python in {FIXTURES / 'python-getting-started'}"
    assert "language:        python" in lines
    assert any(line.startswith("evidence:") and "requirements.txt" in line for line in lines)
    data = json.loads(paas("detect", FIXTURES / "python-getting-started", "--json").stdout)
    assert data["language"] == "python"


def test_detect_nothing_is_a_detect_error() -> None:
    result = paas("detect", FIXTURES / "empty")
    assert result.returncode == 4
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert "\nhint: " in result.stderr


def test_render_prints_valid_objects(tmp_path: Path) -> None:
    result = paas("render", TEMPLATES / "python-flask")
    assert result.returncode == 0, result.stderr
    objects = list(yaml.safe_load_all(result.stdout))
    assert [o["kind"] for o in objects] == [
        "Namespace",
        "ServiceAccount",
        "Secret",
        "Deployment",
        "Service",
        "Ingress",
    ]
    assert result.stderr == NO_CLUSTER + (
        "No image yet: showing `localhost:5000/python-flask:pending`; "
        "`paas push` deploys the built image by digest.\n"
    )
    as_json = json.loads(paas("render", TEMPLATES / "python-flask", "--json").stdout)
    assert as_json["items"] == objects


def test_render_with_image_and_settings(tmp_path: Path) -> None:
    settings = tmp_path / "settings.yaml"
    settings.write_text(
        "domain: apps.example.com\nregistry: r.example.com\ntls: {mode: cert-manager, issuer: le}\n"
    )
    image = "r.example.com/web@sha256:" + "f" * 64
    result = paas(
        "render",
        TEMPLATES / "go-http",
        "--app",
        "web",
        "--image",
        image,
        "--settings",
        settings,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    objects = {o["kind"]: o for o in yaml.safe_load_all(result.stdout)}
    deployment = objects["Deployment"]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == image
    assert deployment["metadata"]["labels"]["paas.dev/release"] == "v1"
    assert objects["Ingress"]["spec"]["rules"][0]["host"] == "web.apps.example.com"
    assert objects["Ingress"]["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "le"}


@pytest.mark.parametrize(
    ("files", "code", "stderr"),
    [
        (
            {"paas.yaml": "name: x\nprocesses:\n  web:\n    port: [1\n"},
            3,
            "error: paas.yaml:5: cannot parse YAML: expected ',' or ']', but got '<stream end>'\n"
            "hint: Check the indentation and quoting on that line.\n",
        ),
        (
            {"paas.yaml": "name: x\nprocesses:\n  web:\n    comand: ./run\n"},
            3,
            "error: paas.yaml:4: processes.web.comand: unknown key `comand`\n"
            "hint: Did you mean `command`?\n",
        ),
        (
            {"Procfile": "\n# empty\n"},
            3,
            "error: Procfile: the Procfile defines no process types\n"
            "hint: Add a line like `web: gunicorn app:app`, or delete the empty file.\n",
        ),
        (
            {"Procfile": "web: a\nweb: b\n"},
            3,
            "error: Procfile:2: process type `web` is defined twice (first on line 1)\n"
            "hint: Keep one of the two lines.\n",
        ),
        (
            {"paas.yaml": "name: Bad_Name\n"},
            3,
            "error: paas.yaml:1: name: `Bad_Name` must be lowercase letters, digits and dashes, start "
            "with a letter and not end with a dash\n",
        ),
        (
            {
                "paas.yaml": "processes: {web: {command: x}}\nkubernetes:\n  patches:\n"
                "    - {target: {kind: CronJob}, merge: {spec: {suspend: true}}}\n"
            },
            5,
            None,
        ),
        ({"README.md": "nothing to run\n"}, 4, None),
    ],
)
def test_bad_input_is_one_clear_error_with_a_distinct_code_and_nothing_written(
    tmp_path: Path, files: dict[str, str], code: int, stderr: str | None
) -> None:
    app = tmp_path / "app"
    app.mkdir()
    for name, text in files.items():
        (app / name).write_text(text)
    out = tmp_path / "out"
    for command in (["render", app], ["eject", app, "--out", out]):
        result = paas(*command)
        assert result.returncode == code, result.stderr
        assert result.stdout == ""
        assert "Traceback" not in result.stderr
        assert result.stderr.startswith(NO_CLUSTER)
        error = result.stderr.removeprefix(NO_CLUSTER)
        if stderr is not None:
            assert error == stderr
        else:
            assert error.startswith("error: ")
            assert "\nhint: " in error
        assert not out.exists()


def test_patch_matching_nothing_names_the_place(tmp_path: Path) -> None:
    (tmp_path / "paas.yaml").write_text(
        "name: p\nprocesses: {web: {command: x}}\nkubernetes:\n  patches:\n"
        "    - {target: {kind: CronJob}, merge: {spec: {suspend: true}}}\n"
    )
    result = paas("render", tmp_path)
    assert result.returncode == 5
    assert result.stderr.removeprefix(NO_CLUSTER).startswith(
        "error: paas.yaml:5: kubernetes.patches[0]: target {kind: CronJob} matches no object\n"
        "hint: Fix the target; the objects are: Namespace/p, ServiceAccount/p, "
        "Secret/p-config-v1, Deployment/p-web, Service/p-web, Ingress/p.\n"
    )


def test_eject_writes_a_loadable_kustomization(tmp_path: Path) -> None:
    out = tmp_path / "k8s"
    image = "localhost:5000/ww@sha256:" + "a" * 64
    result = paas("eject", TEMPLATES / "web-worker", "--out", out, "--app", "ww", "--image", image)
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        NO_CLUSTER + f"Wrote 8 files to `{out}`; deploy with `kubectl apply -k {out}`.\n"
    )
    kustomization = yaml.safe_load((out / "kustomization.yaml").read_text())
    assert kustomization["kind"] == "Kustomization"
    files = sorted(p.name for p in out.iterdir())
    assert sorted([*kustomization["resources"], "kustomization.yaml"]) == files
    for name in kustomization["resources"]:
        (obj,) = list(yaml.safe_load_all((out / name).read_text()))
        kubernetes_validate.validate(obj, "1.33.0", strict=True)
    again = paas("eject", TEMPLATES / "web-worker", "--out", out)
    assert again.returncode == 2
    assert again.stderr == NO_CLUSTER + (
        f"error: `{out}` is not empty\nhint: Choose an empty or new "
        "directory, or pass `--force` to overwrite.\n"
    )


def test_init_writes_a_manifest_that_loads_back(tmp_path: Path) -> None:
    app = tmp_path / "gettingstarted"
    shutil.copytree(FIXTURES / "python-getting-started", app)
    (app / "paas.yaml").unlink(missing_ok=True)
    result = paas("init", app)
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        f"Wrote `{app / 'paas.yaml'}` for app `gettingstarted`; check it, then run `paas push`.\n"
    )
    text = (app / "paas.yaml").read_text()
    assert text.startswith("# paas.yaml: how paas builds and runs this app.")
    rendered = paas("render", app)
    assert rendered.returncode == 0, rendered.stderr
    again = paas("init", app)
    assert again.returncode == 2
    assert "already exists" in again.stderr


def test_init_from_a_template(tmp_path: Path) -> None:
    target = tmp_path / "myshop"
    result = paas("init", "--template", "node-express", target)
    assert result.returncode == 0, result.stderr
    assert (target / "package.json").is_file()
    assert yaml.safe_load((target / "paas.yaml").read_text())["name"] == "myshop"
    unknown = paas("init", "--template", "cobol", tmp_path / "x")
    assert unknown.returncode == 2
    assert unknown.stderr.startswith(
        "error: there is no template `cobol`\nhint: Pick one of: `dockerfile`, `go-http`, "
    )
    clash = paas("init", "--template", "node-express", target)
    assert clash.returncode == 2
    assert "already has" in clash.stderr
