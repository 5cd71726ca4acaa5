"""Rendering: AppSpec + Release + ClusterSettings -> the Kubernetes objects of one release.

A pure function. `paas render` prints its result, `paas eject` writes it to
files and `paas push` applies it, so the three can never disagree.

Objects come in apply order: the Namespace, the ServiceAccount and the config
Secret before the workloads that use them.
"""

from __future__ import annotations

from typing import Literal

from paas.errors import PolicyError, RenderError
from paas.manifest import DEFAULT_PORT, DEFAULT_SIZE, AppSpec, CronJob, Healthcheck, Process
from paas.names import CRONJOB_NAME_MAX, object_name
from paas.objects import Obj
from paas.releases import Release
from paas.render.patches import apply_patches
from paas.render.sizes import SIZE_TABLE
from paas.settings import ClusterSettings

MANAGED_BY = "paas"
PRESTOP_SECONDS = 5  # long enough for the endpoint to leave every load balancer
GRACE_SECONDS = 30
RELEASE_JOB_DEADLINE = 3600
POD_SECURITY = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
}


def labels(app: str, process: str | None = None, release: str | None = None) -> dict[str, str]:
    """The standard labels of an object of `app`, optionally of one process and release."""
    out = {"app.kubernetes.io/name": app}
    if process:
        out["app.kubernetes.io/component"] = process
    out["app.kubernetes.io/managed-by"] = MANAGED_BY
    out["paas.dev/app"] = app
    if process:
        out["paas.dev/process"] = process
    if release:
        out["paas.dev/release"] = release
    return out


def selector(app: str, process: str) -> dict[str, str]:
    """The labels that select the pods of one process type; stable across releases."""
    return {"paas.dev/app": app, "paas.dev/process": process}


def config_secret_name(app: str, release: Release) -> str:
    """Each release has its own immutable config Secret, so rollback restores config too."""
    return object_name(app, "config", release.pod_name)


def render(app: AppSpec, release: Release, settings: ClusterSettings) -> list[Obj]:
    """Return every object a push of `release` of `app` applies, patches included.

    Raises:
        RenderError: a `kubernetes.patches` rule matches nothing or cannot apply.
        PolicyError: an object breaks the cluster's policy (see `paas.render.policy`).
    """
    ns = settings.namespace(app.name)
    objects: list[Obj] = [
        namespace_object(app.name, ns),
        _service_account(app, ns),
        _config_secret(app, release, ns),
    ]
    ordered = sorted(app.processes.values(), key=lambda p: (p.name != "web", p.name))
    ro = read_only_root(app, settings)
    objects += [_deployment(app, p, release, ns, read_only=ro) for p in ordered]
    web = app.processes.get("web")
    if web is not None:
        objects.append(_service(app, ns))
        gateway = routing(app, settings) == "gateway"
        objects.append(_httproute(app, settings, ns) if gateway else _ingress(app, settings, ns))
    for p in ordered:
        if (p.autoscale.min if p.autoscale else p.replicas) >= 2:
            objects.append(_pdb(app, p, ns))
    objects += [_hpa(app, p, ns) for p in ordered if p.autoscale]
    if app.release_command:
        objects.append(_job(app, release, ns, "release", app.release_command, read_only=ro))
    first = release.first_deploy if release.first_deploy is not None else release.version == 1
    if app.postdeploy and first:
        objects.append(_job(app, release, ns, "postdeploy", app.postdeploy, read_only=ro))
    objects += [_cronjob(app, job, release, ns, read_only=ro) for job in app.cron]
    objects = _patched(objects, app, settings, ns)
    _check_cpu_requests(objects, app)
    return objects


def _check_cpu_requests(objects: list[Obj], app: AppSpec) -> None:
    """An HPA on CPU needs a CPU request on every container: the size sets one, a patch may not."""
    for p in app.processes.values():
        name = object_name(app.name, p.name)
        for o in objects if p.autoscale else ():
            if o["kind"] != "Deployment" or o["metadata"]["name"] != name:
                continue
            for c in o["spec"]["template"]["spec"].get("containers", []):
                if not (c.get("resources") or {}).get("requests", {}).get("cpu"):
                    raise RenderError(
                        f"processes.{p.name}.autoscale: container `{c.get('name')}` of "
                        f"Deployment/{name} has no CPU request, so the HPA cannot measure its "
                        "CPU use",
                        "Keep `resources.requests.cpu` (the process's `size` sets it) in "
                        "`kubernetes.patches`, or remove `autoscale`.",
                    )


