"""Names: what an app or process may be called, and the object names derived from them.

Kubernetes limits object names (DNS-1123 labels for Services, 52 characters
for CronJobs, 63 for label values). App names are DNS labels of at most 40
characters and process types at most 20, so `APP-PROCESS` always fits a
Service name; names built from longer parts are shortened with a hash so they
stay unique, valid and stable.
"""

from __future__ import annotations

import hashlib
import re

APP_NAME_MAX = 40
PROCESS_NAME_MAX = 20
LABEL_MAX = 63
CRONJOB_NAME_MAX = 52

DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")  # \Z: `$` would let a trailing newline in
RESERVED_APP_NAMES = frozenset({"default", "paas-system"})
# Jobs use these as their process label, so no long-running process may.
RESERVED_PROCESS_NAMES = frozenset({"release", "postdeploy"})


def app_name_problem(name: str) -> str | None:
    """Say what is wrong with `name` as an app name, or None when it is fine."""
    if not name:
        return "must not be empty"
    if len(name) > APP_NAME_MAX:
        return f"must be at most {APP_NAME_MAX} characters (it has {len(name)})"
    if not DNS_LABEL.fullmatch(name):
        return (
            "must be lowercase letters, digits and dashes, start with a letter and not end "
            "with a dash"
        )
    if name in RESERVED_APP_NAMES or name.startswith("kube-"):
        return "is reserved by Kubernetes or paas"
    return None


def process_name_problem(name: str) -> str | None:
    """Say what is wrong with `name` as a process type, or None when it is fine."""
    if not name:
        return "must not be empty"
    if len(name) > PROCESS_NAME_MAX:
        return f"must be at most {PROCESS_NAME_MAX} characters (it has {len(name)})"
    if not DNS_LABEL.fullmatch(name):
        return (
            "must be lowercase letters, digits and dashes, start with a letter and not end "
            "with a dash"
        )
    if name in RESERVED_PROCESS_NAMES:
        return "is reserved for the release phase"
    return None


def suggest_app_name(raw: str) -> str:
    """Turn a directory name like `My_App.v2` into a valid app name like `my-app-v2`."""
    name = re.sub(r"[^a-z0-9-]+", "-", raw.lower()).strip("-")
    name = re.sub(r"^[^a-z]+", "", name)
    name = re.sub(r"-{2,}", "-", name)[:APP_NAME_MAX].rstrip("-")
    if not name or app_name_problem(name):
        return "app"
    return name


def object_name(*parts: str, limit: int = LABEL_MAX) -> str:
    """Join `parts` with dashes into a DNS label of at most `limit` characters.

    A name that would be too long keeps its start and gets a short hash of the
    whole, so two long names never collide and the same parts always give the
    same name.
    """
    name = "-".join(p for p in parts if p)
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    head = name[: limit - len(digest) - 1].rstrip("-")
    return f"{head}-{digest}"


#: The label that ties a Dockerfile build namespace to its app (it has no ``paas.dev/app``).
BUILD_FOR_LABEL = "paas.dev/build-for"


def build_namespace(namespace: str) -> str:
    """The namespace an app's Dockerfile builds run in: the app's `namespace`, plus ``-build``."""
    return object_name(namespace, "build", limit=LABEL_MAX)


#: On a review app's namespace: the app it reviews (`paas apps` shows it under that app).
REVIEW_OF_LABEL = "paas.dev/review-of"
#: On the parent app's namespace: `enabled` when a push of another branch makes a review app.
REVIEW_APPS_ANNOTATION = "paas.dev/review-apps"


def review_app_name(parent: str, branch: str) -> str:
    """The review app of `branch`: `PARENT-BRANCH` as an app name, like `hello-fix-login`.

    The branch is lower-cased and every run of other characters becomes a
    dash; a name longer than an app name may be keeps its start and ends in a
    hash of the branch, so two long branches never share an app.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", branch.lower()).strip("-")
    name = f"{parent}-{slug}".rstrip("-")
    if slug and len(name) <= APP_NAME_MAX and app_name_problem(name) is None:
        return name
    digest = hashlib.sha256(branch.encode()).hexdigest()[:6]
    head = name[: APP_NAME_MAX - len(digest) - 1].rstrip("-")
    return f"{head}-{digest}"
