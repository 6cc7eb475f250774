"""Canteens: the public menu (JSON, cacheable, and a large-type H5 page for elders), and the staff API
for menus and the delivery list (JSON, CSV, printable HTML)."""
from __future__ import annotations

import html

from chalice import Blueprint, Response

from chalicelib import clock
from chalicelib.auth import current_principal, staff_authorizer
from chalicelib.web.http import json_errors, json_response, read_json
from chalicelib.auth.errors import BadRequest
from chalicelib.services import canteens as canteen_desk

bp = Blueprint(__name__)
PUBLIC_CACHE = {"Cache-Control": "public, max-age=300"}


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
    body = read_json(bp.current_request)
    return json_response(canteen_desk.save_menu(current_principal(bp.current_request), canteen_id, day,
                                                body.get("meals"), bool(body.get("published", False))))


@bp.route("/api/v1/canteens/{canteen_id}/menus/copy-week", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def copy_week(canteen_id):
    body = read_json(bp.current_request)
    if not isinstance(body.get("from"), str) or not isinstance(body.get("to"), str):
        raise BadRequest("需要 from 和 to（YYYY-MM-DD，各取所在的那一周）", code="missing_field")
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
    if fmt == "html":
        return Response(print_page(canteen_id, q, rows), status_code=200,
                        headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"})
    return json_response({"items": rows})


@bp.route("/api/v1/canteens/{canteen_id}/deliveries/{number}/delivered", methods=["POST"],
          authorizer=staff_authorizer)
@json_errors
def delivered(canteen_id, number):
    return json_response(canteen_desk.mark_delivered(current_principal(bp.current_request), canteen_id, number))


@bp.route("/h5/canteens/{canteen_id}", methods=["GET"])
def menu_page(canteen_id):
    """The menu for elders on a phone: large type, high contrast, no script, no outside asset."""
    from chalicelib.auth.errors import NotFound

    try:
        data = canteen_desk.public_menus(canteen_id, None)
    except NotFound:
        return Response("<!doctype html><meta charset=utf-8><title>未找到</title><p>没有这个食堂。</p>",
                        status_code=404, headers={"Content-Type": "text/html; charset=utf-8"})
    return Response(menu_html(data), status_code=200,
                    headers={"Content-Type": "text/html; charset=utf-8", **PUBLIC_CACHE})


def menu_html(data: dict) -> str:
    from datetime import date

    from chalicelib.domain.canteen import yuan
    from chalicelib.domain.dates import describe_day, local_date
    from chalicelib.domain.meals import MEAL_NAMES

    e = html.escape
    today = local_date(clock.now())
    days = []
    for menu in data["menus"]:
        label = describe_day(date.fromisoformat(menu["date"]), today)
        if not menu["published"]:
            days.append(f"<section><h2>{e(label)}</h2><p>菜单还没有发布。</p></section>")
            continue
        meals = []
        for meal in ("breakfast", "lunch", "dinner"):
            if meal not in menu["meals"]:
                continue
            rows = "".join(
                f"<li><span>{e(d['name'])}</span>"
                + "".join(f"<em>{e(m)}</em>" for m in d.get("marks", []))
                + f"<b>{e(yuan(d['price_fen']))}</b></li>" for d in menu["meals"][meal].get("dishes", []))
            sets = "".join(f"<li class=set><span>{e(s['name'])}（{e('+'.join(s.get('dishes', [])))}）</span>"
                           f"<b>{e(yuan(s['price_fen']))}</b></li>" for s in menu["meals"][meal].get("sets", []))
            meals.append(f"<h3>{MEAL_NAMES[meal]}</h3><ul>{rows}{sets}</ul>")
        days.append(f"<section><h2>{e(label)}</h2>{''.join(meals)}</section>")
    c = data["canteen"]
    subsidy = f"<p class=note>60岁以上老人每餐补贴{e(yuan(c['elder_subsidy_fen']))}。</p>" if c["elder_subsidy_fen"] else ""
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(c['name'])}菜单</title>
<style>
body{{font:22px/1.6 system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;padding:16px;color:#111;background:#fff}}
h1{{font-size:30px;margin:0 0 8px}} h2{{font-size:26px;margin:24px 0 8px;border-bottom:3px solid #1a5e20}}
h3{{font-size:24px;margin:12px 0 4px;color:#1a5e20}} ul{{list-style:none;padding:0;margin:0}}
li{{display:flex;gap:8px;align-items:baseline;padding:6px 0;border-bottom:1px solid #ddd}}
li span{{flex:1}} li b{{white-space:nowrap}} em{{font-style:normal;font-size:18px;background:#fff3c4;color:#5c4400;
padding:0 6px;border-radius:4px}} .note{{background:#e8f5e9;padding:8px;border-radius:6px}}
.set span{{font-weight:bold}} footer{{margin-top:24px;font-size:20px}}
</style></head><body>
<h1>{e(c['name'])}</h1>{subsidy}
{''.join(days)}
<footer>需要送餐，请在公众号里直接留言，例如“明天中午送两份饭”。</footer>
</body></html>"""


def print_page(canteen_id: str, q: dict, rows: list[dict]) -> str:
    from chalicelib.domain.meals import MEAL_NAMES

    e = html.escape
    body = "".join(
        f"<tr><td>{e(r['number'])}</td><td>{e(r['state_name'])}</td><td>{r['portions']}</td>"
        f"<td>{e('、'.join(r['dishes']))}</td><td>{e(r['name'] or '')}</td><td>{e(r['phone'] or '')}</td>"
        f"<td>{e(r['address'] or '')}</td><td>{e(r['grid'] or '')}</td><td>□</td></tr>" for r in rows)
    title = f"送餐单 {canteen_id} {q.get('date', '今天')} {MEAL_NAMES.get(q.get('meal', 'lunch'), '')}"
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{e(title)}</title>
<style>body{{font:16px system-ui,sans-serif}} table{{border-collapse:collapse;width:100%}}
td,th{{border:1px solid #333;padding:6px;text-align:left}} @media print{{button{{display:none}}}}</style></head>
<body><h1>{e(title)}</h1><p>共 {len(rows)} 单，{sum(r['portions'] for r in rows)} 份</p>
<table><thead><tr><th>编号</th><th>状态</th><th>份数</th><th>菜品</th><th>姓名</th><th>电话</th><th>地址</th>
<th>网格</th><th>签收</th></tr></thead><tbody>{body}</tbody></table></body></html>"""
