"""Deploy benchmarks on a real cluster: no-op push, config set, apps and ps with 200 apps.

Usage (the testbed up, `eval "$(hack/testbed env)"` done):
    python bench/deploy.py IMAGE_REF [--apps 200]

IMAGE_REF is an image the cluster can pull (e.g. the dockerfile starter pushed to the
testbed registry). Prints one line per figure; creates apps named bench-* and
destroys them at the end.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def paas(*args: str, check: bool = True) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "paas", *args], capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if check and result.returncode != 0:
        raise SystemExit(f"paas {' '.join(args)} failed:\n{result.stderr}")
    return elapsed


def timed(label: str, runs: int, *args: str) -> None:
    times = [paas(*args) for _ in range(runs)]
    print(
        f"{label:<34} median {statistics.median(times):6.2f} s   "
        f"min {min(times):6.2f} s   max {max(times):6.2f} s   ({runs} runs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("image")
    parser.add_argument("--apps", type=int, default=200)
    args = parser.parse_args()
    app = "bench-main"
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "app"
        shutil.copytree(REPO / "templates" / "dockerfile", source)
        paas("push", str(source), "--app", app, "--image", args.image)
        timed("push, nothing changed", 5, "push", str(source), "--app", app, "--image", args.image)
    values = iter(range(1000))
    times = [paas("config", "set", f"BENCH={next(values)}", "--app", app) for _ in range(3)]
    print(
        f"{'config set -> all pods on the release':<34} median {statistics.median(times):6.2f} s"
        f"   min {min(times):6.2f} s   max {max(times):6.2f} s   (3 runs)"
    )
    names = [f"bench-{i:03d}" for i in range(args.apps - 1)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: paas("apps", "create", n, check=False), names))
    timed(f"apps ({args.apps} apps)", 5, "apps")
    timed(f"ps ({args.apps} apps on the cluster)", 5, "ps", "--app", app)
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                lambda n: paas("apps", "destroy", n, "--confirm", n, check=False), [*names, app]
            )
        )


if __name__ == "__main__":
    main()
