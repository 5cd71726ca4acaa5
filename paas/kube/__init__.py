"""The only package that imports the kubernetes client: loading config, and calls.

Imported lazily by the commands that talk to a cluster, so the client's import
cost never slows `paas --help`.
"""

from __future__ import annotations

import os
from pathlib import Path

from paas.errors import ClusterError

#: A kubeconfig for CI: a path, or the kubeconfig's own text (as CI secrets hold it).
ENV_KUBECONFIG = "PAAS_KUBECONFIG"
UNREACHABLE_HINT = "Check `KUBECONFIG` and that the API server is up; `paas doctor` says more."


def load_client(context: str | None = None) -> object:
    """An API client for the kubeconfig's `context` (default: the current context).

    `PAAS_KUBECONFIG`, when set, wins over `KUBECONFIG`: a file's path, or the
    kubeconfig itself (YAML or JSON). Its content never appears in a message.

    Raises:
        ClusterError: there is no usable kubeconfig.
    """
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    given = os.environ.get(ENV_KUBECONFIG, "").strip()
    if given:
        return _client_from_env(given, context)
    try:
        return config.new_client_from_config(context=context)
    except (ConfigException, FileNotFoundError) as exc:
        try:
            config.load_incluster_config()
            return client.ApiClient()
        except ConfigException:
            raise ClusterError(
                f"no usable kubeconfig: {exc}", "Set `KUBECONFIG` or run `paas doctor`."
            ) from None


def _client_from_env(given: str, context: str | None) -> object:
    """The client for `PAAS_KUBECONFIG`: a path when one line naming a file, else the content."""
    from kubernetes import config
    from kubernetes.config.config_exception import ConfigException

    hint = f"Set `{ENV_KUBECONFIG}` to a kubeconfig file's path or to the kubeconfig itself."
    if "\n" not in given and Path(given).expanduser().is_file():
        try:
            return config.new_client_from_config(str(Path(given).expanduser()), context=context)
        except ConfigException as exc:
            raise ClusterError(
                f"`{ENV_KUBECONFIG}` names an unusable kubeconfig: {exc}", hint
            ) from None
    import yaml

    try:
        document = yaml.safe_load(given)
    except yaml.YAMLError:
        document = None
    if not isinstance(document, dict) or "clusters" not in document:
        # Not a file and not a kubeconfig: say neither, and show none of it (a secret).
        raise ClusterError(
            f"`{ENV_KUBECONFIG}` is neither an existing file nor a kubeconfig "
            f"({len(given)} characters, not shown)",
            hint,
        )
    try:
        return config.new_client_from_config_dict(document, context=context)
    except (ConfigException, KeyError, TypeError, ValueError) as exc:
        # The library's messages name contexts and keys, not credentials.
        raise ClusterError(
            f"the kubeconfig in `{ENV_KUBECONFIG}` is unusable: {type(exc).__name__}: "
            f"{str(exc)[:200]}",
            hint,
        ) from None


def server_version(context: str | None = None) -> str:
    """The cluster's version, like `v1.33.13`.

    Raises:
        ClusterError: the cluster cannot be reached, or refuses to say.
    """
    from paas.errors import PaasError
    from paas.kube.api import Kube, KubeApiError

    try:
        info = Kube(context).request("GET", "/version", timeout=5)
    except KubeApiError as exc:
        if not exc.status:  # unreachable: the message says so already
            raise
        raise ClusterError(
            f"cannot reach the cluster: ({exc.status}) {exc.message}", UNREACHABLE_HINT
        ) from None
    except ClusterError:
        raise
    except PaasError as exc:  # 404: not an API server at this address
        raise ClusterError(f"cannot reach the cluster: {exc.message}", UNREACHABLE_HINT) from None
    return str(info.get("gitVersion", "")) if isinstance(info, dict) else ""
