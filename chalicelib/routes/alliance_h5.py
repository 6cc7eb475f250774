"""Residents' H5 pages of the alliance: the matrix by category with search (微信联盟 / 微博联盟), the
community's activities with sign-up (报名社区活动) and the suggestion form (给社区提意见建议).

Same house as `routes/h5.py`: rendered from `web/templates/alliance.html` with the pages' one stylesheet,
on the server, no script, large type, every control labelled. The matrix is public: no sign-in;
activities and suggestions know the resident by the WeChat sign-in of `routes/h5.py`.
"""
from __future__ import annotations

from urllib.parse import quote

from chalice import Blueprint, Response

from chalicelib.domain.activities import SELF, SIGNUP_STATES
from chalicelib.domain.errors import DomainError
from chalicelib.domain.matrix import CATEGORIES
from chalicelib.routes.h5 import FORM, Ctx, _csrf, _page, _query, _signed_in, _to_start, h5_page, posted_form
from chalicelib.services import activities as activities_service, matrix as matrix_service
from chalicelib.services import suggestions as suggestions_service
from chalicelib.web import pages
from chalicelib.web.http import status_of
from chalicelib.web.pages import Markup, each, render, when

bp = Blueprint(__name__)


@bp.route("/h5/{account_id}/matrix", methods=["GET"])
@h5_page
def matrix_page(ctx: Ctx) -> Response:
    q = _query()
    category = q.get("category") if q.get("category") in CATEGORIES else None
    query = (q.get("q") or "").strip()[:30]
    data = matrix_service.browse(ctx.account.view.district_id, category, query)
    toggle = _link(ctx, not ctx.large, category=category or "", q=query)
    size = render("common:size_link", href=toggle, label="标准字号" if ctx.large else "大字")
    return pages.respond(f"微信联盟 - {ctx.account.view.name}", _matrix_html(ctx, data, category, query), 200,
                         ctx.large, size, public=True)


def _link(ctx: Ctx, large: bool | None = None, **query: str) -> str:
    large = ctx.large if large is None else large
    params = {**({"large": "1"} if large else {}), **{k: v for k, v in query.items() if v}}
    tail = "&".join(f"{k}={quote(v)}" for k, v in params.items())
    return f"{ctx.prefix}/h5/{ctx.account_id}/matrix" + (f"?{tail}" if tail else "")


def _matrix_html(ctx: Ctx, data: dict, category: str | None, query: str) -> Markup:
    cats = [{"href": _link(ctx), "current": Markup("" if category else " aria-current=page"), "label": "全部"}]
    cats += [{"href": _link(ctx, category=c), "current": Markup(" aria-current=page" if c == category else ""),
              "label": c} for c in data["categories"]]
    sections = []
    for cat, entries in data["groups"]:
        rows = [{"name": x.name, "platform": x.platform_name, "description": x.description, "owner": x.owner,
                 "how": (render("alliance:wechat_id", wechat_id=x.wechat_id) if x.platform == "wechat"
                         else render("alliance:weibo", href=x.weibo_url)),
                 "qr": when(x.qr_image, "alliance:qr", href=x.qr_image)} for x in entries]
        sections.append(render("alliance:section", title=cat, count=len(entries),
                               entries=each("alliance:entry", rows)))
    if data.get("more_communities"):  # a large district: its communities are searched, not listed
        sections.append(render("alliance:communities", count=data["more_communities"]))
    hidden = [{"name": "large", "value": "1"}] if ctx.large else []
    hidden += [{"name": "category", "value": category}] if category else []
    found = (f"找到 {data['found']} 个账号。" if query or category else f"全区共 {data['total']} 个政务微信和微博账号。")
    return render("alliance:matrix", action=f"{ctx.prefix}/h5/{ctx.account_id}/matrix",
                  hidden=each("alliance:hidden", hidden), query=query,
                  categories=each("alliance:category", cats), found=render("alliance:found", text=found),
                  empty=when(not data["groups"] and not data.get("more_communities"), "alliance:empty"),
                  sections=Markup("".join(sections)))


