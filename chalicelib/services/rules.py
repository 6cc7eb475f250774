"""Keyword rules and auto-replies in the console (关键词规则): the district's default rules and each
account's own, edited by staff, checked before saving (known triggers and actions, and regexes that
cannot backtrack catastrophically), and a "try a message" box that shows which rule answers.

Saved rules reach warm Lambdas within the rules' cache lifetime (a minute).
"""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict
from datetime import timezone
from types import SimpleNamespace
from typing import Any

from chalicelib import bootstrap
from chalicelib.auth.principal import Principal
from chalicelib.auth.scope import require
from chalicelib.domain.errors import BadRequest, Forbidden, NotFound
from chalicelib.domain.handlers import ROUTER
from chalicelib.domain.messages import Inbound
from chalicelib.domain.regex_safety import UnsafeRegex, attack_inputs, check
from chalicelib.domain.rules import DEFAULT_RULES, RULE_TRIGGERS, TEXT_MATCHES, InvalidRule, Rule, first_match, validate
from chalicelib.domain.text import normalise

MAX_RULES = 200
TRIAL_SECONDS = 1.0
_TRIAL = ("import json,re,sys\nd=json.load(sys.stdin)\nr=re.compile(d['p'],re.IGNORECASE)\n"
          "for t in d['t']:\n r.search(t)\nprint('ok')")


def trial_match(pattern: str, texts: list[str], seconds: float = TRIAL_SECONDS) -> None:
    """Match `texts` with `pattern` in a separate process, killed after `seconds` (a running `re` match
    cannot be interrupted in-process); `UnsafeRegex` if it does not finish in time."""
    try:
        done = subprocess.run([sys.executable, "-I", "-S", "-c", _TRIAL], input=json.dumps({"p": pattern, "t": texts}),
                              capture_output=True, text=True, timeout=seconds)
    except subprocess.TimeoutExpired as exc:
        raise UnsafeRegex(f"试匹配超过 {seconds:g} 秒仍未结束：这个正则表达式会让回复变得极慢，请改写") from exc
    if done.returncode != 0 or done.stdout.strip() != "ok":
        raise UnsafeRegex("正则表达式无法试运行：" + (done.stderr.strip().splitlines() or ["未知错误"])[-1])


def _scope(principal: Principal, account_id: str):
    """The account (or the district's defaults, `district`) staff may edit the rules of."""
    if account_id == "district":
        require(principal, "rules.edit")
        if principal.role != "district_admin":
            raise Forbidden("只有区管理员可以修改全区默认规则")
        return None
    account = bootstrap.ports().account(account_id)
    if account is None:
        raise NotFound("公众号不存在")
    view = account.view
    require(principal, "rules.edit", SimpleNamespace(district_id=view.district_id, community_id=view.community_id,
                                                     team_id=None, department_id=None))
    return view


def _key(principal: Principal, account_id: str) -> str:
    return f"district#{principal.district_id}" if account_id == "district" else account_id


def rule_from_json(data: Any, n: int) -> Rule:
    where = f"第{n}条规则："
    if not isinstance(data, dict):
        raise BadRequest(where + "格式不对", code="invalid_rule")
    params = data.get("params") or {}
    if not isinstance(params, dict):
        raise BadRequest(where + "参数（params）应为JSON对象", code="invalid_rule")
    rule = Rule(on=str(data.get("on", "")), pattern=str(data.get("pattern", "")).strip(),
                action=str(data.get("action", "")), match=str(data.get("match") or "exact"), params=params)
    try:
        validate(rule, ROUTER.actions)
    except InvalidRule as exc:
        raise BadRequest(where + _chinese(str(exc)), code="invalid_rule") from exc
    if rule.on == "text" and rule.match == "regex":
        try:
            check(rule.pattern)
            trial_match(rule.pattern, attack_inputs(rule.pattern))
        except UnsafeRegex as exc:
            raise BadRequest(f"{where}{exc}", code="unsafe_regex") from exc
    return rule


def _chinese(message: str) -> str:
    if message.startswith("unknown trigger"):
        return "触发方式应为 " + "、".join(RULE_TRIGGERS)
    if message.startswith("unknown action"):
        return "没有这个动作：" + message.split(" ", 2)[-1]
    if message.startswith("unknown match"):
        return "匹配方式应为 " + "、".join(TEXT_MATCHES)
    if message.startswith("a rule needs a pattern"):
        return "请填写关键词（或菜单 key、事件名、消息类型）"
    if message.startswith("bad regular expression"):
        return "正则表达式写错了：" + message.split(":", 1)[-1].strip()
    return message


def view(principal: Principal, account_id: str) -> dict[str, Any]:
    _scope(principal, account_id)
    own = bootstrap.alliance().load_rules(_key(principal, account_id))
    inherited = bootstrap.alliance().load_rules(f"district#{principal.district_id}") if account_id != "district" else None
    effective = own or inherited or DEFAULT_RULES
    return {"account_id": account_id, "own": own is not None, "rules": [asdict(r) for r in effective],
            "actions": sorted(ROUTER.actions), "triggers": list(RULE_TRIGGERS), "matches": list(TEXT_MATCHES),
            "source": "own" if own else ("district" if inherited else "default")}


def save(principal: Principal, account_id: str, body: Any) -> dict[str, Any]:
    _scope(principal, account_id)
    items = body.get("rules") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise BadRequest("需要 rules（规则列表）", code="missing_field")
    if len(items) > MAX_RULES:
        raise BadRequest(f"规则最多 {MAX_RULES} 条", code="too_many_rules")
    rules = tuple(rule_from_json(item, n) for n, item in enumerate(items, start=1))
    bootstrap.alliance().save_rules(_key(principal, account_id), rules, principal.username)
    return {"account_id": account_id, "saved": len(rules),
            "note": "已保存。各服务器在一分钟内使用新规则。"}


def reset(principal: Principal, account_id: str) -> dict[str, Any]:
    _scope(principal, account_id)
    bootstrap.alliance().delete_rules(_key(principal, account_id))
    return {"account_id": account_id, "reset": True}


def try_message(principal: Principal, account_id: str, body: Any) -> dict[str, Any]:
    """Which rule answers a message (the rules posted, or the stored ones): nothing is sent or written."""
    _scope(principal, account_id)
    if not isinstance(body, dict):
        raise BadRequest("请求内容应为JSON对象", code="bad_json")
    if isinstance(body.get("rules"), list):
        rules = tuple(rule_from_json(item, n) for n, item in enumerate(body["rules"], start=1))
    else:
        rules = tuple(Rule(**r) for r in view(principal, account_id)["rules"])
    now = bootstrap.now().astimezone(timezone.utc)
    kind = body.get("kind") or "text"
    message = Inbound(kind="event" if kind in ("click", "event") else kind, openid="o-try", account_original_id="gh_try",
                      created_at=now, text=str(body.get("text") or "") if kind in ("text", "voice") else None,
                      event="CLICK" if kind == "click" else (body.get("event") or None),
                      event_key=body.get("key") if kind == "click" else None)
    text = normalise(message.text)
    found = first_match(rules, message, text)
    if found is None:
        return {"matched": False, "text": text}
    rule, captured = found
    return {"matched": True, "index": rules.index(rule) + 1, "rule": asdict(rule), "action": rule.action,
            "params": {**rule.params, **captured}, "text": text}
