"""A process that is up but keeps failing is named by the app's own error (pure)."""

from __future__ import annotations

import io
from typing import Any

from paas.console import Console
from paas.diagnosis import (
    BOOT_ERROR_SECONDS,
    BOOT_REPEAT_SECONDS,
    QUOTE_CHARS,
    RolloutFailure,
    error_lines,
    explain_with_logs,
    pod_failure,
    shown_log_lines,
    unready_container,
)
from paas.errors import RolloutError

SITE = "/layers/paas_python/venv/lib/python3.11/site-packages/gunicorn"


def stamp(pid: int, level: str, text: str) -> str:
    return f"[2026-12-03 12:01:02 +0000] [{pid}] [{level}] {text}"


def gunicorn_worker_fails(pid: int) -> list[str]:
    """What one gunicorn worker prints when the app raises at import."""
    return [
        stamp(pid, "INFO", f"Booting worker with pid: {pid}"),
        stamp(pid, "ERROR", "Exception in worker process"),
        "Traceback (most recent call last):",
        f'  File "{SITE}/arbiter.py", line 608, in spawn_worker',
        "    worker.init_process()",
        f'  File "{SITE}/workers/base.py", line 135, in init_process',
        "    self.load_wsgi()",
        f'  File "{SITE}/util.py", line 370, in import_app',
        "    mod = importlib.import_module(module)",
        "          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
        '  File "/workspace/app.py", line 1, in <module>',
        "    import missing_module",
        "ModuleNotFoundError: No module named 'missing_module'",
        stamp(pid, "INFO", f"Worker exiting (pid: {pid})"),
        stamp(1, "ERROR", f"Worker (pid:{pid}) exited with code 3"),
    ]


GUNICORN_START = [
    stamp(1, "INFO", "Starting gunicorn 23.0.0"),
    stamp(1, "INFO", "Listening at: http://0.0.0.0:5000 (1)"),
    stamp(1, "INFO", "Using worker: sync"),
]
# The master stays up and spawns worker after worker.
GUNICORN_RESPAWNING = GUNICORN_START + [
    line for pid in range(7, 12) for line in gunicorn_worker_fails(pid)
]
# The master gives up: its own traceback (as gunicorn 23 prints it) comes after the app's.
GUNICORN_HALTING = [
    *GUNICORN_START,
    *gunicorn_worker_fails(7),
    *gunicorn_worker_fails(8)[:-1],
    stamp(1, "ERROR", "Worker (pid:8) exited with code 3"),
    "",
    "Traceback (most recent call last):",
    '  File "/layers/paas_python/venv/bin/gunicorn", line 8, in <module>',
    "    sys.exit(run())",
    "             ^^^^^",
    f'  File "{SITE}/app/wsgiapp.py", line 66, in run',
    '    WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]", prog=prog).run()',
    f'  File "{SITE}/app/base.py", line 236, in run',
    "    super().run()",
    f'  File "{SITE}/app/base.py", line 72, in run',
    "    Arbiter(self).run()",
    f'  File "{SITE}/arbiter.py", line 278, in run',
    "    self.halt(reason=inst.reason, exit_status=inst.exit_status)",
    f'  File "{SITE}/arbiter.py", line 405, in halt',
    "    self.stop()",
    f'  File "{SITE}/arbiter.py", line 485, in stop',
    "    self.reap_workers()",
    f'  File "{SITE}/arbiter.py", line 683, in reap_workers',
    "    raise HaltServer(reason, self.WORKER_BOOT_ERROR)",
    "gunicorn.errors.HaltServer: <HaltServer 'Worker failed to boot.' 3>",
]
# Healthy, but bound to loopback: no probe from the kubelet gets through.
GUNICORN_ON_LOOPBACK = [
    stamp(1, "INFO", "Starting gunicorn 23.0.0"),
    stamp(1, "INFO", "Listening at: http://127.0.0.1:8000 (1)"),
    stamp(1, "INFO", "Using worker: sync"),
    stamp(7, "INFO", "Booting worker with pid: 7"),
    stamp(8, "INFO", "Booting worker with pid: 8"),
]
NODE_REQUIRE = [
    "node:internal/modules/cjs/loader:1228",
    "  throw err;",
    "  ^",
    "",
    "Error: Cannot find module 'missing-module'",
    "Require stack:",
    "- /workspace/index.js",
    "    at Module._resolveFilename (node:internal/modules/cjs/loader:1225:15)",
    "    at Module._load (node:internal/modules/cjs/loader:1051:27)",
    "    at Object.<anonymous> (/workspace/index.js:2:17) {",
    "  code: 'MODULE_NOT_FOUND',",
    "  requireStack: [ '/workspace/index.js' ]",
    "}",
    "",
    "Node.js v20.18.0",
]
NODE_CLUSTER = [
    "Primary 1 is running",
    *[
        line
        for pid in (20, 21, 22)
        for line in [*NODE_REQUIRE[4:7], f"worker {pid} died (code 1), forking another"]
    ],
]


