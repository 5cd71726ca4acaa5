"""Which kubeconfigs the fast transport reads itself, what it reads from them, and which it leaves.

Leaving one means the official client reads it, exactly as before; every
decision here is made from real files in `tmp_path` and a given environment.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml

from paas.kube import kubeconfig
from paas.kube.kubeconfig import Endpoint, Fallback, find_endpoint

TOKEN = "s3cr3t-token-do-not-print"


def config(
    *,
    cluster: dict[str, Any] | None = None,
    user: dict[str, Any] | None = None,
    current: str | None = "main",
    name: str = "main",
    server: str = "https://10.0.0.1:6443",
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server, **(cluster or {})}}],
        "users": [{"name": name, "user": user if user is not None else {"token": TOKEN}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
    }
    if current:
        document["current-context"] = current
    return document


def write(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document))
    return path


def found(
    env: dict[str, str], context: str | None = None
) -> Endpoint:  # an Endpoint, or the test fails with the fallback's reason
    result = find_endpoint(context, env)
    assert isinstance(result, Endpoint), result
    return result


def fallback(env: dict[str, str], context: str | None = None) -> str:
    result = find_endpoint(context, env)
    assert isinstance(result, Fallback), result
    return result.reason


def test_the_current_context_with_a_token_and_a_ca_file_relative_to_the_kubeconfig(
    tmp_path: Path,
) -> None:
    path = write(tmp_path / "kube" / "config", config(cluster={"certificate-authority": "ca.crt"}))
    endpoint = found({"KUBECONFIG": str(path)})
    assert endpoint == Endpoint(
        server="https://10.0.0.1:6443", ca_file=str(tmp_path / "kube" / "ca.crt"), token=TOKEN
    )


def test_a_named_context_wins_over_the_current_one(tmp_path: Path) -> None:
    document = config()
    document["clusters"].append({"name": "b", "cluster": {"server": "https://b.example:443/"}})
    document["contexts"].append({"name": "b", "context": {"cluster": "b", "user": "main"}})
    path = write(tmp_path / "config", document)
    assert found({"KUBECONFIG": str(path)}).server == "https://10.0.0.1:6443"
    assert found({"KUBECONFIG": str(path)}, "b").server == "https://b.example:443"


def test_data_fields_are_decoded_and_win_over_files(tmp_path: Path) -> None:
    pem = b"-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n"
    data = base64.b64encode(pem).decode()
    path = write(
        tmp_path / "config",
        config(
            cluster={"certificate-authority-data": data, "certificate-authority": "/ignored"},
            user={"client-certificate-data": data, "client-key": "keys/client.key"},
        ),
    )
    endpoint = found({"KUBECONFIG": str(path)})
    assert (endpoint.ca_data, endpoint.ca_file) == (pem, None)
    assert (endpoint.cert_data, endpoint.cert_file) == (pem, None)
    assert (endpoint.key_data, endpoint.key_file) == (None, str(tmp_path / "keys" / "client.key"))
    assert endpoint.token is None


def test_a_token_file_is_kept_as_a_path_and_the_token_wins_over_it(tmp_path: Path) -> None:
    path = write(tmp_path / "config", config(user={"tokenFile": "token"}))
    assert found({"KUBECONFIG": str(path)}).token_file == str(tmp_path / "token")
    both = write(tmp_path / "both", config(user={"tokenFile": "token", "token": TOKEN}))
    assert (
        found({"KUBECONFIG": str(both)}).token,
        found({"KUBECONFIG": str(both)}).token_file,
    ) == (
        TOKEN,
        None,
    )


def test_tls_fields_and_an_http_proxy(tmp_path: Path) -> None:
    path = write(
        tmp_path / "config",
        config(
            cluster={
                "insecure-skip-tls-verify": True,
                "tls-server-name": "kube.internal",
                "proxy-url": "http://proxy:3128",
                "extensions": [{"name": "x", "extension": {}}],
            }
        ),
    )
    endpoint = found({"KUBECONFIG": str(path)})
    assert (endpoint.insecure, endpoint.tls_server_name, endpoint.proxy) == (
        True,
        "kube.internal",
        "http://proxy:3128",
    )


def test_several_files_merge_as_kubectl_merges_them(tmp_path: Path) -> None:
    first = config(name="shared", server="https://first:6443", current=None)
    second = config(name="shared", server="https://second:6443", current="shared")
    second["clusters"].append({"name": "own", "cluster": {"server": "https://own:6443"}})
    second["contexts"].append({"name": "own", "context": {"cluster": "own", "user": "shared"}})
    third = config(name="third", current="third")
    paths = [
        write(tmp_path / "a" / "config", first),
        tmp_path / "missing",  # skipped, as kubectl and the official client skip it
        write(tmp_path / "b" / "config", second),
        write(tmp_path / "c" / "config", third),
    ]
    env = {"KUBECONFIG": ":".join(map(str, paths))}
    # current-context: the first file that sets it (the second); `shared`: the first file's.
    assert found(env).server == "https://first:6443"
    assert found(env, "own").server == "https://own:6443"
    assert found(env, "third").server == "https://10.0.0.1:6443"


def test_paas_kubeconfig_wins_as_a_path_or_as_content(tmp_path: Path) -> None:
    other = write(tmp_path / "other", config(server="https://other:6443"))
    mine = write(tmp_path / "ci" / "config", config(cluster={"certificate-authority": "ca"}))
    env = {"KUBECONFIG": str(other), "PAAS_KUBECONFIG": f"  {mine}\n"}
    assert found(env).ca_file == str(tmp_path / "ci" / "ca")
    env["PAAS_KUBECONFIG"] = yaml.safe_dump(config(server="https://content:6443"))
    assert found(env).server == "https://content:6443"


@pytest.mark.parametrize(
    ("user", "named"),
    [
        ({"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "x"}}, "exec"),
        ({"auth-provider": {"name": "oidc", "config": {"id-token": TOKEN}}}, "auth-provider"),
        ({"username": "admin", "password": TOKEN}, "password, username"),
        ({"token": TOKEN, "as": "someone"}, "as"),
        ({"client-certificate": "c.crt"}, "without its key"),
    ],
)
def test_other_credentials_go_to_the_official_client_never_showing_values(
    tmp_path: Path, user: dict[str, Any], named: str
) -> None:
    path = write(tmp_path / "config", config(user=user))
    reason = fallback({"KUBECONFIG": str(path)})
    assert named in reason
    assert TOKEN not in reason


@pytest.mark.parametrize(
    ("document", "context"),
    [
        (config(), "nope"),  # the official client names the missing context
        (config(current=None), None),
        (config(server="unix:///run/kube.sock"), None),
        (config(cluster={"proxy-url": "socks5://proxy:1080"}), None),
        (config(cluster={"insecure-skip-tls-verify": "yes"}), None),
        (config(cluster={"certificate-authority-data": "%%%"}), None),
        (config(cluster={"disable-compression": True}), None),
        ({"clusters": "not a list"}, None),
    ],
)
def test_what_it_cannot_read_for_sure_goes_to_the_official_client(
    tmp_path: Path, document: Any, context: str | None
) -> None:
    path = write(tmp_path / "config", document)
    fallback({"KUBECONFIG": str(path)}, context)


def test_text_that_is_not_a_kubeconfig_goes_to_the_official_client_for_its_message(
    tmp_path: Path,
) -> None:
    assert TOKEN not in fallback({"PAAS_KUBECONFIG": f"token: {TOKEN}\n"})
    assert TOKEN not in fallback({"PAAS_KUBECONFIG": f"[{TOKEN}"})
    (tmp_path / "bad").write_text("clusters: [\n")
    fallback({"KUBECONFIG": str(tmp_path / "bad")})
    fallback({"KUBECONFIG": ""})


def test_in_a_pod_without_a_kubeconfig_the_service_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text(TOKEN)
    (account / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setattr(kubeconfig, "SERVICE_ACCOUNT_DIR", str(account))
    env = {
        "KUBECONFIG": str(tmp_path / "none"),
        "KUBERNETES_SERVICE_HOST": "fd00::1",
        "KUBERNETES_SERVICE_PORT": "443",
    }
    assert found(env) == Endpoint(
        server="https://[fd00::1]:443",
        ca_file=str(account / "ca.crt"),
        token_file=str(account / "token"),
    )
    # A kubeconfig, when there is one, wins; with neither, the official client explains.
    path = write(tmp_path / "config", config())
    assert found({**env, "KUBECONFIG": str(path)}).server == "https://10.0.0.1:6443"
    (account / "token").unlink()
    assert fallback(env) == "no kubeconfig and not in a cluster"


def test_an_endpoint_shown_in_a_traceback_shows_no_credentials(tmp_path: Path) -> None:
    key = base64.b64encode(b"-----BEGIN PRIVATE KEY-----\nsecret\n").decode()
    path = write(
        tmp_path / "config",
        config(user={"token": TOKEN, "client-key-data": key, "client-certificate": "c.crt"}),
    )
    shown = repr(found({"KUBECONFIG": str(path)}))
    assert TOKEN not in shown
    assert "secret" not in shown
    assert "c.crt" in shown
