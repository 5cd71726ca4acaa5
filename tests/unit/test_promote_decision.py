"""`paas promote`'s decisions on hand-built records (pure): what is promoted, what the target keeps."""

from __future__ import annotations

import pytest

from paas.errors import NotFoundError, UsageError
from paas.manifest import AppSpec, Process
from paas.promote import promotable, promote_change
from paas.releases import ReleaseRecord, next_release

IMAGE_A = "r/staging@sha256:" + "a" * 64
IMAGE_B = "r/staging@sha256:" + "b" * 64


def proc(name: str, replicas: int) -> Process:
    return Process(
        name=name, command=f"run-{name}", replicas=replicas, size="small", port=5000,
        healthcheck=None, autoscale=None,
    )  # fmt: skip


def spec(name: str, *, web: int = 1, worker: int | None = None, **fields: object) -> AppSpec:
    processes = {"web": proc("web", web)}
    if worker is not None:
        processes["worker"] = proc("worker", worker)
    return AppSpec(name=name, processes=processes, **fields)  # type: ignore[arg-type]


def record(version: int, app: AppSpec, **fields: object) -> ReleaseRecord:
    values: dict[str, object] = {
        "version": version,
        "change": "deploy",
        "description": f"release {version}",
        "image": IMAGE_A,
        "commit": "c1",
        "status": "succeeded",
        "app": app,
        "config": {},
    }
    values.update(fields)
    return ReleaseRecord.model_validate(values)


def decide(history: list[ReleaseRecord], source: ReleaseRecord) -> ReleaseRecord | None:
    live = max(history, key=lambda r: r.version) if history else None
    return next_release(
        history,
        promote_change(source, "staging", "prod", live),
        app_name="prod",
        author="ci@example.com",
        now="2026-12-03T10:00:00Z",
        new_secret=lambda: "generated",
    )


def test_the_serving_newest_release_is_promoted() -> None:
    history = [record(1, spec("staging")), record(2, spec("staging"), image=IMAGE_B)]
    assert promotable(history, "staging").name == "v2"


@pytest.mark.parametrize(("status", "said"), [("failed", "failed"), ("pending", "rolling out")])
def test_a_newer_release_that_did_not_succeed_refuses(status: str, said: str) -> None:
    history = [record(1, spec("staging")), record(2, spec("staging"), status=status)]
    with pytest.raises(UsageError, match=f"newest release v2 (is still )?{said}") as caught:
        promotable(history, "staging")
    assert "v1 serves" in caught.value.message
    assert "paas rollback -a staging" in caught.value.hint


def test_an_app_with_no_release_that_succeeded_has_nothing_to_promote() -> None:
    with pytest.raises(NotFoundError, match="no release to promote"):
        promotable([record(1, spec("staging"), status="failed")], "staging")
    with pytest.raises(NotFoundError):
        promotable([], "staging")


def test_the_target_keeps_its_config_formation_and_domains_and_takes_the_image() -> None:
    source = record(
        7,
        spec("staging", web=1, worker=1, domains=("staging.example.com",), release_command="mig"),
        image=IMAGE_B,
        commit="abc123",
        config={"DATABASE_URL": "postgres://staging"},
    )
    prod = record(
        3,
        spec("prod", web=4, domains=("www.example.com",)),
        config={"DATABASE_URL": "postgres://prod"},
    )
    made = decide([prod], source)
    assert made is not None
    assert (made.version, made.image, made.commit) == (4, IMAGE_B, "abc123")
    assert made.source == "promoted from staging v7"
    assert made.config == {"DATABASE_URL": "postgres://prod"}  # its own, never staging's
    assert made.app.name == "prod"
    assert made.app.domains == ("www.example.com",)
    assert made.app.processes["web"].replicas == 4  # prod's formation
    assert made.app.processes["worker"].replicas == 1  # a new process type comes as staging has it
    assert made.app.release_command == "mig"  # the code's spec comes with the image
    assert made.description.startswith("Promote staging v7 (bbbbbbbbbbbb)")


def test_promoting_what_the_target_already_runs_makes_no_release() -> None:
    source = record(7, spec("staging"), image=IMAGE_B)
    first = decide([record(3, spec("prod"))], source)
    assert first is not None
    first.status = "succeeded"
    assert decide([record(3, spec("prod")), first], source) is None


def test_a_first_promotion_to_an_app_with_no_release_takes_the_source_spec_under_its_name() -> None:
    made = decide([], record(2, spec("staging", web=2, domains=("staging.example.com",))))
    assert made is not None
    assert (made.version, made.app.name, made.app.domains) == (1, "prod", ())
    assert made.app.processes["web"].replicas == 2
