"""What a push to the deploy branch runs: a pipeline, named `module:function` in the config.

A pipeline takes the pushed source, exported to a private directory, and a
`report` callable; each line it reports reaches the git client as a `remote:`
line while it runs. It fails by raising: a `PaasError` says its kind and
reason, and the push is refused. The default, `cluster_pipeline`, is the one
pipeline of `paas push`, with the build in the cluster.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from paas.errors import UsageError
from paas.receiver.config import check_pipeline

Report = Callable[[str], None]


@dataclass(frozen=True)
class PushedSource:
    """A pushed commit, exported.

    Attributes:
        app: The app pushed to (from the URL; it wins over paas.yaml's `name`).
        directory: The commit's files, in a private temporary directory.
        commit: The full commit id.
        branch: The deploy branch pushed.
        pusher: The id of the token that pushed.
    """

    app: str
    directory: Path
    commit: str
    branch: str
    pusher: str


Pipeline = Callable[[PushedSource, Report], None]


def load_pipeline(spec: str) -> Pipeline:
    """Import the pipeline `module:function`.

    Raises:
        UsageError: it cannot be imported or is not callable.
    """
    module_name, _, function = check_pipeline(spec).partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise UsageError(f"Cannot import the pipeline module `{module_name}`: {error}.") from None
    found = getattr(module, function, None)
    if not callable(found):
        raise UsageError(f"The pipeline `{spec}` is not a function.")
    pipeline: Pipeline = found
    return pipeline


def cluster_pipeline(source: PushedSource, report: Report) -> None:
    """The pipeline of `paas push`, with the build in the cluster: read, build, deploy.

    Uses the receiver's kubeconfig (its current context, or the in-cluster
    service account). Every step reports through `report`.
    """
    import dataclasses

    from paas.build import build_unless_published
    from paas.deploy import Events
    from paas.kube.api import Kube
    from paas.kube.store import read_cluster_settings
    from paas.operations import Session
    from paas.project import Project
    from paas.render import check_policy

    project = Project.read(source.directory, name=source.app)
    project = dataclasses.replace(project, commit=source.commit)  # the export has no .git
    kube = Kube(None)
    settings = read_cluster_settings(kube)
    events = Events(
        info=report,
        warning=lambda text: report(f"warning: {text}"),
        release_line=lambda line: report(f"  release | {line}"),
        progress=lambda process, ready, want: report(f"  {process}: {ready}/{want} ready"),
    )
    session = Session(kube, settings, lambda: f"git push (token {source.pusher})", events)
    check_policy(project.spec, settings)
    image = build_unless_published(
        project,
        settings,
        strategy="cluster",
        kube=kube,
        on_info=report,
        on_line=lambda line: report(f"  build | {line}"),
    )
    outcome = session.deploy(project.name, project.deploy(image))
    if outcome.unchanged:
        report(f"Nothing changed: {outcome.record.name} is current. {outcome.url}")
    else:
        report(f"Deployed {outcome.record.name}: {outcome.record.description}. {outcome.url}")
