"""Build benchmarks: cold build, code-only rebuild, no-change rebuild, per starter and strategy.

Usage (the testbed up, `eval "$(hack/testbed env)"` done, the builder created):
    python bench/builds.py [--strategy local --strategy cluster] [--app python-flask ...]

Each run copies the app under a fresh name, so the first build is cold (no
cache, no previous image); then it adds a line to one code file and builds
again, then builds once more with nothing changed. It prints one line
per build with the time `paas build` took and whether any dependency was
installed again. Apps are named bench-*; their namespaces are deleted after.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
APPS = {
    # app: (its directory, the code file changed, what the log says when dependencies install)
    "python-flask": (REPO / "templates", "app.py", "Installing collected packages"),
    "node-express": (REPO / "templates", "index.js", "added "),
    # Heroku's Python getting-started app (Django, psycopg compiled): a heavier cold build.
    "python-getting-started": (
        REPO / "tests" / "fixtures" / "apps",
        "hello/views.py",
        "Installing collected packages",
    ),
}
FIXTURES = REPO / "tests" / "fixtures" / "apps"
APPS.update(
    {
        # Spring Boot with the Maven wrapper: Maven and every dependency from Maven Central.
        "java-getting-started": (
            FIXTURES,
            "src/main/java/com/heroku/java/GreetingController.java",
            "Downloaded from",
        ),
        # Rack + puma from vendor/cache: native extensions compiled once.
        "ruby-rack": (FIXTURES, "config.ru", "Installing puma"),
        # vendor/ committed: Composer only checks it.
        "php-composer": (FIXTURES, "public/index.php", "Installing "),
        "node-yarn1": (FIXTURES, "server.js", "Resolving packages"),
        "python-django-psycopg2": (FIXTURES, "shop/urls.py", "Installing collected packages"),
    }
)
DEFAULT_APPS = ["node-express", "python-flask"]


def build(path: Path, strategy: str, settings: Path) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "paas",
            "build",
            str(path),
            "--app",
            path.name,
            "--strategy",
            strategy,
            "--settings",
            str(settings),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"paas build {path.name} failed:\n{result.stderr[-4000:]}")
    return elapsed, result.stderr


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--strategy", action="append", choices=["local", "cluster"])
    parser.add_argument("--app", action="append", choices=sorted(APPS))
    parser.add_argument(
        "--registry", default=os.environ.get("PAAS_REGISTRY", "registry.paas.test:5000")
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="paas-bench-") as tmp:
        settings = Path(tmp) / "settings.yaml"
        settings.write_text(f"registry: {args.registry}\ninsecure_registry: true\n")
        namespaces = []
        for strategy in args.strategy or ["local", "cluster"]:
            for starter in args.app or DEFAULT_APPS:
                where, code_file, reinstall = APPS[starter]
                name = f"bench-{uuid.uuid4().hex[:6]}"
                path = Path(tmp) / name
                shutil.copytree(where / starter, path)
                namespaces.append(name)
                cold, cold_log = build(path, strategy, settings)
                source = path / code_file
                comment = "#" if source.suffix == ".py" else "//"
                source.write_text(f"{source.read_text()}\n{comment} changed by bench/builds.py\n")
                code, code_log = build(path, strategy, settings)
                same, same_log = build(path, strategy, settings)
                for label, seconds, log in (
                    ("cold", cold, cold_log),
                    ("code-only", code, code_log),
                    ("no-change", same, same_log),
                ):
                    deps = "installed" if reinstall in log else "reused"
                    print(
                        f"{strategy:<8} {starter:<23} {label:<10} {seconds:6.1f} s"
                        f"   {seconds / cold:4.0%} of cold   dependencies {deps}",
                        flush=True,
                    )
        subprocess.run(
            ["kubectl", "delete", "namespace", "--wait=false", "--ignore-not-found", *namespaces],
            capture_output=True,
            check=False,
        )


if __name__ == "__main__":
    main()
