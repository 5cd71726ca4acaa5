"""Builds from source: each component goes to CACHE/<name>-<version>/, written once.

Go modules come from the module proxy; the pause binary is compiled from
Kubernetes' pause.c and the Debian base rootfs is made with debootstrap.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .config import BIN, CACHE, LOGS, PINS, TestbedError, log, run
from .metrics_server import build_metrics_server


def go_env() -> dict[str, str]:
    if shutil.which("go") is None:
        raise TestbedError("`go` is not on PATH: the testbed builds Kubernetes with Go >= 1.24.")
    return dict(os.environ, GOTOOLCHAIN="local", CGO_ENABLED="0", GOFLAGS="-buildvcs=false")


def go_mod_download(module: str, version: str) -> dict[str, str]:
    # Outside any module, so the download does not touch a go.mod.
    proc = run(
        ["go", "mod", "download", "-json", f"{module}@{version}"],
        env=go_env(),
        cwd="/",
        capture=True,
    )
    info: dict[str, str] = json.loads(proc.stdout)
    if info.get("Error"):
        raise TestbedError(f"go mod download {module}@{version}: {info['Error']}")
    return info


def cached_build(name: str, version: str, build: Callable[[Path, Path], None]) -> Path:
    """Return CACHE/name-version, building it into a scratch dir first if absent."""
    out = CACHE / f"{name}-{version}"
    if (out / ".complete").exists():
        return out
    partial = CACHE / f"{name}-{version}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    logfile = LOGS / f"build-{name}.log"
    log(f"building {name} {version} (log: {logfile})")
    started = time.monotonic()
    build(partial, logfile)
    (partial / ".complete").write_text(f"built in {time.monotonic() - started:.0f}s\n")
    shutil.rmtree(out, ignore_errors=True)
    partial.rename(out)
    log(f"built {name} {version} in {time.monotonic() - started:.0f}s")
    return out


def build_kubernetes(out: Path, logfile: Path) -> None:
    version = PINS["KUBERNETES_VERSION"]
    staging = PINS["KUBERNETES_STAGING_VERSION"]
    env = go_env()
    info = go_mod_download("k8s.io/kubernetes", version)
    # k8s.io/kubernetes points its staging modules at ./staging with replace
    # directives, which only apply in the main module: a consumer module must
    # replace each one with the published v0.X.Y.
    staged = []
    for line in Path(info["GoMod"]).read_text().splitlines():
        parts = line.split()
        if "=>" in parts and parts[parts.index("=>") + 1].startswith("./staging/"):
            staged.append(parts[parts.index("=>") - 1])
    work = CACHE / "work" / f"kubernetes-{version}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    go_line = PINS["KUBERNETES_GO_LINE"]
    minor = go_line.rsplit(".", 1)[0]
    gomod = [
        f"module local/kbuild\n\ngo {go_line}\n\ngodebug default=go{minor}\n\n",
        f"require k8s.io/kubernetes {version}\n\n",
    ]
    gomod += [f"replace {m} => {m} {staging}\n" for m in staged]
    (work / "go.mod").write_text("".join(gomod))
    cmds = [
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kubelet",
        "kube-proxy",
        "kubectl",
    ]
    imports = "".join(f'\t_ "k8s.io/kubernetes/cmd/{c}"\n' for c in cmds)
    (work / "tools.go").write_text(f"//go:build tools\n\npackage tools\n\nimport (\n{imports})\n")
    run(["go", "mod", "tidy"], env=env, cwd=work, logfile=logfile)
    major, kminor = version.lstrip("v").split(".")[:2]
    # The same -X keys as kubernetes' hack/lib/version.sh; the build date is
    # fixed so that a rebuild is byte-identical.
    ldflags = ["-s", "-w"]
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        ldflags += [
            f"-X {pkg}.gitVersion={version}",
            f"-X {pkg}.gitMajor={major}",
            f"-X {pkg}.gitMinor={kminor}",
            f"-X {pkg}.gitTreeState=clean",
            f"-X {pkg}.buildDate=1970-01-01T00:00:00Z",
        ]
    (out / "bin").mkdir()
    run(
        [
            "go",
            "build",
            "-trimpath",
            "-tags",
            "selinux,notest",
            "-ldflags",
            " ".join(ldflags),
            "-o",
            f"{out}/bin/",
            *[f"k8s.io/kubernetes/cmd/{c}" for c in cmds],
        ],
        env=env,
        cwd=work,
        logfile=logfile,
    )
    shutil.rmtree(work, ignore_errors=True)


def copy_module(module: str, version: str, name: str) -> Path:
    """Copy a module's source to a writable work dir (to build it with its replaces)."""
    src = Path(go_mod_download(module, version)["Dir"])
    work = CACHE / "work" / f"{name}-{version}"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(src, work)
    run(["chmod", "-R", "u+w", work])
    return work


