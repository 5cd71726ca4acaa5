"""The list of apps (`paas apps`): one list of namespaces, and nothing else imported.

Kept apart from `paas.operations` so that `paas apps` loads neither the release
model nor the renderer: it answers about as fast as the `kubectl get` it does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paas.names import REVIEW_OF_LABEL

if TYPE_CHECKING:
    from paas.kube.api import Kube

__all__ = ["apps_with_reviews", "list_apps"]


def list_apps(kube: Kube) -> list[dict[str, str]]:
    """Every app paas manages on this cluster: one list call, whatever the number."""
    rows = []
    for ns in kube.list(
        "v1", "Namespace", selector="app.kubernetes.io/managed-by=paas,paas.dev/app"
    ):
        meta = ns["metadata"]
        rows.append(
            {
                "name": meta["labels"]["paas.dev/app"],
                "namespace": meta["name"],
                "release": meta.get("annotations", {}).get("paas.dev/current-release", ""),
                "created": meta.get("creationTimestamp", ""),
                "review_of": meta["labels"].get(REVIEW_OF_LABEL, ""),
            }
        )
    return sorted(rows, key=lambda r: r["name"])


def apps_with_reviews(rows: list[dict[str, str]]) -> list[tuple[dict[str, str], bool]]:
    """The rows of `list_apps()` with each app's review apps right after it: (row, is_review)."""
    names = {r["name"] for r in rows}
    reviews: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        if row["review_of"] in names:
            reviews.setdefault(row["review_of"], []).append(row)
    out: list[tuple[dict[str, str], bool]] = []
    for row in rows:
        if row["review_of"] in names:
            continue
        out.append((row, bool(row["review_of"])))
        out += [(review, True) for review in reviews.get(row["name"], [])]
    return out
