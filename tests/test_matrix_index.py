"""The matrix's sharded index (分片索引): a head per district plus the community entries sharded by
multigram. The domain's part is checked pure (a sharded index answers every query as the whole index
does); the store's with moto, on the demo district forced to shard (the same chat and H5 answers as
the one-item index), with edits under optimistic locking and rebuilds by generation."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from chalicelib import clock
from chalicelib.domain import matrix as domain
from chalicelib.domain.matrix import (MatrixEntry, MatrixIndex, build_shards, entry_from_dict, is_sharded, search,
                                      search_reply, stop_grams)
from chalicelib.store import matrix as store, ports
from chalicelib.store.matrix import MatrixItem, MatrixPart, load_head, load_index, put_entry, replace_all
from local.scale import matrix_entries
from local.seed import MATRIX_FILE, read as read_seed
from tests.staff import login
from tests.test_matrix import RESIDENT_SEARCHES
from tests.wechat_driver import WeChat

SAFE = "xianggang-huayuan"


def seed_entries() -> list[MatrixEntry]:
    seed = read_seed()
    data = json.loads((seed.path.parent / MATRIX_FILE).read_text(encoding="utf-8"))
    return [entry_from_dict(r) for r in data["matrix"]]


def sharded_index(entries, stop_at: int) -> tuple[MatrixIndex, dict]:
    """The head and the shards of `entries` as the store builds them, in memory."""
    communities = [e for e in entries if is_sharded(e)]
    stop = stop_grams(communities, stop_at)
    counts: dict[str, int] = {}
    for e in communities:
        counts[e.platform] = counts.get(e.platform, 0) + 1
    head = MatrixIndex("shinan", 3, tuple(domain.sort_entries(e for e in entries if not is_sharded(e))), 1, stop,
                       tuple(sorted(counts.items())))
    return head, build_shards(communities, stop)


def queries_of(entries) -> list[str]:
    """What residents type: the known words, every name and owner, and pieces of them."""
    words = ["法官", "消费维权", "学校", "微博", "微信", "找香港花园", "找 明东心", "社区", "法院", "法院 微博", "街道",
             "八大关", "便民纸条", "食堂", "路社区", "花园", "居委会", "香", "湛山 微信", "服务类"]
    for e in entries:
        words += [e.name, e.owner, e.name[:2], e.name[1:4], e.description[3:7]]
    return words


# ---- the domain: pure ------------------------------------------------------------------------------

@pytest.mark.parametrize("stop_at", [1, 4, 20, 1000])
def test_a_sharded_index_gives_the_whole_index_answers(stop_at):
    entries = seed_entries()
    whole = MatrixIndex("shinan", 3, tuple(domain.sort_entries(entries)))
    head, shards = sharded_index(entries, stop_at)
    incomplete = set()
    for query in queries_of(entries):
        read = []
        answer = head.answering(query, lambda gram: read.append(gram) or shards.get(gram, ()))
        assert len(read) <= 1  # one shard at most
        expected = search(whole, query)
        if answer.complete:
            assert search(answer, query) == expected, query
            assert all(len(shards.get(g, ())) <= stop_at for g in read)
        else:  # every word is a stop gram: the head's entries are still all found, communities are not listed
            incomplete.add(query)
            assert search(answer, query) == [e for e in expected if not is_sharded(e)], query
            assert "太多了列不下" in search_reply(answer, query).text
    if stop_at >= 65:  # no stop gram: only the words that mean every community leave them unlisted
        assert incomplete == {"社区", "微信"}
    else:
        assert {"社区", "微信", "社区 微信"} < incomplete | {"社区 微信"} and len(incomplete) > 2


def test_every_shard_holds_at_most_stop_at_entries_and_long_names_get_long_grams():
    entries = [e for e in matrix_entries(3000) if is_sharded(e)]
    stop = stop_grams(entries, 50)
    shards = build_shards(entries, stop)
    assert max(len(v) for v in shards.values()) <= 50
    assert {"社", "区", "第", "1", "社区"} <= stop  # in every entry
    head = MatrixIndex("d", 1, (), 1, stop, (("wechat", 3000),))
    gram = head.lookup_gram("找第1234社区")
    assert len(gram) >= 3 and [e.name for e in shards[gram] if e.name == "第1234社区"]
    assert head.lookup_gram("社区") is None  # all communities: no shard names them
    assert head.lookup_gram("微博") == ""  # no community has a Weibo account: the head answers alone
    assert head.lookup_gram("学校") is not None


def test_the_head_counts_what_the_shards_hold():
    head, _ = sharded_index(seed_entries(), 20)
    assert head.total == 130 and head.counts()["社区"] == 65 and list(head.counts())[0] == "社区"
    assert head.weibo_count() == 14
    text = domain.overview_reply(head).text
    assert "全区 130 个政务账号（其中微博 14 个）" in text and "社区 65 个" in text


# ---- the store: the demo district forced to shard ----------------------------------------------------

@pytest.fixture
def sharded(monkeypatch):
    """Every community entry goes to shards, and a gram held by more than 20 entries is a stop gram."""
    monkeypatch.setattr(store, "INLINE_COMMUNITIES", 0)
    monkeypatch.setattr(domain, "STOP_AT", 20)


@pytest.mark.parametrize("word, expected, not_expected",
                         RESIDENT_SEARCHES + [("找湛山", "湛山社区", "香港花园社区")])
def test_the_sharded_matrix_answers_residents_as_before(sharded, http, seed, word, expected, not_expected):
    head = load_head("shinan")
    assert head.generation == 1 and len(head.entries) == 65 and head.total == 130
    assert MatrixPart.count("shinan", MatrixPart.part.startswith("00001#e#")) == 65
    reply = WeChat(http, SAFE, seed).text("o-shard-1", word).text or ""
    assert expected in reply and not_expected not in reply, reply


def test_the_sharded_matrix_overview_and_h5_page(sharded, http, seed):
    assert "全区 130 个政务账号" in (WeChat(http, SAFE, seed).text("o-shard-2", "联盟").text or "")
    page = http.get(f"/h5/{SAFE}/matrix").body.decode()
    assert "全区共 130 个" in page and "<h2>学校（10）</h2>" in page and "<h2>社区（65）</h2>" in page
    assert "八大关社区" not in page and "输入社区的名字" in page  # communities are searched, not listed
    found = http.get(f"/h5/{SAFE}/matrix?q=%E9%A6%99%E6%B8%AF%E8%8A%B1%E5%9B%AD").body.decode()  # 香港花园
    assert "香港花园社区" in found and "找到 1 个账号" in found and "输入社区的名字" not in found
    communities = http.get(f"/h5/{SAFE}/matrix?category=%E7%A4%BE%E5%8C%BA").body.decode()  # 社区
    assert "<h2>社区（65）</h2>" in communities and "市南学校" not in communities


def test_sharded_edits_rewrite_the_shards_they_touch(sharded, http, seed):
    admin = login(http, "admin.shinan")
    old = load_index("shinan").get("zhanshan")
    body = {**domain.entry_to_json(old), "name": "湛山海滨社区", "description": "湛山海滨社区的公众号"}
    assert http.put("/api/v1/matrix/zhanshan", headers=admin, body=json.dumps(body, ensure_ascii=False)).status_code == 200
    ports.RULES_CACHE.clear()
    wx = WeChat(http, SAFE, seed)
    assert "湛山海滨社区" in (wx.text("o-shard-3", "找海滨").text or "")
    assert "湛山海滨社区" in (wx.text("o-shard-3", "找湛山").text or "")
    # the old description's words no longer find it (its shards were left)
    assert load_head("shinan").total == 130
    new = {"name": "市南银杏社区", "platform": "wechat", "category": "社区", "owner": "市南银杏社区居委会",
           "wechat_id": "yinxing_sq"}
    assert http.put("/api/v1/matrix/yinxing", headers=admin, body=json.dumps(new, ensure_ascii=False)).status_code == 200
    listed = json.loads(http.get("/api/v1/matrix", headers=admin).body)
    assert len(listed["items"]) == 131 and load_head("shinan").sharded_count() == 66
    ports.RULES_CACHE.clear()
    assert "市南银杏社区" in (wx.text("o-shard-4", "找银杏").text or "")
    assert http.delete("/api/v1/matrix/yinxing", headers=admin).status_code == 200
    assert http.delete("/api/v1/matrix/yinxing", headers=admin).status_code == 404
    ports.RULES_CACHE.clear()
    assert "市南银杏社区" not in (wx.text("o-shard-5", "找银杏").text or "")
    assert load_head("shinan").sharded_count() == 65
    assert not [p for p in MatrixPart.query("shinan") if b"yinxing" in store.zlib.decompress(p.packed)]


def test_two_editors_of_a_sharded_matrix_keep_both_changes(sharded, seed, monkeypatch):
    real = store._update_shards
    interleaved = []

    def meanwhile(*args):
        if not interleaved:  # another editor commits between our read of the head and our commit
            interleaved.append("b")
            put_entry("shinan", MatrixEntry("two", "第二新社区", "wechat", "乙", "社区", wechat_id="two_wx"), "b")
        return real(*args)

    monkeypatch.setattr(store, "_update_shards", meanwhile)
    before = load_head("shinan", consistent=True).version
    put_entry("shinan", MatrixEntry("one", "第一新社区", "wechat", "甲", "社区", wechat_id="one_wx"), "a")
    head = load_head("shinan", consistent=True)
    assert head.version == before + 2 and head.sharded_count() == 67
    whole = load_index("shinan", consistent=True)
    assert whole.get("one") and whole.get("two")
    ports.RULES_CACHE.clear()
    assert [e.entry_id for e in search(ports.DynamoPorts().matrix("shinan", "第一新"), "第一新")] == ["one"]
    assert [e.entry_id for e in search(ports.DynamoPorts().matrix("shinan", "第二新"), "第二新")] == ["two"]


def test_a_repeated_edit_and_a_repeated_seed_write_nothing_new(sharded, seed, monkeypatch):
    entries = seed_entries()
    head = load_head("shinan", consistent=True)
    assert replace_all("shinan", entries, "seed").version == head.version  # same digest: nothing written
    entry = MatrixEntry("one", "第一新社区", "wechat", "甲", "社区", wechat_id="one_wx")
    put_entry("shinan", entry, "a")
    writes = []
    monkeypatch.setattr(store, "_rewrite_shard", lambda *args: writes.append(args) or None)
    put_entry("shinan", entry, "a")
    assert len(writes) == len(domain.entry_grams(entry, load_head("shinan").stop))  # each checked ...
    monkeypatch.undo()
    monkeypatch.setattr(store, "INLINE_COMMUNITIES", 0)
    parts = {p.part: int(p.version) for p in MatrixPart.query("shinan")}
    put_entry("shinan", entry, "a")
    assert {p.part: int(p.version) for p in MatrixPart.query("shinan")} == parts  # ... none rewritten


def test_a_rebuild_writes_a_new_generation_and_retires_the_old_one_later(sharded, seed):
    start = clock.now()
    clock.set_clock(start)
    entries = seed_entries()
    cached = load_head("shinan")  # a container's cached head names generation 1
    changed = [e if e.entry_id != "zhanshan" else MatrixEntry(**{**e.__dict__, "name": "湛山新社区"}) for e in entries]
    head = replace_all("shinan", changed, "seed")
    assert head.generation == 2
    old = cached.answering("湛山", lambda g: store.load_shard("shinan", cached.generation, g))
    names = {e.name for e in search(old, "湛山")}
    assert "湛山社区" in names and "湛山新社区" not in names  # the cached head still reads its generation
    ports.RULES_CACHE.clear()
    assert "湛山新社区" in {e.name for e in search(ports.DynamoPorts().matrix("shinan", "湛山"), "湛山")}
    clock.set_clock(start + store.RETIRE_AFTER + timedelta(minutes=1))
    head = replace_all("shinan", entries, "seed")
    assert head.generation == 3
    gens = {p.part[:5] for p in MatrixPart.query("shinan")}
    assert gens == {"00002", "00003"}  # generation 1 is gone, 2 stays for the caches naming it
    names = {e.name for e in search(store.lookup("shinan", "湛山"), "湛山")}
    assert "湛山社区" in names and "湛山新社区" not in names
    put_entry("shinan", MatrixEntry("one", "第一新社区", "wechat", "甲", "社区", wechat_id="one_wx"), "a")
    head = store.rebuild("shinan", "ops")  # edits since the seed: built again, with the edit
    assert head.generation == 4 and head.total == 131
    assert [e.name for e in search(store.lookup("shinan", "第一新"), "第一新")] == ["第一新社区"]


def test_a_district_that_outgrows_one_item_moves_to_shards(monkeypatch, seed):
    assert load_head("shinan").generation == 0 and MatrixItem.count() == 1
    monkeypatch.setattr(store, "INLINE_COMMUNITIES", 65)
    put_entry("shinan", MatrixEntry("yinxing", "市南银杏社区", "wechat", "居委会", "社区", wechat_id="yinxing_sq"), "a")
    head = load_head("shinan")
    assert head.generation == 1 and head.sharded_count() == 66 and head.total == 131
    assert [e.name for e in search(store.lookup("shinan", "银杏"), "银杏")] == ["市南银杏社区"]


def test_staff_list_a_large_matrix_a_page_at_a_time_and_search_it(sharded, http, seed, monkeypatch):
    from chalicelib.services import matrix as matrix_service

    monkeypatch.setattr(matrix_service, "STAFF_PAGE", 40)
    admin = login(http, "admin.shinan")
    first = json.loads(http.get("/api/v1/matrix", headers=admin).body)
    assert first["total"] == 130 and len(first["items"]) == 65 + 40 and first["cursor"]
    second = json.loads(http.get("/api/v1/matrix?cursor=" + first["cursor"], headers=admin).body)
    assert len(second["items"]) == 25 and second["cursor"] is None
    ids = [x["id"] for x in first["items"] + second["items"]]
    assert len(set(ids)) == 130
    found = json.loads(http.get("/api/v1/matrix?q=%E6%B9%9B%E5%B1%B1", headers=admin).body)  # 湛山
    assert found["searched"] and "湛山社区" in [x["name"] for x in found["items"]]
    assert http.get("/api/v1/matrix?cursor=forged.tag", headers=admin).status_code == 400
