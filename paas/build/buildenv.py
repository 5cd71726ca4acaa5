"""Build-time variables: their names checked, their values kept off every command line (pure).

Every build variable (``-e``, ``build.env`` in paas.yaml, the mirrors of the
cluster settings) is checked here before anything is built or any connection
is made: a name is an environment variable name, ``[A-Za-z_][A-Za-z0-9_]*``,
so it is also a safe file name in the CNB platform directory (``-e
../../x=y`` would write outside ``/platform/env``) and a valid key of the
Secret that carries the values to a build in the cluster.

The values never go on a command line (process lists, and the API server's
audit log, which keeps pod specs and exec commands):

- ``pack build`` reads them from an env file (`env_file_text()`);
- podman, buildah and docker get ``--build-arg NAME`` and the value in their
  environment (`by_name_env()`);
- a build in the cluster reads them from a Secret of its own (`paas.build.cluster`).
"""

from __future__ import annotations

from collections.abc import Mapping

from paas.errors import BuildError, UsageError
from paas.names import ENV_NAME

#: Variables the build tools themselves run with (where they find helpers,
#: configs, credentials and the daemon): a build variable passed through a
#: tool's environment must not replace them.
TOOL_ENV = frozenset(
    {
        "PATH",
        "HOME",
        "TMPDIR",
        "DOCKER_HOST",
        "DOCKER_CONFIG",
        "DOCKER_CERT_PATH",
        "DOCKER_TLS_VERIFY",
        "REGISTRY_AUTH_FILE",
        "XDG_RUNTIME_DIR",
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "CONTAINERS_CONF",
        "CONTAINERS_REGISTRIES_CONF",
        "CONTAINERS_STORAGE_CONF",
        "PACK_HOME",
        "PACK_VOLUME_KEY",
    }
)

_NAME_HINT = (
    "A name has letters, digits and `_` and does not start with a digit, like `-e NODE_ENV=test`."
)


def is_env_name(name: str) -> bool:
    """Whether `name` is an environment variable name (``[A-Za-z_][A-Za-z0-9_]*``)."""
    return ENV_NAME.fullmatch(name) is not None


def check_build_env(env: Mapping[str, str], *, source: str = "the build env") -> None:
    """Refuse a build variable whose name is no environment variable name, or whose value has a NUL.

    Args:
        env: The variables.
        source: Where they come from, for the message (``-e``, ``build.env``).

    Raises:
        UsageError: the first bad name or value, named.
    """
    for name, value in env.items():
        if not is_env_name(name):
            raise UsageError(
                f"Build variable `{name}` (from {source}) is not an environment variable name.",
                _NAME_HINT,
            )
        if "\0" in value:
            raise UsageError(
                f"The value of build variable `{name}` (from {source}) has a NUL character, "
                "which no environment variable can hold.",
                "Remove it from the value.",
            )


def parse_env_pairs(pairs: list[str] | None, *, source: str = "`-e`") -> dict[str, str]:
    """Turn ``NAME=VALUE`` strings (``-e``) into a dict, each name checked.

    Raises:
        UsageError: an item has no ``=``, or its name is no environment variable name.
    """
    env: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(
                f"Build variable `{key}` (from {source}) has no value.",
                "Write it like `-e NODE_ENV=test` (`-e NAME=` for an empty value).",
            )
        if not key:
            raise UsageError(f"A build variable (from {source}) has no name.", _NAME_HINT)
        env[key] = value
        check_build_env({key: value}, source=source)
    return env


def fits_env_file(value: str) -> bool:
    """Whether pack's env file carries `value` unchanged.

    pack splits the file at newlines and trims white space off each line, so
    a line break, a carriage return or white space at either end would be
    lost or change the value.
    """
    return "\n" not in value and "\r" not in value and value == value.strip()


def env_file_text(env: Mapping[str, str], *, tool: str = "pack") -> tuple[str, dict[str, str]]:
    """The text of pack's ``--env-file`` for `env`, and what must reach pack by its environment.

    A value the file carries unchanged is written ``NAME=VALUE``; any other
    is written ``NAME`` alone, which pack reads from its own environment: the
    second item holds those values.

    Raises:
        BuildError: such a value's name is one `tool` itself runs with (`TOOL_ENV`).
    """
    lines: list[str] = []
    through_environment: dict[str, str] = {}
    for name, value in sorted(env.items()):
        if fits_env_file(value):
            lines.append(f"{name}={value}")
            continue
        _check_not_tool_env(name, tool, "its value has a line break or white space at an end")
        lines.append(name)
        through_environment[name] = value
    return "".join(f"{line}\n" for line in lines), through_environment


def by_name_env(
    env: Mapping[str, str], *, tool: str, reserved: frozenset[str] = TOOL_ENV
) -> dict[str, str]:
    """The environment that gives `tool` the values of build args passed as ``--build-arg NAME``.

    Raises:
        BuildError: a name is one `tool` itself runs with (`reserved`).
    """
    for name in env:
        _check_not_tool_env(
            name, tool, "it goes by name, through the tool's environment", reserved=reserved
        )
    return dict(env)


def _check_not_tool_env(
    name: str, tool: str, why: str, *, reserved: frozenset[str] = TOOL_ENV
) -> None:
    if name in reserved:
        raise BuildError(
            f"Build variable `{name}` cannot be passed to `{tool}`: {why}, "
            f"and `{tool}` itself runs with `{name}`.",
            "Rename the variable, or build with `--strategy cluster`.",
        )
