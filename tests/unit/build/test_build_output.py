"""What a build shows, its full log, and the step around it (paas.build.output, Console.step)."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest

from paas.build import output
from paas.build.output import BuildLines, clean, open_log, presented
from paas.console import Console
from paas.errors import BuildError

FIXTURES = Path(__file__).parent / "fixtures"


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _no_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("CI", "NO_COLOR", "GITHUB_ACTIONS", "GITLAB_CI", "PAAS_VERBOSE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(output, "_verbose", None)


def shown(lines: list[str], *, verbose: bool = False) -> list[str]:
    reader = BuildLines(verbose=verbose)
    return [text for raw in lines if (text := reader.read(raw)) is not None]


def fixture_lines(name: str) -> list[str]:
    return (FIXTURES / name).read_text().splitlines()


def test_clean_removes_colour_cursor_and_title_escapes() -> None:
    assert clean("\x1b[1;32m-----> Python 3.13.5\x1b[0m") == "-----> Python 3.13.5"
    assert clean("\x1b]0;title\x07\x1b[2Kdone\x1b[?25h") == "done"
    assert clean("\x1b]8;;https://x.example\x1b\\link\x1b]8;;\x1b\\") == "link"


def test_clean_keeps_what_a_carriage_return_progress_line_ended_as() -> None:
    assert clean("Downloading 10%\rDownloading 55%\rDownloading 100%\r\n") == "Downloading 100%"
    assert clean("  details\r") == "  details"


@pytest.mark.parametrize("name", ["pack_first_build.txt", "pack_rebuild.txt"])
def test_a_pack_build_shows_the_buildpacks_lines_only(name: str) -> None:
    raw = fixture_lines(name)
    seen = shown(raw)
    expected = (FIXTURES / name.replace(".txt", ".shown.txt")).read_text().splitlines()
    assert seen == expected
    # Independently of the golden file: what the buildpacks printed, and nothing else.
    building = raw[raw.index("===> BUILDING") + 1 : raw.index("===> EXPORTING")]
    assert seen == building
    text = "\n".join(seen)
    for internal in ("===> ", "Reusing layer", "Adding layer", "Adding label", "SBOM", "Timer:"):
        assert internal not in text
    assert any(line.startswith("-----> ") for line in seen)
    # Most of what pack prints is the lifecycle's.
    assert len(seen) < len(raw) / 2


def test_a_rebuild_still_says_it_reused_the_dependencies() -> None:
    seen = shown(fixture_lines("pack_rebuild.txt"))
    assert any("reusing the cached dependencies" in line for line in seen)


def test_verbose_shows_every_line_without_escapes() -> None:
    raw = [*fixture_lines("pack_rebuild.txt"), "\x1b[31mred\x1b[0m"]
    seen = shown(raw, verbose=True)
    assert seen == [clean(line) for line in raw]
    assert "red" in seen


def test_verbose_from_the_environment_or_the_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not output.is_verbose()
    monkeypatch.setenv("PAAS_VERBOSE", "1")
    assert output.is_verbose()
    output.set_verbose(False)
    assert not output.is_verbose()
    monkeypatch.delenv("PAAS_VERBOSE")
    output.set_verbose(True)
    assert output.is_verbose()


def test_failures_show_in_every_phase() -> None:
    seen = shown(
        [
            "===> EXPORTING",
            "Adding layer 'paas/python:app'",
            "ERROR: failed to export: saving image: connection refused",
            "[exporter] ERROR: failed to export",
        ]
    )
    assert seen == [
        "ERROR: failed to export: saving image: connection refused",
        "ERROR: failed to export",
    ]


def test_the_untrusted_flow_phase_prefix_goes() -> None:
    seen = shown(
        [
            "[detector] ===> DETECTING",
            "[detector] paas/python 0.1.0",
            "[builder] ===> BUILDING",
            "[builder] -----> Python 3.13.5",
            "[builder]        installed",
            "[exporter] ===> EXPORTING",
            "[exporter] Reusing layer 'paas/python:venv'",
        ]
    )
    assert seen == ["-----> Python 3.13.5", "       installed"]


@pytest.mark.parametrize("name", ["podman_build.txt", "docker_api_build.txt"])
def test_a_dockerfile_build_shows_its_steps_and_what_they_print(name: str) -> None:
    raw = fixture_lines(name)
    seen = shown(raw)
    expected = (FIXTURES / name.replace(".txt", ".shown.txt")).read_text().splitlines()
    assert seen == expected
    assert any(line.startswith("STEP 1/") for line in seen)
    assert "hello from a step" in seen  # what a RUN step prints
    hidden = ("Copying blob", "COMMIT", "--> ", "Successfully", "The push refers", "Storing")
    assert not any(line.startswith(hidden) for line in seen)
    assert not any(re.fullmatch(r"[0-9a-f]{64}|\S+: digest: .*", line) for line in seen)


def test_the_docker_api_stream_hides_layer_ids_and_push_states() -> None:
    seen = shown(
        [
            "Step 1/3 : FROM python:3.13-slim",
            " ---> 1a2b3c4d5e6f",
            "Step 2/3 : RUN pip install flask",
            "Collecting flask",
            "Removing intermediate container 0123456789ab",
            "Successfully built 0123456789ab",
            "Pushing reg:5000/web:abc",
            "The push refers to repository [reg:5000/web]",
            "0123456789ab: Preparing",
            "0123456789ab: Pushed",
            "abc: digest: sha256:" + "0" * 64 + " size: 1234",
        ]
    )
    assert seen == [
        "Step 1/3 : FROM python:3.13-slim",
        "Step 2/3 : RUN pip install flask",
        "Collecting flask",
        "Pushing reg:5000/web:abc",
    ]


def test_the_full_log_goes_under_the_cache_directory(tmp_path: Path) -> None:
    shown_lines: list[str] = []
    with presented("web", shown_lines.append, start="Building...", console=plain()) as show:
        show("===> EXPORTING")
        show("\x1b[1mReusing layer 'paas/python:venv'\x1b[0m")
        show("-----> done")
    assert shown_lines == []  # EXPORTING is quiet; `-----> done` is in it
    logs = sorted((tmp_path / "cache" / "paas" / "logs").iterdir())
    assert len(logs) == 1
    assert re.fullmatch(r"web-\d{8}T\d{6}Z\.log", logs[0].name)
    assert logs[0].read_text() == "===> EXPORTING\nReusing layer 'paas/python:venv'\n-----> done\n"
    assert logs[0].stat().st_mode & 0o777 == 0o600


def test_the_log_directory_defaults_to_the_home_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", "/home/someone")
    assert output.log_dir() == Path("/home/someone/.cache/paas/logs")


def test_only_the_newest_logs_of_an_app_are_kept(tmp_path: Path) -> None:
    directory = tmp_path / "logs"
    directory.mkdir()
    (directory / "web-api-20200101T000000Z.log").write_text("another app\n")
    (directory / "notes.txt").write_text("not a log\n")
    made = []
    for second in range(25):
        path, log = open_log("web", directory, now=1_700_000_000 + second, keep=20)
        log.close()
        made.append(path)
    path, log = open_log("web", directory, now=1_700_000_024, keep=20)  # same second
    log.close()
    assert path.name == "web-20231114T221344Z-1.log"
    kept = output.app_logs(directory, "web")
    assert kept == [*made[6:], path]
    assert (directory / "web-api-20200101T000000Z.log").exists()
    assert (directory / "notes.txt").exists()


def test_a_failed_build_ends_with_the_tail_of_the_full_log_and_its_path(tmp_path: Path) -> None:
    err = io.StringIO()
    console = Console(io.StringIO(), err, plain=True)

    def build() -> None:
        with presented("web", console.info, start="Building `web`...", console=console) as show:
            for n in range(40):
                show(f"Adding layer 'paas/python:layer{n}'")
            show("-----> pip install")
            raise BuildError("Building `web` failed in step `pip install`: no such package")

    with pytest.raises(BuildError):
        build()
    lines = err.getvalue().splitlines()
    path = next((tmp_path / "cache" / "paas" / "logs").iterdir())
    assert lines[0] == "Building `web`..."
    assert lines[1] == "-----> pip install"
    assert re.fullmatch(r"Building failed after \d+\.\d s", lines[2])
    assert lines[3] == "The last 30 lines of the build log:"
    # Hidden lines are in the tail: it is the full log's.
    assert lines[4] == "  | Adding layer 'paas/python:layer11'"
    assert lines[33] == "  | -----> pip install"
    assert lines[34] == f"full build log: {path}"
    assert len(path.read_text().splitlines()) == 41


def test_a_build_goes_on_without_a_writable_cache(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))
    seen: list[str] = []
    with presented("web", seen.append, start="Building...", console=plain()) as show:
        show("-----> Python")
    assert seen == ["-----> Python"]
    assert show.path is None


def plain(err: io.StringIO | None = None) -> Console:
    return Console(io.StringIO(), err or io.StringIO(), plain=True)


def test_a_step_in_ci_is_two_plain_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    err = FakeTTY()
    console = Console(FakeTTY(), err)
    with console.step("Building", done="Built"):
        console.info("-----> Python 3.13.5")
    lines = err.getvalue().splitlines()
    assert lines[:2] == ["Building...", "-----> Python 3.13.5"]
    assert re.fullmatch(r"Built in \d+\.\d s", lines[2])
    assert len(lines) == 3
    assert "\x1b" not in err.getvalue()


def test_a_step_on_a_terminal_has_a_spinner_with_the_elapsed_time() -> None:
    err = FakeTTY()
    console = Console(FakeTTY(), err)
    assert console.live
    with console.step("Building", done="Built"):
        console.info("-----> Python 3.13.5")
    text = err.getvalue()
    assert "\x1b" in text  # the spinner is redrawn in place
    assert re.search(r"Building \(\d+\.\d s\)", text)
    assert "-----> Python 3.13.5" in text
    assert re.search(r"Built in \d+\.\d s", text)


def test_no_spinner_without_a_terminal_on_stderr() -> None:
    console = Console(FakeTTY(), io.StringIO(), plain=False)
    assert not console.live


def test_github_actions_gets_a_log_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    err = io.StringIO()
    console = plain(err)
    with presented("web", console.info, start="Building `web`...", console=console) as show:
        show("===> BUILDING")
        show("-----> Python 3.13.5")
    lines = err.getvalue().splitlines()
    assert lines[:4] == [
        "Building `web`...",
        "::group::Build",
        "-----> Python 3.13.5",
        "::endgroup::",
    ]
    assert re.fullmatch(r"Built in \d+\.\d s", lines[4])
    assert "\x1b" not in err.getvalue()


def test_gitlab_gets_a_collapsed_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("GITLAB_CI", "true")
    err = io.StringIO()
    console = plain(err)
    with console.group("Build"):
        console.info("-----> Python 3.13.5")
    start, line, end, _ = err.getvalue().split("\n")
    assert re.fullmatch(
        r"\x1b\[0Ksection_start:\d{10}:build\[collapsed=true\]\r\x1b\[0KBuild", start
    )
    assert line == "-----> Python 3.13.5"
    assert re.fullmatch(r"\x1b\[0Ksection_end:\d{10}:build\r\x1b\[0K", end)


def test_no_group_outside_those_ci_systems() -> None:
    err = io.StringIO()
    console = plain(err)
    with console.group("Build"):
        console.info("x")
    assert err.getvalue() == "x\n"
    assert "GITHUB_ACTIONS" not in os.environ
