"""Review apps: a push of another branch makes or updates app `PARENT-BRANCH`; a delete ends it.

Review apps are turned on per app (`paas receiver review-apps enable`), as
an annotation on the parent's namespace, so the receiver in the cluster and
`paas` on a laptop see the same switch. A review app is an ordinary app
whose namespace is labelled with its parent (`paas apps` shows it there). On
its first release it gets the config app.json's `environments.review.env`
names: a value given there is used, a name without one takes the parent's
value. Its release phase runs as any app's, and app.json's `postdeploy`
after its first release. `review_config()` is pure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from paas.errors import UsageError
from paas.names import ENV_NAME, REVIEW_APPS_ANNOTATION, REVIEW_OF_LABEL, review_app_name

if TYPE_CHECKING:
    from paas.kube.api import Kube
    from paas.objects import Obj
    from paas.operations import Session
    from paas.receiver.pipeline import PushedSource, Report
    from paas.settings import ClusterSettings


def review_config(environments: Mapping[str, Any], parent: Mapping[str, str]) -> dict[str, str]:
    """A review app's first config, from app.json's `environments` and the parent's config."""
    review = environments.get("review")
    env = review.get("env") if isinstance(review, Mapping) else None
    if not isinstance(env, Mapping):
        return {}
    out: dict[str, str] = {}
    for name, item in env.items():
        if not isinstance(name, str) or not ENV_NAME.match(name):
            continue
        value = item.get("value") if isinstance(item, Mapping) else item
        if value is None or (isinstance(item, Mapping) and "value" not in item):
            if name in parent:
                out[name] = parent[name]
        elif isinstance(value, str | int | float | bool):
            out[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


def parent_namespace(kube: Kube, settings: ClusterSettings, app: str) -> Obj:
    """The parent app's namespace.

    Raises:
        UsageError: the app does not exist.
    """
    found = kube.get("v1", "Namespace", None, settings.namespace(app))
    if found is None:
        raise UsageError(
            f"app `{app}` does not exist", "Deploy it first with `git push paas main`."
        )
    return found


def review_apps_enabled(namespace: Obj) -> bool:
    """Whether the app whose namespace this is takes review apps."""
    annotations = namespace["metadata"].get("annotations") or {}
    return bool(annotations.get(REVIEW_APPS_ANNOTATION) == "enabled")


def set_review_apps(kube: Kube, settings: ClusterSettings, app: str, *, enabled: bool) -> None:
    """Turn review apps of `app` on or off (existing review apps stay)."""
    parent_namespace(kube, settings, app)
    kube.merge_patch(
        "v1",
        "Namespace",
        None,
        settings.namespace(app),
        {"metadata": {"annotations": {REVIEW_APPS_ANNOTATION: "enabled" if enabled else None}}},
    )


def review_apps_of(kube: Kube, app: str) -> list[str]:
    """The review apps of `app`, by name."""
    found = kube.list("v1", "Namespace", selector=f"{REVIEW_OF_LABEL}={app}")
    return sorted(ns["metadata"].get("labels", {}).get("paas.dev/app", "") for ns in found)


def _own_review_app(kube: Kube, settings: ClusterSettings, parent: str, name: str) -> bool:
    """Whether app `name` exists; refuse when it exists and is not a review app of `parent`.

    Raises:
        UsageError: the name belongs to another app, which a branch must never replace.
    """
    found = kube.get("v1", "Namespace", None, settings.namespace(name))
    if found is None:
        return False
    if found["metadata"].get("labels", {}).get(REVIEW_OF_LABEL) != parent:
        raise UsageError(
            f"app `{name}` exists and is not a review app of `{parent}`: this branch cannot use it",
            "Rename the branch.",
        )
    return True


def review_pipeline(source: PushedSource, report: Report) -> None:
    """Make, update or destroy the review app of the pushed branch."""
    from paas.errors import NotFoundError
    from paas.manifest.merge import read_app_files
    from paas.operations import destroy_app
    from paas.project import Project
    from paas.receiver.pipeline import build, connect
    from paas.render import namespace_object

    session = connect(source, report)
    kube, settings = session.kube, session.settings
    if not review_apps_enabled(parent_namespace(kube, settings, source.app)):
        raise UsageError(
            f"review apps are off for `{source.app}`, so only its deploy branch deploys",
            f"Turn them on with `paas receiver review-apps enable --app {source.app}`.",
        )
    name = review_app_name(source.app, source.branch)
    exists = _own_review_app(kube, settings, source.app, name)
    if source.delete:
        if exists:
            destroy_app(session, name)
            report(f"Destroyed review app `{name}`.")
        else:
            report(f"`{source.branch}` had no review app.")
        return
    report(f"Review app `{name}` of `{source.app}`.")
    project = Project.read(source.directory, name=name)
    project = dataclasses.replace(project, commit=source.commit)
    image = build(project, session, report)
    change = project.deploy(image)
    first = _first_release(session, name)
    if first:
        namespace = settings.namespace(name)
        kube.apply(namespace_object(name, namespace))
        kube.merge_patch(
            "v1",
            "Namespace",
            None,
            namespace,
            {"metadata": {"labels": {REVIEW_OF_LABEL: source.app}}},
        )
        try:
            parent = session.current(source.app).config
        except NotFoundError:
            parent = {}
        config = review_config(read_app_files(source.directory).app_json.environments, parent)
        report(f"Config from app.json's review environment: {', '.join(sorted(config)) or 'none'}.")
        change = dataclasses.replace(change, config=config)
    outcome = session.deploy(name, change)
    report(f"Deployed {outcome.record.name} of review app `{name}`. {outcome.url}")


def _first_release(session: Session, name: str) -> bool:
    from paas.errors import NotFoundError

    try:
        session.current(name)
    except NotFoundError:
        return True
    return False
