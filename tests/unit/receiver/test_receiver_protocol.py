"""The receiver's pure parts: URL layout, Basic credentials, tokens, ref decisions, config."""

from __future__ import annotations

import base64

import pytest

from paas.errors import UsageError
from paas.receiver.auth import (
    Token,
    Verdict,
    check_token,
    digest,
    new_token,
    parse_ttl,
    revoke,
)
from paas.receiver.config import config_from_data
from paas.receiver.protocol import (
    GitRequest,
    RequestRefused,
    content_encoding_problem,
    parse_basic,
    parse_request,
)
from paas.receiver.refs import PushPolicy, RefUpdate, decide_push, parse_ref_updates
from paas.receiver.remote import remote_url

ZERO = "0" * 40
A, B = "a" * 40, "b" * 40


@pytest.mark.parametrize(
    ("method", "target", "expected"),
    [
        ("GET", "/hello.git/info/refs?service=git-receive-pack",
         GitRequest("hello", "git-receive-pack", "advertisement")),
        ("GET", "/hello.git/info/refs?service=git-upload-pack",
         GitRequest("hello", "git-upload-pack", "advertisement")),
        ("POST", "/hello.git/git-receive-pack", GitRequest("hello", "git-receive-pack", "rpc")),
        ("POST", "/a1-b2.git/git-upload-pack", GitRequest("a1-b2", "git-upload-pack", "rpc")),
    ],
)  # fmt: skip
def test_the_smart_protocol_requests_are_served(
    method: str, target: str, expected: GitRequest
) -> None:
    assert parse_request(method, target) == expected


def test_the_backend_gets_paths_built_from_checked_parts() -> None:
    advertisement = parse_request("GET", "/hello.git/info/refs?service=git-receive-pack")
    assert (advertisement.path_info, advertisement.query_string) == (
        "/hello.git/info/refs",
        "service=git-receive-pack",
    )
    rpc = parse_request("POST", "/hello.git/git-upload-pack")
    assert (rpc.path_info, rpc.query_string, rpc.is_push) == (
        "/hello.git/git-upload-pack",
        "",
        False,
    )


@pytest.mark.parametrize(
    ("method", "target", "status", "message"),
    [
        ("GET", "/../x.git/info/refs?service=git-receive-pack", 400,
         "Repository `..` must end with `.git`, like `/hello.git`."),
        ("GET", "/..git/info/refs?service=git-receive-pack", 400,
         "Repository `..git` is not an app name: it must be lowercase letters, digits and "
         "dashes, start with a letter and not end with a dash."),
        ("GET", "/-x.git/info/refs?service=git-receive-pack", 400, None),
        ("GET", "/X.git/info/refs?service=git-receive-pack", 400, None),
        ("GET", "/a%2fb.git/info/refs?service=git-receive-pack", 400, None),
        ("GET", "/a.b.git/info/refs?service=git-receive-pack", 400, None),
        ("GET", "/a_b.git/info/refs?service=git-receive-pack", 400, None),
        ("GET", "/a\nb.git/info/refs?service=git-receive-pack", 400, None),
        ("GET", "/default.git/info/refs?service=git-receive-pack", 400,
         "Repository `default.git` is not an app name: it is reserved by Kubernetes or paas."),
        ("GET", "/" + "a" * 41 + ".git/info/refs?service=git-receive-pack", 400, None),
        ("GET", "/hello.git/info/refs", 403, None),
        ("GET", "/hello.git/info/refs?service=git-upload-archive", 403, None),
        ("GET", "/hello.git/info/refs?service", 403, None),
        ("GET", "/hello.git/HEAD", 404, None),
        ("GET", "/hello.git/objects/pack/x.pack", 404, None),
        ("GET", "/hello.git/info/refs/", 404, None),
        ("POST", "/hello.git/git-receive-pack?x=1", 404, None),
        ("GET", "/hello.git/git-receive-pack", 405, None),
        ("POST", "/hello.git/info/refs?service=git-receive-pack", 405, None),
        ("GET", "http://evil/hello.git/info/refs", 404, None),
        ("GET", "/" + "a" * 600, 404, None),
        ("GET", "/", 404, None),
    ],
)  # fmt: skip
def test_everything_else_is_refused(
    method: str, target: str, status: int, message: str | None
) -> None:
    with pytest.raises(RequestRefused) as refused:
        parse_request(method, target)
    assert refused.value.status == status
    if message:
        assert refused.value.message == message


