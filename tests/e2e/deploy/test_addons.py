"""End to end: a Postgres and a Redis add-on attached to a pushed app, on the testbed.

The app (tests/fixtures/apps/python-addons) is built in the cluster by the
paas builder, psycopg2 compiled against libpq; the add-ons run the testbed's
images built from Debian's packages (`paas cluster init --addon-image`).

NetworkPolicy: the testbed's network plugin (the CNI bridge) does not enforce
NetworkPolicy, so no test here claims an unattached app is kept out; the
policy is only shown accepted by the API server as rendered.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from deploy_helpers import REPO, Images, Paas, get, wait_for_body
from test_deploy_more import kube, kube_json, pushed, wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]

FIXTURE = REPO / "tests" / "fixtures" / "apps" / "python-addons"


def test_postgres_and_redis_addons_serve_the_app_and_keep_rows_across_a_restart(
    paas: Paas,
    builder: str,
    tmp_path: Path,
    app: str,
    kubectl: list[str],
    images: Images,
    app_dir: Path,
) -> None:
    del builder  # the paas builder is in the registry
    source = tmp_path / "python-addons"
    shutil.copytree(FIXTURE, source)
    first = paas("push", str(source), "--app", app, "--strategy", "cluster", timeout=900)
    assert first.returncode == 0, first.stderr[-4000:]
    wait_for_body(app, "no database release=v1", timeout=120)

    db = f"{app}-db"
    began = time.monotonic()
    created = paas("addons:create", "postgres", "--name", db, "--app", app, timeout=400)
    took = time.monotonic() - began
    assert created.returncode == 0, created.stderr[-4000:]
    assert f"Waiting for add-on `{db}`" in created.stderr
    assert f"Created add-on `{db}` (postgres, plan small)." in created.stderr
    assert f"Released v2: Attach {db} as DATABASE_URL." in created.stderr
    print(f"addons create postgres -> DATABASE_URL on every pod: {took:.1f}s")
    url = paas("config", "get", "DATABASE_URL", "--app", app, check=True).stdout.strip()
    assert url.startswith(f"postgres://{db}:")
    assert url.endswith(f"@{db}.{app}.svc:5432/{db}")
    password = url.split(":")[2].split("@")[0]
    assert password not in created.stdout + created.stderr  # never printed
    # The URL lives in Secrets only: no ConfigMap or pod spec of the app holds it.
    assert (
        password not in kube(kubectl, "-n", app, "get", "configmap,deployment", "-o", "json").stdout
    )

    assert "rows=alpha" in get(app, "/add/alpha", timeout=30).text
    assert "rows=alpha,beta release=v2" in get(app, "/add/beta", timeout=30).text

    # The add-on's pod goes away and comes back on its volume: no row is lost.
    kube(kubectl, "-n", app, "delete", "pod", f"{db}-0", "--wait=true")

    def ready() -> bool:
        info = paas("addons", "info", db, "--json")
        return info.returncode == 0 and json.loads(info.stdout)["addon"]["state"] == "ready"

    wait_until("the add-on's pod to be ready again", ready, 180)
    wait_for_body(app, "rows=alpha,beta release=v2", timeout=60)

    # Redis beside it: REDIS_URL set as the next release, a value round-trips.
    redis = paas("addons", "create", "redis", "--app", app, timeout=400)
    assert redis.returncode == 0, redis.stderr[-4000:]
    assert "Attach redis-" in redis.stderr
    assert "as REDIS_URL" in redis.stderr
    names = paas("config", "--json", "--app", app, check=True)
    assert set(json.loads(names.stdout)["config"]) >= {"DATABASE_URL", "REDIS_URL"}
    assert get(app, "/redis/gamma", timeout=30).text.startswith("redis=gamma ")

    listed = json.loads(paas("addons", "--app", app, "--json", check=True).stdout)["addons"]
    assert sorted(a["type"] for a in listed) == ["postgres", "redis"]
    assert {(a["app"], a["provider"]) for a in listed} == {(app, "builtin")}

    # Bad input on the cluster: each a clear error, nothing made or lost.
    taken = paas("addons", "create", "redis", "--name", db, "--as", "CACHE", "--app", app)
    assert taken.returncode == 2
    assert f"error: add-on name `{db}` is taken" in taken.stderr
    again = paas("addons", "create", "postgres", "--app", app)
    assert again.returncode == 2
    assert "error: config var `DATABASE_URL` is set on" in again.stderr
    unconfirmed = paas("addons", "destroy", db)
    assert unconfirmed.returncode == 2
    assert f"destroying add-on `{db}` deletes its data (it is attached to `{app}`)" in (
        unconfirmed.stderr
    )
    after = json.loads(paas("addons", "--app", app, "--json", check=True).stdout)["addons"]
    assert len(after) == 2
    assert "rows=alpha,beta" in get(app, timeout=30).text

    # The NetworkPolicy as rendered: accepted by the API server (a server-side dry run),
    # admitting the app's pods only. NOT enforced: the testbed's CNI bridge ignores it.
    policy = kube_json(kubectl, "-n", app, "get", "networkpolicy", db)
    (rule,) = policy["spec"]["ingress"]
    assert rule["from"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": app}},
            "podSelector": {"matchLabels": {"paas.dev/app": app}},
        }
    ]
    policy["metadata"] = {"name": db, "namespace": app}
    dry = tmp_path / "policy.json"
    dry.write_text(json.dumps(policy))
    kube(kubectl, "apply", "--server-side", "--dry-run=server", "-f", str(dry))

    # Attached to a second app (in its own namespace) under another name, then detached.
    other = f"{app}-b"
    try:
        pushed(paas, app_dir, other, images.v1)
        attached = paas("addons:attach", db, "--app", other, "--as", "MAIN_DB", timeout=300)
        assert attached.returncode == 0, attached.stderr[-4000:]
        assert f"Released v2: Attach {db} as MAIN_DB_URL." in attached.stderr
        assert (
            paas("config", "get", "MAIN_DB_URL", "--app", other, check=True).stdout.strip() == url
        )
        sources = kube_json(kubectl, "-n", app, "get", "networkpolicy", db)["spec"]["ingress"][0]
        assert [s["podSelector"]["matchLabels"]["paas.dev/app"] for s in sources["from"]] == [
            app,
            other,
        ]
        info = json.loads(paas("addons", "info", db, "--json", check=True).stdout)["addon"]
        assert info["attachments"] == [
            {"app": app, "config_var": "DATABASE_URL"},
            {"app": other, "config_var": "MAIN_DB_URL"},
        ]
        detached = paas("addons", "detach", db, "--app", other, timeout=300)
        assert detached.returncode == 0, detached.stderr[-4000:]
        assert f"Released v3: Detach {db} (MAIN_DB_URL)." in detached.stderr
        left_config = json.loads(paas("config", "--json", "--app", other, check=True).stdout)
        assert "MAIN_DB_URL" not in left_config["config"]
        rule = kube_json(kubectl, "-n", app, "get", "networkpolicy", db)["spec"]["ingress"][0]
        assert len(rule["from"]) == 1
    finally:
        paas("apps", "destroy", other, "--confirm", other, timeout=120)

    destroyed = paas("addons", "destroy", db, "--confirm", db, timeout=400)
    assert destroyed.returncode == 0, destroyed.stderr[-4000:]
    assert f"Destroyed add-on `{db}` and its data." in destroyed.stderr
    config = json.loads(paas("config", "--json", "--app", app, check=True).stdout)["config"]
    assert "DATABASE_URL" not in config
    assert "REDIS_URL" in config
    left = kube(kubectl, "-n", app, "get", "statefulset,pvc,secret", "-o", "name").stdout
    assert db not in left
