"""Canteens: the public menu (JSON, cacheable, and a large-type H5 page for elders), and the staff API
for menus and the delivery list (JSON, CSV, printable HTML)."""
from __future__ import annotations

import html
from datetime import date

from chalice import Blueprint, Response

from chalicelib import clock
from chalicelib.auth import current_principal, staff_authorizer
from chalicelib.domain.canteen import MARKS, yuan
from chalicelib.domain.dates import describe_day, local_date
from chalicelib.domain.errors import DomainError, NotFound
from chalicelib.domain.exports import XLSX_TYPE
from chalicelib.domain.meals import MEAL_NAMES
from chalicelib.schema import Bool, Day, Int, List, Obj, Text
from chalicelib.services import canteens as canteen_desk
from chalicelib.web import pages
from chalicelib.web.http import json_errors, json_response, read_json, status_of
from chalicelib.web.pages import Markup, each, render, when

bp = Blueprint(__name__)
PUBLIC_CACHE = {"Cache-Control": "public, max-age=300"}

# ---- input schemas (chalicelib/schema.py): types and limits, 400 naming the field ----
_PRICE = Int(0, 100_000, label="价格，单位：分")
_NAME = Text(30, label="名称")
_DISH = Obj({"name": _NAME, "price_fen": _PRICE, "marks": List(Text(10, choices=MARKS), 8, required=False)})
_SET = Obj({"name": _NAME, "price_fen": _PRICE, "dishes": List(Text(30), 20, required=False)})
_MEAL = Obj({"dishes": List(_DISH, 40, required=False), "sets": List(_SET, 10, required=False)}, required=False)
MENU_INPUT = Obj({"meals": Obj({meal: _MEAL for meal in MEAL_NAMES}), "published": Bool(required=False)})
COPY_WEEK = Obj({"from": Day(), "to": Day(), "publish": Bool(required=False)})


def _q() -> dict[str, str]:
    return bp.current_request.query_params or {}


@bp.route("/api/v1/canteens/{canteen_id}/menus", methods=["GET"])
@json_errors
def public_menus(canteen_id):
    """Public: no login, cacheable for five minutes."""
    return json_response(canteen_desk.public_menus(canteen_id, _q().get("date")), headers=PUBLIC_CACHE)


@bp.route("/api/v1/canteens/{canteen_id}/menus/{day}", methods=["PUT"], authorizer=staff_authorizer)
@json_errors
def save_menu(canteen_id, day):
    body = MENU_INPUT.check(read_json(bp.current_request))
    return json_response(canteen_desk.save_menu(current_principal(bp.current_request), canteen_id, day,
                                                body.get("meals"), bool(body.get("published", False))))


