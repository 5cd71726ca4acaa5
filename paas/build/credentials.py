"""Registry credentials for builds: the Docker config file and `PAAS_REGISTRY_*`.

pack, podman and docker all read a Docker-style ``config.json``. When
``PAAS_REGISTRY_USERNAME`` and ``PAAS_REGISTRY_PASSWORD`` are set (CI), a
private config directory is made for the build that holds the user's own
config (``DOCKER_CONFIG`` or ``~/.docker``) plus those credentials for the
registry; otherwise the tools use the user's config as it is.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from paas.errors import RegistryError
from paas.registry import ENV_PASSWORD, ENV_USERNAME, docker_config_dir


def config_with_credentials(
    config: Mapping[str, object], registry: str, username: str, password: str
) -> dict[str, object]:
    """Return `config` (a parsed config.json) with an `auths` entry for `registry`.

    Credential helpers for that registry are dropped so the entry is used.
    """
    merged = dict(config)
    auths = dict(merged.get("auths") or {})  # type: ignore[call-overload]
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    auths[registry] = {"auth": token}
    merged["auths"] = auths
    helpers = dict(merged.get("credHelpers") or {})  # type: ignore[call-overload]
    helpers.pop(registry, None)
    merged["credHelpers"] = helpers
    merged.pop("credsStore", None)
    return merged


@contextmanager
def registry_auth_env(registry: str, env: Mapping[str, str]) -> Iterator[dict[str, str]]:
    """Yield the environment variables that give build tools credentials for `registry`.

    Empty when `PAAS_REGISTRY_USERNAME`/`PAAS_REGISTRY_PASSWORD` are unset: the
    tools then read the user's Docker config themselves. The private config
    directory is deleted on exit.

    Raises:
        RegistryError: only one of the two variables is set, or the user's
            config.json is not valid JSON.
    """
    username, password = env.get(ENV_USERNAME), env.get(ENV_PASSWORD)
    if not username and not password:
        yield {}
        return
    if not (username and password):
        missing = ENV_PASSWORD if username else ENV_USERNAME
        raise RegistryError(
            f"`{missing}` is not set, but `{ENV_USERNAME if username else ENV_PASSWORD}` is.",
            "Set both, or neither to use the credentials of `docker login`/`podman login`.",
        )
    source = docker_config_dir(env) / "config.json"
    config: dict[str, object] = {}
    if source.is_file():
        try:
            config = json.loads(source.read_text())
        except json.JSONDecodeError as exc:
            raise RegistryError(
                f"`{source}` is not valid JSON: {exc.msg} at line {exc.lineno}.",
                "Fix or remove it.",
            ) from None
    with tempfile.TemporaryDirectory(prefix="paas-docker-config-") as tmp:
        path = Path(tmp) / "config.json"
        path.write_text(json.dumps(config_with_credentials(config, registry, username, password)))
        os.chmod(path, 0o600)
        yield {"DOCKER_CONFIG": tmp, "REGISTRY_AUTH_FILE": str(path)}
