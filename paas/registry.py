"""Image references and registries: resolve a tag to a digest, read credentials.

Images are always deployed by digest, so `paas push --image REF:TAG` asks the
registry (Docker Registry HTTP API v2) which digest the tag names right now.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from paas.errors import ImageNotFoundError, RegistryError

if TYPE_CHECKING:
    import httpx

MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
ENV_USERNAME = "PAAS_REGISTRY_USERNAME"
ENV_PASSWORD = "PAAS_REGISTRY_PASSWORD"  # noqa: S105 - the name of a variable, not a secret


def docker_config_dir(env: Mapping[str, str]) -> Path:
    """Where the user's Docker config lives: ``DOCKER_CONFIG`` or ``~/.docker``."""
    configured = env.get("DOCKER_CONFIG")
    return Path(configured) if configured else Path.home() / ".docker"


@dataclass(frozen=True)
class ImageRef:
    """A parsed image reference: `registry/repository[:tag][@digest]`."""

    registry: str
    repository: str
    tag: str = "latest"
    digest: str = ""

    @classmethod
    def parse(cls, ref: str) -> ImageRef:
        """Parse `ref` as docker does (a first part with `.`, `:` or `localhost` is a host).

        Raises:
            RegistryError: not an image reference.
        """
        name, _, digest = ref.partition("@")
        if digest and not DIGEST.match(digest):
            raise RegistryError(
                f"`{ref}` has an invalid digest", "A digest looks like `sha256:` and 64 hex digits."
            )
        tag = "latest"
        last = name.rsplit("/", 1)[-1]
        if ":" in last:
            name, tag = name.rsplit(":", 1)
        first, _, rest = name.partition("/")
        if rest and ("." in first or ":" in first or first == "localhost"):
            registry, repository = first, rest
        else:
            registry, repository = "docker.io", name if "/" in name else f"library/{name}"
        if not re.match(r"^[a-z0-9]+([._/-][a-z0-9]+)*$", repository):
            raise RegistryError(
                f"`{ref}` is not an image reference",
                "Write it like `registry.example.com/team/app:tag`.",
            )
        return cls(registry, repository, tag, digest)

    def by_digest(self, digest: str) -> str:
        """`registry/repository@digest`."""
        return f"{self.registry}/{self.repository}@{digest}"


def credentials(registry: str, env: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """User and password for `registry`.

    From `PAAS_REGISTRY_USERNAME` and `PAAS_REGISTRY_PASSWORD`, else the Docker
    config file (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`), as
    `env` (default: this process's environment) names them.
    """
    environ = os.environ if env is None else env
    user, password = environ.get(ENV_USERNAME), environ.get(ENV_PASSWORD)
    if user and password:
        return user, password
    config = docker_config_dir(environ) / "config.json"
    try:
        auths = json.loads(config.read_text()).get("auths", {})
    except (OSError, ValueError):
        return None
    for host in (registry, f"https://{registry}", f"http://{registry}"):
        auth = auths.get(host, {}).get("auth")
        if auth:
            user, _, password = base64.b64decode(auth).decode().partition(":")
            return user, password
    return None


def resolve_digest(ref: str, *, insecure: bool = False, timeout: float = 15) -> str:
    """Return `ref` pinned to the digest its tag names now (unchanged if it has one).

    Raises:
        RegistryError: the registry cannot be reached, refuses, or has no such tag.
    """
    import httpx

    image = ImageRef.parse(ref)
    if image.digest:
        return image.by_digest(image.digest)
    scheme = "http" if insecure else "https"
    url = f"{scheme}://{image.registry}/v2/{image.repository}/manifests/{image.tag}"
    try:
        with _client(image, timeout) as client:
            response = _send(client, "HEAD", url, {"Accept": MANIFEST_TYPES})
    except httpx.HTTPError as exc:
        raise RegistryError(
            f"cannot reach registry `{image.registry}`: {exc}",
            "Check the address; a plain-HTTP registry needs "
            "`paas cluster init --insecure-registry`.",
        ) from None
    if response.status_code == 404:
        raise ImageNotFoundError(
            f"`{ref}` does not exist in the registry",
            "Check the repository and tag, or push the image first.",
        )
    if response.status_code in (401, 403):
        raise RegistryError(
            f"registry `{image.registry}` refused access to `{ref}`",
            "Log in with `docker login` or set PAAS_REGISTRY_USERNAME and PAAS_REGISTRY_PASSWORD.",
        )
    digest = response.headers.get("docker-content-digest", "")
    if response.status_code >= 400 or not DIGEST.match(digest):
        raise RegistryError(
            f"registry `{image.registry}` answered {response.status_code} "
            f"for `{ref}` without a digest"
        )
    return image.by_digest(digest)


def _client(image: ImageRef, timeout: float) -> httpx.Client:
    import httpx

    auth = credentials(image.registry)
    basic = httpx.BasicAuth(*auth) if auth else None
    return httpx.Client(timeout=timeout, follow_redirects=True, auth=basic)


def _send(client: httpx.Client, method: str, url: str, headers: dict[str, str]) -> httpx.Response:
    """Send a request, answering a bearer-token challenge once."""
    response = client.request(method, url, headers=headers)
    challenge = response.headers.get("www-authenticate", "")
    if response.status_code == 401 and "bearer" in challenge.lower():
        token = _bearer_token(client, challenge)
        response = client.request(
            method, url, headers={**headers, "Authorization": f"Bearer {token}"}
        )
    return response


def image_labels(ref: str, *, insecure: bool = False, timeout: float = 15) -> dict[str, str]:
    """The labels of image `ref` (of its linux image for this machine's CPU, for an index).

    Raises:
        RegistryError: the registry cannot be reached, refuses, or has no such image.
    """
    import platform

    import httpx

    image = ImageRef.parse(ref)
    base = f"{'http' if insecure else 'https'}://{image.registry}/v2/{image.repository}"
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    try:
        with _client(image, timeout) as client:
            reference = image.digest or image.tag
            for _ in range(2):
                response = _send(
                    client, "GET", f"{base}/manifests/{reference}", {"Accept": MANIFEST_TYPES}
                )
                if response.status_code != 200:
                    raise RegistryError(
                        f"registry `{image.registry}` answered {response.status_code} for `{ref}`",
                        "Check that the image exists and the credentials allow reading it.",
                    )
                manifest = response.json()
                if "manifests" not in manifest:
                    break
                entries = manifest["manifests"]
                reference = next(
                    (
                        m["digest"]
                        for m in entries
                        if m.get("platform", {}).get("os") == "linux"
                        and m.get("platform", {}).get("architecture") == arch
                    ),
                    entries[0]["digest"] if entries else "",
                )
            blob = _send(client, "GET", f"{base}/blobs/{manifest['config']['digest']}", {})
    except httpx.HTTPError as exc:
        raise RegistryError(f"cannot reach registry `{image.registry}`: {exc}") from None
    except (KeyError, ValueError) as exc:
        raise RegistryError(f"`{ref}` has no readable image config: {exc}") from None
    labels = blob.json().get("config", {}).get("Labels") or {}
    return {str(k): str(v) for k, v in labels.items()}


def _bearer_token(client: httpx.Client, challenge: str) -> str:
    fields = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    params = {k: v for k, v in fields.items() if k in ("service", "scope")}
    response = client.get(fields.get("realm", ""), params=params)
    if response.status_code != 200:
        raise RegistryError(
            f"registry token service refused: {response.status_code}",
            "Check the registry credentials.",
        )
    body = response.json()
    return str(body.get("token") or body.get("access_token", ""))