def check_policy(app: AppSpec, settings: ClusterSettings) -> None:
    """Refuse `app` before anything is built or applied when its objects break the policy.

    The objects' policy does not depend on the release, so a placeholder one stands in.

    Raises:
        RenderError: a patch matches nothing or cannot apply.
        PolicyError: an object breaks the cluster's policy.
    """
    render(app, Release(version=1, image="pending"), settings)


def _patched(objects: list[Obj], app: AppSpec, settings: ClusterSettings, ns: str) -> list[Obj]:
    """Apply the patches one by one, checking the policy after each, so a refusal names its line."""
    from paas.render.policy import check_hosts, check_objects, ingress_hosts

    def check(candidate: list[Obj]) -> str | None:
        return check_objects(candidate, ns, settings) or check_hosts(
            ingress_hosts(candidate), app.name, settings
        )

    hint = (
        "Remove it, or ask a platform engineer to allow it for the cluster (`policy` in the "
        "cluster settings; see docs/security.md)."
    )
    if problem := check(objects):
        raise PolicyError(f"App `{app.name}` is refused: {problem}.", hint)
    for rule in app.patches:
        objects = apply_patches(objects, (rule,))
        if problem := check(objects):
            raise PolicyError(f"{rule.place}: this patch is refused: {problem}.", hint)
    return objects


def _meta(name: str, ns: str | None, lbls: dict[str, str]) -> Obj:
    meta: Obj = {"name": name}
    if ns:
        meta["namespace"] = ns
    meta["labels"] = lbls
    return meta


def namespace_object(app: str, ns: str) -> Obj:
    """The app's namespace, enforcing Pod Security "restricted"."""
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": _meta(ns, None, {**labels(app), **POD_SECURITY}),
    }


def _service_account(app: AppSpec, ns: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _meta(app.name, ns, labels(app.name)),
        "automountServiceAccountToken": False,
    }


def _config_secret(app: AppSpec, release: Release, ns: str) -> Obj:
    import base64

    values = {**app.env, **release.config}
    secret: Obj = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _meta(
            config_secret_name(app.name, release), ns, labels(app.name, release=release.pod_name)
        ),
        "type": "Opaque",
        "immutable": True,
    }
    if values:  # an empty `data` would read back as none, and differ on the next apply
        secret["data"] = {
            k: base64.b64encode(v.encode()).decode() for k, v in sorted(values.items())
        }
    return secret


#: A new pod's check runs every second until it first passes, then at its own period:
#: a pod is ready about a second after its app listens, not up to `period` later.
STARTUP_PERIOD = 1
#: How long a process may take to pass its first check before it is restarted (as
#: the liveness check allows: 6 failures 20 s apart).
BOOT_SECONDS = 120


def _probe(check: Healthcheck, kind: Literal["startup", "readiness", "liveness"]) -> Obj:
    probe: Obj = (
        {"httpGet": {"path": check.path, "port": "http"}}
        if check.path
        else {"tcpSocket": {"port": "http"}}
    )
    probe["timeoutSeconds"] = check.timeout
    if kind == "startup":
        probe.update(periodSeconds=STARTUP_PERIOD, failureThreshold=BOOT_SECONDS // STARTUP_PERIOD)
    elif kind == "liveness":
        # Generous: liveness restarts a pod, readiness only takes it out of rotation.
        probe.update(periodSeconds=max(check.period, 20), failureThreshold=6)
    else:
        probe.update(periodSeconds=check.period, failureThreshold=3)
    return probe


def routing(app: AppSpec, settings: ClusterSettings) -> str:
    """How requests reach `app`: `ingress` or `gateway` (paas.yaml's, else the cluster's).

    Raises:
        RenderError: the app asks for a Gateway and the cluster settings name none.
    """
    chosen = app.routing or settings.routing
    if chosen == "gateway" and not settings.gateway:
        raise RenderError(
            "paas.yaml asks for `kubernetes.routing: gateway`, but the cluster settings name "
            "no Gateway",
            "Use `routing: ingress`, or have the platform engineer run `paas cluster init "
            "--gateway NAMESPACE/NAME`.",
        )
    return chosen


def _httproute(app: AppSpec, settings: ClusterSettings, ns: str) -> Obj:
    """The app's HTTPRoute on the cluster's Gateway: every host to the web Service.

    TLS is the Gateway's: its listeners hold the certificates (cert-manager's
    Gateway support issues them), so the route carries none.
    """
    default_host = settings.app_host(app.name)
    hosts = [default_host, *(d for d in app.domains if d != default_host)]
    gateway_ns, _, gateway = settings.gateway.partition("/")
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": _meta(app.name, ns, labels(app.name, "web")),
        "spec": {
            "parentRefs": [
                {
                    "group": "gateway.networking.k8s.io",
                    "kind": "Gateway",
                    "namespace": gateway_ns,
                    "name": gateway,
                }
            ],
            "hostnames": hosts,
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                    "backendRefs": [{"name": object_name(app.name, "web"), "port": 80}],
                }
            ],
        },
    }


