"""Add-on commands over the cluster: create, attach, detach, destroy, list and info.

Creating and attaching set the add-on's URL as a config var through the same
path as `paas config set` (a new release, a rolling restart); detaching and
destroying unset it the same way. The URL, password included, lives only in
Secrets: the add-on's own and the app's release records and config Secret.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable
from typing import Any

from paas.addons import (
    DEFAULT_PLAN,
    AddonRecord,
    Attachment,
    check_addon_name,
    check_plan,
    check_type,
    config_key,
    default_name,
    network_policy,
    render_addon,
    secret_name,
)
from paas.deploy import Outcome
from paas.errors import ClusterError, NotFoundError, UsageError
from paas.kube.addon_store import (
    delete_addon_record,
    find_addon,
    has_default_storage_class,
    list_addons,
    read_secret_value,
    save_addon,
)
from paas.kube.api import timestamp
from paas.objects import Obj
from paas.operations import Session
from paas.releases import Change, ReleaseRecord


def get_addon(session: Session, name: str) -> AddonRecord:
    """The add-on `name`.

    Raises:
        NotFoundError: there is none.
    """
    record = find_addon(session.kube, name)
    if record is None:
        raise NotFoundError(
            f"there is no add-on `{name}`", "See `paas addons` for the ones there are."
        )
    return record


def addons_of(session: Session, app: str | None) -> list[AddonRecord]:
    """The add-ons attached to `app` (or owned by it), or every add-on when `app` is None."""
    every = list_addons(session.kube)
    if app is None:
        return every
    return [r for r in every if r.owner == app or app in r.attachments]


def _set_key(session: Session, app: str, key: str, url: str, description: str) -> Outcome:
    def make(live: ReleaseRecord) -> Change:
        return Change("config", description, config={**live.config, key: url})

    return session.change(app, make)


def _check_key_free(session: Session, app: str, key: str) -> None:
    if key in session.current(app).config:
        raise UsageError(
            f"config var `{key}` is set on `{app}` already",
            "Attach under another name with `--as NAME`, or unset it first.",
        )


def create_addon(
    session: Session,
    app: str,
    type_name: str,
    *,
    plan: str = DEFAULT_PLAN,
    name: str | None = None,
    as_name: str | None = None,
    on_wait: Callable[[str], None] = lambda _text: None,
) -> tuple[AddonRecord, Outcome | None]:
    """Create an add-on for `app`, wait until it is ready, and set its URL on `app`.

    Everything is checked before anything is made; when the add-on does not
    get ready within the session's timeout, what was made is removed again.

    Raises:
        UsageError: an unknown type or plan, a bad or taken name, the config var set already.
        ClusterError: no default StorageClass, or the add-on did not get ready in time.
    """
    kind = check_type(type_name)
    check_plan(plan)
    name = check_addon_name(name or default_name(type_name, secrets.token_hex(3)))
    key = config_key(as_name or kind.default_as)
    _check_key_free(session, app, key)
    if find_addon(session.kube, name) is not None:
        raise UsageError(f"add-on name `{name}` is taken", "Pick another with `--name`.")
    if not has_default_storage_class(session.kube):
        raise ClusterError(
            "the cluster has no default StorageClass, so an add-on's volume cannot be made",
            "Mark one StorageClass as the default "
            '(annotation `storageclass.kubernetes.io/is-default-class: "true"`).',
        )
    namespace = session.settings.namespace(app)
    record = AddonRecord(
        name=name,
        type=type_name,
        plan=plan,
        owner=app,
        namespace=namespace,
        image=getattr(session.settings.addon_images, type_name),
        created=timestamp(),
        attachments={app: Attachment(key=key, namespace=namespace)},
    )
    password = secrets.token_urlsafe(24)
    try:
        save_addon(session.kube, record)
        for obj in render_addon(record, password):
            session.kube.apply(obj)
        wait_ready(session, record, on_wait)
    except BaseException:
        remove_objects(session, record)
        raise
    url = read_url(session, record)
    outcome = _set_key(session, app, key, url, f"Attach {name} as {key}")
    return record, outcome


def wait_ready(session: Session, record: AddonRecord, on_wait: Callable[[str], None]) -> None:
    """Wait until the add-on's pod is Ready, saying what it waits for.

    Raises:
        ClusterError: it is not ready within the session's timeout.
    """
    pod_name = f"{record.name}-0"
    deadline = time.monotonic() + session.timeout
    said = ""
    while True:
        pod = session.kube.get("v1", "Pod", record.namespace, pod_name)
        state = pod_state(pod)
        if state == "ready":
            return
        if state != said:
            on_wait(f"Waiting for add-on `{record.name}` ({state})...")
            said = state
        if time.monotonic() > deadline:
            raise ClusterError(
                f"add-on `{record.name}` was not ready after {session.timeout:.0f}s ({state}); "
                "it was removed again",
                f"See why with `kubectl -n {record.namespace} describe pod {pod_name}`, "
                "or try again with a longer `--timeout`.",
            )
        time.sleep(1)


def pod_state(pod: Obj | None) -> str:
    """`ready`, or what the add-on's pod is doing instead (`no pod yet`, `ImagePullBackOff`...)."""
    if pod is None:
        return "no pod yet"
    status = pod.get("status", {})
    for condition in status.get("conditions", []):
        if condition.get("type") == "Ready" and condition.get("status") == "True":
            return "ready"
    for cs in status.get("containerStatuses", []):
        waiting = cs.get("state", {}).get("waiting")
        if waiting:
            return str(waiting.get("reason", "waiting"))
    for condition in status.get("conditions", []):
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return f"not scheduled: {condition.get('reason', '')}"
    return str(status.get("phase", "Pending")).lower()


