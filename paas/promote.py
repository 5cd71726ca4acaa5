"""`paas promote`: deploy one app's serving image, by digest, to another app.

Staging to production, as Heroku pipelines promote a slug: the target gets the
exact image (the same digest, so the same bytes) and the source's code-side spec
(process types and commands, release phase, cron, patches), and keeps its own
config vars, formation (replica counts) and domains. The target's release says
where it came from (`promoted from staging v7`).
"""

from __future__ import annotations

from paas.deploy import Outcome
from paas.errors import NotFoundError, UsageError
from paas.manifest.spec import AppSpec
from paas.operations import Session
from paas.releases import Change, ReleaseRecord, current
from paas.settings import ClusterSettings


def promotable(history: list[ReleaseRecord], app: str) -> ReleaseRecord:
    """The source's release to promote: its serving one, when it is also its newest.

    A newer release that is pending (a change under way) or failed (staging is
    broken, its older release serves) makes a promotion a guess: refused.

    Raises:
        NotFoundError: the app has no release that succeeded.
        UsageError: its newest release did not succeed.
    """
    live = current(history)
    if live is None:
        raise NotFoundError(f"app `{app}` has no release to promote", f"Push `{app}` first.")
    newest = max(history, key=lambda r: r.version)
    if newest.version != live.version:
        state = "is still rolling out" if newest.status == "pending" else "failed"
        raise UsageError(
            f"`{app}`'s newest release {newest.name} {state}; {live.name} serves, so it is "
            "unclear what to promote",
            f"Wait for it, or fix and push `{app}` again, or `paas rollback -a {app}` "
            "to make the serving release the newest, then promote.",
        )
    return live


def promoted_spec(source: AppSpec, target_app: str, live: ReleaseRecord | None) -> AppSpec:
    """The source's spec as the target runs it: its name, domains and formation."""
    kept = live.app if live is not None else None
    processes = {
        name: (
            process.model_copy(update={"replicas": kept.processes[name].replicas})
            if kept is not None and name in kept.processes
            else process
        )
        for name, process in source.processes.items()
    }
    return source.model_copy(
        update={
            "name": target_app,
            "processes": processes,
            "domains": kept.domains if kept is not None else (),
            "declared_replicas": (),
        }
    )


def promote_change(
    record: ReleaseRecord, from_app: str, to_app: str, live: ReleaseRecord | None
) -> Change:
    """The target's change: the source release's image and spec, the target's own config."""
    return Change(
        "deploy",
        f"Promote {from_app} {record.name} ({record.image.rpartition('@')[2][7:19]})",
        app=promoted_spec(record.app, to_app, live),
        image=record.image,
        image_kind=record.image_kind,
        commit=record.commit,
        source=f"promoted from {from_app} {record.name}",
        config=None,  # the target's own
    )


def promote(
    target: Session, record: ReleaseRecord, from_app: str, to_app: str, image: str | None = None
) -> Outcome:
    """Deploy `record` (`from_app`'s release, from `promotable()`) to `to_app`.

    `image` is the image by digest as the target's cluster pulls it, when it
    had to be copied to the target's registry.

    Raises:
        NotFoundError: the target app does not exist.
    """
    if image is not None:
        record = record.model_copy(update={"image": image})
    history = target.history(to_app)  # NotFoundError: create it first

    def make(live: ReleaseRecord | None) -> Change:
        return promote_change(record, from_app, to_app, live)

    request = make(current(history))
    request.rebase = make
    target.events.info(f"Promoting {from_app} {record.name} ({record.image}) to {to_app}...")
    return target.deploy(to_app, request)


def copy_if_needed(
    image: str, source: ClusterSettings, target: ClusterSettings, to_app: str
) -> str:
    """`image` as the target cluster pulls it: copied to its registry when that differs."""
    if source.registry == target.registry:
        return image
    from paas.registry_copy import copy_image
    from paas.settings import image_repository

    return copy_image(
        image,
        image_repository(target, to_app),
        source_insecure=source.insecure_registry,
        target_insecure=target.insecure_registry,
    )
