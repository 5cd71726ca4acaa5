"""The one release decision, `next_release()`, rule by rule, on hand-built records (pure)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from paas.errors import ManifestError, NotFoundError
from paas.manifest import AppSpec, Process
from paas.releases import (
    Change,
    ReleaseRecord,
    next_release,
    rollback_change,
    rollback_target,
)

NOW = "2026-12-01T10:00:00Z"
IMAGE_A = "r/a@sha256:" + "a" * 64
IMAGE_B = "r/a@sha256:" + "b" * 64


def spec(replicas: int = 1, *, declared: tuple[str, ...] = (), **fields: object) -> AppSpec:
    web = Process(
        name="web",
        command="serve",
        replicas=replicas,
        size="small",
        port=5000,
        healthcheck=None,
        autoscale=None,
    )
    return AppSpec(name="a", processes={"web": web}, declared_replicas=declared, **fields)  # type: ignore[arg-type]


def record(version: int, **fields: object) -> ReleaseRecord:
    values: dict[str, object] = {
        "version": version,
        "change": "deploy",
        "description": f"release {version}",
        "image": IMAGE_A,
        "commit": "c1",
        "status": "succeeded",
        "app": spec(),
    }
    values.update(fields)
    return ReleaseRecord.model_validate(values)


def secrets() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"generated-{next(counter)}"


def decide(history: list[ReleaseRecord], change: Change) -> ReleaseRecord | None:
    return next_release(
        history, change, app_name="a", author="dev@example.com", now=NOW, new_secret=secrets()
    )


def push(image: str = IMAGE_A, app: AppSpec | None = None, commit: str = "c1") -> Change:
    return Change("deploy", "Deploy", app=app or spec(), image=image, commit=commit)


def test_the_first_deploy_is_v1_and_runs_its_own_pods() -> None:
    made = decide([], push())
    assert made is not None
    assert (made.version, made.pod_version, made.first_deploy) == (1, None, True)
    assert (made.author, made.created, made.status) == ("dev@example.com", NOW, "pending")
    assert made.release().pod_name == "v1"


def test_a_push_after_a_failed_first_release_is_still_the_first_deploy() -> None:
    made = decide([record(1, status="failed")], push())
    assert made is not None
    assert (made.version, made.first_deploy) == (2, True)


def test_an_unchanged_push_makes_no_release() -> None:
    assert decide([record(1)], push()) is None


def test_a_new_commit_alone_is_a_release_that_keeps_the_pods_environment() -> None:
    made = decide([record(1)], push(commit="c2"))
    assert made is not None
    assert (made.version, made.commit, made.first_deploy) == (2, "c2", False)
    assert made.pod_version == 1  # same image and environment: no release phase, same Secret


def test_a_new_image_restarts_the_pods() -> None:
    made = decide([record(1)], push(IMAGE_B))
    assert made is not None
    assert (made.version, made.pod_version) == (2, None)
    assert made.release().pod_name == "v2"


def test_a_config_change_restarts_the_pods() -> None:
    made = decide([record(1)], Change("config", "Set A", config={"A": "1"}))
    assert made is not None
    assert (made.image, made.config, made.pod_version) == (IMAGE_A, {"A": "1"}, None)
    assert made.app == spec()  # what the change does not give comes from the current release


def test_a_paas_yaml_env_change_restarts_the_pods() -> None:
    made = decide([record(1)], push(app=spec(env={"LOG_LEVEL": "debug"})))
    assert made is not None
    assert made.pod_version is None


def test_a_scale_keeps_the_pods_release() -> None:
    made = decide([record(1)], Change("scale", "Scale web=3", app=spec(3), restart_pods=False))
    assert made is not None
    assert (made.version, made.pod_version, made.release().pod_name) == (2, 1, "v1")
    # and a scale of a scale keeps the release the pods run, not the one before
    again = decide(
        [record(1), made.model_copy(update={"status": "succeeded"})],
        Change("scale", "Scale web=1", app=spec(1), restart_pods=False),
    )
    assert again is not None
    assert (again.version, again.pod_version) == (3, 1)


def test_a_push_that_only_edits_the_formation_keeps_the_pods_release() -> None:
    made = decide([record(1)], push(app=spec(2, declared=("web",))))
    assert made is not None
    assert made.app.processes["web"].replicas == 2
    assert made.pod_version == 1


def test_a_push_keeps_the_replicas_of_paas_ps_scale_unless_paas_yaml_sets_them() -> None:
    scaled = record(2, change="scale", app=spec(3), pod_version=1)
    history = [record(1), scaled]
    assert decide(history, push()) is None  # the directory says nothing about replicas
    pinned = decide(history, push(app=spec(1, declared=("web",))))
    assert pinned is not None
    assert pinned.app.processes["web"].replicas == 1  # paas.yaml says 1: it wins
    new_code = decide(history, push(IMAGE_B))
    assert new_code is not None
    assert new_code.app.processes["web"].replicas == 3


def test_a_change_is_made_again_from_the_release_current_under_the_lock() -> None:
    seen = record(1, config={"A": "1"})
    landed = record(2, config={"A": "1", "B": "2"})  # another `config set` landed meanwhile

    def make(live: ReleaseRecord) -> Change:
        return Change("config", "Set C", config={**live.config, "C": "3"})

    change = make(seen)
    change.rebase = make
    made = decide([seen, landed], change)
    assert made is not None
    assert made.config == {"A": "1", "B": "2", "C": "3"}
    assert made.version == 3


def test_generated_config_is_made_once_and_kept() -> None:
    app = spec(generated_env=("SECRET_KEY",))
    first = decide([], push(app=app))
    assert first is not None
    assert first.config == {"SECRET_KEY": "generated-1"}
    kept = decide([record(1, app=app, config=first.config)], push(IMAGE_B, app=app))
    assert kept is not None
    assert kept.config == {"SECRET_KEY": "generated-1"}


def test_required_config_must_be_set() -> None:
    app = spec(required_env=("API_TOKEN",))
    with pytest.raises(ManifestError, match=r"app\.json requires config `API_TOKEN`"):
        decide([], push(app=app))
    made = decide([record(1, config={"API_TOKEN": "t"})], push(IMAGE_B, app=app))
    assert made is not None
    assert made.config == {"API_TOKEN": "t"}
    in_paas_yaml = spec(required_env=("API_TOKEN",), env={"API_TOKEN": "x"})
    assert decide([], push(app=in_paas_yaml)) is not None  # a value in paas.yaml `env` counts


def test_a_change_without_a_release_to_build_on_is_an_error() -> None:
    with pytest.raises(ManifestError, match="app `a` has no release yet"):
        decide([], Change("config", "Set A", config={"A": "1"}))


def test_the_default_rollback_target_skips_releases_that_changed_only_the_formation() -> None:
    history = [
        record(1, image=IMAGE_A),
        record(2, image=IMAGE_B),  # the bad code
        record(3, change="scale", image=IMAGE_B, pod_version=2, app=spec(2)),
        record(4, change="scale", image=IMAGE_B, pod_version=2, app=spec(1)),
        record(5, image=IMAGE_B, status="failed"),
    ]
    assert rollback_target(history, "a").version == 1
    config_changed = [*history[:2], record(3, image=IMAGE_B, config={"A": "1"})]
    assert rollback_target(config_changed, "a").version == 2  # v2 has other config
    after_a_scale = [*config_changed[:2], record(3, change="scale", image=IMAGE_B, pod_version=2)]
    after_a_scale.append(record(4, image=IMAGE_B, config={"A": "1"}))
    assert rollback_target(after_a_scale, "a").version == 2  # v3 ran v2's pods: name v2
    with pytest.raises(NotFoundError, match="no earlier release with other code or config"):
        rollback_target(history[:1], "a")


def test_a_rollback_restores_image_and_config_but_keeps_formation_and_domains() -> None:
    target = record(1, image=IMAGE_A, config={"A": "old"})
    live = record(2, image=IMAGE_B, config={"A": "new"}, app=spec(3, domains=("www.a.test",)))
    made = decide([target, live], rollback_change(target, live))
    assert made is not None
    assert (made.image, made.config, made.change) == (IMAGE_A, {"A": "old"}, "rollback")
    assert made.app.processes["web"].replicas == 3
    assert made.app.domains == ("www.a.test",)
    assert made.pod_version is None  # other code: the pods restart