def build_traefik(out: Path, logfile: Path) -> None:
    version = PINS["TRAEFIK_VERSION"]
    # `go install` refuses modules with replace directives (v3.6 has two).
    work = copy_module("github.com/traefik/traefik/v3", version, "traefik")
    (out / "bin").mkdir()
    run(
        [
            "go",
            "build",
            "-trimpath",
            "-ldflags",
            f"-s -w -X github.com/traefik/traefik/v3/pkg/version.Version={version}",
            "-o",
            out / "bin" / "traefik",
            "./cmd/traefik",
        ],
        env=go_env(),
        cwd=work,
        logfile=logfile,
    )
    shutil.rmtree(work, ignore_errors=True)


def build_gateway_api(out: Path, logfile: Path) -> None:
    """The Gateway API's standard-channel CRDs, as its module ships them."""
    del logfile  # a copy: nothing to log
    src = Path(go_mod_download("sigs.k8s.io/gateway-api", PINS["GATEWAY_API_VERSION"])["Dir"])
    (out / "crds").mkdir()
    for crd in sorted((src / "config" / "crd" / "standard").glob("*.yaml")):
        shutil.copyfile(crd, out / "crds" / crd.name)


def gateway_api_crds() -> list[Path]:
    return sorted((CACHE / f"gateway-api-{PINS['GATEWAY_API_VERSION']}" / "crds").glob("*.yaml"))


def build_coredns(out: Path, logfile: Path) -> None:
    version = PINS["COREDNS_VERSION"]
    env = dict(go_env(), GOBIN=str(out / "bin"))
    run(
        [
            "go",
            "install",
            "-trimpath",
            "-ldflags",
            "-s -w",
            f"github.com/coredns/coredns@{version}",
        ],
        env=env,
        cwd="/",
        logfile=logfile,
    )


def build_pack(out: Path, logfile: Path) -> None:
    version = PINS["PACK_VERSION"]
    work = copy_module("github.com/buildpacks/pack", version, "pack")
    (out / "bin").mkdir()
    run(
        [
            "go",
            "build",
            "-trimpath",
            "-ldflags",
            f"-s -w -X github.com/buildpacks/pack/pkg/client.Version={version.lstrip('v')}",
            "-o",
            out / "bin" / "pack",
            ".",
        ],
        env=go_env(),
        cwd=work,
        logfile=logfile,
    )
    shutil.rmtree(work, ignore_errors=True)


LIFECYCLE_TOML = """\
[apis]
[apis.buildpack]
  deprecated = []
  supported = ["0.7", "0.8", "0.9", "0.10", "0.11"]
[apis.platform]
  deprecated = []
  supported = ["0.7", "0.8", "0.9", "0.10", "0.11", "0.12", "0.13", "0.14"]
[api]
  platform = "0.7"
  buildpack = "0.7"
[lifecycle]
  version = "{version}"
"""


def build_lifecycle(out: Path, logfile: Path) -> None:
    version = PINS["LIFECYCLE_VERSION"]
    bare = version.lstrip("v")
    tree = out / "tree"
    lc = tree / "lifecycle"
    lc.mkdir(parents=True)
    # A copy build, not `go install mod@version`: that also asks the proxy for
    # the module's version list (for deprecations), which the proxy here refuses.
    work = copy_module("github.com/buildpacks/lifecycle", version, "lifecycle")
    for cmd in ("lifecycle", "launcher"):
        run(
            [
                "go",
                "build",
                "-trimpath",
                "-ldflags",
                f"-s -w -X github.com/buildpacks/lifecycle/cmd.Version={bare}",
                "-o",
                lc / cmd,
                f"./cmd/{cmd}",
            ],
            env=go_env(),
            cwd=work,
            logfile=logfile,
        )
    shutil.rmtree(work, ignore_errors=True)
    for phase in (
        "detector",
        "analyzer",
        "restorer",
        "builder",
        "exporter",
        "rebaser",
        "creator",
        "extender",
    ):
        (lc / phase).symlink_to("lifecycle")
    (tree / "lifecycle.toml").write_text(LIFECYCLE_TOML.format(version=bare))
    # pack reads a lifecycle tarball laid out like the upstream release asset.
    run(
        [
            "tar",
            "-C",
            tree,
            "--owner=0",
            "--group=0",
            "--mtime=1970-01-01",
            "-czf",
            out / f"lifecycle-{version}+linux.x86-64.tgz",
            "lifecycle.toml",
            "lifecycle",
        ]
    )


def lifecycle_tarball() -> Path:
    version = PINS["LIFECYCLE_VERSION"]
    return CACHE / f"lifecycle-{version}" / f"lifecycle-{version}+linux.x86-64.tgz"