@bp.route("/api/v1/canteens/{canteen_id}/menus/copy-week", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def copy_week(canteen_id):
    body = COPY_WEEK.check(read_json(bp.current_request))
    return json_response(canteen_desk.copy_week(current_principal(bp.current_request), canteen_id, body["from"],
                                                body["to"], bool(body.get("publish", False))))


@bp.route("/api/v1/canteens/{canteen_id}/deliveries", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def deliveries(canteen_id):
    q = _q()
    rows = canteen_desk.deliveries(current_principal(bp.current_request), canteen_id, q.get("date"),
                                   q.get("meal", "lunch"))
    fmt = q.get("format", "json")
    if fmt == "csv":
        return Response(canteen_desk.deliveries_csv(rows), status_code=200, headers={
            "Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="deliveries-{canteen_id}-{q.get("date", "today")}.csv"'})
    if fmt == "xlsx":

        return Response(canteen_desk.deliveries_xlsx(rows), status_code=200, headers={
            "Content-Type": XLSX_TYPE, "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="deliveries-{canteen_id}-{q.get("date", "today")}.xlsx"'})
    if fmt == "html":
        name = getattr(canteen_desk.canteen(canteen_id), "name", None) or canteen_id
        return Response(print_page(name, q, rows), status_code=200,
                        headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"})
    return json_response({"items": rows})


@bp.route("/api/v1/canteens/{canteen_id}/deliveries/{number}/delivered", methods=["POST"],
          authorizer=staff_authorizer)
@json_errors
def delivered(canteen_id, number):
    return json_response(canteen_desk.mark_delivered(current_principal(bp.current_request), canteen_id, number))


@bp.route("/h5/canteens/{canteen_id}", methods=["GET"])
def menu_page(canteen_id):
    """The menu for elders on a phone: large type (大字 with ?large=1), high contrast, no script, no outside
    asset; rendered from `web/templates/canteen.html` with the pages' one stylesheet."""
    large = _q().get("large") == "1"
    try:
        data = canteen_desk.public_menus(canteen_id, None)
    except DomainError as error:
        title, text = ("未找到", "没有这个食堂。") if isinstance(error, NotFound) else ("无法显示", error.message)
        return pages.respond(title, render("common:message", title=title, text=text), status_of(error), large)
    size = render("common:size_link", href="?" if large else "?large=1", label="标准字号" if large else "大字")
    return pages.respond(f"{data['canteen']['name']}菜单", menu_html(data), large=large, top=size, public=True)


def menu_html(data: dict) -> Markup:
    today = local_date(clock.now())
    days = []
    for menu in data["menus"]:
        label = describe_day(date.fromisoformat(menu["date"]), today)
        if not menu["published"]:
            days.append(render("canteen:unpublished", label=label))
            continue
        meals = [_meal_html(meal, menu["meals"][meal]) for meal in ("breakfast", "lunch", "dinner")
                 if meal in menu["meals"]]
        days.append(render("canteen:day", label=label, meals=Markup("".join(meals))))
    c = data["canteen"]
    return render("canteen:menu", name=c["name"], days=Markup("".join(days)),
                  subsidy=when(c["elder_subsidy_fen"], "canteen:subsidy", amount=yuan(c["elder_subsidy_fen"] or 0)))


def _meal_html(meal: str, offer: dict) -> Markup:
    dishes = ({"name": d["name"], "price": yuan(d["price_fen"]),
               "marks": each("canteen:mark", ({"text": m} for m in d.get("marks", [])))}
              for d in offer.get("dishes", []))
    sets = ({"name": s["name"], "dishes": "+".join(s.get("dishes", [])), "price": yuan(s["price_fen"])}
            for s in offer.get("sets", []))
    return render("canteen:meal", name=MEAL_NAMES[meal], dishes=each("canteen:dish", dishes),
                  sets=each("canteen:set", sets))


def print_page(canteen_name: str, q: dict, rows: list[dict]) -> str:
    e = html.escape
    body = "".join(
        f"<tr><td>{e(r['number'])}</td><td>{e(r['state_name'])}</td><td>{r['portions']}</td>"
        f"<td>{e('、'.join(r['dishes']))}</td><td>{e(r['name'] or '')}</td><td>{e(r['phone'] or '')}</td>"
        f"<td>{e(r['address'] or '')}</td><td>{e(r['grid'] or '')}</td><td>□</td></tr>" for r in rows)
    title = f"{canteen_name} 送餐单 {q.get('date', '今天')} {MEAL_NAMES.get(q.get('meal', 'lunch'), '')}"
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{e(title)}</title>
<style>body{{font:16px system-ui,sans-serif}} table{{border-collapse:collapse;width:100%}}
td,th{{border:1px solid #333;padding:6px;text-align:left}} @media print{{button{{display:none}}}}</style></head>
<body><h1>{e(title)}</h1><p>共 {len(rows)} 单，{sum(r['portions'] for r in rows)} 份</p>
<table><thead><tr><th>编号</th><th>状态</th><th>份数</th><th>菜品</th><th>姓名</th><th>电话</th><th>地址</th>
<th>网格</th><th>签收</th></tr></thead><tbody>{body}</tbody></table></body></html>"""
