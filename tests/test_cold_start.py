"""A container's first callback pays for no library it does not need: zhconv's table is read without
`pkg_resources` (which cost ~80 ms on first use), checked in a fresh interpreter; it builds one botocore
session and one client per service, reads a cold account in one request, and Lambda's init phase (only
there) builds the clients before it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_traditional_input_is_converted_without_importing_pkg_resources():
    script = ("import sys\n"
              "from chalicelib.domain.text import normalise\n"
              "assert normalise('後天有沒有餃子　ＯＫ') == '后天有没有饺子 OK', normalise('後天有沒有餃子　ＯＫ')\n"
              "assert 'pkg_resources' not in sys.modules\n"
              "import pkg_resources  # still importable afterwards: only zhconv's own import was spared it\n")
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", script], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr


# ---- a container's AWS clients and its first reads (issue #18) --------------------------------------------

def test_every_model_the_unit_of_work_ssm_and_sqs_share_one_session_and_one_dynamodb_client(aws):
    from chalicelib import queues
    from chalicelib.secrets import secret_store
    from chalicelib.store.base import shared_session, transaction_connection
    from chalicelib.store.registry import ALL_MODELS, connect_all

    connect_all()
    clients = {id(model._get_connection().connection.client) for model in ALL_MODELS}
    clients.add(id(transaction_connection().client))
    assert len(clients) == 1
    secret_store().connect()
    queues.connect()
    made = sorted(c.meta.service_model.service_name for c in shared_session()._clients.values())
    assert made == ["dynamodb", "sqs", "ssm"]
    assert ALL_MODELS[0]._get_connection().connection.session is shared_session()


def test_a_cold_account_is_read_with_its_prefix_and_rules_in_one_request(seed):
    from chalicelib.store import ports
    from chalicelib.store.accounts import Account
    from chalicelib.store.base import shared_session
    from chalicelib.store.org import Community, District
    from chalicelib.store.registry import connect_all

    connect_all()
    calls: list[str] = []
    client = Account._get_connection().connection.client
    client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    for account_id in ("xianggang-huayuan", "wei-shinan"):
        ports.ACCOUNT_CACHE.clear()
        ports.RULES_CACHE.clear()
        calls.clear()
        account = ports.gateway_account(account_id)
        rules = ports.account_rules(account_id)
        assert calls == ["BatchGetItem"], (account_id, calls)
        stored = Account.get(account_id)
        prefix = Community.get(stored.community_id).code if stored.community_id else District.get("shinan").code
        assert (account.view.account_id, account.view.request_prefix, account.appid) == \
            (account_id, prefix, stored.appid)
        assert rules and rules == ports.account_rules(account_id)
    ports.ACCOUNT_CACHE.clear()
    calls.clear()
    assert ports.gateway_account("no-such-account") is None and calls == ["BatchGetItem"]
    assert shared_session() is Account._get_connection().connection.session


def test_a_batch_read_asks_again_for_unprocessed_keys_and_fails_as_a_get_does(seed, monkeypatch):
    import pytest
    from botocore.exceptions import ClientError
    from pynamodb.exceptions import GetError

    from chalicelib.store.accounts import Account
    from chalicelib.store.base import batch_get_across
    from chalicelib.store.org import Community

    connection = Account._get_connection().connection
    real = connection.dispatch
    asked: list[dict] = []

    def first_unprocessed(operation, kwargs):
        asked.append(kwargs["RequestItems"])
        if len(asked) == 1:
            return {"Responses": {}, "UnprocessedKeys": kwargs["RequestItems"]}
        return real(operation, kwargs)

    monkeypatch.setattr(type(connection), "dispatch", lambda self, op, kw: first_unprocessed(op, kw))
    found = batch_get_across({Account: ["xianggang-huayuan", "xianggang-huayuan"], Community: ["xianggang-huayuan"]})
    assert len(asked) == 2 and [a.account_id for a in found[Account]] == ["xianggang-huayuan"]
    assert [c.community_id for c in found[Community]] == ["xianggang-huayuan"]

    def throttled(self, op, kw):
        asked.append(kw)
        return {"Responses": {}, "UnprocessedKeys": kw["RequestItems"]}

    monkeypatch.setattr(type(connection), "dispatch", throttled)
    asked.clear()
    with pytest.raises(GetError):  # throttled throughout: the callback parks instead of waiting on
        batch_get_across({Account: ["xianggang-huayuan"]})
    assert len(asked) == 3

    def refused(self, op, kw):
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}}, op)

    monkeypatch.setattr(type(connection), "dispatch", refused)
    with pytest.raises(GetError):
        batch_get_across({Account: ["xianggang-huayuan"]})


def test_the_init_warm_up_builds_the_clients_only_in_lambda(seed):
    from chalicelib import bootstrap
    from chalicelib.domain import patterns, rules
    from chalicelib.store import base, ports
    from chalicelib.store.registry import ALL_MODELS

    from tests.conftest import reset_connections

    reset_connections()  # the seed built clients: a container starts without any
    bootstrap.warm_up()  # not in Lambda (no AWS_LAMBDA_FUNCTION_NAME): nothing
    assert not base._shared and all(m._connection is None for m in ALL_MODELS)
    bootstrap.warm_up(force=True)
    made = sorted(c.meta.service_model.service_name for c in base.shared_session()._clients.values())
    assert made == ["dynamodb", "sqs", "ssm"] and all(m._connection is not None for m in ALL_MODELS)
    assert bootstrap.WARM_UP_SECONDS[0] > 0
    assert ("resident_limits", "shinan") in ports.RULES_CACHE._entries
    # What a first request would otherwise pay for: the platform's patterns and the rules' own compiled,
    # the callback's thread started, the AES envelope loaded, and its AWS calls rehearsed offline.
    assert all(p._compiled is not None for p in patterns._DECLARED if p.pattern != r"(unbalanced")
    before = rules._regex.cache_info()
    rules.compile_regexes(rules.SYSTEM_RULES + rules.DEFAULT_RULES)
    assert rules._regex.cache_info().misses == before.misses
    assert bootstrap.CALLBACK_POOL._threads
    assert ports.ACCOUNT_CACHE.peek(("account", "jiangsu-lu")) is not None  # the small district, read whole
    assert "cryptography.hazmat.primitives.ciphers" in sys.modules


def run_fresh(script: str) -> None:
    """`script` in a fresh interpreter outside Lambda; it must succeed."""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "STAGE": "test", "AWS_DEFAULT_REGION": "cn-north-1"})
    assert done.returncode == 0, done.stderr


def test_import_app_outside_lambda_builds_no_aws_client():
    script = ("import app\n"
              "from chalicelib import bootstrap\n"
              "from chalicelib.store import base\n"
              "assert not base._shared and bootstrap.WARM_UP_SECONDS == [0.0], base._shared\n")
    run_fresh(script)


def test_stored_rules_that_do_not_parse_fail_where_they_always_did_not_in_the_account_lookup(seed):
    import pytest

    from chalicelib.store import ports
    from chalicelib.store.rules import RuleSet

    RuleSet(account_id="xianggang-huayuan", rules="not json").save()
    ports.ACCOUNT_CACHE.clear()
    ports.RULES_CACHE.clear()
    assert ports.gateway_account("xianggang-huayuan").view.account_id == "xianggang-huayuan"
    with pytest.raises(ValueError):
        ports.account_rules("xianggang-huayuan")


def test_the_collector_is_off_while_the_platform_loads_and_on_once_app_is_imported():
    script = ("import gc\n"
              "from chalicelib import libraries\n"
              "assert not gc.isenabled() and gc.get_freeze_count() > 10_000\n"
              "frozen = gc.get_freeze_count()\n"
              "import app\n"
              "assert gc.isenabled() and gc.get_freeze_count() > frozen, (gc.isenabled(), gc.get_freeze_count())\n"
              "garbage = [[]]; garbage[0].append(garbage)  # a cycle\n"
              "del garbage\n"
              "assert gc.collect() >= 1\n")
    run_fresh(script)


# ---- the canteen rides with the account; Lambda's init phase rehearses the callback ------------------------

def _dynamodb_calls() -> list[str]:
    from chalicelib.store.accounts import Account
    from chalicelib.store.registry import connect_all

    connect_all()
    calls: list[str] = []
    client = Account._get_connection().connection.client
    client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    return calls


def test_a_cold_menu_question_reads_the_canteen_and_three_days_of_menus_in_one_request(seed):
    from datetime import datetime, timedelta, timezone

    from chalicelib import clock
    from chalicelib.domain.dates import local_date
    from chalicelib.store import ports
    from chalicelib.store.canteen_store import save_menu
    from chalicelib.store.org import Community

    now = datetime(2030, 6, 3, 1, 30, tzinfo=timezone.utc)  # 09:30 in Shanghai, past the seed's menus
    clock.set_clock(now)
    today = local_date(now)
    lunch = {"lunch": {"dishes": [{"name": "梅菜扣肉", "price_fen": 1200}]}}
    save_menu("xianggang-huayuan-canteen", today + timedelta(days=1), lunch, True, "test", now)
    save_menu("xianggang-huayuan-canteen", today + timedelta(days=2), lunch, False, "test", now)  # a draft
    save_menu("xianggang-huayuan-canteen", today + timedelta(days=3), lunch, True, "test", now)
    calls = _dynamodb_calls()
    port = ports.DynamoPorts()
    ports.ACCOUNT_CACHE.clear()
    ports.RULES_CACHE.clear()
    assert ports.gateway_account("xianggang-huayuan") is not None and calls == ["BatchGetItem"]
    canteen = port.canteen_for("xianggang-huayuan")
    assert canteen.canteen_id == "xianggang-huayuan-canteen" and calls == ["BatchGetItem", "BatchGetItem"]
    assert port.menu(canteen.canteen_id, today) is None  # none saved for today
    assert port.menu(canteen.canteen_id, today + timedelta(days=1)) == lunch
    assert port.menu(canteen.canteen_id, today + timedelta(days=2)) is None  # a draft is not shown
    assert calls == ["BatchGetItem", "BatchGetItem"]  # the three days came with the canteen
    assert port.menu(canteen.canteen_id, today + timedelta(days=3)) == lunch
    assert calls[2:] == ["GetItem"]

    # A community without a canteen: known from its item, so nothing more is read.
    without = next(c["id"] for c in seed.records("communities")
                   if c["id"] not in {k["community_id"] for k in seed.records("canteens")})
    ports.ACCOUNT_CACHE.clear()
    calls.clear()
    assert ports.gateway_account(without) is not None and port.canteen_for(without) is None
    assert calls == ["BatchGetItem"]

    # An item written before communities named their canteen: the index is read, with the same answer.
    Community.get("xianggang-huayuan").update(actions=[Community.canteen_id.remove()])
    ports.ACCOUNT_CACHE.clear()
    calls.clear()
    ports.gateway_account("xianggang-huayuan")
    assert port.canteen_for("xianggang-huayuan") == canteen and calls == ["BatchGetItem", "Query"]


def test_the_seed_names_each_community_s_serving_canteen(seed):
    from chalicelib.domain.canteen import serving_canteen
    from chalicelib.store.org import Community

    assert serving_canteen([("b-point", "elder_meal_point"), ("c-canteen", "community_canteen"),
                            ("a-canteen", "community_canteen")]) == "a-canteen"
    assert serving_canteen([("b-point", "elder_meal_point")]) == "b-point" and serving_canteen([]) is None
    for community in seed.records("communities"):
        own = [(c["id"], c["kind"]) for c in seed.records("canteens") if c["community_id"] == community["id"]]
        assert Community.get(community["id"]).canteen_id == (serving_canteen(own) or "")


def test_the_rehearsal_sends_nothing_and_leaves_other_threads_calls_alone(seed_on_server):
    """Against the laptop's moto server (over HTTP: moto in-process would see every call anyway)."""
    import threading

    import botocore.endpoint

    from chalicelib.secrets import secret_store
    from chalicelib.store import rehearsal
    from chalicelib.store.accounts import Account

    sent: list[str] = []
    original = botocore.endpoint.Endpoint._send

    def counting(self, request):
        sent.append(request.url)
        return original(self, request)

    botocore.endpoint.Endpoint._send = counting
    try:
        ssm = secret_store().connect()
        assert rehearsal.rehearse_callback(ssm) == ["BatchGetItem", "Query", "GetItem", "TransactWriteItems",
                                                   "GetParameters"]
        assert sent == []
        client = Account._get_connection().connection.client
        other: list = []
        with rehearsal.offline(client) as answered:
            worker = threading.Thread(target=lambda: other.append(Account.get("xianggang-huayuan").name))
            worker.start()
            worker.join()
            assert Account.count("~rehearsal") == 0
        assert answered == ["Query"] and other and len(sent) == 1  # the other thread's GetItem went out
        assert Account.get("xianggang-huayuan").name == other[0] and len(sent) == 2  # and now this one's
    finally:
        botocore.endpoint.Endpoint._send = original


