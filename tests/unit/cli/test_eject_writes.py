"""`paas eject` writes only inside `--out`, with safe names, all files or none, Secrets 0600."""

from __future__ import annotations

import os
import stat
from functools import partial
from pathlib import Path

import pytest
import yaml
from unit_helpers import NO_CLUSTER, run_paas

from paas.errors import UsageError
from paas.render.output import OutFile, eject_files, file_name
from paas.scaffold import write_tree

IMAGE = "localhost:5000/p@sha256:" + "a" * 64
FILES = [
    "01-namespace-p.yaml",
    "02-serviceaccount-p.yaml",
    "03-secret-p-config-v1.yaml",
    "04-deployment-p-web.yaml",
    "05-service-p-web.yaml",
    "06-ingress-p.yaml",
    "kustomization.yaml",
]
WROTE = "Wrote 7 files to `{out}`; deploy with `kubectl apply -k {out}`.\n"
FAILED = (
    "error: cannot write `{out}`: File too large\n"
    "hint: Nothing was written; check its permissions and free space, or choose another "
    "`--out`.\n"
)


paas = partial(run_paas, columns=200)


def tree(root: Path) -> dict[str, bytes | str]:
    """Every entry under `root`: file contents, `dir` or `link -> target`."""
    found: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        name = str(path.relative_to(root))
        if path.is_symlink():
            found[name] = f"link -> {os.readlink(path)}"
        elif path.is_dir():
            found[name] = "dir"
        else:
            found[name] = path.read_bytes()
    return found


@pytest.fixture
def app(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    app.mkdir()
    (app / "paas.yaml").write_text("name: p\nprocesses: {web: {command: ./run}}\n")
    return app


@pytest.mark.parametrize(
    ("kind", "name", "expected"),
    [
        ("Deployment", "hello-web", "04-deployment-hello-web.yaml"),
        ("Deployment", "../../x", "04-deployment-x.yaml"),
        ("a/b", "/etc/passwd", "04-a-b-etc-passwd.yaml"),
        ("..", "..", "04-unnamed-unnamed.yaml"),
        ("Secret", ".hidden", "04-secret-hidden.yaml"),
        ("Ingress", "www.example.com", "04-ingress-www.example.com.yaml"),
        ("ConfigMap", "a\\b\x00c\nd", "04-configmap-a-b-c-d.yaml"),
        ("Service", "x" * 200, f"04-service-{'x' * 60}.yaml"),
        ("Service", "..." + "y" * 58 + "...", f"04-service-{'y' * 58}.yaml"),
        ("Café", "日本", "04-caf-unnamed.yaml"),
        (None, None, "04-unnamed-unnamed.yaml"),
    ],
)
def test_file_names_keep_only_safe_characters(
    kind: str | None, name: str | None, expected: str
) -> None:
    assert file_name(4, {"kind": kind, "metadata": {"name": name}}) == expected


def test_a_crafted_name_and_kind_write_only_inside_out(app: Path, tmp_path: Path) -> None:
    (app / "paas.yaml").write_text(
        "name: p\nprocesses: {web: {command: ./run}}\nkubernetes:\n  patches:\n"
        "    - target: {kind: Deployment}\n"
        "      merge: {metadata: {name: ../../../../x}}\n"
        "    - target: {kind: Service}\n"
        "      merge: {metadata: {name: .hidden/..}}\n"
    )
    before = tree(tmp_path)
    out = tmp_path / "work" / "out"
    result = paas("eject", app, "--out", out, "--image", IMAGE)
    assert result.returncode == 0, result.stderr
    assert result.stderr == NO_CLUSTER + WROTE.format(out=out)
    after = tree(tmp_path)
    added = sorted(set(after) - set(before))
    names = [
        "01-namespace-p.yaml",
        "02-serviceaccount-p.yaml",
        "03-secret-p-config-v1.yaml",
        "04-deployment-x.yaml",
        "05-service-hidden.yaml",
        "06-ingress-p.yaml",
        "kustomization.yaml",
    ]
    assert added == ["work", "work/out", *(f"work/out/{n}" for n in names)]
    kustomization = yaml.safe_load((out / "kustomization.yaml").read_text())
    assert kustomization["resources"] == names[:-1]


def test_a_crafted_kind_is_refused_and_nothing_is_written(app: Path, tmp_path: Path) -> None:
    (app / "paas.yaml").write_text(
        "name: p\nprocesses: {web: {command: ./run}}\nkubernetes:\n  patches:\n"
        "    - target: {kind: Deployment}\n"
        "      merge: {kind: ../../../a/b}\n"
    )
    before = tree(tmp_path)
    result = paas("eject", app, "--out", tmp_path / "out", "--image", IMAGE)
    assert result.returncode == 5, result.stderr
    assert "error: paas.yaml:5: kubernetes.patches[0]: this patch is refused: it makes " in (
        result.stderr
    )
    assert tree(tmp_path) == before


def test_secret_files_are_0600_and_the_new_directory_0700(app: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = paas("eject", app, "--out", out, "--image", IMAGE)
    assert result.returncode == 0, result.stderr
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()}
    assert modes.pop("03-secret-p-config-v1.yaml") == 0o600
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert all(mode & 0o600 == 0o600 for mode in modes.values())
    assert sorted([*modes, "03-secret-p-config-v1.yaml"]) == FILES


def test_a_secret_that_a_patch_renamed_the_kind_of_is_still_0600(tmp_path: Path) -> None:
    objects = [{"kind": "ConfigMap", "metadata": {"name": "p"}, "stringData": {"K": "v"}}]
    files = eject_files(objects)
    assert files[0] == OutFile("01-configmap-p.yaml", files[0].text, secret=True)
    write_tree(files, tmp_path / "out")
    assert stat.S_IMODE((tmp_path / "out" / "01-configmap-p.yaml").stat().st_mode) == 0o600


def test_a_directory_without_secrets_follows_the_umask(tmp_path: Path) -> None:
    mask = os.umask(0o022)
    try:
        write_tree([OutFile("01-service-p.yaml", "kind: Service\n")], tmp_path / "out")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "out" / "01-service-p.yaml").stat().st_mode) == 0o644


