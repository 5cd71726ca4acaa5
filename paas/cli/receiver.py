"""`paas receiver`: the git push server and its tokens."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from paas.cli.common import ContextOption
from paas.cli.options import JsonOption

if TYPE_CHECKING:
    from paas.receiver.auth import Token
    from paas.receiver.config import ReceiverConfig
    from paas.receiver.store import TokenStore

group = typer.Typer(
    help="The git push receiver: `git push paas main` deploys. See docs/receiver.md.",
    no_args_is_help=True,
)
token_group = typer.Typer(
    help="Tokens for `git push`: scoped to apps, with an expiry. Kept as Secrets in "
    "`paas-system`, or in a file with `--tokens`.",
    no_args_is_help=True,
)
group.add_typer(token_group, name="token")

RootOption = Annotated[
    Path | None,
    typer.Option(
        "--root",
        help="Directory of the apps' bare repositories. Default: "
        "$XDG_DATA_HOME/paas/receiver/repos.",
        envvar="PAAS_RECEIVER_ROOT",
        show_default=False,
    ),
]
TokensOption = Annotated[
    Path | None,
    typer.Option(
        "--tokens",
        help="Keep the tokens in this file instead of the cluster (a receiver outside it).",
        envvar="PAAS_RECEIVER_TOKENS",
        show_default=False,
        dir_okay=False,
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Receiver configuration (YAML or JSON): pipeline, deploy branches, app policies.",
        envvar="PAAS_RECEIVER_CONFIG",
        show_default=False,
        exists=True,
        dir_okay=False,
    ),
]


def _config(
    config: Path | None, root: Path | None, tokens: Path | None, pipeline: str | None
) -> ReceiverConfig:
    from paas.receiver.config import ReceiverConfig, overridden, read_config

    return overridden(
        read_config(config) if config else ReceiverConfig(),
        root=root,
        tokens=tokens,
        pipeline=pipeline,
    )


def _store(tokens: Path | None, context: str | None = None) -> TokenStore:
    """The file store of `tokens`, else the cluster's Secrets."""
    if tokens is not None:
        from paas.receiver.store import FileTokenStore

        return FileTokenStore(tokens)
    from paas.kube.api import Kube
    from paas.receiver.cluster_store import KubeTokenStore

    return KubeTokenStore(Kube(context))


