"""Rendered objects as text and as an ejected directory."""

from __future__ import annotations

from pathlib import Path

import yaml

from paas.objects import Obj


class _PlainDumper(yaml.SafeDumper):
    """Writes shared values out in full: no `&id001` anchors for a reader to follow."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def to_yaml(objects: list[Obj]) -> str:
    """All objects as one multi-document YAML stream, keys in rendered order."""
    return yaml.dump_all(
        objects, Dumper=_PlainDumper, sort_keys=False, default_flow_style=False, width=100
    )


def file_name(index: int, obj: Obj) -> str:
    """`03-deployment-hello-web.yaml`: apply order first, then what it is."""
    return f"{index:02d}-{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"


def eject_files(objects: list[Obj]) -> dict[str, str]:
    """The files `paas eject` writes: one per object plus a kustomization.yaml."""
    files = {file_name(i, o): to_yaml([o]) for i, o in enumerate(objects, start=1)}
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": list(files),
    }
    files["kustomization.yaml"] = yaml.safe_dump(kustomization, sort_keys=False)
    return files


def write_tree(files: dict[str, str], out: Path, *, force: bool = False) -> list[Path]:
    """Write `files` under `out`, refusing to mix them into a directory with other files.

    Raises:
        UsageError: `out` exists and is not empty, and `force` is not set.
    """
    from paas.errors import UsageError

    if out.exists() and not out.is_dir():
        raise UsageError(f"`{out}` exists and is not a directory", "Choose another `--out`.")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise UsageError(
            f"`{out}` is not empty",
            "Choose an empty or new directory, or pass `--force` to overwrite.",
        )
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files.items():
        path = out / name
        path.write_text(text)
        written.append(path)
    return written
