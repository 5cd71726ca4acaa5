"""The receiver's configuration: where repositories and tokens live, the pipeline, app policies."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paas.errors import UsageError
from paas.names import app_name_problem
from paas.receiver.refs import PushPolicy

#: The pipeline a push runs: paas's own, in the cluster.
DEFAULT_PIPELINE = "paas.receiver.pipeline:cluster_pipeline"
PIPELINE_PATTERN = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*\Z")
BRANCH_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,99}\Z")
MAX_SOURCE_BYTES = 512 * 1024 * 1024
MAX_SOURCE_FILES = 100_000
MAX_REQUEST_BYTES = 2 * 1024 * 1024 * 1024


def data_home() -> Path:
    """Where the receiver keeps its files by default: `$XDG_DATA_HOME/paas/receiver`."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "paas" / "receiver"


@dataclass(frozen=True)
class ReceiverConfig:
    """How a receiver runs.

    Attributes:
        root: The directory of the bare repositories, one `APP.git` each.
        tokens: The token file; None keeps the tokens as Secrets in the cluster.
        pipeline: `module:function` a push to the deploy branch runs.
        policy: The default push policy (deploy branches, force push, delete).
        apps: Policies of single apps, over the default.
        max_source_bytes: The most a pushed commit may unpack to.
        max_source_files: The most files it may have.
        max_request_bytes: The most one request body may carry.
        lock_wait: Seconds a push waits while another push of the app runs.
    """

    root: Path = field(default_factory=lambda: data_home() / "repos")
    tokens: Path | None = None
    pipeline: str = DEFAULT_PIPELINE
    policy: PushPolicy = field(default_factory=PushPolicy)
    apps: dict[str, PushPolicy] = field(default_factory=dict)
    max_source_bytes: int = MAX_SOURCE_BYTES
    max_source_files: int = MAX_SOURCE_FILES
    max_request_bytes: int = MAX_REQUEST_BYTES
    lock_wait: float = 600

    def policy_for(self, app: str) -> PushPolicy:
        """The push policy of `app`."""
        return self.apps.get(app, self.policy)


def check_pipeline(value: str) -> str:
    """A pipeline as `module:function`.

    Raises:
        UsageError: it is not of that form.
    """
    if not PIPELINE_PATTERN.match(value):
        raise UsageError(
            f"`{value[:80]}` is not a pipeline: name it as `module:function`.",
            f"The default is `{DEFAULT_PIPELINE}`.",
        )
    return value


def _policy(data: Any, base: PushPolicy, place: str) -> PushPolicy:
    if not isinstance(data, dict) or set(data) - {
        "deploy_branches",
        "allow_force_push",
        "allow_delete",
        "review_apps",
    }:
        raise UsageError(
            f"{place}: expected `deploy_branches`, `allow_force_push`, `allow_delete` and "
            "`review_apps` only."
        )
    branches = data.get("deploy_branches", list(base.deploy_branches))
    if (
        not isinstance(branches, list)
        or not branches
        or not all(isinstance(b, str) and BRANCH_PATTERN.match(b) for b in branches)
    ):
        raise UsageError(f"{place}.deploy_branches: must be a list of branch names, like [main].")
    keys = ("allow_force_push", "allow_delete", "review_apps")
    flags = {k: data.get(k, getattr(base, k)) for k in keys}
    for key, value in flags.items():
        if not isinstance(value, bool):
            raise UsageError(f"{place}.{key}: must be true or false.")
    return PushPolicy(
        tuple(branches), flags["allow_force_push"], flags["allow_delete"], flags["review_apps"]
    )


def config_from_data(data: Any, *, place: str = "receiver config") -> ReceiverConfig:
    """The receiver configuration a file holds (pure).

    The file has any of `root`, `tokens`, `pipeline`, `deploy_branches`,
    `allow_force_push`, `allow_delete`, `max_source_bytes`, `lock_wait`, and
    `review_apps`, and `apps: {APP: {deploy_branches, allow_force_push, allow_delete,
    review_apps}}`.

    Raises:
        UsageError: an unknown key or a bad value, with its place.
    """
    if not isinstance(data, dict):
        raise UsageError(f"{place}: expected a mapping.")
    known = {"root", "tokens", "pipeline", "max_source_bytes", "lock_wait", "apps"}
    policy_keys = {"deploy_branches", "allow_force_push", "allow_delete", "review_apps"}
    unknown = set(data) - known - policy_keys
    if unknown:
        raise UsageError(f"{place}: unknown key `{sorted(unknown)[0]}`.")
    default = ReceiverConfig()
    policy = _policy({k: data[k] for k in policy_keys if k in data}, PushPolicy(), place)
    apps: dict[str, PushPolicy] = {}
    raw_apps = data.get("apps", {})
    if not isinstance(raw_apps, dict):
        raise UsageError(f"{place}.apps: expected a mapping of app names.")
    for app, value in raw_apps.items():
        problem = app_name_problem(str(app))
        if problem:
            raise UsageError(f"{place}.apps: `{app}` is not an app name: it {problem}.")
        apps[str(app)] = _policy(value, policy, f"{place}.apps.{app}")
    size = data.get("max_source_bytes", default.max_source_bytes)
    wait = data.get("lock_wait", default.lock_wait)
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise UsageError(f"{place}.max_source_bytes: must be a positive whole number.")
    if not isinstance(wait, int | float) or isinstance(wait, bool) or wait < 0:
        raise UsageError(f"{place}.lock_wait: must be a number of seconds.")
    return ReceiverConfig(
        root=Path(data["root"]) if "root" in data else default.root,
        tokens=Path(data["tokens"]) if "tokens" in data else default.tokens,
        pipeline=check_pipeline(str(data.get("pipeline", DEFAULT_PIPELINE))),
        policy=policy,
        apps=apps,
        max_source_bytes=size,
        lock_wait=float(wait),
    )


def read_config(path: Path) -> ReceiverConfig:
    """The configuration in a YAML or JSON file.

    Raises:
        UsageError: the file cannot be read or is not a receiver configuration.
    """
    try:
        text = path.read_text()
    except OSError as error:
        raise UsageError(f"Cannot read `{path}`: {error.strerror}.") from None
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError as error:
            raise UsageError(f"{path}: not JSON: {error}.") from None
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise UsageError(f"{path}: not YAML: {str(error).splitlines()[0]}.") from None
    return config_from_data(data or {}, place=str(path))


def overridden(
    config: ReceiverConfig,
    *,
    root: Path | None = None,
    tokens: Path | None = None,
    pipeline: str | None = None,
) -> ReceiverConfig:
    """`config` with what the command line gives instead."""
    return dataclasses.replace(
        config,
        root=root if root is not None else config.root,
        tokens=tokens if tokens is not None else config.tokens,
        pipeline=check_pipeline(pipeline) if pipeline is not None else config.pipeline,
    )
