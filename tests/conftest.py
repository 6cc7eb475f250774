"""Test set-up: a fake AWS (moto's mock_aws) with fresh tables for every test that asks for `aws`."""
from __future__ import annotations

import os
import urllib.request

# The environment is fixed before any platform module is imported: models read table names once.
for _var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
    os.environ.pop(_var, None)
os.environ.update({
    "AWS_DEFAULT_REGION": "cn-north-1",
    "AWS_REGION": "cn-north-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "STAGE": "test",
    "APP_VERSION": "test",
    "SSM_PREFIX": "/wechat-alliance/test",
    "WECHAT_API_BASE": "http://wechat.invalid",
    "ARGON2_PROFILE": "CHEAPEST",
    "LOGIN_RATE_PER_ADDRESS": "10000",  # every test client is 127.0.0.1 on a fixed clock; test_auth checks the limit
})

import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402

from chalicelib import bootstrap, config, queues, secrets  # noqa: E402
from chalicelib.queues import create_queues  # noqa: E402
from chalicelib.store.registry import ALL_MODELS, create_tables  # noqa: E402
from chalicelib.store import ports  # noqa: E402
from chalicelib.store.base import forget_session, transaction_connection  # noqa: E402
from chalicelib.wechat import client as wechat_client  # noqa: E402


def reset_connections() -> None:
    """Drop every client and cache built per container, so that each test talks to its own fake AWS."""
    for model in ALL_MODELS:
        model._connection = None
    secrets._STORE = None
    for cached in (config.settings, queues._sqs, queues.queue_url,
                   wechat_client.token_store, transaction_connection):
        cached.cache_clear()
    ports.ACCOUNT_CACHE.clear()
    bootstrap.reset()
    ports.RULES_CACHE.clear()
    forget_session()


@pytest.fixture
def aws():
    with mock_aws():
        reset_connections()
        create_tables()
        create_queues()
        yield
    reset_connections()


@pytest.fixture
def moto_server(monkeypatch):
    """A moto server on a free port (the laptop's AWS endpoint), for tests where threads race."""
    from local.aws_endpoint import start_in_thread

    server, url = start_in_thread()
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    reset_connections()
    create_tables()
    create_queues()
    yield url
    server.shutdown()
    server.server_close()
    reset_connections()


@pytest.fixture
def wechat(monkeypatch, tmp_path):
    """The WeChat API emulator on a free port, with the demo accounts; WECHAT_API_BASE points at it."""
    from local import seed as seed_module
    from local.wechat_emulator import start_in_thread

    accounts = seed_module.read().data["accounts"]
    server, base_url = start_in_thread(port=0, accounts=accounts, log_path=tmp_path / "wechat-api.jsonl")
    monkeypatch.setenv("WECHAT_API_BASE", base_url)
    config.settings.cache_clear()
    yield server.emulator
    server.shutdown()
    server.server_close()
    config.settings.cache_clear()


@pytest.fixture
def seed(aws):
    """The demo district loaded into the fake AWS."""
    from local import seed as seed_module

    data = seed_module.read(seed_module.DEFAULT_SEED)
    seed_module.load(data)
    return data


@pytest.fixture
def seed_on_server(moto_server):
    """The demo district loaded into the moto server."""
    from local import seed as seed_module

    data = seed_module.read(seed_module.DEFAULT_SEED)
    seed_module.load(data)
    return data


@pytest.fixture
def morning(monkeypatch):
    """The platform's clock fixed at 09:00 Shanghai today (orders for tomorrow are open), whatever the
    hour the tests run. The replay window is off, as callbacks are still signed with the real time."""
    from datetime import datetime, time as clock_time, timezone

    from chalicelib import clock

    from chalicelib.domain import dates

    import itertools
    from datetime import timedelta

    fixed = datetime.combine(datetime.now(dates.SHANGHAI).date(), clock_time(9, 0), tzinfo=dates.SHANGHAI)
    ticks = itertools.count()  # the clock moves a millisecond a reading, so events keep their order
    clock.set_clock(lambda: (fixed + timedelta(milliseconds=next(ticks))).astimezone(timezone.utc))
    monkeypatch.setenv("WECHAT_REPLAY_WINDOW_S", "0")
    config.settings.cache_clear()
    yield fixed
    clock.reset()
    config.settings.cache_clear()


@pytest.fixture(autouse=True)
def _real_clock():
    """Every test starts and ends on the real clock (a test may fix it with `clock.set_clock`)."""
    from chalicelib import clock

    clock.reset()
    yield
    clock.reset()


@pytest.fixture
def http(seed, morning):
    """The platform through Chalice's test client, on the demo district at 09:00 Shanghai (a test module
    may define its own `http`)."""
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="test") as client:
        yield client.http
