"""Keyword rules in the console (关键词规则): staff edit an account's rules or the district's defaults;
unsafe regexes are refused before saving (nested quantifiers, overlapping alternation under a
quantifier, a trial match that does not finish in time); a "try a message" box; warm Lambdas use edits
within the cache's minute."""
from __future__ import annotations

import json
import time

import pytest

from chalicelib.domain.regex_safety import UnsafeRegex, attack_inputs, check
from chalicelib.domain.rules import DEFAULT_RULES
from chalicelib.services.rules import trial_match
from chalicelib.store import ports
from tests.staff import login
from tests.wechat_driver import WeChat

SAFE = "xianggang-huayuan"


@pytest.mark.parametrize("pattern, reason", [
    (r"(a+)+$", "嵌套的重复"),
    (r"^(\w+\s?)*$", "嵌套的重复"),
    (r"(.*a){12}", "嵌套的重复"),
    (r"(a?)*b", "什么都不匹配"),
    (r"^(a|ab)*c$", "同一个字开始"),
    (r"(报名|报名活动)+x", "同一个字开始"),
    (r"([", "写错了"),
    ("a" * 301, "太长"),
])
def test_unsafe_patterns_are_refused(pattern, reason):
    with pytest.raises(UnsafeRegex, match=reason):
        check(pattern)


@pytest.mark.parametrize("pattern", [r"^报名\s*(?P<activity>\S.{0,39})$", r"(\d{3}-)+\d{4}", r"(foo|bar)+", r"a{1,100}b"])
def test_ordinary_patterns_pass(pattern):
    check(pattern)
    trial_match(pattern, attack_inputs(pattern))


def test_every_default_regex_passes_the_checks():
    for rule in DEFAULT_RULES:
        if rule.match == "regex":
            check(rule.pattern)


def test_the_trial_match_is_bounded_in_time():
    started = time.monotonic()
    with pytest.raises(UnsafeRegex, match="试匹配超过"):
        trial_match(r"(x+x+)+y", ["x" * 40], seconds=0.5)  # the static check would refuse it too
    assert time.monotonic() - started < 3


def test_staff_edit_try_and_the_chat_uses_the_rules(http, seed):
    social = login(http, "sw.xianggang-huayuan")
    current = json.loads(http.get(f"/api/v1/rules/{SAFE}", headers=social).body)
    assert current["source"] == "default" and len(current["rules"]) == len(DEFAULT_RULES)
    rules = [{"on": "text", "match": "contains", "pattern": "停水", "action": "reply_text",
              "params": {"text": "本周三9点至12点停水检修。"}}] + current["rules"]
    tried = json.loads(http.post(f"/api/v1/rules/{SAFE}/try", headers=social,
                                 body=json.dumps({"text": "明天停水吗", "rules": rules}, ensure_ascii=False)).body)
    assert tried["matched"] and tried["index"] == 1 and tried["action"] == "reply_text"
    tried = json.loads(http.post(f"/api/v1/rules/{SAFE}/try", headers=social,
                                 body=json.dumps({"text": "报名 1"}, ensure_ascii=False)).body)
    assert tried["action"] == "activity_signup" and tried["params"]["activity"] == "1"
    bad = rules + [{"on": "text", "match": "regex", "pattern": r"^(\w+\s?)*$", "action": "help"}]
    refused = http.put(f"/api/v1/rules/{SAFE}", headers=social, body=json.dumps({"rules": bad}, ensure_ascii=False))
    assert refused.status_code == 400
    assert json.loads(refused.body)["code"] == "unsafe_regex" and "嵌套的重复" in json.loads(refused.body)["message"]
    unknown = http.put(f"/api/v1/rules/{SAFE}", headers=social, body=json.dumps(
        {"rules": [{"on": "text", "pattern": "x", "action": "launch_rocket"}]}))
    assert unknown.status_code == 400 and "没有这个动作" in json.loads(unknown.body)["message"]
    wx = WeChat(http, SAFE, seed)
    assert "停水检修" not in (wx.text("o-rules", "明天停水吗").text or "")
    assert http.put(f"/api/v1/rules/{SAFE}", headers=social,
                    body=json.dumps({"rules": rules}, ensure_ascii=False)).status_code == 200
    ports.RULES_CACHE.clear()  # the cache's minute has passed on this warm container
    assert wx.text("o-rules", "明天停水吗").text == "本周三9点至12点停水检修。"
    assert http.delete(f"/api/v1/rules/{SAFE}", headers=social).status_code == 200
    # another community's staff cannot see these rules
    assert http.get(f"/api/v1/rules/{SAFE}", headers=login(http, "sw.jiangsu-lu")).status_code == 404


def test_the_districts_defaults_apply_to_accounts_without_their_own(http, seed):
    admin = login(http, "admin.shinan")
    rules = [{"on": "text", "match": "exact", "pattern": "区里通知", "action": "reply_text",
              "params": {"text": "全区通知：周六开展义诊。"}}] + json.loads(
        http.get("/api/v1/rules/district", headers=admin).body)["rules"]
    assert http.put("/api/v1/rules/district", headers=admin,
                    body=json.dumps({"rules": rules}, ensure_ascii=False)).status_code == 200
    ports.RULES_CACHE.clear()
    assert WeChat(http, "jiangsu-lu", seed).text("o-d", "区里通知").text == "全区通知：周六开展义诊。"
    social = login(http, "sw.xianggang-huayuan")
    assert http.put("/api/v1/rules/district", headers=social, body=json.dumps({"rules": rules})).status_code == 403
