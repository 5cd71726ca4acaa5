"""`paas diff` redacts Secret values with a digest keyed afresh for each run."""

from __future__ import annotations

import base64
import copy
import hashlib
import re
from typing import Any

from paas.kube.diff import diff

WEAK = base64.b64encode(b"password1").decode()
OTHER = base64.b64encode(b"password2").decode()
REDACTED = re.compile(r"^([-+ ])\s+(\w+): \(redacted ([0-9a-f]{8})\)$", re.M)


def secret(**data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "web-config", "namespace": "web"},
        "data": data,
    }


class DryRunKube:
    """The live objects, and a dry run that returns what is applied."""

    def __init__(self, *live: dict[str, Any]) -> None:
        self.live = {o["metadata"]["name"]: o for o in live}

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> Any:
        return copy.deepcopy(self.live.get(name))

    def apply(self, obj: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        assert dry_run
        return copy.deepcopy(obj)


def digests(text: str) -> dict[tuple[str, str], str]:
    return {(sign, key): digest for sign, key, digest in REDACTED.findall(text)}


def test_a_changed_value_shows_a_new_digest_and_no_value() -> None:
    kube = DryRunKube(secret(PASSWORD=WEAK, TIER=WEAK))
    ((name, text),) = diff(kube, [secret(PASSWORD=OTHER, TIER=WEAK)], [])  # type: ignore[arg-type]
    assert name == "Secret/web-config"
    seen = digests(text)
    assert seen[("-", "PASSWORD")] != seen[("+", "PASSWORD")]
    # Within one diff the same value has the same digest: TIER is unchanged.
    assert seen[(" ", "TIER")] == seen[("-", "PASSWORD")]
    assert WEAK not in text
    assert OTHER not in text
    assert "password" not in text


def test_two_diffs_of_the_same_value_give_different_digests() -> None:
    kube = DryRunKube()
    first = diff(kube, [secret(PASSWORD=WEAK)], [])  # type: ignore[arg-type]
    second = diff(kube, [secret(PASSWORD=WEAK)], [])  # type: ignore[arg-type]
    one, two = digests(first[0][1])[("+", "PASSWORD")], digests(second[0][1])[("+", "PASSWORD")]
    assert one != two
    # Neither is the unkeyed hash a guess could be checked against.
    for value in (WEAK, "password1"):
        unkeyed = hashlib.sha256(value.encode()).hexdigest()[:8]
        assert unkeyed not in (one, two)


def test_a_pruned_secret_is_redacted_too() -> None:
    ((name, text),) = diff(DryRunKube(), [], [secret(PASSWORD=WEAK)])  # type: ignore[arg-type]
    assert name == "Secret/web-config"
    assert set(digests(text)) == {("-", "PASSWORD")}
    assert WEAK not in text


def test_the_same_key_gives_the_same_digests() -> None:
    key = b"k" * 32
    first = diff(DryRunKube(), [secret(PASSWORD=WEAK)], [], key=key)  # type: ignore[arg-type]
    second = diff(DryRunKube(), [secret(PASSWORD=WEAK)], [], key=key)  # type: ignore[arg-type]
    assert first == second
