"""Code-only push benchmark: `paas push` of a one-line change until the new page is served.

Usage (the testbed up, `eval "$(hack/testbed env)"` done, the builder created,
`paas cluster init` run on the testbed):
    python bench/code_only_push.py [--app python-flask --app node-express] [--runs 3]

For each starter: one first push (not timed), then RUNS code-only pushes with
the fast path and RUNS with `--no-fast-path` (the full CNB build of the same
kind of change), each timed from the start of `paas push` until the Ingress
serves the page with the new line. Prints the median of each and their ratio.
Apps are named bench-fast-*; they are destroyed after.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
STARTERS = {
    # starter: (the code file, the text replaced, its replacement with {n})
    "python-flask": ("app.py", "from python-flask</h1>", "from python-flask {n}</h1>"),
    "node-express": ("index.js", "from node-express</h1>", "from node-express {n}</h1>"),
}


def paas(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "paas", *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        sys.exit(f"paas {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stderr


def served(app: str, needle: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            page = httpx.get("http://127.0.0.1/", headers={"Host": f"{app}.localhost"}, timeout=2)
            if needle in page.text:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    sys.exit(f"{app} did not serve {needle!r} within {timeout} s")


def one_push(source: Path, app: str, starter: str, n: int, *flags: str) -> tuple[float, bool]:
    """Change the page to show `n`, push, wait until it is served; seconds and fast or not."""
    name, old, new = STARTERS[starter]
    path = source / name
    text = path.read_text()
    marker = old.replace("</h1>", "")
    start = text.index(marker)
    end = text.index("</h1>", start)
    path.write_text(text[:start] + new.format(n=n).removesuffix("</h1>") + text[end:])
    started = time.perf_counter()
    log = paas("push", str(source), "--app", app, *flags)
    served(app, new.format(n=n))
    return time.perf_counter() - started, "Code-only change" in log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", action="append", choices=sorted(STARTERS))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for starter in args.app or list(STARTERS):
        app = f"bench-fast-{uuid.uuid4().hex[:6]}"
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / starter
            shutil.copytree(REPO / "templates" / starter, source)
            try:
                paas("push", str(source), "--app", app)
                fast, full = [], []
                n = 0
                for _ in range(args.runs):
                    n += 1
                    seconds, took = one_push(source, app, starter, n)
                    fast.append(seconds)
                    taken = "taken" if took else "NOT taken"
                    print(f"{starter}: fast path {taken}: {seconds:.2f} s")
                for _ in range(args.runs):
                    n += 1
                    seconds, _took = one_push(source, app, starter, n, "--no-fast-path")
                    full.append(seconds)
                    print(f"{starter}: full build: {seconds:.2f} s")
                a, b = statistics.median(fast), statistics.median(full)
                print(f"{starter}: median fast {a:.2f} s, full {b:.2f} s ({b / a:.1f}x)")
            finally:
                paas("apps", "destroy", app, "--confirm", app)


if __name__ == "__main__":
    main()