def _basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


def test_basic_credentials_are_parsed_and_their_password_is_never_shown() -> None:
    credentials = parse_basic(_basic("paas:paas_secret:with:colons"))
    assert credentials is not None
    assert (credentials.user, credentials.password) == ("paas", "paas_secret:with:colons")
    assert "secret" not in repr(credentials)
    assert parse_basic("basic " + base64.b64encode(b":x").decode()).password == "x"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer abc", "Basic", "Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode(),
     _basic("a:b\nc"), "Basic " + base64.b64encode(b"\xff:\xfe").decode(), "Basic " + "A" * 5000],
)  # fmt: skip
def test_bad_authorization_headers_give_no_credentials(header: str | None) -> None:
    assert parse_basic(header) is None


def test_content_encodings_http_backend_decodes_pass() -> None:
    assert content_encoding_problem(None) is None
    assert content_encoding_problem("gzip") is None
    assert content_encoding_problem("x-gzip") is None
    assert content_encoding_problem("deflate") == (
        "Content-Encoding `deflate` is not supported: send gzip or nothing."
    )


def _token(apps: list[str], *, now: float = 1000.0, ttl: int = 3600) -> tuple[str, Token]:
    return new_token(apps, ttl=ttl, now=now, secret="s" * 43, token_id="0123456789ab")


def test_a_token_is_kept_only_as_its_hash() -> None:
    token, record = _token(["hello"])
    assert token == "paas_" + "s" * 43
    assert record.sha256 == digest(token)
    assert token not in repr(record)
    assert token not in str(record.to_dict())
    assert Token.from_dict(record.to_dict()) == record


def test_a_token_works_for_its_apps_until_it_expires_or_is_revoked() -> None:
    token, record = _token(["hello", "api"])
    assert check_token([record], token, "hello", 1001).verdict is Verdict.ALLOWED
    assert check_token([record], token, "api", 1001).token == record
    assert check_token([record], token, "other", 1001).verdict is Verdict.OTHER_APP
    assert check_token([record], token, "hello", 1000 + 3600).verdict is Verdict.EXPIRED
    revoked = revoke([record], record.id, 2000)
    assert check_token(revoked, token, "hello", 1001).verdict is Verdict.REVOKED
    assert revoked[0].state(1001) == "revoked"
    assert revoke(revoked, record.id, 3000)[0].revoked == 2000  # revoked once
    with pytest.raises(KeyError):
        revoke([record], "ffffffffffff", 2000)


@pytest.mark.parametrize("presented", [None, "", "paas_" + "t" * 43, "paas_short", "s" * 48])
def test_other_tokens_are_unknown(presented: str | None) -> None:
    _, record = _token(["hello"])
    assert check_token([record], presented, "hello", 1001).verdict is Verdict.UNKNOWN


def test_new_tokens_need_valid_apps_and_randomness() -> None:
    with pytest.raises(ValueError, match="at least one app"):
        _token([])
    with pytest.raises(ValueError, match="`Bad` is not an app name"):
        _token(["Bad"])
    with pytest.raises(ValueError, match="malformed"):
        new_token(["hello"], ttl=1, now=0, secret="short", token_id="0123456789ab")


def test_token_records_read_back_are_checked() -> None:
    _, record = _token(["hello"])
    for broken in ({**record.to_dict(), "id": "../x"}, {**record.to_dict(), "apps": "hello"}, []):
        with pytest.raises(ValueError, match=r"\S"):
            Token.from_dict(broken)


@pytest.mark.parametrize(
    ("text", "seconds"), [("30d", 30 * 86400), ("12h", 43200), ("90m", 5400), ("45s", 45)]
)
def test_ttls(text: str, seconds: int) -> None:
    assert parse_ttl(text) == seconds


