"""Custom menus (自定义菜单): the district template with three sections and community overrides,
validated against WeChat's limits with clear Chinese errors before anything is sent; `push-menus`
pushes only where `menu/get` differs, so a second run pushes nothing; failures are reported."""
from __future__ import annotations

import copy
import json

import pytest

from chalicelib import bootstrap
from chalicelib.domain.handlers import ROUTER
from chalicelib.domain.menus import (
    DEFAULT_TEMPLATE,
    SECTIONS,
    MenuInvalid,
    click_keys,
    normalised,
    resolve,
    validate,
)
from chalicelib.domain.rules import DEFAULT_RULES
from chalicelib.wechat.client import WeChatApiError
from tests.staff import login

KEYS = click_keys(DEFAULT_RULES, ROUTER.actions)


def menu_of(*buttons):
    return {"button": list(buttons)}


def problems(menu) -> str:
    with pytest.raises(MenuInvalid) as caught:
        validate(menu, KEYS)
    return str(caught.value)


def test_the_template_has_the_three_sections_and_every_click_is_answered():
    menu = resolve(DEFAULT_TEMPLATE, None, "https://wx.shinan.example", "xianggang-huayuan")
    assert [b["name"] for b in menu["button"]] == list(SECTIONS)
    assert validate(menu, KEYS) is menu
    urls = [s["url"] for b in menu["button"] for s in b["sub_button"] if s.get("url")]
    assert "https://wx.shinan.example/h5/xianggang-huayuan/matrix" in urls


@pytest.mark.parametrize("menu, expected", [
    (menu_of(*[{"type": "click", "name": f"菜单{i}", "key": "HELP"} for i in range(4)]), "一级菜单应有 1 到 3 个"),
    (menu_of({"name": "微社区", "sub_button": [{"type": "click", "name": f"子{i}", "key": "HELP"} for i in range(6)]}),
     "子菜单最多 5 个（现在 6）"),
    (menu_of({"type": "click", "name": "一二三四五六", "key": "HELP"}), "名称超过 16 字节（现在 18 字节"),
    (menu_of({"name": "微服务", "sub_button": [{"type": "click", "name": "很" * 21, "key": "HELP"}]}),
     "名称超过 60 字节（现在 63 字节"),
    (menu_of({"type": "click", "name": "帮助", "key": "K" * 129}), "key 超过 128 字节"),
    (menu_of({"type": "view", "name": "网页", "url": "https://x.cn/" + "a" * 1020}), "链接超过 1024 字节"),
    (menu_of({"type": "view", "name": "网页", "url": "javascript:alert(1)"}), "应以 http:// 或 https:// 开头"),
    (menu_of({"type": "dance", "name": "跳舞"}), "类型“dance”不是微信支持的类型"),
    (menu_of({"type": "view", "name": "网页"}), "缺少 url"),
    (menu_of({"type": "miniprogram", "name": "小程序", "url": "https://x.cn"}), "缺少 appid"),
    (menu_of({"type": "click", "name": "没人管", "key": "NOBODY_ANSWERS"}), "key “NOBODY_ANSWERS”没有对应的回复规则"),
    (menu_of({"name": "", "sub_button": [{"type": "click", "name": "x", "key": "HELP"}]}), "缺少名称"),
])
def test_menus_that_break_wechats_limits_are_refused_clearly(menu, expected):
    assert expected in problems(menu)


def test_every_problem_is_listed_at_once():
    text = problems(menu_of({"type": "click", "name": "一二三四五六", "key": "NOPE"},
                            {"type": "view", "name": "网页"}))
    assert "第1个菜单" in text and "第2个菜单" in text and "NOPE" in text


def test_overrides_replace_or_add_to_a_section():
    override = {"replace": [{"name": "微社区", "sub_button": [{"type": "click", "name": "社区活动", "key": "ACTIVITIES"}]}],
                "add": {"微市南": [{"type": "view", "name": "社区官网", "url": "https://example.org"}]}}
    menu = resolve(DEFAULT_TEMPLATE, override, "https://wx.example", "a")
    assert [s["name"] for s in menu["button"][1]["sub_button"]] == ["社区活动"]
    assert menu["button"][0]["sub_button"][-1]["name"] == "社区官网"
    assert DEFAULT_TEMPLATE["button"][1]["sub_button"][0]["name"] == "社区活动"  # the template is untouched


