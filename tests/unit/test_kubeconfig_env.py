"""`PAAS_KUBECONFIG`: a path or the kubeconfig's own text, as CI secrets hold it; never echoed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from paas.errors import ClusterError
from paas.kube import ENV_KUBECONFIG, load_client

TOKEN = "s3cr3t-token-do-not-print"


def kubeconfig(server: str = "https://10.9.8.7:6443", context: str = "ci") -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "c", "cluster": {"server": server, "insecure-skip-tls-verify": True}}
        ],
        "users": [{"name": "u", "user": {"token": TOKEN}}],
        "contexts": [
            {"name": context, "context": {"cluster": "c", "user": "u"}},
            {"name": "other", "context": {"cluster": "c", "user": "u", "namespace": "x"}},
        ],
        "current-context": context,
    }


def host(client: object) -> str:
    return client.configuration.host  # type: ignore[attr-defined,no-any-return]


@pytest.fixture(autouse=True)
def no_kubeconfig(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # KUBECONFIG names a file with another server: PAAS_KUBECONFIG must win over it.
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump(kubeconfig("https://192.0.2.1:6443")))
    monkeypatch.setenv("KUBECONFIG", str(other))
    # The client reads KUBECONFIG once, when it is first imported (in a suite, by an earlier test).
    from kubernetes.config import kube_config

    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(other))


def test_the_content_itself_as_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_KUBECONFIG, yaml.safe_dump(kubeconfig()))
    assert host(load_client()) == "https://10.9.8.7:6443"


def test_the_content_itself_as_json_and_a_named_context(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_KUBECONFIG, json.dumps(kubeconfig()))
    assert host(load_client("other")) == "https://10.9.8.7:6443"


def test_a_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "ci.yaml"
    path.write_text(yaml.safe_dump(kubeconfig("https://10.1.1.1:6443")))
    monkeypatch.setenv(ENV_KUBECONFIG, f"  {path}\n")
    assert host(load_client()) == "https://10.1.1.1:6443"


def test_unset_falls_back_to_kubeconfig(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_KUBECONFIG, raising=False)
    assert host(load_client()) == "https://192.0.2.1:6443"


@pytest.mark.parametrize(
    "given",
    [
        f"token: {TOKEN}\nnot: a kubeconfig\n",
        f"{TOKEN}",  # one line naming no file
        f"[{TOKEN}",  # not YAML at all
    ],
)
def test_neither_a_file_nor_a_kubeconfig_is_refused_without_showing_it(
    monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    monkeypatch.setenv(ENV_KUBECONFIG, given)
    with pytest.raises(ClusterError) as caught:
        load_client()
    said = caught.value.message + caught.value.hint
    assert TOKEN not in said
    assert "not shown" in said
    assert ENV_KUBECONFIG in said


def test_an_unknown_context_names_the_context_not_the_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV_KUBECONFIG, yaml.safe_dump(kubeconfig()))
    with pytest.raises(ClusterError) as caught:
        load_client("nope")
    assert "nope" in caught.value.message
    assert TOKEN not in caught.value.message + caught.value.hint
