"""Routing rules (路由规则): which action answers a message, as data each community can edit.

A rule says *when* (`on`: a text keyword, a menu click, an event, a message type) and *what* (`action`,
a name in the router's handler table, with `params`). Rules are tried in order; the first match wins.
An account without its own rules uses `DEFAULT_RULES`.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, field
from functools import lru_cache
from typing import Any, Iterable

from chalicelib.domain.messages import Inbound
from chalicelib.domain.records import record
from chalicelib.domain.staff_alerts import BIND_PATTERN

RULE_TRIGGERS = ("text", "click", "event", "type")
TEXT_MATCHES = ("exact", "contains", "regex")


class InvalidRule(ValueError):
    """A rule staff wrote cannot work (unknown trigger or action, bad regex)."""


@record
class Rule:
    on: str  # one of RULE_TRIGGERS
    pattern: str  # text: keywords separated by | (or a regex); click: menu key; event: event name; type: kind
    action: str  # a name in the router's handler table
    match: str = "exact"  # for text rules: one of TEXT_MATCHES
    params: dict[str, Any] = field(default_factory=dict)

    def matches(self, message: Inbound, text: str) -> dict[str, str] | None:
        """The captured parameters when the rule applies to the message (normalised text `text`), else None."""
        if self.on == "type":  # "text" also takes a voice message WeChat recognised
            spoken = self.pattern == "text" and message.kind == "voice" and bool(text)
            return {} if message.kind == self.pattern or spoken else None
        if self.on == "event":
            return {} if message.kind == "event" and (message.event or "") == self.pattern else None
        if self.on == "click":
            return {} if message.kind == "event" and message.event == "CLICK" and message.event_key == self.pattern \
                else None
        if self.on != "text" or message.kind not in ("text", "voice") or not text:
            return None
        if self.match == "regex":
            found = _regex(self.pattern).search(text)
            return {k: v for k, v in found.groupdict().items() if v is not None} if found else None
        words = [w for w in self.pattern.split("|") if w]
        lowered = text.lower()
        if self.match == "exact":
            return {} if lowered in (w.lower() for w in words) else None
        return {} if any(w.lower() in lowered for w in words) else None


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.IGNORECASE)


def compile_regexes(rules: Iterable[Rule]) -> None:
    """Compile the regex rules' patterns now (Lambda's init phase, for the default rules): a rule's pattern
    is otherwise compiled by the first message it is tried on."""
    for rule in rules:
        if rule.on == "text" and rule.match == "regex":
            _regex(rule.pattern)


def validate(rule: Rule, actions: Iterable[str]) -> Rule:
    if rule.on not in RULE_TRIGGERS:
        raise InvalidRule(f"unknown trigger {rule.on!r}; use one of {', '.join(RULE_TRIGGERS)}")
    if rule.action not in set(actions):
        raise InvalidRule(f"unknown action {rule.action!r}")
    if rule.on == "text" and rule.match not in TEXT_MATCHES:
        raise InvalidRule(f"unknown match {rule.match!r}; use one of {', '.join(TEXT_MATCHES)}")
    if not rule.pattern:
        raise InvalidRule("a rule needs a pattern")
    if rule.on == "text" and rule.match == "regex":
        try:
            re.compile(rule.pattern)
        except re.error as exc:
            raise InvalidRule(f"bad regular expression: {exc}") from exc
    return rule


def rules_from_json(text: str) -> tuple[Rule, ...]:
    return tuple(Rule(**item) for item in json.loads(text))


def rules_to_json(rules: Iterable[Rule]) -> str:
    return json.dumps([asdict(r) for r in rules], ensure_ascii=False)


def first_match(rules: Iterable[Rule], message: Inbound, text: str) -> tuple[Rule, dict[str, str]] | None:
    for rule in rules:
        captured = rule.matches(message, text)
        if captured is not None:
            return rule, captured
    return None


# The defaults, in order. Menu keys are those of the default menu (微市南 / 微社区 / 微服务).
DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("event", "subscribe", "welcome"),
    Rule("event", "SCAN", "welcome"),
    Rule("click", "HELP", "help"),
    Rule("click", "MY_REQUESTS", "my_requests"),
    Rule("click", "ALLIANCE", "alliance_search"),
    Rule("click", "NEW_REQUEST", "request_guide"),
    Rule("text", "帮助|help|?|菜单|menu|你好|您好", "help"),
    Rule("text", "我的纸条|我的便民纸条|查询|查询纸条|我的请求", "my_requests"),
    Rule("text", r"^(?:取消|撤销)\s*(?P<number>[A-Za-z]{2,3}-?\d{8}-?\d{3,4})$", "cancel_request", match="regex"),
    Rule("text", r"^(?:评价|评分)\s*(?P<number>[A-Za-z]{2,3}-?\d{8}-?\d{3,4})\s*(?P<stars>[1-5])\s*分?\s*(?P<comment>.*)$",
         "rate_request", match="regex"),
    Rule("text", r"^(?:联盟|找|搜索)\s*(?P<query>.+)$", "alliance_search", match="regex"),
    # The matrix by a bare word: a category, a platform, or a partner's name residents ask for.
    Rule("text", "联盟|微信联盟|微博联盟|联盟矩阵|微博|学校|法院|法官|消费维权|街道|部门", "alliance_search"),
    Rule("text", r"^(?:地址|住址|送餐地址)\s*[:：]?\s*(?P<address>.+)$", "provide_address", match="regex"),
    Rule("text", r"^(?:帮|替|给)(?:老人|父母|家人|爸妈|母亲|父亲)登记\s*(?:地址)?\s*[:：]?\s*(?P<address>.+)$",
         "register_for_relative", match="regex"),
    Rule("text", r"^(?:电话|手机|联系电话)\s*[:：]?\s*(?P<phone>1\d{10})$", "set_phone", match="regex"),
    Rule("text", "我的资料|我的档案|我的信息", "my_profile"),
    # Community activities (报名社区活动) and suggestions (意见建议): before the plea-for-help rule, which
    # would make `建议 …` a 便民纸条.
    Rule("text", "活动|社区活动|近期活动|报名社区活动|报名|活动报名", "activities"),
    Rule("click", "ACTIVITIES", "activities"),
    Rule("text", "我的报名|我的活动", "my_signups"),
    Rule("text", r"^取消报名\s*(?P<activity>\S*)\s*(?P<name>\S*)$", "activity_cancel", match="regex"),
    Rule("text", r"^(?:帮|替|给)(?:老人|父母|家人|爸妈|母亲|父亲|爷爷|奶奶|姥姥|姥爷)报名\s*(?P<activity>\S+)\s+(?P<name>\S{1,20})$",
         "activity_signup_relative", match="regex"),
    Rule("text", r"^报名\s*(?P<activity>\S.{0,39})$", "activity_signup", match="regex"),
    Rule("text", "建议|意见|提建议|意见建议|给社区提意见建议|我要提建议", "suggestion_guide"),
    # Convenience and partner services (便民服务, 部门对接): partners file 便民纸条 to their departments.
    Rule("click", "CONVENIENCE", "convenience"),
    Rule("text", "便民服务|社保查询|预约挂号|违章查询|找景点|搜美食", "convenience"),
    Rule("click", "READ_PAPER", "read_paper"),
    Rule("text", "在线读报|读报|今日报纸", "read_paper"),
    Rule("click", "JUDGE_STUDIO", "judge_studio"),
    Rule("text", "张玉法官工作室|法官工作室|团队简介", "judge_studio"),
    Rule("text", "家事课堂", "family_class"),
    Rule("text", "阳光普法", "law_education"),
    Rule("text", r"^(?:线上调解|调解)\s*[:：]?\s*(?P<text>.*)$", "mediation_request", match="regex"),
    Rule("click", "CONSUMER_RIGHTS", "consumer_complaint"),
    Rule("text", r"^(?:消费投诉|消费维权e家|维权投诉)\s*[:：]?\s*(?P<text>.*)$", "consumer_complaint", match="regex"),
    Rule("click", "MINGDONGXIN", "counselling_request"),
    Rule("text", r"^(?:预约咨询|明东心教育咨询|明东心|心理咨询)\s*[:：]?\s*(?P<text>.*)$", "counselling_request",
         match="regex"),
    Rule("click", "SUGGESTION", "suggestion_guide"),
    Rule("text", "公共政策讨论|政策讨论|意见征集|讨论", "consultations"),
    Rule("text", r"^(?:回答|投票)\s*(?P<number>\d{1,2})\s*(?:[:：,，]\s*)?(?P<answer>.+)$", "consultation_answer",
         match="regex"),
    Rule("text", r"^(?:建议|意见|我的建议|我建议|提个建议|意见建议)\s*[:：,，]?\s*(?P<text>\S.*)$", "file_suggestion",
         match="regex"),
    Rule("text", "删除我的资料|删除资料|删除我的信息|删除我的档案", "delete_profile"),
    # A plea for help wins over words like 食堂 inside it: 能否明天派人送饭 is a 便民纸条, not a menu question.
    Rule("text", "能否|能不能|可不可以|可以帮|请帮|帮忙|帮我|派人|送饭|上门|维修|坏了|求助|投诉", "file_request",
         match="contains"),
    # A suggestion in other words (希望社区…, 我有个建议…): the director's queue, not a 便民纸条.
    Rule("text", "建议|意见|希望社区", "file_suggestion", match="contains"),
    Rule("text", "送饭|送餐|订餐|订饭|送一份|送两份|份饭", "file_request", match="contains"),
    Rule("text", r"食堂|菜单|菜谱|吃什么|什么菜|饭菜|有没有\S{1,8}?(?:吗|\?)?$", "canteen_menu", match="regex"),
    Rule("click", "CANTEEN_MENU", "canteen_menu"),
    Rule("type", "text", "file_request"),
    Rule("type", "voice", "voice_without_text"),
    Rule("type", "image", "file_request"),
    Rule("type", "video", "file_request"),
    Rule("type", "shortvideo", "file_request"),
    Rule("type", "link", "link"),
    Rule("type", "location", "location"),
    Rule("event", "LOCATION", "ignore"),
    Rule("event", "VIEW", "ignore"),
    Rule("event", "unsubscribe", "farewell"),
    Rule("event", "MASSSENDJOBFINISH", "job_report"),
    Rule("event", "TEMPLATESENDJOBFINISH", "job_report"),
    Rule("event", "PUBLISHJOBFINISH", "job_report"),
)

# Tried before an account's own rules (and the defaults), whatever staff edit: staff binding their WeChat.
SYSTEM_RULES: tuple[Rule, ...] = (
    Rule("text", BIND_PATTERN, "bind_staff", match="regex"),
)
