"""Build variables: names checked before anything happens, values never on a command line.

pack gets an env file (0600, removed afterwards), podman/buildah/docker and
kaniko get ``--build-arg NAME`` with the value in their environment, and a
build in the cluster reads the values from a Secret of its own: nothing of
them in a pod spec or an exec command, which the API server's audit log keeps.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes_validate import validate
from unit_helpers import required_tool, run_paas, write_kubeconfig

from paas.build.buildenv import env_file_text, parse_env_pairs
from paas.build.cluster import run_build_pod
from paas.build.cluster_pod import (
    ENV_MOUNT,
    READY_MARK,
    BuildPod,
    build_pod,
    env_secret,
    receive_script,
)
from paas.build.dockerfile import build_arguments, build_env
from paas.build.dockerfile_cluster import dockerfile_build_pod
from paas.build.pack import pack_arguments, pack_build
from paas.build.plan import plan_build
from paas.build.source import IgnoreRules
from paas.errors import BuildError, ExitCode, UsageError
from paas.manifest import read_app
from paas.settings import ClusterSettings

ROOT = Path(__file__).resolve().parents[3]
TEMPLATES = ROOT / "templates"
SECRET = "hunter2-s3cret"
BUILDER = "reg:5000/paas/builder@sha256:" + "a" * 64
NAME_HINT = (
    "hint: A name has letters, digits and `_` and does not start with a digit, "
    "like `-e NODE_ENV=test`.\n"
)


def plan_for(template: str, strategy: str | None = None, **env: str):
    app, detection = read_app(TEMPLATES / template)
    return plan_build(
        app,
        detection,
        ClusterSettings(registry="reg:5000"),
        strategy=strategy,
        extra_env=env,
    ).with_tag("t1")


def cnb_pod(**fields: object) -> BuildPod:
    values: dict[str, object] = {
        "namespace": "go-http",
        "name": "go-http-build-abc123",
        "build_id": "abc123",
        "builder": BUILDER,
        "env_secret": "go-http-build-abc123-env",
    }
    values.update(fields)
    return BuildPod(**values)  # type: ignore[arg-type]


# --- names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pair", ["../../x=y", "a/b=1", "1ABC=1", "A-B=1", "A B=1", "NAME\n=1", "ÄPFEL=1"]
)
def test_a_bad_name_from_e_is_refused_naming_it(pair: str) -> None:
    name = pair.partition("=")[0]
    with pytest.raises(UsageError) as caught:
        parse_env_pairs([pair])
    assert caught.value.message == (
        f"Build variable `{name}` (from `-e`) is not an environment variable name."
    )
    assert caught.value.exit_code == ExitCode.USAGE


def test_e_needs_a_name_and_a_value() -> None:
    with pytest.raises(UsageError) as caught:
        parse_env_pairs(["NODE_ENV"])
    assert caught.value.message == "Build variable `NODE_ENV` (from `-e`) has no value."
    assert caught.value.hint == "Write it like `-e NODE_ENV=test` (`-e NAME=` for an empty value)."
    with pytest.raises(UsageError) as caught:
        parse_env_pairs(["=x"])
    assert caught.value.message == "A build variable (from `-e`) has no name."
    assert parse_env_pairs(["A_1=x=y", "_B="]) == {"A_1": "x=y", "_B": ""}


def test_the_plan_refuses_a_bad_name_wherever_it_comes_from() -> None:
    with pytest.raises(UsageError) as caught:
        plan_for("go-http", **{"../../x": "y"})
    assert caught.value.message == (
        "Build variable `../../x` (from the build env) is not an environment variable name."
    )
    with pytest.raises(UsageError) as caught:
        plan_for("go-http", TOKEN="a\0b")
    assert caught.value.message == (
        "The value of build variable `TOKEN` (from the build env) has a NUL character, "
        "which no environment variable can hold."
    )


@pytest.fixture
def listener() -> Iterator[tuple[int, list[object]]]:
    """A TCP port that records every connection to it (an API server that never answers)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    accepted: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            accepted.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    server.close()


