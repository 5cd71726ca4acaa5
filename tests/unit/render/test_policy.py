"""The policy on rendered objects: patches cannot escape the namespace, the kinds or Pod Security."""

from __future__ import annotations

from pathlib import Path

import pytest
from unit_helpers import run_paas, write_kubeconfig

from paas.errors import ExitCode, PolicyError
from paas.manifest import AppSpec, load_app
from paas.releases import Release
from paas.render import render
from paas.render.policy import hosts_taken, namespace_owner_problem
from paas.settings import ClusterSettings, PolicySettings

RELEASE = Release(version=1, image="registry.example/app@sha256:" + "0" * 64)
HINT = (
    "Remove it, or ask a platform engineer to allow it for the cluster (`policy` in the "
    "cluster settings; see docs/security.md)."
)


def app_with_patch(tmp_path: Path, patch: str, extra: str = "") -> AppSpec:
    (tmp_path / "paas.yaml").write_text(
        "name: shop\nprocesses:\n  web: {command: ./web}\n"
        + extra
        + "kubernetes:\n  patches:\n    - target: {kind: Deployment}\n"
        + patch
    )
    return load_app(tmp_path)


def refusal(app: AppSpec, settings: ClusterSettings | None = None) -> str:
    with pytest.raises(PolicyError) as caught:
        render(app, RELEASE, settings or ClusterSettings())
    assert caught.value.exit_code == ExitCode.RENDER
    assert caught.value.hint == HINT
    return caught.value.message


CONTAINER = "spec: {template: {spec: {containers: [{name: web, %s}]}}}"
POD = "spec: {template: {spec: {%s}}}"


@pytest.mark.parametrize(
    ("merge", "expected"),
    [
        (
            CONTAINER % "securityContext: {privileged: true}",
            "`privileged: true` for container `web` in Deployment `shop-web`, which Pod Security "
            '"restricted" forbids [privileged]',
        ),
        (
            POD % "hostNetwork: true",
            '`hostNetwork: true` in Deployment `shop-web`, which Pod Security "restricted" '
            "forbids [host-namespaces]",
        ),
        (
            POD % "hostPID: true",
            '`hostPID: true` in Deployment `shop-web`, which Pod Security "restricted" '
            "forbids [host-namespaces]",
        ),
        (
            POD % "volumes: [{name: root, hostPath: {path: /}}]",
            'the hostPath volume `root` in Deployment `shop-web`, which Pod Security "restricted" '
            "forbids [host-path]",
        ),
        (
            CONTAINER % "securityContext: {runAsUser: 0}",
            "`runAsUser: 0` for container `web` in Deployment `shop-web`, which Pod Security "
            '"restricted" forbids [run-as-root]',
        ),
        (
            CONTAINER % "securityContext: {runAsNonRoot: false}",
            "container `web` allowed to run as root (`runAsNonRoot` is not true) in Deployment "
            '`shop-web`, which Pod Security "restricted" forbids [run-as-root]',
        ),
        (
            CONTAINER % "securityContext: {capabilities: {add: [SYS_ADMIN]}}",
            "the capability `SYS_ADMIN` for container `web` in Deployment `shop-web`, which Pod "
            'Security "restricted" forbids [capabilities]',
        ),
        (
            CONTAINER % "securityContext: {allowPrivilegeEscalation: true}",
            "privilege escalation allowed for container `web` in Deployment `shop-web`, which Pod "
            'Security "restricted" forbids [privilege-escalation]',
        ),
        (
            CONTAINER % "securityContext: {seccompProfile: {type: Unconfined}}",
            "the Unconfined seccomp profile for container `web` in Deployment `shop-web`, which "
            'Pod Security "restricted" forbids [seccomp]',
        ),
        (
            CONTAINER % "ports: [{containerPort: 80, hostPort: 80}]",
            "the host port 80 of container `web` in Deployment `shop-web`, which Pod Security "
            '"restricted" forbids [host-ports]',
        ),
        (
            POD % "volumes: [{name: n, nfs: {server: x, path: /}}]",
            'the nfs volume `n` in Deployment `shop-web`, which Pod Security "restricted" '
            "forbids [volume-types]",
        ),
        (
            POD % "initContainers: [{name: setup, image: x, securityContext: {privileged: true}}]",
            "`privileged: true` for container `setup` in Deployment `shop-web`, which Pod "
            'Security "restricted" forbids [privileged]',
        ),
        (
            "metadata: {namespace: kube-system}",
            "it moves Deployment `shop-web` to namespace `kube-system`; every object of the app "
            "stays in `shop`",
        ),
    ],
)
def test_a_patch_breaking_a_rule_is_refused_on_its_line(
    tmp_path: Path, merge: str, expected: str
) -> None:
    app = app_with_patch(tmp_path, f"      merge: {{{merge}}}\n")
    assert refusal(app) == f"paas.yaml:6: kubernetes.patches[0]: this patch is refused: {expected}."


