"""The policy every rendered object must pass before it is applied or written.

`kubernetes.patches` is the escape hatch of paas.yaml, and paas.yaml comes from
whoever pushed. So after the patches, and before anything reaches the cluster
or a file, the objects are checked against what a platform engineer allowed:

- every object stays in the app's namespace, and the one Namespace is the app's;
- kinds are the ones paas makes (`KINDS`), or named in the cluster settings'
  `policy.kinds`; cluster-scoped kinds never are;
- every pod template passes Pod Security "restricted", and the namespace keeps
  its "restricted" labels, unless `policy.allow` names the exception;
- custom domains are not wildcards, nor inside the cluster's own domain (where
  every app has its default host), unless the settings allow it.

Pure: objects in, the first problem (or None) out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from paas.objects import Obj
from paas.settings import ClusterSettings

#: The (apiVersion, kind) pairs `render()` makes.
KINDS = frozenset(
    {
        ("v1", "Namespace"),
        ("v1", "ServiceAccount"),
        ("v1", "Secret"),
        ("v1", "Service"),
        ("apps/v1", "Deployment"),
        ("networking.k8s.io/v1", "Ingress"),
        ("gateway.networking.k8s.io/v1", "HTTPRoute"),
        ("policy/v1", "PodDisruptionBudget"),
        ("autoscaling/v2", "HorizontalPodAutoscaler"),
        ("batch/v1", "Job"),
        ("batch/v1", "CronJob"),
    }
)

#: Kinds that live outside any namespace: an app may never make one.
CLUSTER_SCOPED = frozenset(
    {
        "Namespace",
        "Node",
        "PersistentVolume",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "StorageClass",
        "PriorityClass",
        "RuntimeClass",
        "IngressClass",
        "GatewayClass",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "APIService",
        "CertificateSigningRequest",
        "ClusterIssuer",
    }
)

_VOLUME_TYPES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
_SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)
_SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t"})
_POD_SECURITY_LABEL = "pod-security.kubernetes.io/"


def _dict(value: object) -> dict[str, Any]:
    """`value` when it is a mapping (patched objects may hold anything), else an empty one."""
    return value if isinstance(value, dict) else {}


def _kind_name(obj: Obj) -> str:
    return f"{obj.get('kind')} `{_dict(obj.get('metadata')).get('name')}`"


def _kind_allowed(api_version: str, kind: str, settings: ClusterSettings) -> bool:
    if kind in CLUSTER_SCOPED and (api_version, kind) != ("v1", "Namespace"):
        return False
    if (api_version, kind) in KINDS:
        return True
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    named = f"{group}/{kind}" if group else kind
    return named in settings.policy.kinds


def check_objects(objects: list[Obj], namespace: str, settings: ClusterSettings) -> str | None:
    """Return the first rule that `objects` break, in words, or None when they pass.

    Args:
        objects: The rendered objects of one app, patches applied.
        namespace: The app's namespace.
        settings: The cluster settings, whose `policy` names the exceptions allowed.
    """
    namespaces = [o for o in objects if o.get("kind") == "Namespace"]
    if len(namespaces) > 1:
        return "it makes a second Namespace; an app has exactly one"
    for obj in objects:
        api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
        meta = _dict(obj.get("metadata"))
        if not _kind_allowed(api_version, kind, settings):
            return (
                f"it makes {_kind_name(obj)} (`{api_version}`), a kind paas does not make "
                "and the cluster settings do not allow"
            )
        if kind == "Namespace":
            if meta.get("name") != namespace:
                return f"it renames the app's Namespace to `{meta.get('name')}`"
            problem = _namespace_labels(obj, settings)
        elif meta.get("namespace") != namespace:
            return (
                f"it moves {_kind_name(obj)} to namespace `{meta.get('namespace')}`; "
                f"every object of the app stays in `{namespace}`"
            )
        else:
            problem = _pod_problem(obj, settings)
        if problem:
            return problem
    return None


def check_hosts(hosts: list[str], app: str, settings: ClusterSettings) -> str | None:
    """Return why one of the Ingress `hosts` of `app` is not allowed, or None.

    The app's default host is always fine; a wildcard, the cluster domain itself
    or a host inside it (another app's default host) need the cluster settings.
    """
    policy = settings.policy
    domain = settings.domain.lower()
    for host in hosts:
        name = host.lower()
        if name == settings.app_host(app).lower():
            continue
        if name.startswith("*.") and not policy.wildcard_domains:
            return (
                f"domain `{host}` is a wildcard; a wildcard domain needs "
                "`policy.wildcard_domains: true` in the cluster settings"
            )
        inside = name.lstrip("*.")
        if (inside == domain or inside.endswith(f".{domain}")) and not policy.cluster_domain:
            return (
                f"domain `{host}` is inside the cluster domain `{settings.domain}`, where each app "
                "has its default host; that needs `policy.cluster_domain: true` in the cluster "
                "settings"
            )
    return None


def ingress_hosts(objects: list[Obj]) -> list[str]:
    """The hosts the Ingresses and HTTPRoutes among `objects` route."""
    hosts = []
    for obj in objects:
        spec = _dict(obj.get("spec"))
        if obj.get("kind") == "Ingress":
            rules = spec.get("rules") or []
            hosts += [str(r["host"]) for r in rules if isinstance(r, dict) and r.get("host")]
        elif obj.get("kind") == "HTTPRoute":
            hosts += [str(h) for h in spec.get("hostnames") or [] if h]
    return hosts


def _namespace_labels(obj: Obj, settings: ClusterSettings) -> str | None:
    from paas.render import POD_SECURITY

    if "pod-security-labels" in settings.policy.allow:
        return None
    got = {
        k: v
        for k, v in _dict(_dict(obj.get("metadata")).get("labels")).items()
        if k.startswith(_POD_SECURITY_LABEL)
    }
    if got != POD_SECURITY:
        return (
            "it changes the Pod Security labels of the app's Namespace; the namespace "
            'enforces "restricted" [pod-security-labels]'
        )
    return None


def _pod_specs(obj: Obj) -> Iterator[dict[str, Any]]:
    kind = obj.get("kind")
    spec = _dict(obj.get("spec"))
    if kind == "CronJob":
        spec = _dict(_dict(spec.get("jobTemplate")).get("spec"))
    if kind in ("Deployment", "Job", "CronJob", "StatefulSet", "DaemonSet", "ReplicaSet"):
        template = _dict(spec.get("template"))
        yield {**_dict(template.get("spec")), "$annotations": _dict(template.get("metadata"))}
    elif kind == "Pod":
        yield {**spec, "$annotations": _dict(obj.get("metadata"))}


def _pod_problem(obj: Obj, settings: ClusterSettings) -> str | None:
    allow = set(settings.policy.allow)
    for pod in _pod_specs(obj):
        for rule, text in _pod_rules(pod):
            if rule not in allow:
                return (
                    f'{text} in {_kind_name(obj)}, which Pod Security "restricted" forbids [{rule}]'
                )
    return None


def _containers(pod: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for container in pod.get(field) or []:
            if isinstance(container, dict):
                yield container


def _pod_rules(pod: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Yield (exception name, what breaks it) for each rule of "restricted" the pod breaks."""
    for key, value in _dict(pod["$annotations"].get("annotations")).items():
        if (
            key.startswith("container.apparmor.security.beta.kubernetes.io/")
            and value == "unconfined"
        ):
            yield "security-profiles", f"the Unconfined AppArmor profile of `{key.split('/')[-1]}`"
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(field) is True:
            yield "host-namespaces", f"`{field}: true`"
    for volume in pod.get("volumes") or []:
        if not isinstance(volume, dict):
            continue
        if "hostPath" in volume:
            yield "host-path", f"the hostPath volume `{volume.get('name')}`"
        elif not (set(volume) - {"name"}) <= _VOLUME_TYPES:
            kinds = ", ".join(sorted(set(volume) - {"name"} - _VOLUME_TYPES))
            yield "volume-types", f"the {kinds} volume `{volume.get('name')}`"
    pod_context = _dict(pod.get("securityContext"))
    for sysctl in pod_context.get("sysctls") or []:
        if isinstance(sysctl, dict) and sysctl.get("name") not in _SAFE_SYSCTLS:
            yield "sysctls", f"the sysctl `{sysctl.get('name')}`"
    yield from _profile_rules(pod_context, "the pod")
    if pod_context.get("runAsUser") == 0:
        yield "run-as-root", "`runAsUser: 0` for the pod"
    for container in _containers(pod):
        name = f"container `{container.get('name')}`"
        context = _dict(container.get("securityContext"))
        if context.get("privileged") is True:
            yield "privileged", f"`privileged: true` for {name}"
        if context.get("allowPrivilegeEscalation") is not False:
            yield "privilege-escalation", f"privilege escalation allowed for {name}"
        capabilities = _dict(context.get("capabilities"))
        if "ALL" not in (capabilities.get("drop") or []):
            yield "capabilities", f"{name} not dropping ALL capabilities"
        added = [c for c in capabilities.get("add") or [] if c != "NET_BIND_SERVICE"]
        if added:
            yield "capabilities", f"the capability `{added[0]}` for {name}"
        if context.get("runAsUser") == 0:
            yield "run-as-root", f"`runAsUser: 0` for {name}"
        non_root = context.get("runAsNonRoot", pod_context.get("runAsNonRoot"))
        if non_root is not True:
            yield "run-as-root", f"{name} allowed to run as root (`runAsNonRoot` is not true)"
        yield from _profile_rules(context, name)
        seccomp = _dict(context.get("seccompProfile") or pod_context.get("seccompProfile"))
        if seccomp.get("type") not in ("RuntimeDefault", "Localhost"):
            yield "seccomp", f"{name} without the RuntimeDefault seccomp profile"
        if context.get("procMount") not in (None, "Default"):
            yield "security-profiles", f"`procMount: {context.get('procMount')}` for {name}"
        for port in container.get("ports") or []:
            if isinstance(port, dict) and port.get("hostPort"):
                yield "host-ports", f"the host port {port.get('hostPort')} of {name}"
        if _dict(context.get("windowsOptions")).get("hostProcess") is True:
            yield "host-namespaces", f"a Windows host process for {name}"


def _profile_rules(context: dict[str, Any], who: str) -> Iterator[tuple[str, str]]:
    if _dict(context.get("seccompProfile")).get("type") == "Unconfined":
        yield "seccomp", f"the Unconfined seccomp profile for {who}"
    if _dict(context.get("appArmorProfile")).get("type") == "Unconfined":
        yield "security-profiles", f"the Unconfined AppArmor profile for {who}"
    selinux = _dict(context.get("seLinuxOptions"))
    if selinux.get("type", "") not in _SELINUX_TYPES or selinux.get("user") or selinux.get("role"):
        yield "security-profiles", f"custom SELinux options for {who}"


def namespace_owner_problem(namespace: Obj, app: str) -> str | None:
    """Return why paas must not touch the existing `namespace` for `app`, or None.

    paas only touches namespaces it created for that app: they carry its labels.
    """
    found = _dict(_dict(namespace.get("metadata")).get("labels"))
    if found.get("app.kubernetes.io/managed-by") == "paas" and found.get("paas.dev/app") == app:
        return None
    name = _dict(namespace.get("metadata")).get("name")
    owner = found.get("paas.dev/app")
    if found.get("app.kubernetes.io/managed-by") == "paas" and owner:
        return f"namespace `{name}` belongs to the paas app `{owner}`, not `{app}`"
    return f"namespace `{name}` exists and was not created by paas"


def hosts_taken(hosts: list[str], ingresses: list[Obj], namespace: str) -> list[tuple[str, str]]:
    """The `hosts` that an Ingress outside `namespace` routes already: (host, who) pairs.

    `who` names the other app (its `paas.dev/app` label) or the Ingress itself.
    """
    wanted = {h.lower(): h for h in hosts}
    taken: list[tuple[str, str]] = []
    for ingress in ingresses:
        meta = _dict(ingress.get("metadata"))
        if meta.get("namespace") == namespace:
            continue
        other = _dict(meta.get("labels")).get("paas.dev/app")
        kind = ingress.get("kind", "Ingress")
        who = f"app `{other}`" if other else f"{kind} `{meta.get('namespace')}/{meta.get('name')}`"
        for host in ingress_hosts([ingress]):
            if host.lower() in wanted:
                taken.append((wanted.pop(host.lower()), who))
    return taken
