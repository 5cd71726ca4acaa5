"""The only package that imports the kubernetes client: loading config, and calls.

Imported lazily by the commands that talk to a cluster, so the client's import
cost never slows `paas --help`.
"""

from __future__ import annotations

from paas.errors import ClusterError


def load_client(context: str | None = None) -> object:
    """An API client for the kubeconfig's `context` (default: the current context).

    Raises:
        ClusterError: there is no usable kubeconfig.
    """
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

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


def server_version(context: str | None = None) -> str:
    """The cluster's version, like `v1.33.13`.

    Raises:
        ClusterError: the cluster cannot be reached.
    """
    from kubernetes import client
    from urllib3.exceptions import HTTPError

    api = client.VersionApi(load_client(context))
    try:
        info = api.get_code(_request_timeout=5)
    except (HTTPError, OSError, client.ApiException) as exc:
        raise ClusterError(
            f"cannot reach the cluster: {exc}",
            "Check `KUBECONFIG` and that the API server is up; `paas doctor` says more.",
        ) from None
    return str(info.git_version)