def pod(cs: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": "hello-web-abc12"}, "status": {"containerStatuses": [cs]}}


RUNNING = pod({"name": "web", "ready": False, "state": {"running": {"startedAt": "x"}}})
CRASH_LOOP = pod(
    {
        "name": "web",
        "restartCount": 2,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}},
    }
)
REFUSED = [
    {
        "reason": "Unhealthy",
        "message": 'Liveness probe failed: Get "http://10.244.0.9:5000/healthz": '
        "dial tcp 10.244.0.9:5000: connect: connection refused",
    }
]


def test_a_gunicorn_import_error_with_respawning_workers_is_named_early() -> None:
    # Its first workers failing are not yet a pattern: gunicorn may be halting.
    assert pod_failure(RUNNING, [], running_for=3, lines=GUNICORN_RESPAWNING[:33]) is None

    failure = pod_failure(RUNNING, [], running_for=BOOT_REPEAT_SECONDS, lines=GUNICORN_RESPAWNING)

    assert failure is not None
    assert failure.message("web") == (
        "the `web` process failed to start: BootFailure in pod `hello-web-abc12`: the app "
        "fails as it starts: `ModuleNotFoundError: No module named 'missing_module'`, and "
        "its workers keep exiting (5 in the last lines)"
    )
    assert failure.hint == (
        "Fix that error in the app and push again; to read the failing release's whole "
        "log, push with `--no-rollback` and run `paas logs`."
    )
    assert (failure.container, failure.show_logs) == ("web", True)


def test_a_gunicorn_that_halts_is_a_crash_loop_that_names_the_app_error() -> None:
    # The pod may still say it runs: its exit decides, not its workers' exits.
    assert pod_failure(RUNNING, [], running_for=12, lines=GUNICORN_HALTING) is None
    exits_then_halts = [
        *GUNICORN_START,
        *gunicorn_worker_fails(7),
        *gunicorn_worker_fails(8),
        stamp(1, "ERROR", "Shutting down: Master"),
        stamp(1, "ERROR", "Reason: Worker failed to boot."),
    ]
    assert pod_failure(RUNNING, [], running_for=12, lines=exits_then_halts) is None
    assert pod_failure(RUNNING, [], running_for=12, lines=exits_then_halts[:-2]) is not None
    failure = pod_failure(CRASH_LOOP, [], running_for=0)
    assert failure is not None

    failure = explain_with_logs(failure, GUNICORN_HALTING)

    assert failure.reason == "CrashLoopBackOff"
    assert failure.detail == (
        "the process exited with code 1 and keeps restarting; the app's error: "
        "`ModuleNotFoundError: No module named 'missing_module'`"
    )
    assert "$PORT" not in failure.hint
    assert "`paas logs`" in failure.hint
    # The app's traceback is shown, not only gunicorn's own that followed it.
    error = "ModuleNotFoundError: No module named 'missing_module'"
    assert error not in GUNICORN_HALTING[-20:]
    shown = shown_log_lines(GUNICORN_HALTING, 20)
    assert len(shown) == 20
    assert shown[-3:] == [
        error,
        stamp(8, "INFO", "Worker exiting (pid: 8)"),
        stamp(1, "ERROR", "Worker (pid:8) exited with code 3"),
    ]


def test_a_healthy_gunicorn_on_loopback_is_still_not_listening() -> None:
    assert error_lines(GUNICORN_ON_LOOPBACK) == []
    assert pod_failure(RUNNING, REFUSED, running_for=60, lines=GUNICORN_ON_LOOPBACK) is None
    failure = pod_failure(RUNNING, REFUSED, running_for=120, lines=GUNICORN_ON_LOOPBACK)
    assert failure is not None
    assert explain_with_logs(failure, GUNICORN_ON_LOOPBACK) == failure
    assert failure.reason == "NotListening"
    assert "0.0.0.0:$PORT" in failure.hint
    assert shown_log_lines(GUNICORN_ON_LOOPBACK, 3) == GUNICORN_ON_LOOPBACK[-3:]