def test_a_small_district_is_read_whole_at_init_as_each_account_s_own_read_would_have_cached_it(seed, monkeypatch):
    from chalicelib.store import ports

    accounts = [a["id"] for a in seed.records("accounts")]
    expected = {}
    for account_id in accounts:  # what each account's own cold read gives
        ports.ACCOUNT_CACHE.clear()
        ports.RULES_CACHE.clear()
        expected[account_id] = (ports.gateway_account(account_id), ports.account_rules(account_id),
                                ports.ACCOUNT_CACHE.peek(("serving_canteen", account_id)))
    ports.ACCOUNT_CACHE.clear()
    ports.RULES_CACHE.clear()
    calls = _dynamodb_calls()
    assert ports.preload_district("shinan") == len(accounts) == 66
    assert calls == ["Query", "Query", "BatchGetItem"]
    for account_id in accounts:
        assert (ports.gateway_account(account_id), ports.account_rules(account_id),
                ports.ACCOUNT_CACHE.peek(("serving_canteen", account_id))) == expected[account_id], account_id
    assert calls == ["Query", "Query", "BatchGetItem"]  # every account was at hand

    # A larger district is left to each account's own read: the first page shows it.
    ports.ACCOUNT_CACHE.clear()
    ports.RULES_CACHE.clear()
    monkeypatch.setattr(ports, "PRELOADED_ACCOUNTS", 10)
    calls.clear()
    assert ports.preload_district("shinan") == 0 and calls == ["Query"] and len(ports.ACCOUNT_CACHE) == 0
