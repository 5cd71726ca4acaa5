"""`paas builder create` lists the runtimes its build image carries (pure part)."""

from __future__ import annotations

import subprocess

from paas.build.builder import RUNTIMES_SCRIPT, parse_runtimes, runtimes_line


def test_runtimes_are_read_by_language_and_sorted_by_version() -> None:
    text = (
        "/opt/paas/python 3.14.10\n/opt/paas/python 3.11.2\n/opt/paas/python 3.13.5\n"
        "/opt/paas/ruby 3.3.8\njava 17.0.17\njava 17.0.17\nphp 8.2.29\nnoise\n"
    )

    runtimes = parse_runtimes(text)

    assert runtimes == (
        ("python", ("3.11.2", "3.13.5", "3.14.10")),
        ("ruby", ("3.3.8",)),
        ("java", ("17.0.17",)),
        ("php", ("8.2.29",)),
    )
    assert runtimes_line(runtimes).startswith(
        "-----> Runtimes in the builder: Python 3.11.2, 3.13.5, 3.14.10; Ruby 3.3.8; "
        "Java 17.0.17; PHP 8.2.29. Node.js and Go are fetched by each build"
    )


def test_the_script_runs_in_a_plain_shell_and_prints_only_runtime_lines() -> None:
    # On a machine without /opt/paas it prints whatever JDKs and PHP there are, and exits 0.
    done = subprocess.run(
        ["sh", "-c", RUNTIMES_SCRIPT], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert all(len(line.split()) == 2 for line in done.stdout.splitlines())
