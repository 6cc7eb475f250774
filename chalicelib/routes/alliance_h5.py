"""Residents' H5 pages of the alliance: the matrix by category with search (微信联盟 / 微博联盟), the
community's activities with sign-up (报名社区活动) and the suggestion form (给社区提意见建议).

Same house style as `routes/h5.py` (its stylesheet and page frame are imported, not copied): rendered on
the server, no script, large type, every control labelled. The matrix is public: no sign-in; activities
and suggestions know the resident by the WeChat sign-in of `routes/h5.py`.
"""
from __future__ import annotations

import html
from urllib.parse import quote

from chalice import Blueprint, Response

from chalicelib.domain.activities import SELF, SIGNUP_STATES
from chalicelib.domain.errors import DomainError
from chalicelib.domain.matrix import CATEGORIES
from chalicelib.routes.h5 import (
    FORM,
    HTML_HEADERS,
    Ctx,
    _check_csrf,
    _document,
    _form,
    _hidden,
    _page,
    _query,
    _session,
    _to_start,
    h5_page,
)
from chalicelib.services import activities as activities_service
from chalicelib.services import matrix as matrix_service
from chalicelib.services import suggestions as suggestions_service

bp = Blueprint(__name__)
e = html.escape
MATRIX_STYLE = """<style>
.cats{display:flex;flex-wrap:wrap;gap:8px 16px;margin:12px 0;padding:0;list-style:none}
.cats a{display:inline-block;min-height:44px;line-height:44px;padding:0 12px;border:2px solid #0b4f9c;border-radius:8px}
.cats a[aria-current]{background:#0b4f9c;color:#fff}
.entries{list-style:none;padding:0;margin:0} .entries li{border-bottom:2px solid #ddd;padding:10px 0}
.entries b{font-size:1.1rem} .tag{font-size:.85rem;background:#fff3c4;color:#5c4400;padding:0 6px;border-radius:4px;margin-left:6px}
.search{display:flex;gap:8px;align-items:flex-end} .search div{flex:1} .search button{margin-top:0}
</style>"""


@bp.route("/h5/{account_id}/matrix", methods=["GET"])
@h5_page
def matrix_page(ctx: Ctx) -> Response:
    q = _query()
    category = q.get("category") if q.get("category") in CATEGORIES else None
    query = (q.get("q") or "").strip()[:30]
    data = matrix_service.browse(ctx.account.view.district_id, category, query)
    body = _matrix_html(ctx, data, category, query)
    return Response(body=_document(f"微信联盟 - {ctx.account.view.name}", body, ctx.large).replace(
        "</head>", MATRIX_STYLE + "</head>", 1), status_code=200,
        headers={**HTML_HEADERS, "Cache-Control": "public, max-age=60"})


def _link(ctx: Ctx, large: bool | None = None, **query: str) -> str:
    large = ctx.large if large is None else large
    params = {**({"large": "1"} if large else {}), **{k: v for k, v in query.items() if v}}
    tail = "&".join(f"{k}={quote(v)}" for k, v in params.items())
    return f"{ctx.prefix}/h5/{ctx.account_id}/matrix" + (f"?{tail}" if tail else "")


def _matrix_html(ctx: Ctx, data: dict, category: str | None, query: str) -> str:
    cats = [f'<li><a href="{e(_link(ctx))}"{" aria-current=page" if not category else ""}>全部</a></li>']
    cats += [f'<li><a href="{e(_link(ctx, category=c))}"{" aria-current=page" if c == category else ""}>'
             f'{e(c)}</a></li>' for c in data["categories"]]
    sections = []
    for cat, entries in data["groups"]:
        items = []
        for x in entries:
            how = (f"微信号：{e(x.wechat_id)}" if x.platform == "wechat"
                   else f'<a href="{e(x.weibo_url)}">打开微博</a>')
            qr = f' · <a href="{e(x.qr_image)}">二维码</a>' if x.qr_image else ""
            items.append(f'<li><b>{e(x.name)}</b><span class="tag">{e(x.platform_name)}</span>'
                         f'<br>{e(x.description)}<br><small>{e(x.owner)} · {how}{qr}</small></li>')
        sections.append(f'<section><h2>{e(cat)}（{len(entries)}）</h2><ul class="entries">{"".join(items)}</ul></section>')
    large = '<input type="hidden" name="large" value="1">' if ctx.large else ""
    keep_cat = f'<input type="hidden" name="category" value="{e(category)}">' if category else ""
    found = (f'<p role="status">找到 {data["found"]} 个账号。</p>' if query or category
             else f'<p>全区共 {data["total"]} 个政务微信和微博账号。</p>')
    empty = "" if data["groups"] else "<p>没有找到，可以换个关键词，例如“法官”“学校”“微博”。</p>"
    toggle = _link(ctx, not ctx.large, category=category or "", q=query)
    size = f'<p class="size"><a href="{e(toggle)}">{"标准字号" if ctx.large else "大字"}</a></p>'
    return f"""{size}<h1>微信联盟 · 微博联盟</h1>
<form class="search" method="get" action="{e(ctx.prefix)}/h5/{e(ctx.account_id)}/matrix" role="search">{large}{keep_cat}
<div><label for="q">查找账号</label><input id="q" name="q" type="text" value="{e(query)}" maxlength="30"
placeholder="例如：法官、学校、微博"></div><button type="submit">查找</button></form>
<nav aria-label="按类别浏览"><ul class="cats">{''.join(cats)}</ul></nav>
{found}{empty}{''.join(sections)}"""


