"""The import direction of docs/architecture.md, checked on the source (pure).

cli -> project -> build, deploy, operations -> kube -> the pure core. The core
(manifest, detect, render, releases, ...) imports only the core; only
`paas.kube` imports the kubernetes client. Imports under `if TYPE_CHECKING:`
are types only and are not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PAAS = Path(__file__).resolve().parents[2] / "paas"

PURE = {
    "errors",
    "objects",
    "names",
    "yaml_places",
    "settings",
    "detect",
    "manifest",
    "releases",
    "render",
    "diagnosis",
    "arguments",
    "rights",
    "schemas",
    "addons",
}
# What each part may import, beside itself and the pure core.
ALLOWED: dict[str, set[str]] = {
    **{name: set() for name in PURE},
    "registry": set(),
    "registry_copy": {"registry"},
    "results": set(),
    "app_list": set(),
    "console": set(),
    "kube": set(),
    # build/output.py shows a build as a step of the console (spinner, CI log group).
    "build": {"kube", "registry", "console"},
    "deploy": {"kube"},
    "operations": {"kube", "deploy"},
    # Add-on commands set their URL through the config path of `operations`.
    "addon_ops": {"kube", "deploy", "operations"},
    "doctor": {"kube", "build", "registry"},
    "scaffold": set(),
    "project": {"kube", "build", "deploy", "registry"},
    # A promotion is a change of one app made from another's release.
    "promote": {"deploy", "operations", "registry_copy"},
    # The git receiver runs the one pipeline of `paas push` (project, build, operations).
    "receiver": {"console", "project", "build", "deploy", "operations", "kube", "registry"},
    # A plan is what deploy's decision and a dry run say of a change.
    "plan": {"kube", "deploy"},
    # The MCP server's tools run the same operations and pipeline as the CLI.
    "mcp": {
        "plan",
        "operations",
        "app_list",
        "deploy",
        "kube",
        "project",
        "build",
        "registry",
        "results",
    },
    "cli": {"*"},
    "__main__": {"cli"},
}


def part_of(module: str) -> str:
    """`paas.kube.store` -> `kube`; `paas` itself -> `` (the package's version)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def imports(path: Path) -> list[str]:
    """Every `paas...` module imported by `path`, at run time (not under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text())
    types_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in types_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return found


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PAAS.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = sorted(PAAS.rglob("*.py"))


def test_every_part_of_paas_has_a_place_in_the_layers() -> None:
    parts = {part_of(module_name(p)) for p in SOURCES} - {""}
    assert parts == set(ALLOWED)


@pytest.mark.parametrize("path", SOURCES, ids=module_name)
def test_imports_follow_the_layers(path: Path) -> None:
    here = part_of(module_name(path))
    allowed = ALLOWED.get(here, set())
    wrong = [
        module
        for module in imports(path)
        if module.startswith("paas")
        and part_of(module) not in {here, "", *PURE}
        and "*" not in allowed
        and part_of(module) not in allowed
    ]
    assert wrong == [], f"{module_name(path)} imports {wrong} against docs/architecture.md"


@pytest.mark.parametrize("path", SOURCES, ids=module_name)
def test_only_kube_imports_the_kubernetes_client(path: Path) -> None:
    clients = [m for m in imports(path) if m == "kubernetes" or m.startswith("kubernetes.")]
    assert not clients or part_of(module_name(path)) == "kube", clients
