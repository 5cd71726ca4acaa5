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
from typing import TYPE_CHECKING

from paas.errors import UsageError
from paas.receiver.config import check_pipeline

if TYPE_CHECKING:
    from paas.operations import Session
    from paas.project import Project

Report = Callable[[str], None]


@dataclass(frozen=True)
class PushedSource:
    """A pushed commit, exported.

    Attributes:
        app: The app pushed to (from the URL; it wins over paas.yaml's `name`).
        directory: The commit's files, in a private temporary directory.
        commit: The full commit id.
        branch: The branch pushed: the deploy branch, or a review app's.
        pusher: The id of the token that pushed.
        review: A push of another branch than the deploy branch: its review app.
        delete: The review branch was deleted: its review app goes (nothing exported).
    """

    app: str
    directory: Path
    commit: str
    branch: str
    pusher: str
    review: bool = False
    delete: bool = False


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
    service account). Every step reports through `report`. A push of another
    branch is its review app's (`paas.receiver.review`).
    """
    if source.review:
        from paas.receiver.review import review_pipeline

        review_pipeline(source, report)
        return
    import dataclasses

    from paas.project import Project

    session = connect(source, report)
    project = Project.read(source.directory, name=source.app)
    project = dataclasses.replace(project, commit=source.commit)  # the export has no .git
    image = build(project, session, report)
    outcome = session.deploy(project.name, project.deploy(image))
    if outcome.unchanged:
        report(f"Nothing changed: {outcome.record.name} is current. {outcome.url}")
    else:
        report(f"Deployed {outcome.record.name}: {outcome.record.description}. {outcome.url}")


def connect(source: PushedSource, report: Report) -> Session:
    """A session on the receiver's cluster whose events become `remote:` lines."""
    from paas.deploy import Events
    from paas.kube.api import Kube
    from paas.kube.store import read_cluster_settings
    from paas.operations import Session

    kube = Kube(None)
    events = Events(
        info=report,
        warning=lambda text: report(f"warning: {text}"),
        release_line=lambda line: report(f"  release | {line}"),
        progress=lambda process, ready, want: report(f"  {process}: {ready}/{want} ready"),
    )
    return Session(
        kube, read_cluster_settings(kube), lambda: f"git push (token {source.pusher})", events
    )


def build(project: Project, session: Session, report: Report) -> str:
    """Build the pushed app in the cluster unless its image is published; return it by digest."""
    from paas.build import build_unless_published
    from paas.render import check_policy

    check_policy(project.spec, session.settings)
    return build_unless_published(
        project,
        session.settings,
        strategy="cluster",
        kube=session.kube,
        on_info=report,
        on_line=report,
    )