def test_the_second_patch_is_named_when_it_breaks_the_rule(tmp_path: Path) -> None:
    (tmp_path / "paas.yaml").write_text(
        "name: shop\nprocesses:\n  web: {command: ./web}\nkubernetes:\n  patches:\n"
        "    - target: {kind: Deployment}\n      merge: {spec: {replicas: 2}}\n"
        "    - target: {kind: Deployment}\n"
        "      json:\n        - {op: add, path: /spec/template/spec/hostIPC, value: true}\n"
    )
    message = refusal(load_app(tmp_path))
    assert message.startswith("paas.yaml:8: kubernetes.patches[1]: this patch is refused: ")
    assert "`hostIPC: true`" in message


def test_changing_a_kind_is_refused(tmp_path: Path) -> None:
    (tmp_path / "paas.yaml").write_text(
        "name: shop\nprocesses:\n  web: {command: ./web}\nkubernetes:\n  patches:\n"
        "    - target: {kind: ServiceAccount}\n"
        "      json:\n"
        "        - {op: replace, path: /kind, value: ClusterRoleBinding}\n"
        "        - {op: replace, path: /apiVersion, value: rbac.authorization.k8s.io/v1}\n"
    )
    assert refusal(load_app(tmp_path)) == (
        "paas.yaml:6: kubernetes.patches[0]: this patch is refused: it makes ClusterRoleBinding "
        "`shop` (`rbac.authorization.k8s.io/v1`), a kind paas does not make and the cluster "
        "settings do not allow."
    )


def test_a_kind_named_in_the_settings_is_allowed_but_never_a_cluster_scoped_one(
    tmp_path: Path,
) -> None:
    (tmp_path / "paas.yaml").write_text(
        "name: shop\nprocesses:\n  web: {command: ./web}\nkubernetes:\n  patches:\n"
        "    - target: {kind: Secret}\n"
        "      json:\n"
        "        - {op: replace, path: /kind, value: ConfigMap}\n"
    )
    app = load_app(tmp_path)
    assert "a kind paas does not make" in refusal(app)
    render(app, RELEASE, ClusterSettings(policy=PolicySettings(kinds=("ConfigMap",))))
    (tmp_path / "paas.yaml").write_text(
        (tmp_path / "paas.yaml").read_text().replace("ConfigMap", "ClusterRole")
    )
    allowed = ClusterSettings(policy=PolicySettings(kinds=("ClusterRole",)))
    assert "a kind paas does not make" in refusal(load_app(tmp_path), allowed)


def test_relabelling_the_namespace_is_refused(tmp_path: Path) -> None:
    (tmp_path / "paas.yaml").write_text(
        "name: shop\nprocesses:\n  web: {command: ./web}\nkubernetes:\n  patches:\n"
        "    - target: {kind: Namespace}\n"
        "      merge: {metadata: {labels: {pod-security.kubernetes.io/enforce: privileged}}}\n"
    )
    assert refusal(load_app(tmp_path)) == (
        "paas.yaml:6: kubernetes.patches[0]: this patch is refused: it changes the Pod Security "
        'labels of the app\'s Namespace; the namespace enforces "restricted" '
        "[pod-security-labels]."
    )


def test_renaming_the_namespace_is_refused(tmp_path: Path) -> None:
    (tmp_path / "paas.yaml").write_text(
        "name: shop\nprocesses:\n  web: {command: ./web}\nkubernetes:\n  patches:\n"
        "    - target: {kind: Namespace}\n      merge: {metadata: {name: kube-system}}\n"
    )
    assert refusal(load_app(tmp_path)).endswith("it renames the app's Namespace to `kube-system`.")


def test_a_named_exception_in_the_settings_lets_the_patch_through(tmp_path: Path) -> None:
    app = app_with_patch(
        tmp_path, f"      merge: {{{CONTAINER % 'securityContext: {privileged: true}'}}}\n"
    )
    settings = ClusterSettings(policy=PolicySettings(allow=("privileged",)))
    objects = render(app, RELEASE, settings)
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    context = deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]
    assert context["privileged"] is True


def test_an_unknown_exception_name_is_a_settings_error() -> None:
    with pytest.raises(ValueError, match="`root` is not a policy exception; the exceptions are: "):
        PolicySettings(allow=("root",))


