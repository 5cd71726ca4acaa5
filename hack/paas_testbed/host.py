"""The host: Debian packages, the address, names and sysctls, the config files, and their undoing.

`up` installs what is missing, sets up the host and writes every component's
config; `down` removes what the components leave behind on the host.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import time
from pathlib import Path

from .config import (
    APT_PACKAGES,
    CLUSTER_CIDR,
    CLUSTER_DOMAIN,
    CNI_BRIDGE,
    CNI_NETWORK,
    CONF,
    CONTAINERD_SOCKET,
    CONTAINERS_CONF,
    COREDNS_HEALTH,
    HOST_DEV,
    HOST_IP,
    HOSTS_MARK,
    KUBELET_ROOT,
    LOGS,
    NODE_NAME,
    PINS,
    PKI,
    POD_SUBNET,
    PODMAN_SOCKET,
    REGISTRIES_CONF,
    REGISTRY,
    REGISTRY_HOST,
    RUN,
    STATE,
    log,
    run,
    write_if_changed,
)

# --------------------------------------------------------------------------
# Debian packages
# --------------------------------------------------------------------------


def ensure_packages() -> None:
    missing = []
    for pkg in APT_PACKAGES:
        proc = run(["dpkg-query", "-W", "-f=${Status}", pkg], check=False, capture=True)
        if proc.returncode != 0 or b"install ok installed" not in proc.stdout:
            missing.append(pkg)
    if not missing:
        return
    log(f"installing Debian packages: {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    apt_log = LOGS / "apt.log"
    run(["apt-get", "update"], env=env, logfile=apt_log)
    run(["apt-get", "install", "-y", "--no-install-recommends", *missing], env=env, logfile=apt_log)


# --------------------------------------------------------------------------
# Host setup: address, names, sysctls, config files
# --------------------------------------------------------------------------


def host_ip_present() -> bool:
    out = run(["ip", "-o", "-4", "addr", "show", "dev", HOST_DEV], capture=True).stdout.decode()
    return f" {HOST_IP}/32 " in out


def setup_host() -> None:
    Path(PODMAN_SOCKET).parent.mkdir(parents=True, exist_ok=True)
    if not host_ip_present():
        run(["ip", "addr", "add", f"{HOST_IP}/32", "dev", HOST_DEV])
    hosts = Path("/etc/hosts")
    text = hosts.read_text()
    line = f"{HOST_IP} {REGISTRY_HOST} {HOSTS_MARK}"
    if line not in text.splitlines():
        kept = [ln for ln in text.splitlines() if not ln.endswith(HOSTS_MARK)]
        hosts.write_text("\n".join([*kept, line]) + "\n")
    for key, value in (("net/ipv4/ip_forward", "1"), ("net/bridge/bridge-nf-call-iptables", "1")):
        path = Path("/proc/sys") / key
        if not path.exists() and key.startswith("net/bridge"):
            run(["modprobe", "br_netfilter"], check=False)
        if path.exists() and path.read_text().strip() != value:
            path.write_text(value)


def write_configs() -> None:
    """Write every config file from the constants in config.py (idempotent)."""
    for d in (LOGS, RUN, PKI, CONF, STATE / "registry", STATE / "etcd"):
        d.mkdir(parents=True, exist_ok=True)

    # podman 4.3 on this kind of machine: crun fails on hybrid cgroups, and
    # without CAP_SYS_RESOURCE container ulimits must stay within the hard limit.
    write_if_changed(
        CONTAINERS_CONF,
        (
            "# written by paas hack/testbed\n"
            "[containers]\n"
            'default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n'
            "\n[engine]\n"
            'runtime = "runc"\n'
        ),
    )
    write_if_changed(
        REGISTRIES_CONF,
        (
            "# written by paas hack/testbed: the testbed registry speaks plain HTTP\n"
            "[[registry]]\n"
            f'location = "{REGISTRY}"\n'
            "insecure = true\n"
        ),
    )

    write_if_changed(
        CONF / "registry.yml",
        (
            "version: 0.1\n"
            "log:\n  level: info\n"
            "storage:\n"
            f"  filesystem:\n    rootdirectory: {STATE / 'registry'}\n"
            "  delete:\n    enabled: true\n"
            f"http:\n  addr: {HOST_IP}:5000\n"
        ),
    )

    certs = CONF / "containerd-certs.d" / REGISTRY
    write_if_changed(
        certs / "hosts.toml",
        (
            f'server = "http://{REGISTRY}"\n'
            f'[host."http://{REGISTRY}"]\n'
            '  capabilities = ["pull", "resolve"]\n'
        ),
    )
    write_if_changed(
        CONF / "containerd.toml",
        f"""\
version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
[grpc]
  address = "{CONTAINERD_SOCKET}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{REGISTRY}/pause:{PINS["PAUSE_TAG"]}"
  # No CAP_SYS_RESOURCE: the sandbox's oom_score_adj of -998 cannot be set.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{CONF / "cni"}"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "{CONF / "containerd-certs.d"}"
