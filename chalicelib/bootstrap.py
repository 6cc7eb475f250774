"""The composition root (组装根): which adapters this process uses, built lazily, swapped by tests.

Services reach the outside world only through here:

    from chalicelib import bootstrap
    bootstrap.ports().policy(...)                  # reads (domain.ports.Ports)
    bootstrap.unit_of_work().commit(...)           # writes, exactly once, then the outbox is published
    bootstrap.now()                                # the one clock (chalicelib.clock)
    bootstrap.wechat(account_id)                   # the account's WeChat API client

In a Lambda container each is built on first use and kept for the container's life. Tests swap any of
them with `override(ports=FakePorts(), unit_of_work=FakeUnitOfWork())` (a context manager) — see
`tests/fakes.py` — so services and domain rules run without moto.
"""
from __future__ import annotations

import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Callable, Iterator

from botocore.exceptions import BotoCoreError
from pynamodb.exceptions import PynamoDBException

from chalicelib import clock, log, queues
from chalicelib.config import settings
from chalicelib.domain.ports import Ports, UnitOfWork
from chalicelib.domain.patterns import compile_all as compile_patterns
from chalicelib.domain.records import record
from chalicelib.domain.rules import DEFAULT_RULES, SYSTEM_RULES, compile_regexes
from chalicelib.domain.text import normalise
from chalicelib.queues import publish_outbox as queues_publish_outbox
from chalicelib.secrets import SecretStore, secret_store
from chalicelib.store import (
    alliance_store,
    canteen_store,
    org_store,
    outbox as outbox_store,
    partners as partner_store,
    request_store,
    staff_store,
    stats as stats_store,
)
from chalicelib.auth import deployment, passwords as staff_passwords
from chalicelib.store import posts as post_store
from chalicelib.store import bulletins as bulletin_store
from chalicelib.store.ports import DynamoPorts
from chalicelib.store.registry import connect_all
from chalicelib.store.rehearsal import rehearse_callback
from chalicelib.store.unit_of_work import DynamoUnitOfWork
from chalicelib.wechat.client import TRANSPORT_ERRORS, WeChatApiError, client_for
from chalicelib.wechat.datacube import WeChatDataCube
from chalicelib.wechat.protocol import rehearse_envelope

_built: dict[str, Any] = {}
# The container's threads for a callback's work under its budget (`services.chat.within_budget`); made once
# per process (not by `reset`), started by the first callback or by Lambda's init phase (`warm_up`).
CALLBACK_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="callback")
_overrides: dict[str, Any] = {}


def _get(name: str, build: Callable[[], Any]) -> Any:
    if name in _overrides:
        return _overrides[name]
    if name not in _built:
        _built[name] = build()
    return _built[name]


def ports() -> Ports:
    return _get("ports", DynamoPorts)


def unit_of_work() -> UnitOfWork:
    return _get("unit_of_work", lambda: DynamoUnitOfWork(publish=publish_outbox))


def secrets() -> SecretStore:
    """Account secrets from SSM (cached per container)."""
    return _overrides.get("secrets") or secret_store()


def storage_errors() -> tuple[type[BaseException], ...]:
    """What the store raises when DynamoDB fails (as opposed to a condition saying no)."""
    return _overrides.get("storage_errors") or (PynamoDBException, BotoCoreError)


def requests():
    """The 便民纸条 repository for staff views (lists, one request, timeline, contact, counts)."""
    return _overrides.get("requests") or request_store


def canteens():
    """Menus and delivery lists (`store.canteen_store`)."""
    return _overrides.get("canteens") or canteen_store


def directory():
    """Communities, teams, canteens and staff of the organisation (`store.org_store`)."""
    return _overrides.get("directory") or org_store


def partners():
    """Open311 partners by API key (`store.partners`)."""
    return _overrides.get("partners") or partner_store


def posts():
    """Publishing: posts, their history, the accounts' days, the check policy, staff notices (`store.posts`)."""
    return _overrides.get("posts") or post_store


def alliance():
    """The alliance's repository: matrix, activities, suggestions, consultations, menus, rules
    (`store.alliance_store`)."""
    return _overrides.get("alliance") or alliance_store


def staff():
    """People: staff accounts, their audit trail, teams, WeChat binding, alert entries (`store.staff_store`)."""
    return _overrides.get("staff") or staff_store


def passwords():
    """Staff password hashing (`auth.passwords`, argon2 loaded on first use)."""
    return _overrides.get("passwords") or staff_passwords


def now() -> datetime:
    return clock.now()


def wechat(account_id: str):
    """The account's WeChat API client (wechatpy, loaded on first use in `chalicelib.wechat.client`)."""
    factory = _overrides.get("wechat")
    if factory is not None:
        return factory(account_id)
    return client_for(account_id)


@record
class WeChatErrors:
    api: type[BaseException]  # WeChat answered with an errcode (`.errcode`, `.errmsg`)
    transport: tuple[type[BaseException], ...]  # no answer: the call may or may not have taken effect


def wechat_errors() -> WeChatErrors:
    return _overrides.get("wechat_errors") or WeChatErrors(WeChatApiError, TRANSPORT_ERRORS)


