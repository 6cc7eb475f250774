"""The canteen desk (食堂): menus a week at a time (edit, copy last week, publish), the public menu, the
delivery list of a meal, and marking an order delivered (which completes its 便民纸条)."""
from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from chalicelib import bootstrap
from chalicelib.auth.scope import can, can_see_request, require
from chalicelib.config import settings
from chalicelib.domain import dates, exports
from chalicelib.domain.canteen import MenuInvalid, validate_meals, week_of
from chalicelib.domain.errors import NotFound
from chalicelib.domain.filing import FLAGS
from chalicelib.domain.masking import mask_address, mask_phone
from chalicelib.domain.meals import MEAL_NAMES
from chalicelib.domain.records import record
from chalicelib.domain.requests import STATE_NAMES
from chalicelib.services import requests as request_desk


@record
class CanteenScope:
    community_id: str
    district_id: str
    team_id: str | None = None
    department_id: str | None = None


def canteen(canteen_id: str):
    found = bootstrap.canteens().canteen(canteen_id)
    if found is None:
        raise NotFound("食堂不存在")
    return found


def _scope(c) -> CanteenScope:
    return CanteenScope(c.community_id, settings().district_id)


def parse_day(text: str | None, default: date | None = None) -> date:
    if not text:
        if default is None:
            raise MenuInvalid("需要日期 date=YYYY-MM-DD")
        return default
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise MenuInvalid(f"日期格式应为 YYYY-MM-DD：{text}") from exc


def public_menus(canteen_id: str, day_text: str | None) -> dict[str, Any]:
    """The published menu of a day (or of the coming seven days): public, cacheable."""
    c = canteen(canteen_id)
    today = dates.local_date(bootstrap.now())
    days = [parse_day(day_text)] if day_text else [today + timedelta(days=i) for i in range(7)]
    ports = bootstrap.ports()
    return {"canteen": {"id": c.canteen_id, "name": c.name, "community_id": c.community_id,
                        "elder_subsidy_fen": c.elder_subsidy_fen,
                        "hours": {k: {"opens": v[0], "closes": v[1]} for k, v in c.hours.items()}},
            "menus": [{"date": d.isoformat(), "published": (m := ports.menu(c.canteen_id, d)) is not None,
                       "meals": m or {}} for d in days]}


def save_menu(principal, canteen_id: str, day_text: str, meals: Any, published: bool) -> dict[str, Any]:
    c = canteen(canteen_id)
    require(principal, "canteen.edit", _scope(c))
    day = parse_day(day_text)
    clean = validate_meals(meals)
    bootstrap.canteens().save_menu(c.canteen_id, day, clean, bool(published), principal.username, bootstrap.now())
    return {"date": day.isoformat(), "published": bool(published), "meals": clean}


def copy_week(principal, canteen_id: str, from_text: str, to_text: str, publish: bool = False) -> dict[str, Any]:
    """Copy last week's menus (the week holding `from`) onto the week holding `to`."""
    c = canteen(canteen_id)
    require(principal, "canteen.edit", _scope(c))
    source, target = week_of(parse_day(from_text)), week_of(parse_day(to_text))
    if source == target:
        raise MenuInvalid("源周和目标周不能相同")
    copied = bootstrap.canteens().copy_menus(c.canteen_id, source, target, publish, principal.username,
                                             bootstrap.now())
    return {"copied": copied, "published": publish}


def deliveries(principal, canteen_id: str, day_text: str | None, meal: str) -> list[dict[str, Any]]:
    """The orders of one meal for the delivery team, with address and phone (they deliver them)."""
    c = canteen(canteen_id)
    if principal.role not in ("team_member", "department"):  # teams see just the orders routed to them
        require(principal, "request.view", _scope(c))
    if meal not in MEAL_NAMES:
        raise MenuInvalid(f"未知的餐次 {meal}")
    day = parse_day(day_text, dates.local_date(bootstrap.now()))
    repo = bootstrap.requests()
    rows = []
    for r in bootstrap.canteens().deliveries(f"{c.canteen_id}#{day.isoformat()}#{meal}"):
        if not can_see_request(principal, r):
            continue
        details = json.loads(r.details or "{}")
        contact = repo.contact(r)
        serving = can(principal, "request.transition") or (principal.team_id and principal.team_id == r.team_id)
        phone, address = (contact.phone, contact.address) if contact else (None, None)
        rows.append({"number": r.number, "state": r.state, "state_name": STATE_NAMES[r.state],
                     "portions": details.get("portions", 1), "dishes": details.get("dishes", []),
                     "name": contact.name if contact else None,
                     "phone": phone if serving else mask_phone(phone),  # full only to those who deliver
                     "address": address if serving else mask_address(address), "grid": r.grid,
                     "flags": [FLAGS.get(f, f) for f in (getattr(r, "flags", None) or [])],
                     "note": r.text[:100]})
    return sorted(rows, key=lambda x: (x["grid"] or "", x["address"] or ""))


DELIVERY_HEADER = ("编号", "状态", "份数", "菜品", "姓名", "电话", "地址", "网格", "待办", "居民留言")


def _delivery_cells(rows: list[dict[str, Any]]) -> list[list[Any]]:
    return [[r["number"], r["state_name"], r["portions"], "、".join(r["dishes"]), r["name"], r["phone"],
             r["address"], r["grid"], "、".join(r["flags"]), r["note"]] for r in rows]


def deliveries_csv(rows: list[dict[str, Any]]) -> str:
    """The delivery list as CSV (UTF-8 with BOM so spreadsheet programs read the Chinese correctly)."""
    return exports.csv_text(DELIVERY_HEADER, _delivery_cells(rows))  # every cell neutralised


def deliveries_xlsx(rows: list[dict[str, Any]]) -> bytes:
    return exports.xlsx_bytes(DELIVERY_HEADER, _delivery_cells(rows), "送餐名单")


def mark_delivered(principal, canteen_id: str, number: str) -> dict[str, Any]:
    """送达: completes the order's 便民纸条 (the routed team takes it up first if nobody had assigned it)."""
    request = request_desk.load(principal, number)
    if request.category != "meal_delivery" or not (request.delivery_key or "").startswith(f"{canteen_id}#"):
        raise MenuInvalid(f"纸条 {number} 不是本食堂的送餐")
    if request.state in ("submitted", "accepted", "reopened"):
        request_desk.move(principal, number, "start")
    return request_desk.move(principal, number, "complete", note="已送达")