def read_only_root(app: AppSpec, settings: ClusterSettings) -> bool:
    """Whether the app's containers get a read-only root filesystem (only /tmp writable).

    Off by default, as on Heroku, where a dyno's filesystem is writable and
    ephemeral; `kubernetes.read_only_root` in paas.yaml, else the cluster
    settings' `read_only_root`, turns it on.
    """
    return app.read_only_root if app.read_only_root is not None else settings.read_only_root


def _container(
    app: AppSpec,
    release: Release,
    *,
    name: str,
    command: str | None,
    size: str,
    port: int,
    read_only: bool,
) -> Obj:
    container: Obj = {"name": name, "image": release.image}
    if command is not None:
        if release.image_kind == "cnb":
            # The CNB launcher runs a one-string command through the image's shell with
            # the buildpacks' environment (PATH, virtualenvs, node_modules/.bin).
            container["command"] = ["/cnb/lifecycle/launcher"]
            container["args"] = [command]
        else:
            container["command"] = ["/bin/sh", "-c", command]
    container["env"] = [
        {"name": "PORT", "value": str(port)},
        {"name": "PAAS_APP", "value": app.name},
        {"name": "PAAS_PROCESS", "value": name},
        {"name": "PAAS_RELEASE", "value": release.pod_name},
        {"name": "PAAS_COMMIT", "value": release.commit},
    ]
    container["envFrom"] = [{"secretRef": {"name": config_secret_name(app.name, release)}}]
    container["resources"] = SIZE_TABLE[size].resources()
    container["securityContext"] = {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": read_only,
        "runAsNonRoot": True,
    }
    if read_only:
        container["volumeMounts"] = [{"name": "tmp", "mountPath": "/tmp"}]  # noqa: S108
    return container


def _pod_spec(app: AppSpec, release: Release, container: Obj, *, restart: str) -> Obj:
    spec: Obj = {
        "serviceAccountName": app.name,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "restartPolicy": restart,
        "terminationGracePeriodSeconds": GRACE_SECONDS,
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container],
    }
    if "volumeMounts" in container:
        spec["volumes"] = [{"name": "tmp", "emptyDir": {}}]
    return spec


def _deployment(
    app: AppSpec, process: Process, release: Release, ns: str, *, read_only: bool
) -> Obj:
    container = _container(
        app,
        release,
        name=process.name,
        command=process.command,
        size=process.size,
        port=process.port,
        read_only=read_only,
    )
    if process.name == "web":
        container["ports"] = [{"name": "http", "containerPort": process.port, "protocol": "TCP"}]
        container["lifecycle"] = {"preStop": {"sleep": {"seconds": PRESTOP_SECONDS}}}
        if process.healthcheck:
            for kind in ("startup", "readiness", "liveness"):
                container[f"{kind}Probe"] = _probe(process.healthcheck, kind)
    elif process.healthcheck:
        container["ports"] = [{"name": "http", "containerPort": process.port, "protocol": "TCP"}]
        container["readinessProbe"] = _probe(process.healthcheck, "readiness")
    pod_labels = labels(app.name, process.name, release.pod_name)
    spec: Obj = {}
    if process.autoscale is None:
        spec["replicas"] = process.replicas
    spec.update(
        {
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": selector(app.name, process.name)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"},
            },
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": _pod_spec(app, release, container, restart="Always"),
            },
        }
    )
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(
            object_name(app.name, process.name), ns, labels(app.name, process.name, release.name)
        ),
        "spec": spec,
    }