def stats():
    """Daily statistics per account (`store.stats`)."""
    return _overrides.get("stats") or stats_store


def bulletins():
    """The monthly bulletin: versions, appeals, month counters and the reads it makes (`store.bulletins`)."""
    return _overrides.get("bulletins") or bulletin_store


def datacube(account_id: str):
    """The account's WeChat datacube (`domain.statistics.DataCube`)."""
    factory = _overrides.get("datacube")
    return factory(account_id) if factory is not None else WeChatDataCube(account_id)


def send(queue: str, bodies) -> int:
    """Send JSON messages to a queue in batches of ten (`chalicelib.queues`)."""
    return (_overrides.get("send") or queues.send)(queue, bodies)


def fan_out(queue: str, bodies) -> int:
    """Send many messages to a queue, in shards past 1,000 so no invocation sends more than ~100 batches
    (`chalicelib.queues.fan_out`)."""
    return (_overrides.get("fan_out") or _overrides.get("send") or queues.fan_out)(queue, bodies)


def outbox():
    """The outbox worker's repository (`store.outbox`)."""
    return _overrides.get("outbox") or outbox_store


def publish_outbox(outbox_ids: list[str]) -> None:
    """Hand committed outbox items to the queue (logged, never raised: the redrive job covers SQS failing)."""
    (_overrides.get("publish_outbox") or queues_publish_outbox)(outbox_ids)


@contextmanager
def override(**fakes: Any) -> Iterator[None]:
    """Use fakes for some adapters inside the block: `ports`, `unit_of_work`, `wechat` (a factory),
    `secrets`, `storage_errors`, `clock` (a datetime or a function)."""
    unknown = set(fakes) - {"ports", "unit_of_work", "wechat", "clock", "secrets", "storage_errors", "requests",
                            "canteens", "directory", "partners", "outbox", "wechat_errors",
                            "publish_outbox", "stats", "datacube", "send", "posts", "alliance",
                            "staff", "passwords", "bulletins"}
    if unknown:
        raise TypeError(f"unknown adapters: {sorted(unknown)}")
    saved = dict(_overrides)
    fixed_clock = fakes.pop("clock", None)
    _overrides.update(fakes)
    if fixed_clock is not None:
        clock.set_clock(fixed_clock)
    try:
        yield
    finally:
        _overrides.clear()
        _overrides.update(saved)
        if fixed_clock is not None:
            clock.reset()


def reset() -> None:
    """Forget every adapter built in this process (tests: each gets a fresh fake AWS)."""
    _built.clear()


WARM_UP_SECONDS = [0.0]  # how long this container's warm-up took (bench/scale.py reports it)
LOG = log.get_logger("bootstrap")


def warm_up(force: bool = False) -> None:
    """Lambda's init phase (初始化预热): build what a container's first request would otherwise build.

    Lambda runs a container's init phase (the import of app.py) once, before its first invocation, and AWS
    advises creating SDK clients there. In Lambda (AWS_LAMBDA_FUNCTION_NAME set), or with `force`, this
    makes the container's one botocore session and its DynamoDB, SSM and SQS clients, gives every model its
    connection to the shared DynamoDB client, loads zhconv's table (normalising traditional text), runs
    the deployed stage's key check that every request passes (`auth.deployment`: two SSM reads, cached per
    container) and reads the district's resident limits (cached like any request's; it also opens
    DynamoDB's connection), and a small district's accounts with their rules (`store.ports.preload_district`:
    Shinan's 66 in three reads). It also pays what a first callback would otherwise pay on top of any later
    one: the platform's regular expressions and the rules' own compiled, the callback's thread started,
    a safe-mode message's AES loaded (`wechat.protocol.rehearse_envelope`), and the callback's DynamoDB
    and SSM operations rehearsed offline (`store.rehearsal`: nothing is sent). Elsewhere it does nothing,
    so `import app` in tests, tools and bench/import_time.py stays cheap. A failure is logged and the
    first request builds what is missing, as it would without this.
    """
    if not (force or os.environ.get("AWS_LAMBDA_FUNCTION_NAME")):
        return
    started = time.perf_counter()
    try:
        connect_all()
        ssm = secret_store().connect()
        queues.connect()
        normalise("預熱")
        compile_patterns()  # the platform's regular expressions, and the default rules' (~10 ms of a first request)
        compile_regexes(SYSTEM_RULES + DEFAULT_RULES)
        CALLBACK_POOL.submit(int).result()  # the callback's first thread (its start waits on the interpreter)
        deployment.problems()
        ports().resident_limits(settings().district_id)  # a fact filing needs; opens DynamoDB's connection
        ports().preload_district(settings().district_id)  # a small district's accounts, in three reads
        rehearse_callback(ssm)  # the callback's operations, offline: their first use is paid here
        rehearse_envelope()  # a safe-mode message's AES, loaded here
    except Exception as exc:  # noqa: BLE001 - the first request builds the clients instead
        log.event(LOG, "init warm-up failed", logging.WARNING, error=f"{type(exc).__name__}: {exc}")
    WARM_UP_SECONDS[0] = time.perf_counter() - started
