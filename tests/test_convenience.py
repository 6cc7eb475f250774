"""Convenience and partner services (便民服务, 部门对接): configurable links (在线读报 from a date
pattern), 张玉法官工作室's four sections, and partners' requests filed to their departments through
the one filing path."""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from chalicelib.domain.convenience import check_links, paper_url
from chalicelib.domain.dates import SHANGHAI
from chalicelib.domain.errors import BadRequest
from chalicelib.store import ports
from chalicelib.store.requests import HelpRequest
from tests.staff import login
from tests.wechat_driver import WeChat

SAFE = "xianggang-huayuan"


def test_the_paper_link_is_built_from_the_date_pattern():
    now = datetime(2026, 11, 30, 17, 0, tzinfo=SHANGHAI)
    assert paper_url("https://paper.example/{yyyy}-{mm}/{dd}/node_1.htm", now) == \
        "https://paper.example/2026-11/30/node_1.htm"
    with pytest.raises(BadRequest, match="日期占位符"):
        check_links({"convenience": {"在线读报": "https://paper.example/today.htm"}})
    with pytest.raises(BadRequest, match="https://"):
        check_links({"convenience": {"社保查询": "http://insecure.example"}})


@pytest.mark.parametrize("text, category, department", [
    ("调解 邻居装修噪音影响休息，协商不成", "legal", "judge-zhangyu"),
    ("消费投诉 超市卖过期食品不给退款", "consumer_complaint", "consumer-rights"),
    ("预约咨询 孩子厌学，周六上午方便", "psychological", "mingdongxin-counselling"),
])
def test_partner_requests_file_to_their_department(http, seed, text, category, department):
    reply = WeChat(http, SAFE, seed).text("o-partner", text).text
    assert "编号" in reply
    [request] = list(HelpRequest.by_resident.query(f"{SAFE}#o-partner"))
    assert (request.category, request.department_id, request.team_id) == (category, department, None)


def test_the_studio_sections_and_the_convenience_links(http, seed):
    wx = WeChat(http, SAFE, seed)
    studio = wx.text("o-conv", "张玉法官工作室").text
    for section in ("线上调解", "团队简介", "家事课堂", "阳光普法"):
        assert section in studio
    assert "家事课堂" in wx.text("o-conv", "家事课堂").text
    assert "阳光普法" in wx.text("o-conv", "阳光普法").text
    assert "回复“调解”加上纠纷的情况" in wx.text("o-conv", "调解").text  # no text yet: the guide, nothing filed
    assert HelpRequest.count() == 0
    links = wx.text("o-conv", "便民服务").text
    for name in ("社保查询", "预约挂号", "违章查询", "找景点", "搜美食", "在线读报"):
        assert name in links
    admin = login(http, "admin.shinan")
    saved = http.put("/api/v1/convenience-links", headers=admin, body=json.dumps(
        {"convenience": {"在线读报": "https://paper.example/{yyyy}{mm}{dd}.htm"}}, ensure_ascii=False))
    assert saved.status_code == 200, saved.body
    ports.RULES_CACHE.clear()  # within the cache's minute, warm Lambdas see it
    today = datetime.now(SHANGHAI).strftime("%Y%m%d")
    answer = wx.text("o-conv", "在线读报")
    assert f"https://paper.example/{today}.htm" in answer.text
    social = login(http, "sw.xianggang-huayuan")
    assert http.put("/api/v1/convenience-links", headers=social, body=json.dumps({"convenience": {}})).status_code == 403