def test_a_failing_eject_into_a_new_directory_leaves_nothing(app: Path, tmp_path: Path) -> None:
    before = tree(tmp_path)
    out = tmp_path / "new" / "deeper" / "out"
    # The first files are smaller than 1000 bytes; the Deployment is not.
    result = paas("eject", app, "--out", out, "--image", IMAGE, file_size_limit=1000)
    assert result.returncode == 2
    assert result.stderr == NO_CLUSTER + FAILED.format(out=out)
    assert tree(tmp_path) == before


def test_a_failing_eject_with_force_leaves_the_old_files_as_they_were(
    app: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "01-namespace-p.yaml").write_text("old namespace\n")
    (out / "README.md").write_text("mine\n")
    before = tree(tmp_path)
    result = paas("eject", app, "--out", out, "--force", "--image", IMAGE, file_size_limit=1000)
    assert result.returncode == 2
    assert result.stderr == NO_CLUSTER + FAILED.format(out=out)
    assert tree(tmp_path) == before
    again = paas("eject", app, "--out", out, "--force", "--image", IMAGE)
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted([*FILES, "README.md"])
    assert (out / "README.md").read_text() == "mine\n"
    assert (out / "01-namespace-p.yaml").read_text().startswith("apiVersion: v1\n")


def test_a_failed_rename_puts_the_old_files_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.yaml").write_text("old a\n")
    (out / "b.yaml").write_text("old b\n")
    before = tree(tmp_path)
    real_replace = os.replace
    calls = []

    def failing_replace(src: str | Path, dst: str | Path) -> None:
        calls.append(dst)
        if len(calls) == 4:  # a.yaml moved aside and replaced, b.yaml moved aside: then a failure
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    files = [OutFile("a.yaml", "new a\n"), OutFile("b.yaml", "new b\n"), OutFile("c.yaml", "c\n")]
    with pytest.raises(UsageError) as raised:
        write_tree(files, out, force=True)
    assert raised.value.message == f"cannot write `{out}`: No space left on device"
    assert tree(tmp_path) == before


def test_force_refuses_a_directory_in_the_way_and_writes_nothing(app: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "kustomization.yaml").mkdir(parents=True)
    before = tree(tmp_path)
    result = paas("eject", app, "--out", out, "--force", "--image", IMAGE)
    assert result.returncode == 2
    assert result.stderr == NO_CLUSTER + (
        f"error: `{out / 'kustomization.yaml'}` is not a regular file\n"
        "hint: Move it away, then run the command again.\n"
    )
    assert tree(tmp_path) == before


def test_force_replaces_a_link_in_out_and_never_writes_through_it(
    app: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("keep me\n")
    (out / "kustomization.yaml").symlink_to(victim)
    result = paas("eject", app, "--out", out, "--force", "--image", IMAGE)
    assert result.returncode == 0, result.stderr
    assert victim.read_text() == "keep me\n"
    assert not (out / "kustomization.yaml").is_symlink()
    assert "kind: Kustomization" in (out / "kustomization.yaml").read_text()