def test_paas_build_refuses_a_bad_name_before_connecting(
    tmp_path: Path, listener: tuple[int, list[object]]
) -> None:
    port, accepted = listener
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", port)
    result = run_paas(
        "build",
        TEMPLATES / "go-http",
        "-e",
        "../../x=y",
        columns=100,
        kubeconfig=kubeconfig,
        timeout=30,
    )
    assert result.stderr == (
        "error: Build variable `../../x` (from `-e`) is not an environment variable name.\n"
        + NAME_HINT
    )
    assert result.returncode == ExitCode.USAGE == 2
    assert accepted == []


# --- pack: the env file -----------------------------------------------------------------

FAKE_PACK = """\
#!{python}
import json, os, stat, sys
args = sys.argv[1:]
path = args[args.index("--env-file") + 1]
info = os.stat(path)
record = {{
    "args": args,
    "file": path,
    "mode": stat.S_IMODE(info.st_mode),
    "dir_mode": stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode),
    "text": open(path).read(),
    "env": {{k: os.environ.get(k) for k in ("MULTI", "EDGE")}},
}}
open({record!r}, "w").write(json.dumps(record))
if os.environ.get("FAKE_PACK_SLEEP"):
    import time
    time.sleep(float(os.environ["FAKE_PACK_SLEEP"]))
print("*** Digest: sha256:" + "c" * 64)
sys.exit(int(os.environ.get("FAKE_PACK_EXIT", "0")))
"""


@pytest.fixture
def fake_pack(tmp_path: Path) -> tuple[Path, Path]:
    record = tmp_path / "record.json"
    script = tmp_path / "pack"
    script.write_text(FAKE_PACK.format(python=sys.executable, record=str(record)))
    script.chmod(0o755)
    return script, record


def run_pack(
    fake_pack: tuple[Path, Path], tmp_path: Path, exit_code: int = 0, **env: str
) -> dict[str, Any]:
    script, record = fake_pack
    plan = plan_for("go-http", **env)
    environ = {
        "PATH": os.environ["PATH"],
        "PAAS_PACK": str(script),
        "DOCKER_HOST": "unix:///nonexistent.sock",
        "FAKE_PACK_EXIT": str(exit_code),
    }
    try:
        pack_build(
            plan,
            tmp_path,
            env=environ,
            on_line=lambda _line: None,
            secret_env={"PAAS_MAVEN_MIRROR_PASSWORD": "mirror-" + SECRET},
        )
    finally:
        data: dict[str, Any] = json.loads(record.read_text()) if record.exists() else {}
    return data


def test_pack_gets_the_values_in_a_private_env_file_never_on_its_command_line(
    fake_pack: tuple[Path, Path], tmp_path: Path
) -> None:
    seen = run_pack(fake_pack, tmp_path, API_TOKEN=SECRET, EMPTY="")
    assert not any(SECRET in a for a in seen["args"])
    assert "--env" not in seen["args"]
    assert seen["text"].splitlines() == [
        "API_TOKEN=" + SECRET,
        "EMPTY=",
        "PAAS_MAVEN_MIRROR_PASSWORD=mirror-" + SECRET,
        "PAAS_WEB_COMMAND=go-http",
    ]
    assert seen["mode"] == 0o600
    assert seen["dir_mode"] == 0o700
    assert not Path(seen["file"]).exists()
    assert not Path(seen["file"]).parent.exists()


def test_the_env_file_is_removed_when_pack_fails(
    fake_pack: tuple[Path, Path], tmp_path: Path
) -> None:
    with pytest.raises(BuildError):
        run_pack(fake_pack, tmp_path, exit_code=1, API_TOKEN=SECRET)
    seen = json.loads(fake_pack[1].read_text())
    assert "API_TOKEN=" + SECRET in seen["text"]
    assert not Path(seen["file"]).parent.exists()


DRIVER = """\
import os, sys
from pathlib import Path
from paas.build.pack import pack_build
from paas.build.plan import plan_build
from paas.manifest import read_app
from paas.settings import ClusterSettings

app, detection = read_app(Path(sys.argv[1]))
plan = plan_build(app, detection, ClusterSettings(), extra_env={"API_TOKEN": "x"}).with_tag("t1")
pack_build(plan, Path(sys.argv[1]), env=dict(os.environ), on_line=print)
"""


