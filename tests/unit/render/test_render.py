"""Rendering rules beyond the golden files: names, labels, patches, schema validity."""

from __future__ import annotations

import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from paas.errors import ExitCode, RenderError
from paas.manifest import AppSpec, CronJob, Process, load_app
from paas.names import APP_NAME_MAX, PROCESS_NAME_MAX, object_name
from paas.releases import Release
from paas.render import render
from paas.render.patches import strategic_merge
from paas.settings import ClusterSettings

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
K8S_VERSION = "1.33.0"
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
RELEASE = Release(version=1, image="registry.example/app@sha256:" + "0" * 64, commit="abc")


def app_with(tmp_path: Path, manifest: str) -> AppSpec:
    (tmp_path / "paas.yaml").write_text(manifest)
    return load_app(tmp_path)


@pytest.mark.parametrize("golden", sorted(GOLDEN.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_golden_object_is_valid_for_kubernetes_1_33(golden: Path) -> None:
    for obj in yaml.safe_load_all(golden.read_text()):
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def test_patch_that_matches_nothing_is_an_error(tmp_path: Path) -> None:
    app = app_with(
        tmp_path,
        """\
processes:
  web: {command: ./web}
kubernetes:
  patches:
    - target: {kind: Deployment, process: wrker}
      merge: {spec: {replicas: 3}}
""",
    )
    with pytest.raises(RenderError) as caught:
        render(app, RELEASE, ClusterSettings())
    assert caught.value.exit_code == ExitCode.RENDER
    name = tmp_path.name.lower().replace("_", "-")
    assert str(caught.value).startswith(
        "paas.yaml:5: kubernetes.patches[0]: target {kind: Deployment, process: wrker} matches no "
        "object Fix the target; the objects are: Namespace/"
    )
    assert f"Deployment/{name}-web" in str(caught.value)


def test_json_patch_that_cannot_apply_names_the_object(tmp_path: Path) -> None:
    app = app_with(
        tmp_path,
        """\
name: jp
processes:
  web: {command: ./web}
kubernetes:
  patches:
    - target: {kind: Service}
      json: [{op: replace, path: /spec/nothing/here, value: 1}]
""",
    )
    with pytest.raises(
        RenderError,
        match=r"^paas.yaml:6: kubernetes.patches\[0\]: cannot apply "
        r"the JSON patch to `Service/jp-web`",
    ):
        render(app, RELEASE, ClusterSettings())


def test_strategic_merge_lists_and_directives() -> None:
    base = {
        "containers": [{"name": "web", "env": [{"name": "A", "value": "1"}], "image": "x"}],
        "tolerations": [{"key": "a"}],
        "keep": 1,
        "drop": 2,
    }
    patch = {
        "containers": [
            {"name": "web", "env": [{"name": "A", "value": "2"}, {"name": "B", "value": "3"}]},
            {"name": "sidecar", "image": "y"},
        ],
        "tolerations": [{"key": "b"}],
        "drop": None,
    }
    merged = strategic_merge(base, patch)
    assert merged == {
        "containers": [
            {
                "name": "web",
                "image": "x",
                "env": [{"name": "A", "value": "2"}, {"name": "B", "value": "3"}],
            },
            {"name": "sidecar", "image": "y"},
        ],
        "tolerations": [{"key": "b"}],
        "keep": 1,
    }
    deleted = strategic_merge(merged, {"containers": [{"name": "sidecar", "$patch": "delete"}]})
    assert [c["name"] for c in deleted["containers"]] == ["web"]
    replaced = strategic_merge({"a": {"b": 1, "c": 2}}, {"a": {"$patch": "replace", "d": 3}})
    assert replaced == {"a": {"d": 3}}
    assert base["drop"] == 2  # inputs untouched


def test_postdeploy_job_only_on_the_first_release(tmp_path: Path) -> None:
    (tmp_path / "Procfile").write_text("web: ./web\n")
    (tmp_path / "app.json").write_text('{"scripts": {"postdeploy": "./seed"}}')
    app = load_app(tmp_path, name="seeded")
    first = [o["metadata"]["name"] for o in render(app, RELEASE, ClusterSettings())]
    later = [
        o["metadata"]["name"]
        for o in render(app, RELEASE.model_copy(update={"version": 2}), ClusterSettings())
    ]
    assert "seeded-postdeploy-v1" in first
    assert not any("postdeploy" in n for n in later)
    retry = [
        o["metadata"]["name"]
        for o in render(
            app, RELEASE.model_copy(update={"version": 2, "first_deploy": True}), ClusterSettings()
        )
    ]
    assert "seeded-postdeploy-v2" in retry  # v1 failed: v2 is the first deploy


def test_hpa_leaves_replicas_to_the_autoscaler_and_adds_a_pdb(tmp_path: Path) -> None:
    app = app_with(
        tmp_path, "name: a\nprocesses:\n  web: {command: x, autoscale: {min: 2, max: 4}}\n"
    )
    objects = {
        (o["kind"], o["metadata"]["name"]): o for o in render(app, RELEASE, ClusterSettings())
    }
    assert "replicas" not in objects[("Deployment", "a-web")]["spec"]
    assert objects[("HorizontalPodAutoscaler", "a-web")]["spec"]["minReplicas"] == 2
    assert ("PodDisruptionBudget", "a-web") in objects
    assert "behavior" not in objects[("HorizontalPodAutoscaler", "a-web")]["spec"]
    # The HPA's utilization is a share of the CPU request: the pods must have one.
    container = objects[("Deployment", "a-web")]["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["requests"]["cpu"]


def test_a_patch_that_drops_the_cpu_request_of_an_autoscaled_process_is_refused(
    tmp_path: Path,
) -> None:
    app = app_with(
        tmp_path,
        """\
name: a
processes:
  web: {command: x, autoscale: {min: 1, max: 3}}
kubernetes:
  patches:
    - target: {kind: Deployment, process: web}
      json: [{op: remove, path: /spec/template/spec/containers/0/resources/requests/cpu}]
""",
    )
    with pytest.raises(RenderError, match=r"^processes.web.autoscale: container `web` of "):
        render(app, RELEASE, ClusterSettings())


def test_hpa_scale_down_window_from_scale_down_after(tmp_path: Path) -> None:
    app = app_with(
        tmp_path,
        "name: a\nprocesses:\n  web:\n    command: x\n"
        "    autoscale: {min: 1, max: 3, cpu: 20, scale_down_after: 60}\n",
    )
    objects = {
        (o["kind"], o["metadata"]["name"]): o for o in render(app, RELEASE, ClusterSettings())
    }
    spec = objects[("HorizontalPodAutoscaler", "a-web")]["spec"]
    assert spec["behavior"] == {"scaleDown": {"stabilizationWindowSeconds": 60}}
    assert spec["metrics"][0]["resource"]["target"]["averageUtilization"] == 20


def test_config_values_and_release_env(tmp_path: Path) -> None:
    app = app_with(tmp_path, "name: a\nprocesses: {web: {command: x}}\nenv: {A: manifest, B: b}\n")
    release = RELEASE.model_copy(update={"config": {"A": "config"}, "version": 7})
    objects = render(app, release, ClusterSettings())
    secret = next(o for o in objects if o["kind"] == "Secret")
    assert secret["metadata"]["name"] == "a-config-v7"
    assert secret["data"] == {"A": "Y29uZmln", "B": "Yg=="}  # config wins over paas.yaml env
    container = next(o for o in objects if o["kind"] == "Deployment")["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert {e["name"]: e["value"] for e in container["env"]} == {
        "PORT": "5000",
        "PAAS_APP": "a",
        "PAAS_PROCESS": "web",
        "PAAS_RELEASE": "v7",
        "PAAS_COMMIT": "abc",
    }
    assert container["envFrom"] == [{"secretRef": {"name": "a-config-v7"}}]
    assert container["image"] == RELEASE.image


names = st.from_regex(r"\A[a-z]([-a-z0-9]{0,38}[a-z0-9])?\Z")
process_names = st.from_regex(r"\A[a-z]([-a-z0-9]{0,18}[a-z0-9])?\Z").filter(
    lambda n: n not in {"release", "postdeploy"}
)


@settings(max_examples=200, deadline=None)
@given(
    app=names.filter(lambda n: n != "default" and not n.startswith("kube-")),
    process=process_names,
    cron=st.from_regex(r"\A[a-z]([-a-z0-9]{0,28}[a-z0-9])?\Z"),
    version=st.integers(min_value=1, max_value=10**6),
)
def test_rendered_names_and_labels_are_always_valid(
    app: str, process: str, cron: str, version: int
) -> None:
    assert len(app) <= APP_NAME_MAX
    assert len(process) <= PROCESS_NAME_MAX
    spec = AppSpec(
        name=app,
        processes={
            p: Process(
                name=p,
                command="run",
                replicas=2,
                size="small",
                port=5000,
                healthcheck=None,
                autoscale=None,
            )
            for p in {"web", process}
        },
        release_command="migrate",
        cron=(CronJob(name=cron, schedule="@daily", command="tick", size="small"),),
    )
    release = Release(version=version, image="r/x@sha256:" + "1" * 64)
    for obj in render(spec, release, ClusterSettings(domain="example.com")):
        name = obj["metadata"]["name"]
        limit = 52 if obj["kind"] == "CronJob" else 63
        assert len(name) <= limit, name
        assert DNS_LABEL.match(name), name
        for value in obj["metadata"].get("labels", {}).values():
            assert len(value) <= 63, value
            assert LABEL_VALUE.match(value), value
        template = obj.get("spec", {}).get("template") or obj.get("spec", {}).get(
            "jobTemplate", {}
        ).get("spec", {}).get("template")
        if template:
            for value in template["metadata"]["labels"].values():
                assert len(value) <= 63, value
            assert LABEL_VALUE.match(value), value


@given(parts=st.lists(st.from_regex(r"\A[a-z][a-z0-9]{0,60}\Z"), min_size=1, max_size=4))
def test_object_name_is_short_unique_and_stable(parts: list[str]) -> None:
    name = object_name(*parts)
    assert len(name) <= 63
    assert DNS_LABEL.match(name)
    assert name == object_name(*parts)
    joined = "-".join(parts)
    if len(joined) <= 63:
        assert name == joined


def test_a_release_that_changes_neither_image_nor_config_restarts_nothing(tmp_path: Path) -> None:
    app = app_with(tmp_path, "name: a\nprocesses: {web: {command: x}}\n")
    deploy = RELEASE.model_copy(update={"version": 4})
    scale = RELEASE.model_copy(update={"version": 5, "pod_version": 4})
    scaled_app = app.model_copy(
        update={"processes": {"web": app.processes["web"].model_copy(update={"replicas": 3})}}
    )

    def deployment(spec: AppSpec, release: Release) -> dict[str, object]:
        return next(
            o for o in render(spec, release, ClusterSettings()) if o["kind"] == "Deployment"
        )

    before, after = deployment(app, deploy), deployment(scaled_app, scale)
    assert before["spec"]["template"] == after["spec"]["template"]  # type: ignore[index]
    assert after["metadata"]["labels"]["paas.dev/release"] == "v5"  # type: ignore[index]
    assert after["spec"]["replicas"] == 3  # type: ignore[index]


def _security(objects: list[dict]) -> list[tuple[bool, list]]:
    found = []
    for obj in objects:
        if obj["kind"] != "Deployment":
            continue
        pod = obj["spec"]["template"]["spec"]
        container = pod["containers"][0]
        found.append(
            (container["securityContext"]["readOnlyRootFilesystem"], pod.get("volumes", []))
        )
    return found


def test_the_filesystem_is_writable_like_a_dyno_by_default(tmp_path: Path) -> None:
    app = app_with(tmp_path, "processes:\n  web: {command: python app.py}\n")

    assert _security(render(app, RELEASE, ClusterSettings())) == [(False, [])]


@pytest.mark.parametrize(
    ("manifest", "settings_value", "expected"),
    [
        ("kubernetes: {read_only_root: true}\n", False, True),
        ("", True, True),
        ("kubernetes: {read_only_root: false}\n", True, False),
    ],
)
def test_a_read_only_root_is_an_opt_in_of_paas_yaml_or_the_cluster(
    tmp_path: Path, manifest: str, settings_value: bool, expected: bool
) -> None:
    app = app_with(tmp_path, manifest + "processes:\n  web: {command: python app.py}\n")

    rendered = render(app, RELEASE, ClusterSettings(read_only_root=settings_value))

    tmp = [{"name": "tmp", "emptyDir": {}}] if expected else []
    assert _security(rendered) == [(expected, tmp)]
