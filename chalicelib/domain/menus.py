"""Custom menus (自定义菜单): the district's template — three sections 微市南 / 微社区 / 微服务 — with each
community's overrides, checked against WeChat's limits before anything is sent.

WeChat's limits (menu/create): 1–3 buttons, each with at most 5 sub-buttons; a button's name at most 16
bytes, a sub-button's at most 60 (UTF-8: a Chinese character is 3 bytes); `key` at most 128 bytes; `url`
at most 1024; the known button types and the fields each needs. A CLICK key must be one the account's
rules map to an action the router has (checked here: a menu cannot send a click nothing answers).

URLs in the template may hold `{h5}` (the account's H5 pages: `{public_base}/h5/{account_id}`) and
`{public_base}`; they are filled per account.
"""
from __future__ import annotations

import copy
import json
from typing import Any, Iterable

from chalicelib.domain.errors import BadRequest
from chalicelib.domain.rules import Rule

MAX_BUTTONS = 3
MAX_SUB_BUTTONS = 5
MAX_NAME_BYTES = 16
MAX_SUB_NAME_BYTES = 60
MAX_KEY_BYTES = 128
MAX_URL_BYTES = 1024
BUTTON_TYPES = {
    "click": ("key",), "view": ("url",), "scancode_push": ("key",), "scancode_waitmsg": ("key",),
    "pic_sysphoto": ("key",), "pic_photo_or_album": ("key",), "pic_weixin": ("key",), "location_select": ("key",),
    "media_id": ("media_id",), "view_limited": ("media_id",), "article_id": ("article_id",),
    "article_view_limited": ("article_id",), "miniprogram": ("url", "appid", "pagepath"),
}
FIELDS = ("type", "name", "key", "url", "media_id", "appid", "pagepath", "article_id")
SECTIONS = ("微市南", "微社区", "微服务")

# The district's template (the seed's default; the district edits its own copy).
DEFAULT_TEMPLATE: dict[str, Any] = {"button": [
    {"name": "微市南", "sub_button": [
        {"type": "view", "name": "微信联盟", "url": "{h5}/matrix"},
        {"type": "view", "name": "微博联盟", "url": "{h5}/matrix?q=%E5%BE%AE%E5%8D%9A"},
        {"type": "click", "name": "在线读报", "key": "READ_PAPER"},
        {"type": "click", "name": "使用帮助", "key": "HELP"},
    ]},
    {"name": "微社区", "sub_button": [
        {"type": "click", "name": "社区活动", "key": "ACTIVITIES"},
        {"type": "click", "name": "食堂菜单", "key": "CANTEEN_MENU"},
        {"type": "click", "name": "提意见建议", "key": "SUGGESTION"},
        {"type": "click", "name": "我的纸条", "key": "MY_REQUESTS"},
    ]},
    {"name": "微服务", "sub_button": [
        {"type": "view", "name": "写便民纸条", "url": "{h5}/request"},
        {"type": "click", "name": "便民服务", "key": "CONVENIENCE"},
        {"type": "click", "name": "张玉法官工作室", "key": "JUDGE_STUDIO"},
        {"type": "click", "name": "消费维权e家", "key": "CONSUMER_RIGHTS"},
        {"type": "click", "name": "明东心教育咨询", "key": "MINGDONGXIN"},
    ]},
]}


class MenuInvalid(BadRequest):
    """A menu breaks WeChat's limits or names a click nothing answers: `problems` lists each, in Chinese."""

    code = "invalid_menu"

    def __init__(self, problems: list[str]):
        super().__init__("菜单不符合微信的要求：" + "；".join(problems))
        self.problems = problems


def _bytes(text: Any) -> int:
    return len(str(text).encode("utf-8"))


def click_keys(rules: Iterable[Rule], actions: Iterable[str]) -> set[str]:
    """The menu keys the rules map to an action the router has."""
    known = set(actions)
    return {r.pattern for r in rules if r.on == "click" and r.action in known}