def test_harmless_patches_pass(tmp_path: Path) -> None:
    app = app_with_patch(
        tmp_path,
        "      merge: {spec: {template: {spec: {containers: [{name: web, "
        "securityContext: {capabilities: {add: [NET_BIND_SERVICE]}}}], "
        "volumes: [{name: cache, emptyDir: {}}]}}}}\n",
    )
    render(app, RELEASE, ClusterSettings())


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        (
            "'*.example.com'",
            "domain `*.example.com` is a wildcard; a wildcard domain needs "
            "`policy.wildcard_domains: true` in the cluster settings",
        ),
        (
            "other.apps.example.com",
            "domain `other.apps.example.com` is inside the cluster domain `apps.example.com`, "
            "where each app has its default host; that needs `policy.cluster_domain: true` in "
            "the cluster settings",
        ),
        (
            "apps.example.com",
            "domain `apps.example.com` is inside the cluster domain `apps.example.com`, where "
            "each app has its default host; that needs `policy.cluster_domain: true` in the "
            "cluster settings",
        ),
    ],
)
def test_domains_that_belong_to_the_cluster_need_its_settings(
    tmp_path: Path, domain: str, expected: str
) -> None:
    (tmp_path / "paas.yaml").write_text(
        f"name: shop\nprocesses:\n  web: {{command: ./web}}\ndomains: [{domain}]\n"
    )
    app = load_app(tmp_path)
    settings = ClusterSettings(domain="apps.example.com")
    assert refusal(app, settings) == f"App `shop` is refused: {expected}."
    allowed = PolicySettings(wildcard_domains=True, cluster_domain=True)
    render(app, RELEASE, settings.model_copy(update={"policy": allowed}))


def test_a_patch_adding_a_host_inside_the_cluster_domain_is_refused(tmp_path: Path) -> None:
    (tmp_path / "paas.yaml").write_text(
        "name: shop\nprocesses:\n  web: {command: ./web}\nkubernetes:\n  patches:\n"
        "    - target: {kind: Ingress}\n"
        "      json:\n        - {op: add, path: /spec/rules/0/host, value: bank.localhost}\n"
    )
    assert refusal(load_app(tmp_path)).startswith(
        "paas.yaml:6: kubernetes.patches[0]: this patch is refused: domain `bank.localhost` "
        "is inside the cluster domain `localhost`"
    )


def test_namespace_ownership() -> None:
    ours = {
        "metadata": {
            "name": "shop",
            "labels": {"app.kubernetes.io/managed-by": "paas", "paas.dev/app": "shop"},
        }
    }
    assert namespace_owner_problem(ours, "shop") is None
    assert namespace_owner_problem(ours, "blog") == (
        "namespace `shop` belongs to the paas app `shop`, not `blog`"
    )
    foreign = {
        "metadata": {"name": "ingress-nginx", "labels": {"kubernetes.io/metadata.name": "x"}}
    }
    assert namespace_owner_problem(foreign, "ingress-nginx") == (
        "namespace `ingress-nginx` exists and was not created by paas"
    )


def test_a_host_routed_by_another_namespace_is_taken() -> None:
    def ingress(namespace: str, host: str, app: str | None) -> dict[str, object]:
        labels = {"paas.dev/app": app} if app else {}
        return {
            "kind": "Ingress",
            "metadata": {"name": "web", "namespace": namespace, "labels": labels},
            "spec": {"rules": [{"host": host}]},
        }

    others = [
        ingress("shop", "shop.example.com", "shop"),
        ingress("blog", "Blog.example.com", "blog"),
        ingress("legacy", "old.example.com", None),
    ]
    wanted = ["shop.example.com", "blog.example.com", "old.example.com", "new.example.com"]
    assert hosts_taken(wanted, others, "shop") == [
        ("blog.example.com", "app `blog`"),
        ("old.example.com", "Ingress `legacy/web`"),
    ]


def test_an_unconfined_apparmor_annotation_is_refused(tmp_path: Path) -> None:
    app = app_with_patch(
        tmp_path,
        "      merge: {spec: {template: {metadata: {annotations: "
        "{container.apparmor.security.beta.kubernetes.io/web: unconfined}}}}}\n",
    )
    assert refusal(app).endswith(
        "the Unconfined AppArmor profile of `web` in Deployment `shop-web`, which Pod Security "
        '"restricted" forbids [security-profiles].'
    )


def test_cluster_init_refuses_an_unknown_exception_before_connecting(tmp_path: Path) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", 9)  # never reached: refused before
    result = run_paas(
        "cluster",
        "init",
        "--domain",
        "apps.example.com",
        "--registry",
        "registry.example.com",
        "--allow",
        "root",
        kubeconfig=kubeconfig,
        timeout=30,
    )
    assert result.returncode == ExitCode.USAGE
    assert result.stderr.startswith(
        "error: `--allow`: `root` is not a policy exception; the exceptions are: privileged, "
    )
