"""The alliance matrix (联盟矩阵): 130 accounts as data, searched in chat from one compact index, browsed
on a large-type H5 page, edited by district staff."""
from __future__ import annotations

import json

import pytest

from chalicelib.domain.errors import BadRequest
from chalicelib.domain.matrix import MatrixIndex, entry_from_dict, search
from chalicelib.store import ports
from chalicelib.store.matrix import MatrixItem, load_index
from tests.staff import login
from tests.wechat_driver import WeChat

SAFE = "xianggang-huayuan"


def test_the_seed_holds_130_accounts_with_every_platform_account_and_the_named_partners(seed):
    index = load_index("shinan")
    assert len(index.entries) == 130
    names = {e.name for e in index.entries}
    assert {"数据市南", "法制好声音", "市南学校", "明东心教育咨询", "消费维权e家", "张玉法官工作室"} <= names
    linked = {e.account_id for e in index.entries if e.account_id}
    assert linked == {a["id"] for a in seed.records("accounts")} and len(linked) == 66
    assert {e.platform for e in index.entries} == {"wechat", "weibo"}
    assert all(e.name and e.owner and e.category and e.description and e.address for e in index.entries)
    assert all(e.qr_image for e in index.entries if e.platform == "wechat")
    assert MatrixItem.count() == 1  # one compact item for the whole district


# A resident's words, an account the answer names and one it must not (the sharded index answers them too).
RESIDENT_SEARCHES = [
    ("法官", "张玉法官工作室", "香港花园社区"),
    ("消费维权", "消费维权e家", "市南学校"),
    ("学校", "市南学校", "张玉法官工作室"),
    ("微博", "市南发布", "市南学校"),
    ("找香港花园", "香港花园社区", "市南学校"),
    ("找 明东心", "明东心教育咨询", "市南学校"),
]


@pytest.mark.parametrize("word, expected, not_expected", RESIDENT_SEARCHES)
def test_a_resident_finds_accounts_by_a_word(http, seed, word, expected, not_expected):
    reply = WeChat(http, SAFE, seed).text("o-matrix-1", word).text or ""
    assert expected in reply and not_expected not in reply, reply
    assert "编号" not in reply  # a search, not a 便民纸条


def test_the_search_reads_one_compact_item_never_the_accounts(http, seed, monkeypatch):
    from chalicelib.store.accounts import Account

    def refuse(*args, **kwargs):
        raise AssertionError("the matrix search must not read accounts")

    monkeypatch.setattr(Account.by_district, "query", refuse)
    reads = []
    real_get = MatrixItem.get.__func__

    def counting_get(cls, *args, **kwargs):
        reads.append(args)
        return real_get(cls, *args, **kwargs)

    monkeypatch.setattr(MatrixItem, "get", classmethod(counting_get))
    ports.RULES_CACHE.clear()
    ports.gateway_account(SAFE)  # the callback's own account fact is cached before the patch matters
    monkeypatch.setattr(Account, "get", refuse)
    wx = WeChat(http, SAFE, seed)
    for word in ("法官", "学校", "微博", "消费维权"):
        assert "联盟里" in (wx.text("o-matrix-2", word).text or "")
    assert len(reads) == 1  # one GetItem, then the container's cache


def test_entries_are_checked_with_clear_chinese_errors():
    with pytest.raises(BadRequest) as caught:
        entry_from_dict({"name": "", "platform": "weibo", "category": "饭店", "weibo_url": "http://x"}, "Bad Id")
    message = str(caught.value)
    for part in ("编号", "请填写名称", "请填写主办单位", "类别应为", "微博地址"):
        assert part in message, message
    ok = entry_from_dict({"name": "测试号", "platform": "wechat", "category": "服务", "owner": "测试单位",
                          "wechat_id": "test_account"}, "test-entry")
    assert ok.qr_image.endswith("test_account")