def validate(menu: Any, keys: set[str]) -> dict[str, Any]:
    """The menu if it meets WeChat's limits and every key is answered; `MenuInvalid` listing every problem."""
    problems: list[str] = []
    buttons = menu.get("button") if isinstance(menu, dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
        raise MenuInvalid([f"一级菜单应有 1 到 {MAX_BUTTONS} 个"])
    for i, button in enumerate(buttons, start=1):
        where = f"第{i}个菜单"
        if not isinstance(button, dict):
            problems.append(f"{where}格式不对")
            continue
        where = f"{where}“{button.get('name', '')}”"
        subs = button.get("sub_button")
        _check_name(button, MAX_NAME_BYTES, where, problems)
        if subs:
            if not isinstance(subs, list) or len(subs) > MAX_SUB_BUTTONS:
                problems.append(f"{where}的子菜单最多 {MAX_SUB_BUTTONS} 个（现在 {len(subs) if isinstance(subs, list) else '格式不对'}）")
                continue
            for j, sub in enumerate(subs, start=1):
                sub_where = f"{where}的第{j}个子菜单"
                if not isinstance(sub, dict):
                    problems.append(f"{sub_where}格式不对")
                    continue
                sub_where += f"“{sub.get('name', '')}”"
                if sub.get("sub_button"):
                    problems.append(f"{sub_where}不能再有下一级菜单")
                _check_name(sub, MAX_SUB_NAME_BYTES, sub_where, problems)
                _check_action(sub, keys, sub_where, problems)
        else:
            _check_action(button, keys, where, problems)
    if problems:
        raise MenuInvalid(problems)
    return menu


def _check_name(button: dict, limit: int, where: str, problems: list[str]) -> None:
    name = button.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where}缺少名称")
    elif _bytes(name) > limit:
        problems.append(f"{where}的名称超过 {limit} 字节（现在 {_bytes(name)} 字节，一个汉字占 3 字节）")


def _check_action(button: dict, keys: set[str], where: str, problems: list[str]) -> None:
    kind = button.get("type")
    if kind not in BUTTON_TYPES:
        problems.append(f"{where}的类型“{kind or ''}”不是微信支持的类型（常用 click 或 view）")
        return
    for needed in BUTTON_TYPES[kind]:
        if not button.get(needed):
            problems.append(f"{where}缺少 {needed}")
    key, url = button.get("key"), button.get("url")
    if key is not None and _bytes(key) > MAX_KEY_BYTES:
        problems.append(f"{where}的 key 超过 {MAX_KEY_BYTES} 字节")
    if url is not None:
        if _bytes(url) > MAX_URL_BYTES:
            problems.append(f"{where}的链接超过 {MAX_URL_BYTES} 字节")
        elif not str(url).startswith(("https://", "http://")):
            problems.append(f"{where}的链接应以 http:// 或 https:// 开头")
    if kind == "click" and key and key not in keys:
        problems.append(f"{where}的 key “{key}”没有对应的回复规则（点了没有反应）")


def resolve(template: dict[str, Any], override: dict[str, Any] | None, public_base: str,
            account_id: str) -> dict[str, Any]:
    """The account's menu: the template, a community's overrides (a section replaced by name, or
    sub-buttons added to one), URLs filled in."""
    menu = copy.deepcopy(template)
    for section in (override or {}).get("replace", []):
        names = [b.get("name") for b in menu["button"]]
        if section.get("name") in names:
            menu["button"][names.index(section["name"])] = copy.deepcopy(section)
        else:
            menu["button"].append(copy.deepcopy(section))
    for name, extra in (override or {}).get("add", {}).items():
        for b in menu["button"]:
            if b.get("name") == name:
                b.setdefault("sub_button", []).extend(copy.deepcopy(extra))
    h5 = f"{public_base.rstrip('/')}/h5/{account_id}"
    for b in menu["button"]:
        for x in [b, *b.get("sub_button", [])]:
            if isinstance(x.get("url"), str):
                x["url"] = x["url"].replace("{h5}", h5).replace("{public_base}", public_base.rstrip("/"))
    return menu


def normalised(menu: dict[str, Any] | None) -> str:
    """A canonical form to compare with what `menu/get` returns (its shape differs a little)."""
    if not menu:
        return ""
    body = menu.get("menu", menu)

    def one(b: dict) -> dict:
        subs = b.get("sub_button") or []
        if isinstance(subs, dict):
            subs = subs.get("list", [])
        out = {k: b[k] for k in FIELDS if b.get(k)}
        if subs:
            out.pop("type", None)
            out["sub_button"] = [one(s) for s in subs]
        return out
    return json.dumps([one(b) for b in body.get("button", [])], ensure_ascii=False, sort_keys=True)