def test_the_env_file_is_removed_on_ctrl_c(fake_pack: tuple[Path, Path], tmp_path: Path) -> None:
    script, record = fake_pack
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PAAS_PACK": str(script),
        "DOCKER_HOST": "unix:///x",
        "FAKE_PACK_SLEEP": "30",
    }
    child = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(TEMPLATES / "go-http")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not record.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        seen = json.loads(record.read_text())
        assert Path(seen["file"]).exists()
        os.killpg(child.pid, signal.SIGINT)  # Ctrl-C: the whole foreground group
        child.wait(timeout=20)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    assert child.returncode != 0
    assert not Path(seen["file"]).parent.exists()


def test_a_value_the_env_file_cannot_carry_reaches_pack_by_name(
    fake_pack: tuple[Path, Path], tmp_path: Path
) -> None:
    # pack splits its env file at newlines and trims each line.
    seen = run_pack(fake_pack, tmp_path, MULTI="line 1\nline 2\n", EDGE=" padded ")
    lines = seen["text"].splitlines()
    assert "MULTI" in lines
    assert "EDGE" in lines
    assert seen["env"] == {"MULTI": "line 1\nline 2\n", "EDGE": " padded "}
    assert not any("line 1" in a or "padded" in a for a in seen["args"])


def test_a_value_for_pack_by_name_may_not_replace_what_pack_runs_with() -> None:
    with pytest.raises(BuildError) as caught:
        env_file_text({"HOME": "/a\n/b"})
    assert caught.value.message == (
        "Build variable `HOME` cannot be passed to `pack`: its value has a line break or "
        "white space at an end, and `pack` itself runs with `HOME`."
    )
    assert caught.value.hint == "Rename the variable, or build with `--strategy cluster`."
    assert env_file_text({"HOME": "/home/app"}) == ("HOME=/home/app\n", {})


def test_pack_arguments_name_the_env_file_only() -> None:
    plan = plan_for("go-http", API_TOKEN=SECRET)
    args = pack_arguments(plan, Path("/src"), env_file=Path("/tmp/x/build.env"))
    assert args[args.index("--env-file") + 1] == "/tmp/x/build.env"
    assert not any(SECRET in a or "PAAS_WEB_COMMAND" in a for a in args)


# --- podman, buildah, docker without a daemon --------------------------------------------


def test_dockerfile_cli_build_args_are_named_and_the_values_are_in_the_environment() -> None:
    plan = plan_for("dockerfile", strategy="dockerfile", API_TOKEN=SECRET)
    args = build_arguments("podman", plan, Path("/ctx"))
    assert args == [
        "build",
        "-f",
        "/ctx/Dockerfile",
        "-t",
        "reg:5000/dockerfile:t1",
        "--build-arg",
        "API_TOKEN",
        "/ctx",
    ]
    assert build_env("podman", plan, {"PATH": "/bin"}) == {"PATH": "/bin", "API_TOKEN": SECRET}
    with pytest.raises(BuildError) as caught:
        build_env("podman", plan_for("dockerfile", strategy="dockerfile", PATH="/x"), {})
    assert caught.value.message == (
        "Build variable `PATH` cannot be passed to `podman`: it goes by name, through the "
        "tool's environment, and `podman` itself runs with `PATH`."
    )


