"""The values detection returns: a `Detection` and the `Evidence` behind it.

They live in their own module so that every language detector can build them
without importing `paas.detect` itself; `paas.detect` re-exports both.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Evidence:
    """One fact about the app directory that a detection rests on.

    Attributes:
        file: Path of the file relative to the app directory, with `/`
            separators, e.g. ``requirements.txt`` or ``gettingstarted/wsgi.py``.
        rule: A short sentence a user can read, e.g. ``requirements.txt is present``.
    """

    file: str
    rule: str

    def to_dict(self) -> dict[str, str]:
        """Return ``{"file": ..., "rule": ...}``."""
        return {"file": self.file, "rule": self.rule}


@dataclass(frozen=True)
class Detection:
    """What kind of app a directory holds and how to build and start it.

    Attributes:
        language: One of ``dockerfile``, ``python``, ``node``, ``go``, ``ruby``,
            ``java``, ``php``, ``static``.
        evidence: The facts the detection rests on, the deciding file first.
        runtime_version: The requested language version exactly as the app
            wrote it (``3.12``, ``>=3.11``, ``20.x``, ``1.22``), without a
            ``python-``/``ruby-``/``go`` prefix; None when the app asks for none.
        runtime_version_source: Where `runtime_version` was read; None with it.
        package_manager: ``pip``, ``uv``, ``poetry``, ``pdm``, ``pipenv``,
            ``setuptools``, ``npm``, ``yarn``, ``pnpm``, ``go``, ``bundler``,
            ``maven``, ``gradle``, ``composer`` or None.
        framework: The web framework recognised (``django``, ``flask``,
            ``fastapi``, ``express``, ``next``, ``gin``, ``rails``,
            ``spring-boot``, ``laravel``, ...) or None.
        default_web_command: The command for the ``web`` process when the app
            declares none (no Procfile ``web:`` entry); None when there is no
            good guess, and always None for ``dockerfile`` (the image's CMD runs).
        build_choice: Why the app is built with buildpacks or its Dockerfile
            and how to choose the other, when both were possible; else None.
    """

    language: str
    evidence: tuple[Evidence, ...]
    runtime_version: str | None = None
    runtime_version_source: Evidence | None = None
    package_manager: str | None = None
    framework: str | None = None
    default_web_command: str | None = None
    build_choice: str | None = None

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-friendly dict whose keys are in a stable order.

        The keys are the attribute names in declaration order; evidence items
        become ``{"file": ..., "rule": ...}`` dicts.
        """
        source = self.runtime_version_source
        return {
            "language": self.language,
            "evidence": [item.to_dict() for item in self.evidence],
            "runtime_version": self.runtime_version,
            "runtime_version_source": source.to_dict() if source is not None else None,
            "package_manager": self.package_manager,
            "framework": self.framework,
            "default_web_command": self.default_web_command,
            "build_choice": self.build_choice,
        }
