"""Custom menus' use cases (自定义菜单): the district edits its template, a community its overrides (both
validated against WeChat's limits and the rules' click keys before they are saved); `push-menus` sends
each account's menu only where it differs from what WeChat's `menu/get` returns."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from chalicelib import bootstrap, log
from chalicelib.auth.principal import Principal
from chalicelib.auth.scope import require
from chalicelib.domain.convenience import check_links
from chalicelib.domain.errors import BadRequest, Forbidden
from chalicelib.domain.handlers import ROUTER
from chalicelib.domain.menus import DEFAULT_TEMPLATE, MenuInvalid, click_keys, normalised, resolve, validate

LOG = log.get_logger("menus")
MENU_MISSING = 46003  # WeChat: the account has no menu yet
DEFAULT_PUBLIC_BASE = "https://wx.example.invalid"  # until the district sets its own (demo, laptop)


def _template(district_id: str) -> tuple[dict, str]:
    stored = bootstrap.alliance().read_setting(f"menu#district#{district_id}") or {}
    return stored.get("menu") or DEFAULT_TEMPLATE, stored.get("public_base") or DEFAULT_PUBLIC_BASE


def menu_for(account_view, template: dict, public_base: str, override: dict | None) -> dict[str, Any]:
    """The account's menu, validated (its own rules decide which click keys are answered)."""
    menu = resolve(template, override, public_base, account_view.account_id)
    return validate(menu, click_keys(bootstrap.ports().rules(account_view.account_id), ROUTER.actions))


def _scope(principal: Principal, community_id: str | None) -> None:
    require(principal, "menu.edit", SimpleNamespace(district_id=principal.district_id, community_id=community_id,
                                                    team_id=None, department_id=None))


def view(principal: Principal, community_id: str | None) -> dict[str, Any]:
    _scope(principal, community_id)
    template, public_base = _template(principal.district_id)
    out: dict[str, Any] = {"template": template, "public_base": public_base}
    if community_id:
        out["override"] = bootstrap.alliance().read_setting(f"menu#community#{community_id}") or {}
        account = bootstrap.ports().account(community_id)
        if account is not None:
            out["menu"] = resolve(template, out["override"], public_base, community_id)
    return out


def save_template(principal: Principal, body: Any) -> dict[str, Any]:
    _scope(principal, None)
    if principal.role != "district_admin":
        raise Forbidden("只有区管理员可以修改全区菜单模板")
    if not isinstance(body, dict) or not isinstance(body.get("menu"), dict):
        raise BadRequest("需要 menu（菜单）和 public_base（H5 页面的网址前缀）", code="missing_field")
    public_base = body.get("public_base") or DEFAULT_PUBLIC_BASE
    if not isinstance(public_base, str) or not public_base.startswith("https://"):
        raise MenuInvalid(["public_base 应以 https:// 开头"])
    district_account = bootstrap.ports().account(principal.district_id)
    check_account = district_account.view if district_account else SimpleNamespace(account_id="check")
    menu_for(check_account, body["menu"], public_base, None)
    bootstrap.alliance().write_setting(f"menu#district#{principal.district_id}", {"menu": body["menu"], "public_base": public_base},
                         principal.username)
    return {"template": body["menu"], "public_base": public_base}


def save_override(principal: Principal, community_id: str, body: Any) -> dict[str, Any]:
    _scope(principal, community_id)
    if not isinstance(body, dict):
        raise BadRequest("请求内容应为JSON对象", code="bad_json")
    account = bootstrap.ports().account(community_id)
    if account is None:
        raise BadRequest("这个社区还没有公众号", code="no_account")
    template, public_base = _template(principal.district_id)
    menu = menu_for(account.view, template, public_base, body)
    bootstrap.alliance().write_setting(f"menu#community#{community_id}", body, principal.username)
    return {"override": body, "menu": menu}


def save_links(principal: Principal, body: Any) -> dict[str, Any]:
    if principal.role != "district_admin":
        raise Forbidden("只有区管理员可以设置便民服务链接")
    bootstrap.alliance().write_setting(f"links#district#{principal.district_id}", check_links(body), principal.username)
    return body


def push_all(district_id: str) -> dict[str, Any]:
    """`push-menus`: every account's menu where it differs from WeChat's (diff-only, so idempotent)."""
    accounts = bootstrap.alliance().district_accounts(district_id)
    errors = bootstrap.wechat_errors()
    template, public_base = _template(district_id)
    overrides = bootstrap.alliance().read_settings([f"menu#community#{a.community_id}" for a in accounts if a.community_id])
    report: dict[str, Any] = {"changed": [], "unchanged": [], "failed": []}
    for account in accounts:
        override = overrides.get(f"menu#community#{account.community_id}") if account.community_id else None
        try:
            menu = menu_for(account, template, public_base, override)
        except MenuInvalid as exc:
            report["failed"].append({"account_id": account.account_id, "error": str(exc)})
            continue
        client = bootstrap.wechat(account.account_id)
        try:
            try:
                current = client.menu.get()
            except errors.api as exc:
                if exc.errcode != MENU_MISSING:
                    raise
                current = None
            if normalised(current) == normalised(menu):
                report["unchanged"].append(account.account_id)
                continue
            client.menu.create(menu)
            report["changed"].append(account.account_id)
        except errors.api as exc:
            report["failed"].append({"account_id": account.account_id, "errcode": exc.errcode, "error": exc.errmsg})
        except Exception as exc:  # noqa: BLE001 - one account's failure (network …) is reported, the rest go on
            report["failed"].append({"account_id": account.account_id, "error": f"{type(exc).__name__}: {exc}"})
    log.event(LOG, "menus pushed", changed=len(report["changed"]), unchanged=len(report["unchanged"]),
              failed=len(report["failed"]))
    return report
