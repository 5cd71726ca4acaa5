"""Releases: what each release of an app was, and the one decision of what the next one is.

A release is immutable once it has ended: its image, config, app spec and the
objects it rendered. Only `status` moves, from `pending` to `succeeded` or
`failed`. The store in `paas.kube.store` keeps each record in a Secret, since
it holds config values.

`next_release()` is the only place that decides what a change makes: `paas
push`, `config set`, `ps scale`, `domains`, `rollback` and the git receiver
record what it returns, and `paas diff`, `render` and `eject` show it, so they
cannot disagree. Pure: the caller passes the history, the clock and a source
of secrets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from paas.errors import ManifestError, NotFoundError
from paas.manifest import AppSpec

Status = Literal["pending", "succeeded", "failed"]
ChangeKind = Literal["deploy", "config", "scale", "domains", "rollback", "restart"]
ImageKind = Literal["cnb", "dockerfile"]


class Release(BaseModel):
    """The release a render is for: which image, which config, which version."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)
    image: str
    config: dict[str, str] = Field(default_factory=dict)
    commit: str = ""
    image_kind: ImageKind = "cnb"
    # A release that changes neither image nor config (a scale, a domain change) keeps
    # the pods of the release they run, so that it restarts nothing.
    pod_version: int | None = None
    # app.json's postdeploy script runs after the app's first successful deploy; by
    # default that is v1, but a push after a failed v1 is the first one too.
    first_deploy: bool | None = None

    @property
    def name(self) -> str:
        """The release as users write it: `v3`."""
        return f"v{self.version}"

    @property
    def pod_name(self) -> str:
        """The release the pods run: its image, its config, its `PAAS_RELEASE`."""
        return f"v{self.pod_version or self.version}"


class ReleaseRecord(BaseModel):
    """One release of an app, as `paas releases` shows it."""

    model_config = ConfigDict(extra="forbid")

    version: int
    change: ChangeKind
    description: str
    image: str
    image_kind: ImageKind = "cnb"
    commit: str = ""
    source: str = ""  # where the image came from when not built here: a tag, a promotion
    author: str = ""
    created: str = ""  # RFC 3339, UTC
    status: Status = "pending"
    failure: str = ""
    pod_version: int | None = None
    first_deploy: bool = False
    config: dict[str, str] = Field(default_factory=dict, repr=False)
    app: AppSpec

    @property
    def name(self) -> str:
        """`v3`."""
        return f"v{self.version}"

    @property
    def environment(self) -> dict[str, str]:
        """What its pods see as config: paas.yaml's `env` under the config vars."""
        return {**self.app.env, **self.config}

    def release(self) -> Release:
        """The render input of this record."""
        return Release(
            version=self.version,
            image=self.image,
            config=self.config,
            commit=self.commit,
            image_kind=self.image_kind,
            pod_version=self.pod_version,
            first_deploy=self.first_deploy,
        )

    def summary(self) -> dict[str, Any]:
        """What `paas releases --json` prints: everything but config values."""
        data = self.model_dump(exclude={"config", "app"})
        data["version"] = self.name
        data["config_keys"] = sorted(self.config)
        data["processes"] = {p.name: p.replicas for p in self.app.processes.values()}
        return data


@dataclass
class Change:
    """What a change asks for; everything not given stays as the current release has it.

    Attributes:
        kind: What kind of change it is, as the release history shows it.
        description: The release's description, like `Set GREETING`.
        app: The new app spec (a push, a scale, a domain change); None keeps it.
        image: The new image, by digest; None keeps it.
        image_kind: What the new image is; None keeps it.
        commit: The git commit the image was built from; None keeps it.
        source: Where the image came from when it was not built from the source
            (`image registry.example.com/api:1.2`, `promoted from staging v7`);
            "" for a build, None keeps it.
        config: The new config vars, all of them; None keeps them.
        restart_pods: False when the change is known not to touch the pods (a
            scale, a domain); their release is then kept even if the spec changed.
        rebase: For a change made from the release serving when the command
            started (config, scale, domains, rollback): makes the change again
            from the release current under the app's lock, so two changes at
            once both land instead of one undoing the other.
    """

    kind: ChangeKind
    description: str
    app: AppSpec | None = None
    image: str | None = None
    image_kind: ImageKind | None = None
    commit: str | None = None
    source: str | None = None
    config: dict[str, str] | None = None
    restart_pods: bool = True
    rebase: Callable[[ReleaseRecord], Change] | None = None