@pytest.mark.parametrize("text", ["", "30", "0d", "-1d", "1y", "367d", "1.5h", "30d\n1"])
def test_bad_ttls(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not a duration|longer than 366 days"):
        parse_ttl(text)


def test_ref_updates_are_parsed_strictly() -> None:
    assert parse_ref_updates(f"{ZERO} {A} refs/heads/main\n") == [
        RefUpdate(ZERO, A, "refs/heads/main")
    ]
    for bad in (f"{ZERO} {A}", f"{ZERO} xyz refs/heads/main", f"{ZERO}  {A} refs/heads/main"):
        with pytest.raises(ValueError, match="is not `OLD NEW REF`"):
            parse_ref_updates(bad)


def test_a_push_of_the_deploy_branch_deploys() -> None:
    create = RefUpdate(ZERO, A, "refs/heads/main")
    assert decide_push([create], PushPolicy(), {}).deploy == create
    forward = RefUpdate(A, B, "refs/heads/master")
    assert decide_push([forward], PushPolicy(), {forward.ref: True}).deploy == forward


def test_force_pushes_and_deletes_pass_only_when_allowed() -> None:
    forced = RefUpdate(A, B, "refs/heads/main")
    delete = RefUpdate(A, ZERO, "refs/heads/main")
    refused = decide_push([forced], PushPolicy(), {forced.ref: False})
    assert refused.deploy is None
    assert refused.refused == [
        (forced, "a force push of the deploy branch is refused: pull, merge or rebase onto it, "
                 "and push again"),
    ]  # fmt: skip
    assert decide_push([forced], PushPolicy(allow_force_push=True), {}).deploy == forced
    assert decide_push([delete], PushPolicy(), {}).refused[0][1] == (
        "deleting the deploy branch is refused (the app keeps running)"
    )
    allowed = decide_push([delete], PushPolicy(allow_delete=True), {})
    assert (allowed.delete, allowed.deploy, allowed.refused) == (delete, None, [])


def test_other_refs_are_refused_and_so_the_whole_push() -> None:
    main = RefUpdate(ZERO, A, "refs/heads/main")
    feature = RefUpdate(ZERO, A, "refs/heads/feature")
    tag = RefUpdate(ZERO, A, "refs/tags/v1")
    off = PushPolicy(deploy_branches=("main",), review_apps=False)
    decision = decide_push([main, feature, tag], off, {})
    assert decision.deploy is None
    assert [u for u, _ in decision.refused] == [feature, tag]
    assert decision.refused[0][1] == "only the deploy branch (`main`) is taken; review apps are off"
    assert decision.refused[1][1] == "only branches are taken (no tags or other refs)"
    both = decide_push([main, RefUpdate(ZERO, A, "refs/heads/master")], PushPolicy(), {})
    assert [reason for _, reason in both.refused] == ["push one branch at a time"] * 2
    mixed = decide_push([main, feature], PushPolicy(), {})
    assert [reason for _, reason in mixed.refused] == ["push one branch at a time"] * 2


def test_another_branch_is_a_review_app_and_its_delete_destroys_it() -> None:
    feature = RefUpdate(A, B, "refs/heads/feature")
    taken = decide_push([feature], PushPolicy(), {feature.ref: False})  # a force push too
    assert (taken.review, taken.deploy, taken.refused) == (feature, None, [])
    gone = RefUpdate(A, ZERO, "refs/heads/feature")
    deleted = decide_push([gone], PushPolicy(), {})
    assert (deleted.review_delete, deleted.delete, deleted.refused) == (gone, None, [])


def test_the_receiver_config_is_checked_with_its_place() -> None:
    config = config_from_data(
        {"deploy_branches": ["trunk"], "apps": {"loose": {"allow_force_push": True}}}
    )
    assert config.policy_for("x") == PushPolicy(("trunk",))
    assert config.policy_for("loose") == PushPolicy(("trunk",), allow_force_push=True)
    for bad, message in [
        ({"pipline": "x:y"}, "receiver config: unknown key `pipline`."),
        ({"pipeline": "x"}, "`x` is not a pipeline: name it as `module:function`."),
        ({"apps": {"Bad": {}}}, "receiver config.apps: `Bad` is not an app name"),
        (
            {"apps": {"ok": {"allow_delete": "yes"}}},
            "receiver config.apps.ok.allow_delete: must be",
        ),
        ({"deploy_branches": ["-x"]}, "receiver config.deploy_branches: must be a list"),
    ]:
        with pytest.raises(UsageError) as error:
            config_from_data(bad)
        assert error.value.message.startswith(message)


def test_the_remote_url_never_holds_a_token() -> None:
    assert remote_url("https://git.example.com/", "hello") == "https://git.example.com/hello.git"
    assert remote_url("http://localhost:8022", "a") == "http://localhost:8022/a.git"
    for bad in ("https://paas:tok@git.example.com", "ftp://x", "git.example.com", "https://x/?a=1"):
        with pytest.raises(UsageError):
            remote_url(bad, "hello")