def build_pause(out: Path, logfile: Path) -> None:
    info = go_mod_download("k8s.io/kubernetes", PINS["KUBERNETES_VERSION"])
    src = Path(info["Dir"]) / "build" / "pause" / "linux" / "pause.c"
    run(
        [
            "gcc",
            "-Os",
            "-Wall",
            "-Werror",
            "-static",
            f"-DVERSION=v{PINS['PAUSE_TAG']}-paas",
            "-o",
            out / "pause",
            src,
        ],
        logfile=logfile,
    )


def build_debian_rootfs(out: Path, logfile: Path) -> None:
    # Keyed by suite only: a rebuild weeks later gives newer packages, which
    # is fine for a base image; delete the cache dir to refresh it.
    suite = PINS["DEBIAN_SUITE"]
    root = CACHE / "work" / f"debian-{suite}"
    shutil.rmtree(root, ignore_errors=True)
    run(["debootstrap", "--variant=minbase", suite, root], logfile=logfile)
    run(["tar", "-C", root, "--numeric-owner", "-cf", out / "rootfs.tar", "."], logfile=logfile)
    shutil.rmtree(root, ignore_errors=True)


def build_kaniko(out: Path, logfile: Path) -> None:
    """kaniko's executor (Go module proxy) and a static busybox (Debian) for the builder image."""
    version = PINS["KANIKO_VERSION"]
    work = copy_module("github.com/GoogleContainerTools/kaniko", version, "kaniko")
    (out / "bin").mkdir()
    run(
        [
            "go",
            "build",
            "-trimpath",
            "-ldflags",
            f"-s -w -X github.com/GoogleContainerTools/kaniko/pkg/version.version={version}",
            "-o",
            out / "bin" / "executor",
            "./cmd/executor",
        ],
        env=go_env(),
        cwd=work,
        logfile=logfile,
    )
    shutil.rmtree(work, ignore_errors=True)
    # kaniko replaces the container's root with each stage's base image and
    # keeps only /kaniko and mounts: the shell the pod waits for its source
    # with must live there, and be static.
    debs = CACHE / "work" / "busybox-static"
    shutil.rmtree(debs, ignore_errors=True)
    debs.mkdir(parents=True)
    run(["apt-get", "download", "busybox-static"], cwd=debs, logfile=logfile)
    deb = next(debs.glob("busybox-static_*.deb"))
    run(["dpkg-deb", "-x", deb, debs / "root"], logfile=logfile)
    shutil.copy2(debs / "root" / "bin" / "busybox", out / "bin" / "busybox")
    shutil.rmtree(debs, ignore_errors=True)


def kaniko_dir() -> Path:
    return CACHE / f"kaniko-{PINS['KANIKO_VERSION']}"


# One component: its cache name, its pin in pins.env, and how it is built.
Component = tuple[str, str, Callable[[Path, Path], None]]

# Three lanes side by side on a cold start. `go build` already compiles on both
# cores here, so two Go builds at once overlap only what is single-threaded
# (module downloads, `go mod tidy`, links), and debootstrap waits on the network:
# measured, Kubernetes beside Traefik took 1106 s against 541 + 603 s alone.
BUILD_LANES: tuple[tuple[Component, ...], ...] = (
    (
        ("kubernetes", "KUBERNETES_VERSION", build_kubernetes),
        ("coredns", "COREDNS_VERSION", build_coredns),
        ("lifecycle", "LIFECYCLE_VERSION", build_lifecycle),
    ),
    (
        ("traefik", "TRAEFIK_VERSION", build_traefik),
        ("pack", "PACK_VERSION", build_pack),
        ("kaniko", "KANIKO_VERSION", build_kaniko),
    ),
    (
        ("debian", "DEBIAN_SUITE", build_debian_rootfs),
        ("pause", "PAUSE_TAG", build_pause),
        ("gateway-api", "GATEWAY_API_VERSION", build_gateway_api),
        # In the lane that otherwise waits only on the network and gcc.
        ("metrics-server", "METRICS_SERVER_VERSION", build_metrics_server),
    ),
)


def build_lane(lane: tuple[Component, ...]) -> dict[str, Path]:
    return {name: cached_build(name, PINS[pin], build) for name, pin, build in lane}


def build_all() -> dict[str, Path]:
    dirs: dict[str, Path] = {}
    with ThreadPoolExecutor(max_workers=len(BUILD_LANES)) as pool:
        for built in pool.map(build_lane, BUILD_LANES):
            dirs.update(built)
    # One directory to put on PATH: kubectl and pack, plus the rest for debugging.
    BIN.mkdir(parents=True, exist_ok=True)
    links = {
        "kubectl": dirs["kubernetes"] / "bin" / "kubectl",
        "pack": dirs["pack"] / "bin" / "pack",
        "traefik": dirs["traefik"] / "bin" / "traefik",
        "coredns": dirs["coredns"] / "bin" / "coredns",
    }
    for name, target in links.items():
        link = BIN / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target)
    return dirs


def kbin(name: str) -> Path:
    return CACHE / f"kubernetes-{PINS['KUBERNETES_VERSION']}" / "bin" / name