# ---- 社区活动 ----------------------------------------------------------------------------------------

@bp.route("/h5/{account_id}/activities", methods=["GET"])
@h5_page
def activities_page(ctx: Ctx) -> Response:
    session = _signed_in(ctx)
    if session is None:
        return _to_start(ctx, "activities")
    return _page(ctx, "社区活动", _activities_html(ctx, session, ""))


@bp.route("/h5/{account_id}/activities", methods=["POST"], content_types=FORM)
@h5_page
def activities_submit(ctx: Ctx) -> Response:
    session, form = posted_form(ctx, "activities")
    person = (form.get("person") or "").strip() or SELF
    try:
        if form.get("do") == "cancel":
            message = activities_service.cancel(ctx.account.view, session.openid, form.get("activity") or "", person)
        else:
            message = activities_service.sign_up(ctx.account.view, session.openid, form.get("activity") or "", person)
    except DomainError as exc:
        return _page(ctx, "社区活动", _activities_html(ctx, session, str(exc), error=True), status=status_of(exc))
    return _page(ctx, "社区活动", _activities_html(ctx, session, message))


def _activities_html(ctx: Ctx, session, message: str, error: bool = False) -> Markup:
    data = activities_service.resident_activities(ctx.account.view, session.openid)
    note = Markup("")
    if message:
        note = render("alliance:error_note" if error else "alliance:ok_note", text=message)
    items = []
    for a, mine in data["items"]:
        left = max(a.capacity - a.taken, 0)
        action, button, state = "signup", "报名" if left else "排候补", Markup("")
        if mine is not None and mine.state != "cancelled":
            action, button = "cancel", "取消报名"
            state = render("alliance:signup_state", who="您的家人" if mine.person != SELF else "您",
                           state=SIGNUP_STATES[mine.state])
        items.append(render(
            "alliance:activity", title=a.title, when=a.when(data["now"]), place=a.place, audience=a.audience,
            places=f"余 {left} 个名额" if left else "名额已满，可以排候补", state=state, description=a.description,
            action=ctx.path("activities"), csrf=_csrf(session), activity_id=a.activity_id, do=action,
            relative=when(a.relatives_allowed and action == "signup", "alliance:relative",
                          activity_id=a.activity_id),
            button_class=Markup(' class="danger"' if action == "cancel" else ""), button=button))
    body = Markup("".join(items)) if items else render("alliance:no_activities")
    return render("alliance:activities", note=note, items=body)


# ---- 意见建议 ----------------------------------------------------------------------------------------

@bp.route("/h5/{account_id}/suggestion", methods=["GET"])
@h5_page
def suggestion_form(ctx: Ctx) -> Response:
    session = _signed_in(ctx)
    if session is None:
        return _to_start(ctx, "suggestion")
    return _page(ctx, "给社区提意见建议", _suggestion_html(ctx, session, "", ""))


@bp.route("/h5/{account_id}/suggestion", methods=["POST"], content_types=FORM)
@h5_page
def suggestion_submit(ctx: Ctx) -> Response:
    session, form = posted_form(ctx, "suggestion")
    text = form.get("text") or ""
    try:
        filed = suggestions_service.file_from_h5(ctx.account.view, session.openid, text)
    except DomainError as exc:
        return _page(ctx, "给社区提意见建议", _suggestion_html(ctx, session, text, str(exc)), status=status_of(exc))
    return _page(ctx, "已收到您的建议", render("alliance:suggestion_filed", text=filed))


def _suggestion_html(ctx: Ctx, session, text: str, error: str) -> Markup:
    return render("alliance:suggestion_form", error=when(error, "alliance:error_note", text=error),
                  action=ctx.path("suggestion"), csrf=_csrf(session), text=text)