def test_probes_that_gave_up_on_a_failing_app_name_its_error_not_the_port() -> None:
    lines = [*GUNICORN_START, *gunicorn_worker_fails(7)]
    not_listening = pod_failure(RUNNING, REFUSED, running_for=120)
    assert not_listening is not None
    assert not_listening.reason == "NotListening"

    failure = explain_with_logs(not_listening, lines)

    assert failure.reason == "BootFailure"
    assert failure.detail == (
        "the app fails as it starts: `ModuleNotFoundError: No module named 'missing_module'`"
    )


def test_a_node_app_throwing_at_require_crashes_and_names_its_error() -> None:
    failure = pod_failure(CRASH_LOOP, [], running_for=0)
    assert failure is not None

    failure = explain_with_logs(failure, NODE_REQUIRE)

    assert failure.reason == "CrashLoopBackOff"
    assert failure.detail.endswith(
        "; the app's error: `Error: Cannot find module 'missing-module'`"
    )
    assert shown_log_lines(NODE_REQUIRE, 4) == [
        "",
        "Error: Cannot find module 'missing-module'",
        "Require stack:",
        "- /workspace/index.js",
    ]


def test_a_node_cluster_respawning_workers_is_a_boot_failure() -> None:
    failure = pod_failure(RUNNING, [], running_for=11, lines=NODE_CLUSTER)

    assert failure is not None
    assert failure.reason == "BootFailure"
    assert failure.detail == (
        "the app fails as it starts: `Error: Cannot find module 'missing-module'`, "
        "and its workers keep exiting (3 in the last lines)"
    )


def test_workers_that_keep_exiting_without_an_error_line_are_named_by_their_exits() -> None:
    lines = [*GUNICORN_START]
    for pid in (7, 8, 9):
        lines += [
            stamp(pid, "INFO", f"Booting worker with pid: {pid}"),
            stamp(1, "ERROR", f"Worker (pid:{pid}) was sent SIGKILL! Perhaps out of memory?"),
        ]

    failure = pod_failure(RUNNING, [], running_for=15, lines=lines)

    assert failure is not None
    assert failure.reason == "BootFailure"
    assert failure.detail == (
        "its workers keep exiting (3 in the last lines): "
        "`[2026-12-03 12:01:02 +0000] [1] [ERROR] Worker (pid:9) was sent SIGKILL! "
        "Perhaps out of memory?`"
    )
    assert "why the workers exit" in failure.hint


def test_one_worker_exit_alone_is_not_yet_a_pattern() -> None:
    lines = [
        *GUNICORN_START,
        stamp(1, "ERROR", "Worker (pid:7) was sent SIGKILL! Perhaps out of memory?"),
    ]
    assert pod_failure(RUNNING, [], running_for=15, lines=lines) is None


def test_the_same_error_again_and_again_from_a_supervisor_loop() -> None:
    lines = [
        "Traceback (most recent call last):",
        '  File "/workspace/worker.py", line 3, in <module>',
        "    import redis",
        "ModuleNotFoundError: No module named 'redis'",
        "restarting in 1 s",
    ] * 3

    failure = pod_failure(RUNNING, [], running_for=20, lines=lines)

    assert failure is not None
    assert failure.detail == (
        "the app fails as it starts: `ModuleNotFoundError: No module named 'redis'`, "
        "again and again (3 times in the last lines)"
    )


def test_a_lone_error_line_decides_only_once_the_boot_window_is_mostly_gone() -> None:
    lines = [
        "Puma starting in single mode...",
        "* Listening on http://0.0.0.0:5000",
        "/workspace/config/boot.rb:3:in 'require': cannot load such file -- sidekiq (LoadError)",
    ]
    assert pod_failure(RUNNING, [], running_for=BOOT_ERROR_SECONDS - 1, lines=lines) is None

    failure = pod_failure(RUNNING, [], running_for=BOOT_ERROR_SECONDS, lines=lines)

    assert failure is not None
    assert failure.detail == (
        "the app fails as it starts: `/workspace/config/boot.rb:3:in 'require': cannot "
        "load such file -- sidekiq (LoadError)`"
    )