def next_release(
    history: Sequence[ReleaseRecord],
    change: Change,
    *,
    app_name: str,
    author: str,
    now: str,
    new_secret: Callable[[], str],
) -> ReleaseRecord | None:
    """The release `change` makes on top of `history`, or None when it changes nothing.

    The rules, in order:

    - a change with `rebase` is made again from the release current now;
    - a push keeps the live replica count of each process type whose
      paas.yaml does not set `replicas` (Heroku keeps the formation too);
    - what the change does not give comes from the current release;
    - app.json's `generator: secret` config is generated once, and its required
      config must be set;
    - a change of nothing (same image, config, commit and spec) makes no release;
    - a release that changes neither the image nor the pods' environment (a
      scale, a domain, a push that only edits the formation) keeps the pods'
      release: their config Secret, no restart, no release phase;
    - the first release that will succeed is the first deploy (postdeploy runs).

    Args:
        history: Every recorded release of the app, any order.
        change: What the change asks for.
        app_name: The app, for messages.
        author: Who makes the change.
        now: The time stamp of the new record (RFC 3339, UTC).
        new_secret: Makes one generated config value.

    Raises:
        ManifestError: the app has no release and the change gives no app or
            image, or app.json's required config is not set.
    """
    last = current(history)
    if change.rebase is not None and last is not None:
        change = replace(change.rebase(last), rebase=None)
    app = change.app or (last.app if last else None)
    if change.kind == "deploy" and app is not None and last is not None:
        app = _keep_formation(app, last.app)
    image = change.image or (last.image if last else None)
    if app is None or image is None:
        raise ManifestError(
            f"app `{app_name}` has no release yet",
            f"Deploy it first with `paas push` or `paas push --image REF --app {app_name}`.",
        )
    config = _filled_config(
        app,
        change.config if change.config is not None else (last.config if last else {}),
        new_secret,
    )
    commit = change.commit if change.commit is not None else (last.commit if last else "")
    if last is not None and (
        last.image == image
        and last.config == config
        and last.commit == commit
        and last.app.model_dump() == app.model_dump()
    ):
        return None
    pod_version = None
    if last is not None and (
        not change.restart_pods
        or (last.image == image and last.environment == {**app.env, **config})
    ):
        pod_version = last.pod_version or last.version
    return ReleaseRecord(
        version=next_version(history),
        change=change.kind,
        description=change.description,
        image=image,
        image_kind=change.image_kind or (last.image_kind if last else "cnb"),
        commit=commit,
        source=change.source if change.source is not None else (last.source if last else ""),
        author=author,
        created=now,
        pod_version=pod_version,
        first_deploy=last is None,
        config=config,
        app=app,
    )


def _keep_formation(app: AppSpec, live: AppSpec) -> AppSpec:
    """`app` with the replicas of `live` for process types whose paas.yaml sets none."""
    kept = {
        name: process.model_copy(update={"replicas": live.processes[name].replicas})
        for name, process in app.processes.items()
        if name in live.processes
        and name not in app.declared_replicas
        and process.replicas != live.processes[name].replicas
    }
    return app.model_copy(update={"processes": {**app.processes, **kept}}) if kept else app


def _filled_config(
    app: AppSpec, config: dict[str, str], new_secret: Callable[[], str]
) -> dict[str, str]:
    """Generate app.json `generator: secret` values; insist on required ones."""
    filled = dict(config)
    for key in app.generated_env:
        if key not in filled:
            filled[key] = new_secret()
    missing = [k for k in app.required_env if k not in filled and k not in app.env]
    if missing:
        names = ", ".join(f"`{k}`" for k in missing)
        raise ManifestError(
            f"app.json requires config {names}, which is not set",
            f"Set it first: `paas config set {missing[0]}=...`.",
        )
    return filled


def next_version(history: Sequence[ReleaseRecord]) -> int:
    """The number of the next release: one more than the highest ever recorded."""
    return max((r.version for r in history), default=0) + 1


def current(history: Sequence[ReleaseRecord]) -> ReleaseRecord | None:
    """The release serving now: the newest one that succeeded."""
    done = [r for r in history if r.status == "succeeded"]
    return max(done, key=lambda r: r.version) if done else None


