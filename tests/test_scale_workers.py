"""What the queue workers cost per account, counted on botocore's calls (not timed): the daily-stats
worker reads the account's shared token once for its datacube calls, not once per call."""
from __future__ import annotations

import botocore.session
import pynamodb.connection.base
import pytest

import chalicelib.store.base  # noqa: F401 - installs the platform's session factory, which we wrap
from chalicelib.services import stats
from chalicelib.store import ports
from tests.conftest import reset_connections


@pytest.fixture
def dynamo_calls(monkeypatch):
    calls: list[tuple[str, str]] = []
    make_session = pynamodb.connection.base.get_session

    def counting_session() -> botocore.session.Session:
        session = make_session()
        session.register("before-parameter-build.dynamodb", lambda model, params, **_: calls.append(
            (model.name, params.get("TableName", ""))))
        return session

    monkeypatch.setattr(pynamodb.connection.base, "get_session", counting_session)
    reset_connections()
    return calls


def test_the_stats_worker_reads_the_token_once_per_account(dynamo_calls, seed, wechat):
    stats.collect({"account_id": "xianggang-huayuan", "day": "2026-11-26"})  # fetches the token: a lease
    ports.ACCOUNT_CACHE.clear()
    for account in ("jiangsu-lu", "xianggang-huayuan"):
        stats.collect({"account_id": account, "day": "2026-11-26"})
    dynamo_calls.clear()
    before = len(wechat.calls)
    stats.collect({"account_id": "xianggang-huayuan", "day": "2026-11-27"})  # warm: token stored, facts cached
    token_reads = [c for c in dynamo_calls if c[1].endswith("access_tokens")]
    assert [c[0] for c in token_reads] == ["GetItem"], dynamo_calls
    # the stored days (for the back-fill), the token, the day's figures, the headline of the day sent six days
    # before (refreshed with WeChat's seven-day totals)
    assert [c[0] for c in dynamo_calls] == ["Query", "GetItem", "PutItem", "UpdateItem"], dynamo_calls
    datacube = [c for c in list(wechat.calls)[before:] if c["path"].startswith("/datacube/")]
    assert len(datacube) >= 4 and len({c["query"]["access_token"] for c in datacube}) == 1  # one token, read once