def _service(app: AppSpec, ns: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(object_name(app.name, "web"), ns, labels(app.name, "web")),
        "spec": {
            "type": "ClusterIP",
            "selector": selector(app.name, "web"),
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def _ingress(app: AppSpec, settings: ClusterSettings, ns: str) -> Obj:
    default_host = settings.app_host(app.name)
    hosts = [default_host, *(d for d in app.domains if d != default_host)]
    service = object_name(app.name, "web")
    meta = _meta(app.name, ns, labels(app.name, "web"))
    spec: Obj = {}
    if settings.ingress_class:
        spec["ingressClassName"] = settings.ingress_class
    spec["rules"] = [
        {
            "host": h,
            "http": {
                "paths": [
                    {
                        "path": "/",
                        "pathType": "Prefix",
                        "backend": {"service": {"name": service, "port": {"name": "http"}}},
                    }
                ]
            },
        }
        for h in hosts
    ]
    tls = settings.tls
    if tls.mode == "cert-manager":
        meta["annotations"] = {"cert-manager.io/cluster-issuer": str(tls.issuer)}
        spec["tls"] = [{"hosts": hosts, "secretName": object_name(app.name, "tls")}]
    elif tls.mode == "secret":
        # A shared (wildcard) certificate covers the cluster domain only; custom
        # domains need their own certificate, for example through cert-manager.
        spec["tls"] = [{"hosts": [default_host], "secretName": str(tls.secret)}]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta, "spec": spec}


def _pdb(app: AppSpec, process: Process, ns: str) -> Obj:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(object_name(app.name, process.name), ns, labels(app.name, process.name)),
        "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": selector(app.name, process.name)},
        },
    }


def _hpa(app: AppSpec, process: Process, ns: str) -> Obj:
    assert process.autoscale is not None
    scale = process.autoscale
    hpa: Obj = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _meta(object_name(app.name, process.name), ns, labels(app.name, process.name)),
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": object_name(app.name, process.name),
            },
            "minReplicas": scale.min,
            "maxReplicas": scale.max,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": scale.cpu},
                    },
                }
            ],
        },
    }
    if scale.scale_down_after is not None:
        hpa["spec"]["behavior"] = {
            "scaleDown": {"stabilizationWindowSeconds": scale.scale_down_after}
        }
    return hpa


def _job(
    app: AppSpec, release: Release, ns: str, kind: str, command: str, *, read_only: bool
) -> Obj:
    container = _container(
        app,
        release,
        name=kind,
        command=command,
        size=DEFAULT_SIZE,
        port=DEFAULT_PORT,
        read_only=read_only,
    )
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _meta(
            object_name(app.name, kind, release.pod_name),
            ns,
            labels(app.name, kind, release.pod_name),
        ),
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": RELEASE_JOB_DEADLINE,
            "ttlSecondsAfterFinished": 7 * 24 * 3600,
            "template": {
                "metadata": {"labels": labels(app.name, kind, release.pod_name)},
                "spec": _pod_spec(app, release, container, restart="Never"),
            },
        },
    }


def _cronjob(app: AppSpec, job: CronJob, release: Release, ns: str, *, read_only: bool) -> Obj:
    container = _container(
        app,
        release,
        name=job.name,
        command=job.command,
        size=job.size,
        port=DEFAULT_PORT,
        read_only=read_only,
    )
    # The dot keeps cron pods out of every process selector: process types cannot hold one.
    pod_labels = labels(app.name, f"cron.{job.name}", release.pod_name)
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": _meta(
            object_name(app.name, job.name, limit=CRONJOB_NAME_MAX),
            ns,
            labels(app.name, f"cron.{job.name}", release.name),
        ),
        "spec": {
            "schedule": job.schedule,
            "timeZone": "Etc/UTC",
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "spec": {
                    "backoffLimit": 0,
                    "template": {
                        "metadata": {"labels": pod_labels},
                        "spec": _pod_spec(app, release, container, restart="Never"),
                    },
                }
            },
        },
    }


def one_off_pod(
    app: AppSpec,
    release: Release,
    settings: ClusterSettings,
    *,
    run_id: str,
    command: list[str],
    tty: bool,
) -> Obj:
    """A one-off pod (`paas run`) from `release`'s image and config, named APP-run-ID.

    Its process label is `run.ID`: the dot keeps it out of every process selector.
    """
    import shlex

    line = shlex.join(command) if len(command) > 1 else command[0]
    container = _container(
        app,
        release,
        name="run",
        command=line,
        size=DEFAULT_SIZE,
        port=DEFAULT_PORT,
        read_only=read_only_root(app, settings),
    )
    if tty:
        container.update(stdin=True, stdinOnce=True, tty=True)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta(
            object_name(app.name, "run", run_id),
            settings.namespace(app.name),
            labels(app.name, f"run.{run_id}", release.pod_name),
        ),
        "spec": {
            **_pod_spec(app, release, container, restart="Never"),
            "activeDeadlineSeconds": 24 * 3600,
        },
    }
