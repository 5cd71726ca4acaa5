"""`paas push --image` beside `kubectl apply --server-side` + `rollout status` of the same objects.

Usage (the testbed up, `eval "$(hack/testbed env)"` done, `paas cluster init` run):
    python bench/push_image.py IMAGE_A IMAGE_B [--runs 5]

IMAGE_A and IMAGE_B are two images of the dockerfile starter the cluster can pull
(the e2e suite pushes `REGISTRY/e2e/dockerfile:v1` and `:v2`). Two apps are made:
one deployed by paas, one by kubectl with the objects `paas render` gives for it
(rendered before the clock starts). Side by side in one run, it times:

- nothing changed: `paas push --image` of the digest already deployed, beside one
  server-side apply of the unchanged objects and a rollout status;
- a new digest: `paas push --image` alternating A and B, until every pod of the new
  release is ready, beside the apply of the objects with the other image and a
  rollout status until the new pods are ready.

It prints the medians and their ratio, then destroys both apps.
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


def run(*args: str, stdin: str | None = None) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        list(args), input=stdin, capture_output=True, text=True, check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(args[:4])} failed:\n{result.stdout}\n{result.stderr}")
    return elapsed, result.stdout


def paas(*args: str) -> tuple[float, str]:
    return run(sys.executable, "-m", "paas", *args)


def kubectl_deploy(objects: str, namespace: str, deployment: str) -> float:
    applied, _ = run(
        "kubectl", "apply", "--server-side", "--field-manager", "bench", "--force-conflicts",
        "-f", "-", stdin=objects,
    )  # fmt: skip
    waited, _ = run(
        "kubectl", "rollout", "status", f"deployment/{deployment}", "-n", namespace,
        "--timeout", "300s",
    )  # fmt: skip
    return applied + waited


def rendered(source: Path, app: str, image: str) -> str:
    _, out = paas("render", str(source), "--next", "--app", app, "--image", image, "--json")
    listed = json.loads(out)
    listed["items"] = [o for o in listed["items"] if o["kind"] != "Job"]
    return json.dumps(listed)


def row(label: str, ours: list[float], theirs: list[float]) -> None:
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"{label:<28} paas {a:6.2f} s   kubectl {b:6.2f} s   ratio {a / b:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("image_a")
    parser.add_argument("image_b")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    tag = uuid.uuid4().hex[:6]
    ours, theirs = f"bench-paas-{tag}", f"bench-kube-{tag}"
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "app"
        shutil.copytree(REPO / "templates" / "dockerfile", source)
        try:
            paas("push", str(source), "--app", ours, "--image", args.image_a)
            paas("push", str(source), "--app", theirs, "--image", args.image_a)
            objects = {img: rendered(source, theirs, img) for img in (args.image_a, args.image_b)}
            namespace, deployment = theirs, f"{theirs}-web"
            same_paas, same_kube, new_paas, new_kube = [], [], [], []
            for _ in range(args.runs):
                same_paas.append(
                    paas("push", str(source), "--app", ours, "--image", args.image_a)[0]
                )
                same_kube.append(kubectl_deploy(objects[args.image_a], namespace, deployment))
            images = [args.image_b, args.image_a] * args.runs
            for image in images[: args.runs * 2]:
                new_paas.append(paas("push", str(source), "--app", ours, "--image", image)[0])
                new_kube.append(kubectl_deploy(objects[image], namespace, deployment))
            row("nothing changed", same_paas, same_kube)
            row("a new digest, until ready", new_paas, new_kube)
        finally:
            for app in (ours, theirs):
                subprocess.run(
                    [sys.executable, "-m", "paas", "apps", "destroy", app, "--confirm", app],
                    capture_output=True, check=False,
                )  # fmt: skip


if __name__ == "__main__":
    main()
