"""`paas cluster init` and `paas cluster info`: team-wide settings stored in the cluster."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import typer

from paas.cli.common import ContextOption
from paas.cli.options import JsonOption

if TYPE_CHECKING:
    from paas.kube.api import Kube

group = typer.Typer(
    help="Team-wide cluster settings: domain, registry, builder, TLS.", no_args_is_help=True
)


@group.command("init")
def init(
    domain: Annotated[str, typer.Option(help="Apps are served at APP.DOMAIN.")],
    registry: Annotated[str, typer.Option(help="Registry (host[:port][/path]) images go to.")],
    builder: Annotated[str, typer.Option(help="Default CNB builder image.")] = "paas/builder",
    dockerfile_builder: Annotated[
        str,
        typer.Option(
            help="Image that builds Dockerfile apps in the cluster (`--strategy cluster`): "
            "kaniko's executor, as `hack/testbed` builds it."
        ),
    ] = "paas/dockerfile-builder",
    ingress_class: Annotated[
        str | None,
        typer.Option(
            help="IngressClass for app Ingresses. Default: the cluster's default class.",
            show_default=False,
        ),
    ] = None,
    tls: Annotated[
        str,
        typer.Option(
            help="TLS for Ingresses: `none`, `cert-manager:ISSUER` (a ClusterIssuer) or "
            "`secret:NAME` (a TLS Secret in each app namespace)."
        ),
    ] = "none",
    insecure_registry: Annotated[
        bool, typer.Option(help="The registry speaks plain HTTP (test clusters only).")
    ] = False,
    history: Annotated[int, typer.Option(help="Releases kept per app.", min=2)] = 20,
    mirror: Annotated[
        list[str] | None,
        typer.Option(
            help="A dependency mirror, `ECOSYSTEM=URL` (pip, npm, go, maven, gems, composer); "
            "repeat for each.",
            show_default=False,
        ),
    ] = None,
    mirror_credentials: Annotated[
        str | None,
        typer.Option(
            help="A Secret in paas-system with the mirrors' `ECOSYSTEM-username` and "
            "`ECOSYSTEM-password` keys.",
            show_default=False,
        ),
    ] = None,
    read_only_root: Annotated[
        bool,
        typer.Option(
            help="Give app containers a read-only root filesystem (only /tmp writable); "
            "paas.yaml's `kubernetes.read_only_root` overrides it."
        ),
    ] = False,
    allow: Annotated[
        list[str] | None,
        typer.Option(
            help='A Pod Security "restricted" exception that `kubernetes.patches` may make, by '
            "name (`privileged`, `host-path`, `host-ports`, ...; see docs/security.md); repeat "
            "for each.",
            show_default=False,
        ),
    ] = None,
    allow_kind: Annotated[
        list[str] | None,
        typer.Option(
            help="A kind a patch may turn an object into, `group/Kind` (`Kind` for the core "
            "group); repeat for each.",
            show_default=False,
        ),
    ] = None,
    wildcard_domains: Annotated[
        bool, typer.Option(help="Apps may claim wildcard custom domains (`*.example.com`).")
    ] = False,
    cluster_domain: Annotated[
        bool,
        typer.Option(
            help="Apps may claim custom domains inside the cluster domain (where apps have "
            "their default hosts)."
        ),
    ] = False,
    router_settle: Annotated[
        float,
        typer.Option(
            help="Seconds the router takes to act on an endpoint change (Traefik's "
            "`providersThrottleDuration`): a change is reported live only once the old pods "
            "left the EndpointSlices and this much time passed.",
            min=0,
            max=60,
        ),
    ] = 2.0,
    routing: Annotated[
        str,
        typer.Option(
            help="How requests reach apps: `ingress` (an Ingress each), `gateway` (a Gateway "
            "API HTTPRoute each, on `--gateway`) or `auto`: gateway when `--gateway` is given "
            "and the cluster has the Gateway API, else ingress. paas.yaml's "
            "`kubernetes.routing` overrides it per app."
        ),
    ] = "auto",
    gateway: Annotated[
        str,
        typer.Option(
            help="The Gateway app routes attach to, `NAMESPACE/NAME`.", show_default=False
        ),
    ] = "",
    addon_image: Annotated[
        list[str] | None,
        typer.Option(
            "--addon-image",
            help="The image of an add-on type, `TYPE=REF` (repeatable); upstream `postgres:16` "
            "and `redis:7` by default.",
            show_default=False,
        ),
    ] = None,
    context: ContextOption = None,
) -> None:
    """Store the cluster's settings; every paas command reads them.

    Run once per cluster, by a platform engineer; running it again replaces the
    settings.

    \b
    Example:
      paas cluster init --domain apps.example.com --registry registry.example.com/team \\
        --tls cert-manager:letsencrypt
      paas cluster init --domain apps.internal --registry registry.internal \\
        --addon-image postgres=registry.internal/postgres:16
      paas cluster init --domain apps.internal --registry registry.internal \\
        --mirror pip=https://pypi.internal/simple --mirror npm=https://npm.internal/ \\
        --mirror-credentials mirror-credentials
      paas cluster init --domain apps.example.com --registry registry.example.com/team \\
        --gateway gateway/public            # HTTPRoutes on the Gateway `public`
    """
    from pydantic import ValidationError

    from paas.build.mirrors import ECOSYSTEMS
    from paas.console import get_console
    from paas.errors import UsageError
    from paas.kube.api import Kube
    from paas.kube.store import write_settings
    from paas.settings import (
        AddonImages,
        ClusterSettings,
        MirrorSettings,
        PolicySettings,
        TLSSettings,
    )

    mode, _, value = tls.partition(":")
    if mode == "none":
        tls_settings = TLSSettings()
    elif mode == "cert-manager" and value:
        tls_settings = TLSSettings(mode="cert-manager", issuer=value)
    elif mode == "secret" and value:
        tls_settings = TLSSettings(mode="secret", secret=value)
    else:
        raise UsageError(
            f"`--tls {tls}` is not understood",
            "Use `none`, `cert-manager:ISSUER` or `secret:NAME`.",
        )
    mirrors: dict[str, str] = {}
    for item in mirror or []:
        name, sep, url = item.partition("=")
        if not sep or name not in ECOSYSTEMS or not url:
            raise UsageError(
                f"`--mirror {item}` is not understood",
                f"Write `ECOSYSTEM=URL` with one of {', '.join(ECOSYSTEMS)}.",
            )
        mirrors[name] = url
    try:
        mirror_settings = MirrorSettings(**mirrors, credentials=mirror_credentials)
    except ValidationError as exc:
        raise UsageError(
            f"`--mirror`: {exc.errors()[0]['msg'].removeprefix('Value error, ')}",
            "Give each mirror as an http(s) URL without credentials.",
        ) from None
    try:
        policy = PolicySettings(
            allow=tuple(allow or ()),
            kinds=tuple(allow_kind or ()),
            wildcard_domains=wildcard_domains,
            cluster_domain=cluster_domain,
        )
    except ValidationError as exc:
        raise UsageError(
            f"`--allow`: {exc.errors()[0]['msg'].removeprefix('Value error, ')}",
            "Name the exception as docs/security.md lists it.",
        ) from None
    images: dict[str, str] = {}
    for item in addon_image or []:
        kind, sep, ref = item.partition("=")
        if (
            not sep
            or kind not in AddonImages.model_fields
            or not ref
            or any(c.isspace() for c in ref)
        ):
            raise UsageError(
                f"`--addon-image {item}` is not understood",
                f"Write `TYPE=IMAGE` with one of {', '.join(AddonImages.model_fields)}.",
            )
        images[kind] = ref
    kube = Kube(context)
    chosen = _routing(kube, routing, gateway)
    settings = ClusterSettings(
        domain=domain,
        registry=registry,
        builder=builder,
        dockerfile_builder=dockerfile_builder,
        ingress_class=ingress_class,
        tls=tls_settings,
        insecure_registry=insecure_registry,
        history=history,
        mirrors=mirror_settings,
        read_only_root=read_only_root,
        policy=policy,
        router_settle_seconds=router_settle,
        routing=chosen,
        gateway=gateway,
        addon_images=AddonImages(**images),
    )
    write_settings(kube, settings)
    get_console().success(
        f"Stored the settings: apps are served at `APP.{domain}`, images go to `{registry}`."
    )


def _routing(kube: Kube, routing: str, gateway: str) -> Literal["ingress", "gateway"]:
    """`--routing` made definite: `auto` is gateway when a Gateway is named and the API is there.

    Raises:
        UsageError: a bad value, gateway routing without `--gateway`, or without the API.
    """
    import re

    from paas.errors import UsageError
    from paas.settings import GATEWAY_REF

    if routing not in ("auto", "ingress", "gateway"):
        raise UsageError(
            f"`--routing {routing}` is not understood", "Use auto, ingress or gateway."
        )
    if gateway and not re.fullmatch(GATEWAY_REF, gateway):
        raise UsageError(
            f"`--gateway {gateway}` is not `NAMESPACE/NAME`", "Name the Gateway as NAMESPACE/NAME."
        )
    if routing == "ingress":
        return "ingress"
    if not gateway:
        if routing == "gateway":
            raise UsageError(
                "`--routing gateway` needs `--gateway NAMESPACE/NAME`",
                "Name the Gateway that app routes attach to.",
            )
        return "ingress"
    crd = "httproutes.gateway.networking.k8s.io"
    found = kube.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", None, crd)
    if found is None:
        if routing == "gateway":
            raise UsageError(
                f"the cluster has no Gateway API (no CustomResourceDefinition `{crd}`)",
                "Install the Gateway API's standard CRDs and a Gateway controller, or use "
                "`--routing ingress`.",
            )
        return "ingress"
    return "gateway"


@group.command("info")
def info(context: ContextOption = None, json_output: JsonOption = False) -> None:
    """Show the cluster's settings.

    \b
    Example:
      paas cluster info --json
    """
    from paas.console import get_console
    from paas.kube.api import Kube
    from paas.kube.store import read_cluster_settings

    console = get_console()
    settings = read_cluster_settings(Kube(context))
    if json_output:
        console.data(settings.model_dump(mode="json"))
        return
    tls = settings.tls
    console.fields(
        [
            ("domain", settings.domain),
            ("registry", settings.registry + (" (insecure)" if settings.insecure_registry else "")),
            ("builder", settings.builder),
            ("dockerfile builder", settings.dockerfile_builder),
            ("ingress class", settings.ingress_class or "(cluster default)"),
            ("tls", tls.mode + (f":{tls.issuer or tls.secret}" if tls.mode != "none" else "")),
            ("history", f"{settings.history} releases"),
            ("router settle", f"{settings.router_settle_seconds:g} s"),
            (
                "routing",
                settings.routing + (f" (Gateway {settings.gateway})" if settings.gateway else ""),
            ),
            ("policy exceptions", ", ".join(settings.policy.allow) or "(none)"),
        ],
        title="Cluster settings",
    )


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    app.add_typer(group, name="cluster")
