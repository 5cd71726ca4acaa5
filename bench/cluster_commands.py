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

It prints the medians and their ratios, then deletes what it made.
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

REPO = Path(__file__).resolve().parents[1]
MANAGED = "app.kubernetes.io/managed-by=paas"
APPLY = ["apply", "--server-side", "--field-manager", "bench", "--force-conflicts"]
APPLY = ["apply", "--server-side", "--field-manager", "bench", "--force-conflicts"]


def run(*args: str, stdin: str | None = None) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        list(args), input=stdin, capture_output=True, text=True, check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(args[:5])} failed:\n{result.stdout}\n{result.stderr}")
    return elapsed, result.stdout


def paas(*args: str) -> tuple[float, str]:
    return run(sys.executable, "-m", "paas", *args)


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


def side_by_side(runs: int, ours: list[str], theirs: list[str], stdin: str | None = None) -> str:
    """Alternate the two commands `runs` times; a row of their medians and ratio."""
    a, b = [], []
    for _ in range(runs):
        a.append(paas(*ours)[0])
        b.append(kubectl(*theirs, stdin=stdin)[0])
    pa, kb = statistics.median(a), statistics.median(b)
    label = "paas " + " ".join(w for w in ours if not w.startswith(("/", "registry")))
    return f"| `{label}` | {pa:.2f} s | {kb:.2f} s | {pa / kb:.2f} |"


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
            _, listed = kubectl("get", "namespaces", "-l", MANAGED, "-o", "name")
            print(f"{len(listed.split())} apps on the cluster, median of {args.runs} runs\n")
            print("| command | paas | kubectl | ratio |\n|---|---:|---:|---:|")
            ns, selector = app, f"paas.dev/app={app}"
            releases = ["get", "secrets", "-n", ns, "-l", "paas.dev/kind=release"]
            rows = [
                side_by_side(
                    args.runs, ["apps"], ["get", "namespaces", "-l", f"{MANAGED},paas.dev/app"]
                ),
                side_by_side(
                    args.runs,
                    ["ps", "--app", app],
                    ["get", "deploy,pods", "-n", ns, "-l", selector],
                ),
                side_by_side(args.runs, ["releases", "--app", app], releases),
                side_by_side(args.runs, ["config", "--app", app], releases),
                side_by_side(
                    args.runs,
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
