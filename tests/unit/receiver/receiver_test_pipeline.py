"""A pipeline for the receiver's tests: it reads what to do from the pushed commit.

`pipeline.json` in the pushed commit: `{"lines": 3, "delay": 0.5, "fail": "..."}`.
With PAAS_TEST_PIPELINE_LOG set, it appends `start COMMIT TIME` and `end COMMIT TIME`.
"""

from __future__ import annotations

import json
import os
import time

from paas.errors import BuildError
from paas.receiver.pipeline import PushedSource, Report


def _log(event: str, source: PushedSource) -> None:
    path = os.environ.get("PAAS_TEST_PIPELINE_LOG")
    if path:
        with open(path, "a") as out:
            out.write(f"{event} {source.commit} {time.time()}\n")


def scripted(source: PushedSource, report: Report) -> None:
    plan_file = source.directory / "pipeline.json"
    plan = json.loads(plan_file.read_text()) if plan_file.is_file() else {}
    _log("start", source)
    try:
        report(f"test pipeline: app {source.app} commit {source.commit} branch {source.branch}")
        if source.review:
            report(f"test pipeline: review app, delete {source.delete}")
        files = sorted(str(p.relative_to(source.directory)) for p in source.directory.rglob("*"))
        report(f"test pipeline: files {' '.join(files)}")
        for n in range(int(plan.get("lines", 2))):
            report(f"test pipeline: step {n + 1} at {time.time():.3f}")
            time.sleep(float(plan.get("delay", 0)))
        if plan.get("fail"):
            raise BuildError(str(plan["fail"]), "Fix the test app.")
        report("test pipeline: done")
    finally:
        _log("end", source)