def test_search_narrows_by_platform_and_category():
    entries = (entry_from_dict({"name": "市南法院微博", "platform": "weibo", "category": "法院", "owner": "法院",
                                "weibo_url": "https://weibo.com/x"}, "a"),
               entry_from_dict({"name": "市南区人民法院", "platform": "wechat", "category": "法院", "owner": "法院",
                                "wechat_id": "court_wx"}, "b"))
    index = MatrixIndex("shinan", 1, entries)
    assert [e.entry_id for e in search(index, "法院")] == ["a", "b"]
    assert [e.entry_id for e in search(index, "法院 微博")] == ["a"]
    assert [e.entry_id for e in search(index, "微信")] == ["b"]
    assert MatrixIndex.from_json("shinan", 1, index.to_json()) == index


def test_district_staff_edit_the_matrix_and_warm_lambdas_see_it_within_the_cache(http, seed):
    admin = login(http, "admin.shinan")
    body = {"name": "市南海洋科普", "platform": "wechat", "category": "服务", "owner": "市南区科协",
            "wechat_id": "shinan_haiyang", "description": "海洋科普活动"}
    answer = http.put("/api/v1/matrix/shinan-haiyang", headers=admin, body=json.dumps(body, ensure_ascii=False))
    assert answer.status_code == 200, answer.body
    assert load_index("shinan").get("shinan-haiyang").name == "市南海洋科普"
    listed = json.loads(http.get("/api/v1/matrix", headers=admin).body)
    assert len(listed["items"]) == 131
    ports.RULES_CACHE.clear()  # the cache's minute has passed
    assert "市南海洋科普" in (WeChat(http, SAFE, seed).text("o-matrix-3", "找海洋").text or "")
    bad = http.put("/api/v1/matrix/x1", headers=admin, body=json.dumps({"name": "x", "platform": "qq"}))
    assert bad.status_code == 400 and "平台" in json.loads(bad.body)["message"]
    assert http.delete("/api/v1/matrix/shinan-haiyang", headers=admin).status_code == 200
    assert http.delete("/api/v1/matrix/shinan-haiyang", headers=admin).status_code == 404
    # community staff read it but may not edit it
    social = login(http, "sw.xianggang-huayuan")
    assert http.get("/api/v1/matrix", headers=social).status_code == 200
    assert http.put("/api/v1/matrix/x1", headers=social, body=json.dumps(body, ensure_ascii=False)).status_code == 403


def test_two_editors_at_once_keep_both_changes(seed):
    from chalicelib.domain.matrix import MatrixEntry
    from chalicelib.store.matrix import put_entry, save_index

    stale = load_index("shinan", consistent=True)
    put_entry("shinan", MatrixEntry("one", "一号", "wechat", "甲", "服务", wechat_id="one_wx"), "a")
    with pytest.raises(Exception):
        save_index(stale.with_entry(MatrixEntry("two", "二号", "wechat", "乙", "服务", wechat_id="two_wx")), "b")
    put_entry("shinan", MatrixEntry("two", "二号", "wechat", "乙", "服务", wechat_id="two_wx"), "b")
    index = load_index("shinan")
    assert index.get("one") and index.get("two") and len(index.entries) == 132


def test_the_h5_page_by_category_with_search(http, seed):
    page = http.get(f"/h5/{SAFE}/matrix")
    assert page.status_code == 200
    text = page.body.decode()
    assert "全区共 130 个" in text and "<h2>学校（10）</h2>" in text and "张玉法官工作室" in text
    found = http.get(f"/h5/{SAFE}/matrix?q=%E6%B3%95%E5%AE%98").body.decode()  # 法官
    assert "张玉法官工作室" in found and "青岛太平路小学" not in found
    schools = http.get(f"/h5/{SAFE}/matrix?category=%E5%AD%A6%E6%A0%A1&large=1").body.decode()
    assert "市南学校" in schools and "八大关社区" not in schools and "font-size:28px" in schools
    assert http.get("/h5/no-such-account/matrix").status_code == 404