""",
    )
    cni = {
        "cniVersion": "1.0.0",
        "name": CNI_NETWORK,
        "plugins": [
            {
                "type": "bridge",
                "bridge": CNI_BRIDGE,
                "isGateway": True,
                "ipMasq": True,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": POD_SUBNET}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
    write_if_changed(CONF / "cni" / "10-paas-testbed.conflist", json.dumps(cni, indent=2) + "\n")

    write_if_changed(
        CONF / "kubelet.yaml",
        f"""\
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
oomScoreAdj: 0
containerRuntimeEndpoint: unix://{CONTAINERD_SOCKET}
authentication:
  anonymous: {{enabled: true}}
  webhook: {{enabled: false}}
authorization: {{mode: AlwaysAllow}}
# Served with a certificate from the testbed CA, which metrics-server checks.
tlsCertFile: {PKI / "kubelet.crt"}
tlsPrivateKeyFile: {PKI / "kubelet.key"}
clusterDNS: ["{HOST_IP}"]
clusterDomain: {CLUSTER_DOMAIN}
resolvConf: /etc/resolv.conf
evictionHard: {{memory.available: "100Mi", nodefs.available: "2%", imagefs.available: "2%"}}
imageGCHighThresholdPercent: 95
imageGCLowThresholdPercent: 90
serializeImagePulls: false
""",
    )
    write_if_changed(
        CONF / "kube-proxy.yaml",
        f"""\
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: {STATE / "kube-proxy.kubeconfig"}
hostnameOverride: {NODE_NAME}
mode: iptables
clusterCIDR: {CLUSTER_CIDR}
oomScoreAdj: 0
conntrack:
  maxPerCore: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
""",
    )
    # CoreDNS runs on the host and answers pods on HOST_IP:53. The hosts block
    # makes the registry name resolve inside pods the same as on the host.
    write_if_changed(
        CONF / "Corefile",
        f"""\
.:53 {{
    bind {HOST_IP}
    errors
    health {COREDNS_HEALTH}
    hosts {{
        {HOST_IP} {REGISTRY_HOST}
        fallthrough
    }}
    kubernetes {CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {{
        kubeconfig {STATE / "admin.kubeconfig"} {NODE_NAME}
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }}
    forward . /etc/resolv.conf
    cache 30
}}
""",
    )


# --------------------------------------------------------------------------
# Teardown (`down`): pod leftovers in containerd, mounts, links, iptables
# --------------------------------------------------------------------------


def ctr(*args: str) -> subprocess.CompletedProcess[bytes]:
    return run(
        ["ctr", "--address", CONTAINERD_SOCKET, "--namespace", "k8s.io", *args],
        check=False,
        capture=True,
    )


def running_pod_sandboxes() -> list[str]:
    return [line for line in ctr("tasks", "ls", "-q").stdout.decode().split() if line]


def kill_leftover_tasks() -> None:
    """Kill what the kubelet left (e.g. after a failed up); their shims then exit."""
    for task in running_pod_sandboxes():
        ctr("tasks", "kill", "--signal", "SIGKILL", task)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for task in running_pod_sandboxes():
            ctr("tasks", "delete", "--force", task)
        if not running_pod_sandboxes():
            break
        time.sleep(0.3)


def clean_host() -> None:
    # Unmount pod volumes, sandbox netns and shm mounts, deepest first.
    prefixes = (f"{KUBELET_ROOT}/", "/run/netns/cni-", "/run/containerd/io.containerd.")
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for mnt in sorted({m for m in mounts if m.startswith(prefixes)}, key=len, reverse=True):
        run(["umount", "-l", mnt], check=False, capture=True)
    for ns in Path("/run/netns").glob("cni-*") if Path("/run/netns").exists() else []:
        run(["ip", "netns", "delete", ns.name], check=False, capture=True)
    if Path(f"/sys/class/net/{CNI_BRIDGE}").exists():
        run(["ip", "link", "delete", CNI_BRIDGE], check=False, capture=True)
    shutil.rmtree(f"/var/lib/cni/networks/{CNI_NETWORK}", ignore_errors=True)
    # The kubelet bind-mounts its root dir onto itself (to make it shared).
    if f" {KUBELET_ROOT} " in Path("/proc/mounts").read_text():
        run(["umount", "-l", KUBELET_ROOT], check=False, capture=True)
    for tool in ("iptables", "ip6tables"):
        clean_kube_chains(tool)
    if host_ip_present():
        run(["ip", "addr", "del", f"{HOST_IP}/32", "dev", HOST_DEV], check=False)
    hosts = Path("/etc/hosts")
    lines = hosts.read_text().splitlines()
    if any(ln.endswith(HOSTS_MARK) for ln in lines):
        hosts.write_text("\n".join(ln for ln in lines if not ln.endswith(HOSTS_MARK)) + "\n")


def clean_kube_chains(tool: str) -> None:
    """Remove the KUBE-* chains that the kubelet and kube-proxy leave behind."""
    for table in ("filter", "nat", "mangle"):
        proc = run([tool, "-t", table, "-S"], check=False, capture=True)
        if proc.returncode != 0:
            continue
        rules = proc.stdout.decode().splitlines()
        chains = [r.split()[1] for r in rules if r.startswith("-N KUBE-")]
        for rule in rules:
            args = shlex.split(rule)
            if args[0] == "-A" and not args[1].startswith("KUBE-") and "KUBE-" in rule:
                run([tool, "-t", table, "-D", *args[1:]], check=False, capture=True)
        for chain in chains:
            run([tool, "-t", table, "-F", chain], check=False, capture=True)
        for chain in chains:
            run([tool, "-t", table, "-X", chain], check=False, capture=True)