def read_url(session: Session, record: AddonRecord) -> str:
    """The add-on's URL, from its credentials Secret.

    Raises:
        NotFoundError: the Secret is gone.
    """
    url = read_secret_value(session.kube, record.namespace, secret_name(record), "url")
    if url is None:
        raise NotFoundError(f"add-on `{record.name}` has lost its credentials Secret")
    return url


def attach_addon(
    session: Session, name: str, app: str, *, as_name: str | None = None
) -> tuple[AddonRecord, Outcome]:
    """Attach the add-on `name` to `app`: admit its pods, and set the URL on it.

    Raises:
        NotFoundError: no such add-on or app.
        UsageError: attached already, or the config var is set already.
    """
    record = get_addon(session, name)
    if app in record.attachments:
        raise UsageError(f"add-on `{name}` is attached to `{app}` already")
    key = config_key(as_name or record.kind.default_as)
    _check_key_free(session, app, key)
    url = read_url(session, record)
    attachments = {
        **record.attachments,
        app: Attachment(key=key, namespace=session.settings.namespace(app)),
    }
    attached = record.model_copy(update={"attachments": attachments})
    save_addon(session.kube, attached)
    session.kube.apply(network_policy(attached))
    return attached, _set_key(session, app, key, url, f"Attach {name} as {key}")


def detach_addon(session: Session, name: str, app: str) -> tuple[AddonRecord, Outcome]:
    """Detach the add-on `name` from `app`: unset its config var, then stop admitting its pods.

    Raises:
        NotFoundError: no such add-on, or it is not attached to `app`.
    """
    record = get_addon(session, name)
    if app not in record.attachments:
        raise NotFoundError(
            f"add-on `{name}` is not attached to `{app}`", "See `paas addons info NAME`."
        )
    outcome = _unset_key(session, app, record.attachments[app].key, name)
    attachments = {a: t for a, t in record.attachments.items() if a != app}
    detached = record.model_copy(update={"attachments": attachments})
    save_addon(session.kube, detached)
    session.kube.apply(network_policy(detached))
    return detached, outcome


def _unset_key(session: Session, app: str, key: str, name: str) -> Outcome:
    def make(live: ReleaseRecord) -> Change:
        config = {k: v for k, v in live.config.items() if k != key}
        return Change("config", f"Detach {name} ({key})", config=config)

    return session.change(app, make)


def destroy_addon(
    session: Session, name: str, *, confirm: str | None, on_step: Callable[[str], None]
) -> AddonRecord:
    """Detach the add-on `name` from every app, then delete it and its data.

    Raises:
        NotFoundError: no such add-on.
        UsageError: `confirm` is not the add-on's name.
    """
    record = get_addon(session, name)
    if confirm != name:
        attached = ", ".join(f"`{a}`" for a in record.attachments) or "no app"
        raise UsageError(
            f"destroying add-on `{name}` deletes its data (it is attached to {attached})",
            f"Confirm with `paas addons destroy {name} --confirm {name}`.",
        )
    for app in record.attachments:
        on_step(f"Detaching from `{app}`...")
        with contextlib.suppress(NotFoundError):  # the app is gone: nothing to unset
            _unset_key(session, app, record.attachments[app].key, name)
    remove_objects(session, record)
    return record


def remove_objects(session: Session, record: AddonRecord) -> None:
    """Delete the add-on's objects, its volume claim and its record (what is absent is skipped)."""
    kube, namespace = session.kube, record.namespace
    kube.delete("apps/v1", "StatefulSet", namespace, record.name)
    kube.delete("v1", "Service", namespace, record.name)
    kube.delete("networking.k8s.io/v1", "NetworkPolicy", namespace, record.name)
    kube.delete("v1", "Secret", namespace, secret_name(record))
    kube.delete("v1", "PersistentVolumeClaim", namespace, f"data-{record.name}-0")
    delete_addon_record(kube, record)


def addon_row(session: Session, record: AddonRecord, *, with_state: bool = False) -> dict[str, Any]:
    """One add-on as `addons` and `addons info` show it (no credential)."""
    row: dict[str, Any] = {
        "name": record.name,
        "type": record.type,
        "plan": record.plan,
        "provider": record.provider,
        "app": record.owner,
        "namespace": record.namespace,
        "image": record.image,
        "created": record.created,
        "attachments": [
            {"app": app, "config_var": t.key} for app, t in sorted(record.attachments.items())
        ],
    }
    if with_state:
        row["state"] = pod_state(
            session.kube.get("v1", "Pod", record.namespace, f"{record.name}-0")
        )
    return row
