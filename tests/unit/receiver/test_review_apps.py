"""Review apps, the pure parts: their names, their first config, their place in `paas apps`."""

from __future__ import annotations

import pytest

from paas.app_list import apps_with_reviews
from paas.names import APP_NAME_MAX, app_name_problem, review_app_name
from paas.receiver.review import review_apps_enabled, review_config


@pytest.mark.parametrize(
    ("parent", "branch", "expected"),
    [
        ("hello", "fix-login", "hello-fix-login"),
        ("hello", "Feature/Login_Page", "hello-feature-login-page"),
        ("hello", "dependabot/pip/flask-3.1.1", "hello-dependabot-pip-flask-3-1-1"),
    ],
)
def test_a_review_app_is_named_after_its_parent_and_branch(
    parent: str, branch: str, expected: str
) -> None:
    assert review_app_name(parent, branch) == expected


@pytest.mark.parametrize(
    "branch",
    ["a" * 80, "---", "ÄÖÜ", "x" * 35, "..", "-leading", "UPPER", "日本語/ブランチ"],
)
def test_every_review_app_name_is_a_valid_app_name_and_distinct(branch: str) -> None:
    name = review_app_name("my-long-parent-app", branch)
    assert app_name_problem(name) is None, name
    assert len(name) <= APP_NAME_MAX
    assert name.startswith("my-long-parent-app")
    # Two branches that differ only past the cut, or only in characters dropped, differ.
    assert review_app_name("my-long-parent-app", branch + "z") != name


def test_the_first_config_is_the_review_env_and_the_parents_values_for_names_without_one() -> None:
    environments = {
        "review": {
            "env": {
                "STAGE": "review",
                "DEBUG": {"value": True},
                "SECRET_KEY": {"required": True},
                "MISSING": {},
                "PORT2": 8080,
                "bad name": "x",
            }
        },
        "test": {"env": {"CI": "1"}},
    }
    parent = {"SECRET_KEY": "s3cr3t", "DATABASE_URL": "postgres://prod", "STAGE": "production"}
    assert review_config(environments, parent) == {
        "STAGE": "review",
        "DEBUG": "true",
        "SECRET_KEY": "s3cr3t",
        "PORT2": "8080",
    }
    assert review_config({}, parent) == {}
    assert review_config({"review": "nonsense"}, parent) == {}


def test_review_apps_are_on_only_when_the_parent_says_enabled() -> None:
    on = {"metadata": {"annotations": {"paas.dev/review-apps": "enabled"}}}
    assert review_apps_enabled(on)
    assert not review_apps_enabled({"metadata": {}})
    assert not review_apps_enabled({"metadata": {"annotations": {"paas.dev/review-apps": "yes"}}})


def test_paas_apps_lists_review_apps_under_their_parent() -> None:
    def row(name: str, review_of: str = "") -> dict[str, str]:
        return {
            "name": name,
            "namespace": name,
            "release": "",
            "created": "",
            "review_of": review_of,
        }

    rows = [row("api"), row("hello"), row("hello-b", "hello"), row("orphan-x", "gone"), row("web")]
    rows.append(row("api-fix", "api"))
    rows.sort(key=lambda r: r["name"])
    assert [(r["name"], review) for r, review in apps_with_reviews(rows)] == [
        ("api", False),
        ("api-fix", True),
        ("hello", False),
        ("hello-b", True),
        ("orphan-x", True),
        ("web", False),
    ]
