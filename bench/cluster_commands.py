"""Day-to-day cluster commands beside the `kubectl get` that reads the same objects.

Usage (the testbed up, `eval "$(hack/testbed env)"` done, `paas cluster init` run):
    python bench/cluster_commands.py [IMAGE] [--apps 200] [--runs 7]

IMAGE is an image of the dockerfile starter the cluster can pull (default: the one
the e2e suite pushes, `$PAAS_REGISTRY/e2e/dockerfile:v1`). The script makes app
namespaces labelled as paas labels them until the cluster holds `--apps` apps (one
`kubectl apply`), deploys two apps with `paas push --image`, then times, side by
side in one run (median of `--runs`):

- `paas apps` beside `kubectl get namespaces` with the same label selector;
- `paas ps --app A` beside `kubectl get deployments,pods` of the app;
- `paas releases --app A` and `paas config --app A` beside `kubectl get secrets`
  of the app's release records;
- `paas push --image` with nothing changed beside one `kubectl apply --server-side`
  of the same objects (rendered by `paas render` before the clock starts, applied
  to the second app).

Each paas command runs twice a round: through paas's own transport, and through
the official kubernetes client (a copy of the kubeconfig with a key only paas
notices makes it fall back), which is how paas talked to the cluster before.
It prints the medians and their ratios to kubectl, then deletes what it made.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
MANAGED = "app.kubernetes.io/managed-by=paas"
APPLY = ["apply", "--server-side", "--field-manager", "bench", "--force-conflicts"]
APPLY = ["apply", "--server-side", "--field-manager", "bench", "--force-conflicts"]


def run(*args: str, stdin: str | None = None, kubeconfig: str = "") -> tuple[float, str]:
    env = {**os.environ, "NO_COLOR": "1"}
    if kubeconfig:
        env["KUBECONFIG"] = kubeconfig
    started = time.perf_counter()
    result = subprocess.run(
        list(args), input=stdin, capture_output=True, text=True, check=False, env=env
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(args[:5])} failed:\n{result.stdout}\n{result.stderr}")
    return elapsed, result.stdout


def paas(*args: str, kubeconfig: str = "") -> tuple[float, str]:
    return run(sys.executable, "-m", "paas", *args, kubeconfig=kubeconfig)


def kubectl(*args: str, stdin: str | None = None) -> tuple[float, str]:
    return run("kubectl", *args, stdin=stdin)


def namespaces(names: list[str], tag: str) -> str:
    """The Namespaces of `names` as paas labels an app's namespace, as one List."""
    items = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": name,
                "labels": {
                    "app.kubernetes.io/managed-by": "paas",
                    "paas.dev/app": name,
                    "paas.dev/bench": tag,
                },
            },
        }
        for name in names
    ]
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items})


def rendered(source: Path, app: str, image: str) -> str:
    _, out = paas("render", str(source), "--next", "--app", app, "--image", image, "--json")
    listed = json.loads(out)
    listed["items"] = [o for o in listed["items"] if o["kind"] != "Job"]
    return json.dumps(listed)


def official_client_kubeconfig(where: Path) -> str:
    """A copy of the kubeconfig with a user key paas does not read, so it uses the official client.

    The official client and kubectl ignore the key; paas hands such a kubeconfig
    to the official client, which is how every request went before the transport.
    """
    source = Path(os.environ.get("KUBECONFIG", "~/.kube/config").split(os.pathsep)[0])
    document = yaml.safe_load(source.expanduser().read_text())
    base = source.expanduser().resolve().parent
    for entry in document.get("clusters") or []:
        ca = entry["cluster"].get("certificate-authority")
        if ca:
            entry["cluster"]["certificate-authority"] = str(base / ca)
    for entry in document.get("users") or []:
        entry["user"]["paas-bench-official-client"] = True
    copy = where / "official-client.kubeconfig"
    copy.write_text(yaml.safe_dump(document))
    copy.chmod(0o600)
    return str(copy)


def side_by_side(
    runs: int, official: str, ours: list[str], theirs: list[str], stdin: str | None = None
) -> str:
    """Alternate the commands `runs` times; a row of their medians and the ratios to kubectl."""
    fast, slow, kube = [], [], []
    for _ in range(runs):
        fast.append(paas(*ours)[0])
        slow.append(paas(*ours, kubeconfig=official)[0])
        kube.append(kubectl(*theirs, stdin=stdin)[0])
    a, b, k = (statistics.median(x) for x in (fast, slow, kube))
    label = "paas " + " ".join(w for w in ours if not w.startswith(("/", "registry")))
    return f"| `{label}` | {a:.2f} s ({a / k:.1f}x) | {b:.2f} s ({b / k:.1f}x) | {k:.2f} s |"


def main() -> None:
    parser = argparse.ArgumentParser()
    registry = os.environ.get("PAAS_REGISTRY", "registry.paas.test:5000")
    parser.add_argument("image", nargs="?", default=f"{registry}/e2e/dockerfile:v1")
    parser.add_argument("--apps", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    tag = uuid.uuid4().hex[:6]
    app, other = f"bench-cc-{tag}", f"bench-cck-{tag}"
    _, listed = kubectl("get", "namespaces", "-l", MANAGED, "-o", "name")
    have = len(listed.split())
    made = [f"bench-cc-{tag}-{i:03d}" for i in range(max(0, args.apps - have - 2))]
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "app"
        shutil.copytree(REPO / "templates" / "dockerfile", source)
        try:
            if made:
                kubectl("apply", "-f", "-", stdin=namespaces(made, tag))
            paas("push", str(source), "--app", app, "--image", args.image)
            paas("push", str(source), "--app", other, "--image", args.image)
            objects = rendered(source, other, args.image)
            official = official_client_kubeconfig(Path(tmp))
            _, listed = kubectl("get", "namespaces", "-l", MANAGED, "-o", "name")
            print(f"{len(listed.split())} apps on the cluster, median of {args.runs} runs\n")
            print(
                "| command | paas (transport) | paas (official client) | kubectl |\n"
                "|---|---:|---:|---:|"
            )
            ns, selector = app, f"paas.dev/app={app}"
            releases = ["get", "secrets", "-n", ns, "-l", "paas.dev/kind=release"]
            rows = [
                side_by_side(
                    args.runs,
                    official,
                    ["apps"],
                    ["get", "namespaces", "-l", f"{MANAGED},paas.dev/app"],
                ),
                side_by_side(
                    args.runs,
                    official,
                    ["ps", "--app", app],
                    ["get", "deploy,pods", "-n", ns, "-l", selector],
                ),
                side_by_side(args.runs, official, ["releases", "--app", app], releases),
                side_by_side(args.runs, official, ["config", "--app", app], releases),
                side_by_side(
                    args.runs,
                    official,
                    ["push", str(source), "--app", app, "--image", args.image],
                    [*APPLY, "-f", "-"],
                    stdin=objects,
                ),
            ]
            print("\n".join(rows).replace(app, "A"))
        finally:
            for name in (app, other):
                subprocess.run(
                    [sys.executable, "-m", "paas", "apps", "destroy", name, "--confirm", name],
                    capture_output=True, check=False,
                )  # fmt: skip
            if made:
                subprocess.run(
                    ["kubectl", "delete", "namespaces", "-l", f"paas.dev/bench={tag}",
                     "--wait=false"],
                    capture_output=True, check=False,
                )  # fmt: skip


if __name__ == "__main__":
    main()
