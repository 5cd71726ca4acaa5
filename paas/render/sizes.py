"""Named process sizes and the requests/limits they stand for.

Memory request and limit are equal, so a process is never killed for using
what its size promises; CPU may burst to the limit. docs/manifest.md shows
this table, and a unit test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SizeSpec:
    """Requests and limits of one named size."""

    cpu_request: str
    cpu_limit: str
    memory: str

    def resources(self) -> dict[str, dict[str, str]]:
        """The container `resources` block for this size."""
        return {
            "requests": {"cpu": self.cpu_request, "memory": self.memory},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory},
        }


SIZE_TABLE: dict[str, SizeSpec] = {
    "nano": SizeSpec("50m", "250m", "128Mi"),
    "small": SizeSpec("100m", "500m", "256Mi"),
    "medium": SizeSpec("250m", "1", "512Mi"),
    "large": SizeSpec("500m", "2", "1Gi"),
    "xlarge": SizeSpec("1", "4", "2Gi"),
}