def test_normalised_compares_with_menu_get_shape():
    ours = {"button": [{"name": "微社区", "sub_button": [{"type": "click", "name": "活动", "key": "ACTIVITIES"}]}]}
    theirs = {"menu": {"button": [{"name": "微社区", "sub_button": [
        {"type": "click", "name": "活动", "key": "ACTIVITIES", "sub_button": []}]}]}}
    assert normalised(ours) == normalised(theirs)
    assert normalised(None) != normalised(ours)


def creates(wechat) -> list:
    return [c for c in wechat.calls if c["path"] == "/cgi-bin/menu/create"]


def test_push_menus_diff_only_twice_and_reports(http, seed, wechat):
    from chalicelib.jobs import push_menus

    first = push_menus.run()
    assert len(first["changed"]) == 66 and not first["unchanged"] and not first["failed"]
    assert len(creates(wechat)) == 66
    second = push_menus.run()
    assert len(second["unchanged"]) == 66 and not second["changed"] and not second["failed"]
    assert len(creates(wechat)) == 66  # run twice: no second push

    # a community's override changes only that account's menu
    director = login(http, "director.xianggang-huayuan")
    override = {"add": {"微社区": [{"type": "view", "name": "社区官网", "url": "https://example.org/xg"}]}}
    saved = http.put("/api/v1/menus/communities/xianggang-huayuan", headers=director,
                     body=json.dumps(override, ensure_ascii=False))
    assert saved.status_code == 200, saved.body
    third = push_menus.run()
    assert third["changed"] == ["xianggang-huayuan"] and len(third["unchanged"]) == 65

    # WeChat refusing one account: reported with its error, the others go on
    from chalicelib.wechat.client import client_for as real

    def factory(account_id):
        client = real(account_id)
        if account_id == "jiangsu-lu":
            def refuse(*args, **kwargs):
                raise WeChatApiError(48001, "api unauthorized")
            client.menu.get = refuse
        return client

    admin = login(http, "admin.shinan")
    template = copy.deepcopy(DEFAULT_TEMPLATE)
    template["button"][0]["sub_button"][3]["name"] = "帮助"
    assert http.put("/api/v1/menus/template", headers=admin, body=json.dumps(
        {"menu": template, "public_base": "https://wx.example.invalid"}, ensure_ascii=False)).status_code == 200
    with bootstrap.override(wechat=factory):
        fourth = push_menus.run()
    assert fourth["failed"] == [{"account_id": "jiangsu-lu", "errcode": 48001, "error": "api unauthorized"}]
    assert len(fourth["changed"]) == 65


def test_a_menu_over_the_limits_is_refused_and_nothing_is_pushed(http, seed, wechat):
    director = login(http, "director.xianggang-huayuan")
    too_many = {"replace": [{"name": "微社区", "sub_button": [
        {"type": "click", "name": f"活动{i}", "key": "ACTIVITIES"} for i in range(6)]}]}
    answer = http.put("/api/v1/menus/communities/xianggang-huayuan", headers=director,
                      body=json.dumps(too_many, ensure_ascii=False))
    assert answer.status_code == 400
    assert "子菜单最多 5 个（现在 6）" in json.loads(answer.body)["message"]
    unknown = {"add": {"微市南": [{"type": "click", "name": "抽奖", "key": "LOTTERY"}]}}
    answer = http.put("/api/v1/menus/communities/xianggang-huayuan", headers=director,
                      body=json.dumps(unknown, ensure_ascii=False))
    assert answer.status_code == 400 and "LOTTERY" in json.loads(answer.body)["message"]
    assert creates(wechat) == []
    # another community's director may not touch it; a social worker may not edit menus
    assert http.put("/api/v1/menus/communities/xianggang-huayuan", headers=login(http, "director.jiangsu-lu"),
                    body=json.dumps({})).status_code == 404
    assert http.put("/api/v1/menus/communities/xianggang-huayuan", headers=login(http, "sw.xianggang-huayuan"),
                    body=json.dumps({})).status_code == 403
