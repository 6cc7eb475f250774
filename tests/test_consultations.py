"""Consultations (公共政策讨论): a question with options or free text, an open period, one answer per
resident, results for staff."""
from __future__ import annotations

import json
from datetime import datetime, timedelta


from chalicelib.domain.dates import SHANGHAI
from tests.staff import login
from tests.wechat_driver import WeChat

SAFE = "xianggang-huayuan"


def local(days: int) -> str:
    return (datetime.now(SHANGHAI) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def test_one_answer_per_resident_and_results(http, seed):
    director = login(http, "director.xianggang-huayuan")
    body = {"question": "小区停车位紧张，您赞成哪种办法？", "options": ["错时共享", "划线收费", "维持现状"],
            "free_text": True, "opens_at": local(-1), "closes_at": local(7)}
    created = http.post("/api/v1/consultations", headers=director, body=json.dumps(body, ensure_ascii=False))
    assert created.status_code == 201, created.body
    cid = json.loads(created.body)["id"]
    later = dict(body, question="明年的社区节日怎么办？", opens_at=local(3), closes_at=local(9))
    assert http.post("/api/v1/consultations", headers=director,
                     body=json.dumps(later, ensure_ascii=False)).status_code == 201  # not open yet
    bad = http.post("/api/v1/consultations", headers=director, body=json.dumps(
        {"question": "问", "options": [], "free_text": False, "opens_at": local(2), "closes_at": local(1)}))
    assert bad.status_code == 400 and "结束时间应晚于开始时间" in json.loads(bad.body)["message"]
    wx = WeChat(http, SAFE, seed)
    listed = wx.text("o-pc-1", "讨论").text
    assert "1. 小区停车位紧张" in listed and "1. 错时共享" in listed and "社区节日" not in listed
    assert "已记录“错时共享”" in wx.text("o-pc-1", "回答 1 1").text
    assert "已经回答过" in wx.text("o-pc-1", "回答 1 2").text
    assert "已记录“错时共享”" in wx.text("o-pc-2", "回答 1 1").text
    assert "已记录您的看法" in wx.text("o-pc-3", "回答 1 建议晚上开放学校操场停车").text
    assert "选项应为 1 到 3" in wx.text("o-pc-4", "回答 1 9").text
    results = json.loads(http.get(f"/api/v1/consultations/{cid}/results", headers=director).body)
    assert [o["count"] for o in results["options"]] == [2, 0, 0]
    assert results["answers"] == 3 and results["texts"] == ["建议晚上开放学校操场停车"]
    assert http.get(f"/api/v1/consultations/{cid}/results",
                    headers=login(http, "director.jiangsu-lu")).status_code == 404
