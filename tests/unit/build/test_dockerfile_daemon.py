"""Reading the daemon's JSON stream of a local Dockerfile build: lines, failed step, digest."""

from __future__ import annotations

from paas.build.dockerfile import DaemonProgress, failed_step, read_stream

DIGEST = "sha256:" + "e" * 64


def test_stream_text_is_split_into_lines_even_across_chunks() -> None:
    shown: list[str] = []
    progress = read_stream(
        [
            {"stream": "STEP 1/2: FROM base\n"},
            {"stream": "STEP 2/2: RUN ma"},
            {"stream": "ke\nbuilding\n"},
            {"stream": "no newline at the end"},
        ],
        shown.append,
    )
    assert shown == [
        "STEP 1/2: FROM base",
        "STEP 2/2: RUN make",
        "building",
        "no newline at the end",
    ]
    assert progress.error == ""
    assert failed_step(progress.output) == "2/2: RUN make"


def test_an_error_chunk_is_shown_and_kept_and_names_the_step() -> None:
    shown: list[str] = []
    progress = read_stream(
        [
            {"stream": "Step 1/3 : FROM base\n"},
            {"stream": "Step 2/3 : RUN false\n"},
            {
                "error": "The command '/bin/sh -c false' returned a non-zero code: 1",
                "errorDetail": {"code": 1, "message": "returned a non-zero code: 1"},
            },
        ],
        shown.append,
    )
    assert progress.error == "returned a non-zero code: 1"
    assert shown[-1] == "error: returned a non-zero code: 1"
    assert failed_step(progress.output) == "2/3: RUN false"


def test_push_status_shows_layers_without_byte_counters_and_finds_the_digest() -> None:
    shown: list[str] = []
    progress = read_stream(
        [
            {"status": "The push refers to repository [reg:5000/app]"},
            {"status": "Pushing", "id": "abc", "progress": "[==>   ] 1MB/4MB"},
            {"status": "Pushed", "id": "abc"},
            {"status": f"t1: digest: {DIGEST} size: 1054"},
        ],
        shown.append,
    )
    assert shown == [
        "The push refers to repository [reg:5000/app]",
        "abc: Pushed",
        f"t1: digest: {DIGEST} size: 1054",
    ]
    assert progress.digest == DIGEST


def test_the_aux_digest_counts_when_the_status_has_none() -> None:
    progress = DaemonProgress()
    progress.read({"aux": {"Tag": "t1", "Digest": DIGEST, "Size": 1054}})
    assert progress.digest == DIGEST