def test_error_lines_of_servers_and_languages() -> None:
    lines = [
        "[12] ! Unable to load application: LoadError: cannot load such file -- x",
        'ERROR:    Error loading ASGI app. Could not import module "main".',
        "Error [ERR_REQUIRE_ESM]: require() of ES Module /workspace/x.mjs not supported.",
        "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection refused",
        "Traceback (most recent call last):",
        '  File "/workspace/app.py", line 9, in <module>',
        "StopIteration",
        "SystemExit: 3",
        "GET /healthz 200 - an ordinary line",
        "Errors: 0, warnings: 2",
    ]
    assert error_lines(lines) == [
        "Unable to load application: LoadError: cannot load such file -- x",
        'Error loading ASGI app. Could not import module "main".',
        "Error [ERR_REQUIRE_ESM]: require() of ES Module /workspace/x.mjs not supported.",
        "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection refused",
        "StopIteration",
    ]


def test_a_plain_crash_is_a_crash_loop_as_before() -> None:
    failure = pod_failure(CRASH_LOOP, [], running_for=0)
    assert failure is not None
    lines = ["boom: no DATABASE_URL"]

    assert explain_with_logs(failure, lines) == failure
    assert failure.detail == "the process exited with code 1 and keeps restarting"
    assert failure.hint == "Read the log lines above, fix the app, and push again."
    assert shown_log_lines(lines, 20) == lines


def test_a_read_only_root_still_names_the_opt_in() -> None:
    failure = pod_failure(CRASH_LOOP, [], running_for=0)
    assert failure is not None
    lines = [
        "Traceback (most recent call last):",
        '  File "/workspace/app.py", line 4, in <module>',
        "OSError: [Errno 30] Read-only file system: '/workspace/started.txt'",
    ]

    failure = explain_with_logs(failure, lines)

    assert failure.reason == "CrashLoopBackOff"
    assert "`OSError: [Errno 30] Read-only file system" in failure.detail
    assert "`kubernetes.read_only_root`" in failure.hint


def test_a_hostile_error_line_is_bounded_and_shown_sanitised() -> None:
    osc52 = "\x1b]52;c;ZXZpbA==\x07"
    line = f"RuntimeError: `{osc52}` " + "x" * 5000
    failure = pod_failure(RUNNING, [], running_for=10, lines=[line, line])
    assert failure is not None
    quoted = failure.detail.split("`")[1]
    assert len(quoted) == QUOTE_CHARS
    assert quoted.startswith(f"RuntimeError: '{osc52}' xxx")
    assert quoted.endswith("x…")

    err = io.StringIO()
    Console(io.StringIO(), err, plain=True, terminal=True).error(
        RolloutError(failure.message("web"), failure.hint, reason=failure.reason)
    )
    assert "\x1b" not in err.getvalue()
    assert "RuntimeError: '\\x1b]52;c;ZXZpbA==\\x07' xxx" in err.getvalue()


def test_only_a_running_unready_container_has_its_log_read() -> None:
    assert unready_container(RUNNING) == "web"
    assert unready_container(CRASH_LOOP) is None
    ready = pod({"name": "web", "ready": True, "state": {"running": {"startedAt": "x"}}})
    assert unready_container(ready) is None
    # Lines of a container that does not run do not make a boot failure.
    assert pod_failure(ready, [], running_for=30, lines=GUNICORN_RESPAWNING) is None


def test_a_failure_without_logs_is_left_as_it_is() -> None:
    failure = RolloutFailure("Unschedulable", "p", "0/1 nodes", "Pick a smaller `size`.")
    assert explain_with_logs(failure, []) == failure


def test_a_server_a_supervisor_starts_again_and_again_is_a_boot_failure() -> None:
    # A start script that runs gunicorn in a loop: each run halts, the container stays up.
    lines = GUNICORN_HALTING[-40:] + GUNICORN_START + gunicorn_worker_fails(7)

    failure = pod_failure(RUNNING, [], running_for=BOOT_REPEAT_SECONDS, lines=lines)

    assert failure is not None
    assert failure.reason == "BootFailure"
    assert "`ModuleNotFoundError: No module named 'missing_module'`" in failure.detail
    # Read just as it halts once more, it waits for the next read.
    assert pod_failure(RUNNING, [], running_for=30, lines=lines + GUNICORN_HALTING[-1:]) is None
