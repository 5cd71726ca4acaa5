"""Dependency mirrors of the cluster settings, as the build variables buildpacks read (pure).

An air-gapped cluster names one mirror per ecosystem (`mirrors:` in the
cluster settings). Each becomes the variables its tools already read, so the
same buildpacks work online and offline:

- `pip`: `PIP_INDEX_URL`, `UV_DEFAULT_INDEX`, and `PAAS_NODE_INDEX_URL` (Node.js
  comes as wheels from the same index); `PIP_TRUSTED_HOST` for a plain-HTTP one;
- `npm`: `npm_config_registry`, `YARN_REGISTRY` (yarn 1), `YARN_NPM_REGISTRY_SERVER`;
- `go`: `GOPROXY` (also where the Go buildpack fetches toolchains);
- `maven`, `gems`, `composer`: `PAAS_MAVEN_MIRROR`, `PAAS_GEM_MIRROR`, `PAAS_COMPOSER_MIRROR`.

Credentials never sit in the settings: `mirrors.credentials` names a Secret in
`paas-system` whose keys are `ECOSYSTEM-username` and `ECOSYSTEM-password`.
`credential_env()` turns its data into secret build variables, which a build
passes to the lifecycle by name only, never in a command line, a log or the
image.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from urllib.parse import quote, urlsplit, urlunsplit

from paas.settings import MirrorSettings

ECOSYSTEMS = ("pip", "npm", "go", "maven", "gems", "composer")


def mirror_env(mirrors: MirrorSettings) -> dict[str, str]:
    """The build variables that point each ecosystem's tools at its mirror."""
    env: dict[str, str] = {}
    if mirrors.pip:
        env.update(
            PIP_INDEX_URL=mirrors.pip, UV_DEFAULT_INDEX=mirrors.pip, PAAS_NODE_INDEX_URL=mirrors.pip
        )
        if mirrors.pip.startswith("http://"):  # pip ignores a plain-HTTP index it does not trust
            env["PIP_TRUSTED_HOST"] = urlsplit(mirrors.pip).netloc
    if mirrors.npm:
        env.update(
            npm_config_registry=mirrors.npm,
            YARN_REGISTRY=mirrors.npm,
            YARN_NPM_REGISTRY_SERVER=mirrors.npm,
        )
    if mirrors.go:
        env["GOPROXY"] = mirrors.go
    for name, variable in (
        ("maven", "PAAS_MAVEN_MIRROR"),
        ("gems", "PAAS_GEM_MIRROR"),
        ("composer", "PAAS_COMPOSER_MIRROR"),
    ):
        url = getattr(mirrors, name)
        if url:
            env[variable] = url
    return env


def _with_userinfo(url: str, username: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    userinfo = f"{quote(username, safe='')}:{quote(password, safe='')}"
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}"))


def credential_env(mirrors: MirrorSettings, secret: Mapping[str, str]) -> dict[str, str]:
    """The secret build variables for the mirrors whose credentials `secret` holds.

    Args:
        mirrors: The mirrors of the cluster settings.
        secret: The decoded data of the `mirrors.credentials` Secret.
    """
    env: dict[str, str] = {}
    for name in ECOSYSTEMS:
        url = getattr(mirrors, name)
        username, password = secret.get(f"{name}-username"), secret.get(f"{name}-password")
        if not url or not username or password is None:
            continue
        if name == "pip":
            with_auth = _with_userinfo(url, username, password)
            env.update(PIP_INDEX_URL=with_auth, UV_DEFAULT_INDEX=with_auth)
        elif name == "npm":
            # npm's per-registry auth: `//host/path/:_auth`, the base64 of user:password.
            parts = urlsplit(url)
            scope = f"//{parts.netloc.rsplit('@', 1)[-1]}{parts.path.rstrip('/')}/"
            token = base64.b64encode(f"{username}:{password}".encode()).decode()
            env[f"npm_config_{scope}:_auth"] = token
        elif name == "go":
            env["GOPROXY"] = ",".join(
                _with_userinfo(part, username, password) if part.startswith("http") else part
                for part in url.split(",")
            )
        else:
            prefix = {"maven": "PAAS_MAVEN_MIRROR", "gems": "PAAS_GEM_MIRROR"}.get(
                name, "PAAS_COMPOSER_MIRROR"
            )
            env.update({f"{prefix}_USERNAME": username, f"{prefix}_PASSWORD": password})
    return env
