"""Skipping a build whose inputs have not changed.

A push tags each image with a fingerprint of what the build sees: the files
that `.paasignore`/`.gitignore` let through (paths, modes, contents) and the
plan's builder, buildpacks, Dockerfile and build env. When the registry has
that tag already, the image is the one this source builds, and the push
deploys it without building (the "nothing changed" push takes seconds).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from paas.build.plan import BuildPlan
from paas.build.source import read_ignore_rules, source_files
from paas.detect.appdir import RefusedFileError, open_regular
from paas.errors import BuildError

FINGERPRINT_PREFIX = "src-"


def source_fingerprint(source_dir: Path, plan: BuildPlan) -> str:
    """A tag naming exactly what a build of `plan` from `source_dir` gets.

    The files are those of `source_files()` (which refuses special files and
    symlinks leading out), each opened without following a symlink or waiting
    on a FIFO.

    Raises:
        BuildError: a file of the source cannot be sent to a build.
    """
    digest = hashlib.sha256()
    inputs = {
        "strategy": plan.strategy,
        "builder": plan.builder,
        "buildpacks": list(plan.buildpacks),
        "dockerfile": plan.dockerfile,
        "env": plan.env,
    }
    digest.update(json.dumps(inputs, sort_keys=True).encode())
    for rel in source_files(source_dir, read_ignore_rules(source_dir)):
        path = source_dir / rel
        digest.update(b"\0" + rel.encode() + b"\0")
        if path.is_symlink():
            digest.update(b"link:" + os.readlink(path).encode())
            continue
        try:
            fd = open_regular(path)
        except (RefusedFileError, OSError) as exc:
            what = exc.what if isinstance(exc, RefusedFileError) else exc.strerror
            raise BuildError(
                f"`{rel}` cannot be read for the build: {what}.",
                "Remove it, or list it in `.paasignore`.",
            ) from None
        with os.fdopen(fd, "rb") as handle:
            digest.update(oct(os.fstat(fd).st_mode & 0o111).encode())
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return FINGERPRINT_PREFIX + digest.hexdigest()[:32]
