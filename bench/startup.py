"""Startup time of `paas --help` and `paas version`: median and max of N runs.

Usage: python bench/startup.py [N]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

COMMANDS = (["--help"], ["version"], ["render", "--help"])


def measure(args: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "paas", *args], capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    measure(["--help"], 2)  # warm the page cache and bytecode
    for args in COMMANDS:
        times = measure(args, runs)
        print(
            f"paas {' '.join(args):<14} median {statistics.median(times) * 1000:6.0f} ms   "
            f"min {min(times) * 1000:6.0f} ms   max {max(times) * 1000:6.0f} ms   ({runs} runs)"
        )


if __name__ == "__main__":
    main()