def rollback_target(history: Sequence[ReleaseRecord], app: str) -> ReleaseRecord:
    """What `paas rollback` with no version goes back to.

    The newest earlier release that succeeded and whose image or config differs
    from the current one's: a release that only scaled or changed domains would
    roll back to the same code and config, which is never what a user means.
    When that release only scaled too, it is the release whose pods it ran
    that is named: the one that brought that code and config.

    Raises:
        NotFoundError: there is no such release in the history.
    """
    live = current(history)
    if live is not None:
        earlier = sorted(
            (r for r in history if r.status == "succeeded" and r.version < live.version),
            key=lambda r: r.version,
            reverse=True,
        )
        by_version = {r.version: r for r in earlier}
        for record in earlier:
            if record.image != live.image or record.environment != live.environment:
                return by_version.get(record.pod_version or record.version, record)
    raise NotFoundError(
        f"app `{app}` has no earlier release with other code or config to roll back to",
        "See `paas releases`; `paas rollback vN` goes back to one by number.",
    )


def rollback_change(target: ReleaseRecord, live: ReleaseRecord | None) -> Change:
    """The change `paas rollback` to `target` asks for, with `live` the release serving now.

    Like Heroku, a rollback restores code and config, not the formation or the
    domains: the process types of the target keep the replica counts they have
    now, and the app keeps the custom domains it has now.
    """
    now = live.app.processes if live else {}
    processes = {
        name: process.model_copy(
            update={"replicas": now[name].replicas, "autoscale": now[name].autoscale}
        )
        if name in now
        else process
        for name, process in target.app.processes.items()
    }
    return Change(
        "rollback",
        f"Rollback to {target.name}",
        app=target.app.model_copy(
            update={
                "processes": processes,
                "domains": live.app.domains if live else target.app.domains,
            }
        ),
        image=target.image,
        image_kind=target.image_kind,
        commit=target.commit,
        source=target.source,
        config=target.config,
    )


def find_release(history: Sequence[ReleaseRecord], app: str, version: int) -> ReleaseRecord:
    """Release `version` of `app` from its history.

    Raises:
        NotFoundError: it is not (or no longer) in the history.
    """
    for record in history:
        if record.version == version:
            return record
    raise NotFoundError(
        f"release v{version} of `{app}` is not in the history",
        "See `paas releases` for the ones kept.",
    )


def to_prune(history: Sequence[ReleaseRecord], keep: int) -> list[ReleaseRecord]:
    """The records beyond the newest `keep`, never the current one or one its pods run."""
    newest = sorted(history, key=lambda r: r.version, reverse=True)
    live = current(history)
    protected = {live.version, live.pod_version} if live else set()
    return [r for r in newest[keep:] if r.version not in protected]


def describe_deploy(commit: str, image: str) -> str:
    """`Deploy 3f2a1c9`, or the image when there is no commit."""
    if commit:
        return f"Deploy {commit[:7]}"
    name, _, digest = image.rsplit("/", 1)[-1].partition("@")
    return f"Deploy {name}@{digest.removeprefix('sha256:')[:7]}" if digest else f"Deploy {name}"


def abandoned(history: Sequence[ReleaseRecord]) -> list[ReleaseRecord]:
    """The pending releases in `history`, oldest first.

    Read under the app's lock, these are releases whose command stopped (died,
    or lost the lock) before it recorded how they went: no other command is
    deploying the app then.
    """
    return sorted((r for r in history if r.status == "pending"), key=lambda r: r.version)


def purge_keys(
    record: ReleaseRecord, objects: list[dict[str, Any]], keys: Sequence[str], secret_name: str
) -> tuple[ReleaseRecord, list[dict[str, Any]]]:
    """`record` and its stored `objects` without config vars `keys` (`paas config unset --purge`).

    The config Secret `secret_name` among `objects` is rebuilt from what is
    left (paas.yaml's `env` under the remaining config vars), as render makes it.
    """
    import base64
    import copy

    config = {k: v for k, v in record.config.items() if k not in keys}
    purged = record.model_copy(update={"config": config})
    values = {**record.app.env, **config}
    out = copy.deepcopy(objects)
    for obj in out:
        if obj.get("kind") == "Secret" and obj.get("metadata", {}).get("name") == secret_name:
            obj.pop("data", None)
            obj.pop("stringData", None)
            if values:
                obj["data"] = {
                    k: base64.b64encode(v.encode()).decode() for k, v in sorted(values.items())
                }
    return purged, out
