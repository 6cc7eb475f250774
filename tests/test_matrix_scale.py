"""The matrix search at scale: with 5,000 community entries (generated in the seed's shape by
`local.scale.matrix_entries`, written by `replace_all` with batch writes), a search on a cold container
costs at most 2 DynamoDB requests and 100 KB read — counted by a wrapper on botocore's calls and the
bytes of their responses, not timed — and finds what it should."""
from __future__ import annotations

import botocore.session
import pynamodb.connection.base
import pytest
from moto import mock_aws

import chalicelib.store.base  # noqa: F401 - installs the platform's session factory, which we wrap
from chalicelib.domain.matrix import MatrixIndex, search, search_reply, sort_entries
from chalicelib.store import ports
from chalicelib.store.matrix import MatrixPart, load_head, replace_all
from chalicelib.store.registry import ALL_MODELS, create_tables
from local.scale import matrix_entries
from tests.conftest import reset_connections

COMMUNITIES = 5_000
CALLS: list[str] = []
BYTES: list[int] = []


@pytest.fixture(scope="module")
def district():
    make_session = pynamodb.connection.base.get_session

    def counting_session() -> botocore.session.Session:
        session = make_session()
        session.register("before-call.dynamodb", lambda model, **_: CALLS.append(model.name))
        session.register("after-call.dynamodb",
                         lambda http_response, **_: BYTES.append(len(http_response.content or b"")))
        return session

    pynamodb.connection.base.get_session = counting_session
    with mock_aws():
        reset_connections()
        create_tables()
        entries = matrix_entries(COMMUNITIES)
        CALLS.clear()
        replace_all("scale", entries, "bench")
        writes = CALLS.count("BatchWriteItem")
        yield entries, writes
    reset_connections()
    pynamodb.connection.base.get_session = make_session


def cold() -> None:
    """A new container: no cached head or shard, no DynamoDB client."""
    ports.RULES_CACHE.clear()
    for model in ALL_MODELS:
        model._connection = None
    CALLS.clear()
    BYTES.clear()


@pytest.mark.parametrize("query, expected", [
    ("第1234社区", "第1234社区"), ("第4321", "第4321社区"), ("法官", "张玉法官工作室"), ("学校", "市南学校"),
    ("微博", "市南发布"), ("第7街道", "第7街道"), ("社区", None), ("湛山", None),
])
def test_a_cold_search_reads_at_most_2_requests_and_100_kb(district, query, expected):
    entries, _ = district
    cold()
    index = ports.DynamoPorts().matrix("scale", query)
    assert len(CALLS) <= 2 and sum(BYTES) <= 100_000, (CALLS, sum(BYTES))
    assert CALLS[0] == "GetItem"  # the head; then at most one shard
    whole = MatrixIndex("scale", 1, tuple(sort_entries(entries)))
    found = search(index, query)
    if index.complete:
        assert found == search(whole, query)
    else:  # "社区": all 5,000; the reply lists the others and says to name the community
        assert "5000 个社区账号" in search_reply(index, query).text
    if expected:
        assert expected in [e.name for e in found] or expected in search_reply(index, query).text
    CALLS.clear()
    ports.DynamoPorts().matrix("scale", query)
    assert CALLS == []  # warm: the head and the shard are cached


def test_a_warm_container_reads_one_shard_for_a_new_name(district):
    """Chat's `找…` on a warm container: the keyword reply's own request and this one, ≤ 2 in all."""
    cold()
    ports.DynamoPorts().matrix("scale", "第12社区")
    CALLS.clear()
    index = ports.DynamoPorts().matrix("scale", "第4999社区")
    assert CALLS == ["GetItem"] and [e.name for e in search(index, "第4999社区")] == ["第4999社区"]
    CALLS.clear()
    ports.DynamoPorts().matrix("scale", "法院")  # no community holds it: the cached head answers ...
    ports.DynamoPorts().matrix("scale", "微博")
    assert len(CALLS) <= 1  # ... or an empty shard once


def test_the_index_is_a_small_head_and_bounded_shards_written_in_batches(district):
    entries, writes = district
    head = load_head("scale")
    assert head.sharded_count() == COMMUNITIES and head.total == len(entries)
    parts = list(MatrixPart.query("scale"))
    shards = [p for p in parts if "#g#" in p.part]
    assert len(parts) - len(shards) == COMMUNITIES
    assert writes <= len(parts) // 25 + 2  # 25 items a BatchWriteItem
    assert max(len(p.packed) for p in shards) < 20_000