@group.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", help="Port to listen on (0: any free one).", min=0, max=65535)
    ] = 8022,
    root: RootOption = None,
    tokens: TokensOption = None,
    config: ConfigOption = None,
    pipeline: Annotated[
        str | None,
        typer.Option(
            "--pipeline",
            help="`module:function` a push runs. Default: paas's own push pipeline, building "
            "in the cluster.",
            envvar="PAAS_RECEIVER_PIPELINE",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve git push over HTTP in the foreground, until Ctrl-C.

    Each app gets a bare repository on its first push. A push to the deploy
    branch (`main` or `master`) runs the pipeline and streams its output as
    `remote:` lines; a failure refuses the push. Put it behind TLS: the token
    travels as the HTTP Basic password.

    \b
    Example:
      paas receiver token create --app hello
      paas receiver serve --port 8022
      git push http://localhost:8022/hello.git main
    """
    from paas.console import get_console
    from paas.receiver.server import serve as run_server

    console = get_console()
    settings = _config(config, root, tokens, pipeline)
    where = f"`{settings.tokens}`" if settings.tokens else "the cluster (paas-system)"
    console.info(f"Repositories in `{settings.root}`, tokens in {where}.")
    run_server(
        settings,
        _store(settings.tokens),
        host=host,
        port=port,
        on_ready=lambda url: console.info(f"Listening on {url}"),
    )


@token_group.command("create")
def token_create(
    app: Annotated[
        list[str], typer.Option("--app", "-a", help="An app the token may push to (repeatable).")
    ],
    ttl: Annotated[
        str, typer.Option("--ttl", help="How long it lasts: like 30d, 12h, 90m (at most 366d).")
    ] = "30d",
    note: Annotated[str, typer.Option("--note", help="What the token is for.")] = "",
    tokens: TokensOption = None,
    context: ContextOption = None,
    json_output: JsonOption = False,
) -> None:
    """Make a token and print it once; only its hash is kept.

    \b
    Example:
      paas receiver token create --app hello --ttl 30d --note "jane's laptop"
    """
    from paas.arguments import check_app
    from paas.console import get_console
    from paas.receiver.store import create_token

    console = get_console()
    for name in app:
        check_app(name)
    token, record = create_token(_store(tokens, context), app, ttl, note=note)
    if json_output:
        console.data({"token": token, **_summary(record)})
        return
    console.info(
        f"Token `{record.id}` for {', '.join(f'`{a}`' for a in record.apps)}, "
        f"expires {_when(record.expires)}. It is shown only now:"
    )
    console.line(token)


def _when(stamp: float) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(stamp))


def _summary(record: Token) -> dict[str, object]:
    import time

    return {
        "id": record.id,
        "apps": list(record.apps),
        "state": record.state(time.time()),
        "created": _when(record.created),
        "expires": _when(record.expires),
        "note": record.note,
    }


@token_group.command("list")
def token_list(
    tokens: TokensOption = None, context: ContextOption = None, json_output: JsonOption = False
) -> None:
    """List the tokens: id, apps, state and expiry (never the tokens).

    \b
    Example:
      paas receiver token list
    """
    import time

    from paas.console import get_console

    console = get_console()
    records = _store(tokens, context).tokens()
    if json_output:
        console.data([_summary(r) for r in records])
        return
    now = time.time()
    console.table(
        ["ID", "APPS", "STATE", "EXPIRES", "NOTE"],
        [[r.id, ", ".join(r.apps), r.state(now), _when(r.expires), r.note] for r in records],
    )


@token_group.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(metavar="ID", help="The token's id (`token list`).")],
    tokens: TokensOption = None,
    context: ContextOption = None,
) -> None:
    """Revoke a token: the next request with it is refused (401).

    \b
    Example:
      paas receiver token revoke 3fa2c1d4e5f6
    """
    import time

    from paas.console import get_console

    record = _store(tokens, context).revoke(token_id, time.time())
    get_console().success(f"Revoked token `{record.id}` ({', '.join(record.apps)}).")


git_group = typer.Typer(help="git integration: the `paas` remote.", no_args_is_help=True)


@git_group.command("remote")
def git_remote(
    app: Annotated[
        str | None,
        typer.Option(
            "--app",
            "-a",
            help="App name. Default: paas.yaml's `name`, else the directory name.",
            show_default=False,
        ),
    ] = None,
    url: Annotated[
        str,
        typer.Option(
            "--url",
            help="The receiver's URL, like https://git.example.com.",
            envvar="PAAS_GIT_URL",
        ),
    ] = "http://localhost:8022",
    remote: Annotated[str, typer.Option("--remote", help="Name of the git remote.")] = "paas",
    token_stdin: Annotated[
        bool,
        typer.Option(
            "--token-stdin",
            help="Read a token from stdin and store it with git's credential helper "
            "(never in the URL).",
        ),
    ] = False,
) -> None:
    """Add the `paas` git remote to this repository, so `git push paas main` deploys.

    \b
    Example:
      paas git remote --app hello --url https://git.example.com
      paas receiver token create --app hello | paas git remote --app hello --token-stdin
    """
    import sys

    from paas.cli.common import app_name
    from paas.console import get_console
    from paas.receiver.remote import add_remote

    console = get_console()
    name = app_name(app)
    token = sys.stdin.readline().strip() if token_stdin else None
    done = add_remote(Path("."), name, url, name=remote, token=token)
    console.success(f"{'Pointed' if done.replaced else 'Added'} remote `{done.name}` at {done.url}")
    if token is not None and not done.token_stored:
        console.warn(
            "git has no credential helper, so the token was not stored: set one "
            "(`git config --global credential.helper store`, or your system's) and run this again."
        )
    console.info(f"Deploy with: git push {done.name} main")


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    import paas.cli.receiver_cluster  # noqa: F401 (adds install, status, uninstall to the group)

    app.add_typer(group, name="receiver")
    app.add_typer(git_group, name="git")