def test_podman_takes_a_named_build_arg_from_its_environment(tmp_path: Path) -> None:
    """The property `build_arguments` relies on, checked with the real podman when there is one."""
    podman = required_tool("podman")
    (tmp_path / "Dockerfile").write_text("FROM scratch\nARG API_TOKEN\nLABEL token=$API_TOKEN\n")
    tag = f"localhost/paas-unit-build-arg:{os.getpid()}"
    plan = plan_for("dockerfile", strategy="dockerfile", API_TOKEN="a b 'c'")
    built = subprocess.run(
        [podman, "build", "--build-arg", "API_TOKEN", "-t", tag, str(tmp_path)],
        env=build_env("podman", plan, dict(os.environ)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    try:
        labels = subprocess.run(
            [podman, "image", "inspect", tag, "--format", "{{json .Labels}}"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert json.loads(labels.stdout)["token"] == "a b 'c'"
    finally:
        subprocess.run([podman, "rmi", "-f", tag], capture_output=True, timeout=60, check=False)


# --- the cluster: a Secret of the build --------------------------------------------------


def test_the_cnb_build_pod_carries_no_value_and_mounts_the_env_secret() -> None:
    plan = plan_for("go-http", "cluster", API_TOKEN=SECRET)
    pod = build_pod(plan, cnb_pod())
    validate(pod, "1.33.0", strict=True)
    assert SECRET not in json.dumps(pod)
    assert "go-http" not in json.dumps(pod["spec"]["containers"][0]["env"])
    (container,) = pod["spec"]["containers"]
    mount = next(m for m in container["volumeMounts"] if m["mountPath"] == ENV_MOUNT)
    assert mount["readOnly"] is True
    volume = next(v for v in pod["spec"]["volumes"] if v["name"] == mount["name"])
    assert volume["secret"] == {"secretName": "go-http-build-abc123-env", "defaultMode": 0o440}


def test_the_env_secret_holds_each_value_under_its_name() -> None:
    plan = plan_for("go-http", "cluster", API_TOKEN=SECRET)
    secret = env_secret(plan, cnb_pod(), {**plan.env, "MULTI": "a\nb\n"})
    validate(secret, "1.33.0", strict=True)
    assert secret["metadata"]["name"] == "go-http-build-abc123-env"
    assert secret["metadata"]["namespace"] == "go-http"
    decoded = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert decoded == {"API_TOKEN": SECRET, "MULTI": "a\nb\n", "PAAS_WEB_COMMAND": "go-http"}


def test_a_mirror_variable_that_cannot_be_a_file_is_refused_for_a_cluster_build() -> None:
    plan = plan_for("go-http", "cluster")
    with pytest.raises(BuildError) as caught:
        env_secret(plan, cnb_pod(), {"npm_config_//npm.internal/:_auth": "eA=="})
    assert caught.value.message == (
        "Build variable `npm_config_//npm.internal/:_auth` cannot be passed to a build in the "
        "cluster: it is not an environment variable name, and the build reads each variable "
        "from a file named after it."
    )


def test_the_pod_copies_the_mounted_secret_to_platform_env_then_runs_the_creator(
    tmp_path: Path,
) -> None:
    command = build_pod(plan_for("go-http", "cluster"), cnb_pod())["spec"]["containers"][0][
        "command"
    ]
    # A Secret volume as the kubelet makes it: files are links into a hidden `..data`.
    mount = tmp_path / "mount"
    data = mount / "..2025_01_01_00_00_00.000"
    data.mkdir(parents=True)
    (data / "API_TOKEN").write_text(SECRET)
    (data / "MULTI").write_text("a\nb\n\n")
    (mount / "..data").symlink_to(data.name)
    for name in ("API_TOKEN", "MULTI"):
        (mount / name).symlink_to(f"..data/{name}")
    platform = tmp_path / "platform"
    script = (
        command[2]
        .replace(READY_MARK, str(tmp_path / "mark"))
        .replace(ENV_MOUNT, str(mount))
        .replace("/platform", str(platform))
    )
    (tmp_path / "mark").write_text("")
    done = subprocess.run(
        ["sh", "-c", script, "sh", "echo", "creator ran"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert done.stdout == "creator ran\n"
    env_dir = platform / "env"
    assert sorted(p.name for p in env_dir.iterdir()) == ["API_TOKEN", "MULTI"]
    assert (env_dir / "API_TOKEN").read_text() == SECRET
    assert (env_dir / "MULTI").read_text() == "a\nb\n\n"
    assert not (env_dir / "API_TOKEN").is_symlink()


def test_the_kaniko_pod_names_the_build_args_and_takes_their_values_from_the_secret() -> None:
    plan = plan_for("dockerfile", "cluster", API_TOKEN=SECRET)
    pod = dockerfile_build_pod(
        plan,
        BuildPod(
            namespace="dockerfile-build",
            name="dockerfile-build-abc123",
            build_id="abc123",
            builder=BUILDER,
            env_secret="dockerfile-build-abc123-env",
        ),
    )
    validate(pod, "1.33.0", strict=True)
    assert SECRET not in json.dumps(pod)
    (container,) = pod["spec"]["containers"]
    args = container["command"]
    assert args[args.index("--build-arg") + 1] == "API_TOKEN"
    assert container["env"] == [
        {
            "name": "API_TOKEN",
            "valueFrom": {
                "secretKeyRef": {"name": "dockerfile-build-abc123-env", "key": "API_TOKEN"}
            },
        }
    ]


def test_a_kaniko_build_arg_may_not_replace_what_kaniko_runs_with() -> None:
    plan = plan_for("dockerfile", "cluster", SSL_CERT_DIR="/x")
    pod = BuildPod(namespace="n", name="p", build_id="i", builder=BUILDER, env_secret="s")
    with pytest.raises(BuildError) as caught:
        dockerfile_build_pod(plan, pod)
    assert caught.value.message == (
        "Build variable `SSL_CERT_DIR` cannot be passed to `kaniko`: it goes by name, through "
        "the tool's environment, and `kaniko` itself runs with `SSL_CERT_DIR`."
    )


class RecordingKube:
    """Just enough of `Kube` for `run_build_pod`: what it creates, patches and deletes."""

    def __init__(self) -> None:
        self.created: list[dict[str, Any]] = []
        self.patched: list[tuple[str, str, dict[str, Any]]] = []
        self.deleted: list[tuple[str, str]] = []

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.created.append(obj)
        return {**obj, "metadata": {**obj["metadata"], "uid": "pod-uid"}}

    def merge_patch(
        self, api_version: str, kind: str, namespace: str, name: str, patch: dict[str, Any]
    ) -> dict[str, Any]:
        self.patched.append((kind, name, patch))
        return {}

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any]:
        return {"metadata": {}, "status": {"containerStatuses": [{"state": {"running": {}}}]}}

    def delete(self, api_version: str, kind: str, namespace: str, name: str, **_: object) -> bool:
        self.deleted.append((kind, name))
        return True


@pytest.mark.parametrize("fails", [False, True])
def test_run_build_pod_sends_values_only_in_the_secret_and_deletes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fails: bool
) -> None:
    import paas.kube.run

    commands: list[list[str]] = []

    def exec_with_input(*_args: object, command: list[str], **_kw: object) -> tuple[int, str]:
        commands.append(command)
        return 0, ""

    monkeypatch.setattr(paas.kube.run, "exec_with_input", exec_with_input)
    (tmp_path / "app.py").write_text("print('hi')\n")
    plan = plan_for("go-http", "cluster", API_TOKEN=SECRET)
    pod = cnb_pod()
    kube = RecordingKube()

    def carry_out(_run: object) -> str:
        if fails:
            raise BuildError("the build failed", "")
        return "sha256:" + "d" * 64

    def run() -> tuple[str, int]:
        return run_build_pod(
            plan,
            pod,
            build_pod(plan, pod),
            tmp_path,
            IgnoreRules.parse(""),
            kube=kube,  # type: ignore[arg-type]
            on_line=lambda _line: None,
            env=plan.env,
            auth=None,
            carry_out=carry_out,  # type: ignore[arg-type]
        )

    if fails:
        with pytest.raises(BuildError):
            run()
    else:
        assert run() == ("sha256:" + "d" * 64, 1)
    secret, manifest = kube.created
    assert secret["kind"] == "Secret"
    assert base64.b64decode(secret["data"]["API_TOKEN"]).decode() == SECRET
    assert manifest["kind"] == "Pod"
    assert SECRET not in json.dumps(manifest)
    (command,) = commands
    assert command == ["sh", "-c", receive_script(_size(command[2]))]
    assert SECRET not in json.dumps(command)
    owner = {"apiVersion": "v1", "kind": "Pod", "name": pod.name, "uid": "pod-uid"}
    assert kube.patched == [
        ("Secret", "go-http-build-abc123-env", {"metadata": {"ownerReferences": [owner]}})
    ]
    assert kube.deleted == [("Pod", pod.name), ("Secret", "go-http-build-abc123-env")]


def _size(script: str) -> int:
    """The archive size `receive_script` was made for."""
    line = next(line for line in script.splitlines() if line.startswith("head -c "))
    return int(line.split()[2])