# ---- 社区活动 ----------------------------------------------------------------------------------------

@bp.route("/h5/{account_id}/activities", methods=["GET"])
@h5_page
def activities_page(ctx: Ctx) -> Response:
    session = _session(ctx)
    if session is None:
        return _to_start(ctx, "activities")
    return _page(ctx, "社区活动", _activities_html(ctx, session, ""))


@bp.route("/h5/{account_id}/activities", methods=["POST"], content_types=FORM)
@h5_page
def activities_submit(ctx: Ctx) -> Response:
    session = _session(ctx)
    if session is None:
        return _to_start(ctx, "activities", 303)
    form = _form()
    _check_csrf(ctx, session, form)
    person = (form.get("person") or "").strip() or SELF
    try:
        if form.get("do") == "cancel":
            message = activities_service.cancel(ctx.account.view, session.openid, form.get("activity") or "", person)
        else:
            message = activities_service.sign_up(ctx.account.view, session.openid, form.get("activity") or "", person)
    except DomainError as exc:
        return _page(ctx, "社区活动", _activities_html(ctx, session, str(exc), error=True), status=exc.status)
    return _page(ctx, "社区活动", _activities_html(ctx, session, message))


def _activities_html(ctx: Ctx, session, message: str, error: bool = False) -> str:
    data = activities_service.resident_activities(ctx.account.view, session.openid)
    note = ""
    if message:
        note = (f'<p class="error" role="alert">{e(message)}</p>' if error
                else f'<div class="ok" role="status"><p>{e(message)}</p></div>')
    items = []
    for a, mine in data["items"]:
        left = max(a.capacity - a.taken, 0)
        places = f"余 {left} 个名额" if left else "名额已满，可以排候补"
        action = "signup"
        button = "报名" if left else "排候补"
        state = ""
        if mine is not None and mine.state != "cancelled":
            action, button = "cancel", "取消报名"
            state = f"<p><b>您{'的家人' if mine.person != SELF else ''}：{e(SIGNUP_STATES[mine.state])}</b></p>"
        relative = ""
        if a.relatives_allowed and action == "signup":
            relative = (f'<label for="p-{e(a.activity_id)}">替家里老人报名（写老人的称呼，本人报名不用填）</label>'
                        f'<input id="p-{e(a.activity_id)}" name="person" type="text" maxlength="20">')
        items.append(f"""<section><h2>{e(a.title)}</h2>
<p>{e(a.when(data["now"]))} · {e(a.place)}<br>面向：{e(a.audience)} · {e(places)}</p>{state}
<p>{e(a.description)}</p>
<form method="post" action="{e(ctx.path('activities'))}">{_hidden(session)}
<input type="hidden" name="activity" value="{e(a.activity_id)}"><input type="hidden" name="do" value="{action}">
{relative}<button type="submit"{' class="danger"' if action == 'cancel' else ''}>{button}</button></form></section>""")
    body = "".join(items) or "<p>近期没有可以报名的活动。</p>"
    return f"<h1>社区活动</h1>{note}{body}"


# ---- 意见建议 ----------------------------------------------------------------------------------------

@bp.route("/h5/{account_id}/suggestion", methods=["GET"])
@h5_page
def suggestion_form(ctx: Ctx) -> Response:
    session = _session(ctx)
    if session is None:
        return _to_start(ctx, "suggestion")
    return _page(ctx, "给社区提意见建议", _suggestion_html(ctx, session, "", ""))


@bp.route("/h5/{account_id}/suggestion", methods=["POST"], content_types=FORM)
@h5_page
def suggestion_submit(ctx: Ctx) -> Response:
    session = _session(ctx)
    if session is None:
        return _to_start(ctx, "suggestion", 303)
    form = _form()
    _check_csrf(ctx, session, form)
    text = form.get("text") or ""
    try:
        filed = suggestions_service.file_from_h5(ctx.account.view, session.openid, text)
    except DomainError as exc:
        return _page(ctx, "给社区提意见建议", _suggestion_html(ctx, session, text, str(exc)), status=exc.status)
    return _page(ctx, "已收到您的建议", f'<h1>已收到您的建议</h1><div class="ok" role="status"><p>{e(filed)}</p></div>')


def _suggestion_html(ctx: Ctx, session, text: str, error: str) -> str:
    alert = f'<p class="error" role="alert">{e(error)}</p>' if error else ""
    return f"""<h1>给社区提意见建议</h1>
<p>您的建议会交给社区主任，主任会答复您。需要上门帮忙的事请写“便民纸条”。</p>{alert}
<form method="post" action="{e(ctx.path('suggestion'))}">{_hidden(session)}
<label for="text">您的建议</label>
<textarea id="text" name="text" rows="6" maxlength="2000" required>{e(text)}</textarea>
<button type="submit">提交</button></form>"""
