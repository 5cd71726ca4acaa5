"""Token records in the cluster: one Secret per token in `paas-system`.

The receiver in the cluster and `paas receiver token ...` on a laptop read
and write the same records. A Secret holds one record (`token.json`: the
token's hash, apps, expiry, revocation; never the token), is named after the
token's id and labelled `paas.dev/receiver-token`, so a list with that label
is every record and a revoke replaces one Secret (optimistic concurrency:
two revokes at once cannot both write a stale record).
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING

from paas.errors import NotFoundError
from paas.receiver.auth import Token, revoke
from paas.rights import SYSTEM_NAMESPACE

if TYPE_CHECKING:
    from paas.kube.api import Kube
    from paas.objects import Obj

TOKEN_LABEL = "paas.dev/receiver-token"  # noqa: S105 (a label, not a password)
TOKEN_KEY = "token.json"  # noqa: S105
SECRET_PREFIX = "paas-receiver-token-"  # noqa: S105


def token_secret(token: Token) -> Obj:
    """The Secret that keeps `token`'s record."""
    text = json.dumps(token.to_dict(), sort_keys=True)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": SECRET_PREFIX + token.id,
            "namespace": SYSTEM_NAMESPACE,
            "labels": {"app.kubernetes.io/managed-by": "paas", TOKEN_LABEL: "true"},
        },
        "data": {TOKEN_KEY: base64.b64encode(text.encode()).decode()},
    }


def token_of(secret: Obj) -> Token | None:
    """The record a Secret keeps; None when it is not one (so it grants nothing)."""
    try:
        raw = base64.b64decode(secret["data"][TOKEN_KEY], validate=True)
        token = Token.from_dict(json.loads(raw))
    except (KeyError, TypeError, ValueError):
        return None
    if secret["metadata"].get("name") != SECRET_PREFIX + token.id:
        return None  # a record must be kept under its own id
    return token


class KubeTokenStore:
    """Records as Secrets in `paas-system`, read again on every request."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube

    def tokens(self) -> list[Token]:
        """Every record.

        Raises:
            ClusterError: the cluster cannot be reached or refuses the list.
        """
        secrets = self.kube.list("v1", "Secret", SYSTEM_NAMESPACE, selector=f"{TOKEN_LABEL}=true")
        found = (token_of(s) for s in secrets)
        return sorted((t for t in found if t is not None), key=lambda t: t.created)

    def add(self, token: Token) -> None:
        """Keep a new record (fails if a record has its id)."""
        self.kube.create(token_secret(token))

    def revoke(self, token_id: str, now: float) -> Token:
        """Revoke a record; return it revoked.

        Raises:
            NotFoundError: no token has that id.
        """
        missing = NotFoundError(
            f"No token has the id `{token_id[:40]}`.",
            "See `paas receiver token list` for the ids.",
        )
        if not token_id.isalnum() or len(token_id) > 40:
            raise missing
        secret = self.kube.get("v1", "Secret", SYSTEM_NAMESPACE, SECRET_PREFIX + token_id)
        record = token_of(secret) if secret else None
        if secret is None or record is None:
            raise missing
        revoked = revoke([record], token_id, now)[0]
        replacement = token_secret(revoked)
        replacement["metadata"]["resourceVersion"] = secret["metadata"]["resourceVersion"]
        self.kube.replace(replacement)
        return revoked
