"""Residents' H5 pages inside WeChat: the 便民纸条 form and the household profile (户档案).

Who the resident is comes from WeChat's silent web authorization (`snsapi_base`,
`chalicelib.wechat.oauth`): `/h5/{account_id}/start` sends the browser to WeChat, WeChat sends it back to
`/h5/{account_id}/oauth` with a code, the code becomes the openid, and the openid a two-hour session in
the HttpOnly cookie `h5s`, scoped to the account's pages (`chalicelib.web.session`: tokens, cookies,
CSRF, redirects).

Each route parses, authorises (the session), calls one use case of `chalicelib.services.residents` and
renders a template of `chalicelib.web.pages` (templates in `web/templates/h5.html`, the one stylesheet in
`web/static/pages.css`): rendered on the server, no script, no outside asset, simplified Chinese, large
type (22px, 28px with 大字), high contrast, every field labelled, buttons at least 44px high. Forms post
back form-urlencoded and are answered with a page; every form carries the session's CSRF token. A
`DomainError` becomes a page with the status `chalicelib.web.http.status_of` gives it.

A meal order written in the form is filed like one written in the chat (the one filing path decides).
"""
from __future__ import annotations

import functools
import logging
from typing import Any, Callable
from urllib.parse import parse_qs, quote

from chalice import Blueprint, Response

from chalicelib import bootstrap, log
from chalicelib.domain.errors import DomainError, StorageUnavailable
from chalicelib.domain.filing import MAX_TEXT
from chalicelib.domain.ports import GatewayAccount
from chalicelib.domain.records import record
from chalicelib.secrets import SecretsMissing
from chalicelib.services import residents
from chalicelib.services.filing import Filed
from chalicelib.services.residents import (CONSENT_PROFILE, CONSENT_REQUEST, MOBILITY, PROFILE_LABELS, RELATIONS,
                                           FormRejected)
from chalicelib.web import pages, session
from chalicelib.web.http import status_of
from chalicelib.web.pages import Markup, each, render, when
from chalicelib.wechat import oauth

bp = Blueprint(__name__)
LOG = log.get_logger("h5")

FORM = ["application/x-www-form-urlencoded"]
MAX_FORM_FIELDS = 40
BUSY_REQUEST = "系统正忙，这张纸条还没有提交。请稍等一会儿再点“提交”。"
BUSY_PROFILE = "系统正忙，您的资料还没有保存。请稍等一会儿再点“保存”。"


# ---- the request's context ------------------------------------------------------------------------

@record
class Ctx:
    account: GatewayAccount
    account_id: str
    prefix: str  # the API's stage or base path before /h5/, as the browser sees it ("" on a custom domain)
    large: bool

    def path(self, page: str, **query: str) -> str:
        """The browser's path of one of this account's pages, keeping 大字."""
        params = {**({"large": "1"} if self.large else {}), **query}
        tail = "?" + "&".join(f"{k}={quote(v, safe='/')}" for k, v in params.items()) if params else ""
        return f"{self.prefix}/h5/{self.account_id}/{page}{tail}"

    def local(self, page: str) -> str:
        """The same page as a `next` target (no prefix)."""
        return f"/h5/{self.account_id}/{page}" + ("?large=1" if self.large else "")


class Refusal(DomainError):
    """A refusal of the sign-in or of a form (stale link, forged form, WeChat unreachable): a page with a
    title, a sentence for the resident and maybe a link to start again; its status, like every outcome's,
    goes through `status_of`."""

    code = "h5_refused"

    def __init__(self, status: int, title: str, text: str, retry: str | None = None):
        super().__init__(text)
        self.status, self.title, self.text, self.retry = status, title, text, retry


def _request():
    return bp.current_request


def _query() -> Any:
    return _request().query_params or {}


def _form() -> dict[str, str]:
    """The posted form, one value a field (the last)."""
    raw = _request().raw_body or b""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        parsed = parse_qs(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise Refusal(400, "提交的内容无法识别", "请返回上一页重新填写后提交。") from None
    return {k: v[-1] for k, v in parsed.items()}


def _signed_in(ctx: Ctx) -> session.Session | None:
    return session.current(_request(), ctx.account_id)


def _to_start(ctx: Ctx, page: str, status: int = 302) -> Response:
    """No session: sign in through WeChat first, then come back to this page (a POST's form is lost)."""
    return session.redirect(session.start_url(ctx.prefix, ctx.account_id, ctx.local(page)), status)


class SignInFirst(Exception):
    """No session: the view answers with the way to WeChat's sign-in (`h5_page` sends `.response`)."""

    def __init__(self, response: Response):
        super().__init__("not signed in")
        self.response = response


def posted_form(ctx: Ctx, page: str) -> tuple[session.Session, dict[str, str]]:
    """A POSTed form of a signed-in resident with a valid CSRF token: (the session, the fields). Without a
    session the resident is sent to sign in (303); a bad token is refused (403)."""
    signed_in = _signed_in(ctx)
    if signed_in is None:
        raise SignInFirst(_to_start(ctx, page, 303))
    form = _form()
    _check_csrf(ctx, signed_in, form)
    return signed_in, form


def _check_csrf(ctx: Ctx, signed_in: session.Session, form: dict[str, str]) -> None:
    if not session.csrf_ok(signed_in, form.get("csrf")):
        log.event(LOG, "h5 form refused: bad csrf token", logging.WARNING)
        raise Refusal(403, "页面已过期", "这个页面已过期，内容没有提交。请重新打开页面再填写。",
                      ctx.path(_page_of_request()))


def _page_of_request() -> str:
    return _request().path.rsplit("/", 1)[-1]


def h5_page(view: Callable[..., Response]) -> Callable[..., Response]:
    """The account behind the URL (404 page if none), and a Chinese page for every failure."""

    @functools.wraps(view)
    def wrapper(account_id: str) -> Response:
        large = _query().get("large") == "1"
        try:
            account = bootstrap.ports().account(account_id) if session.ACCOUNT_ID_RE.match(account_id) else None
            if account is None:
                return _bare_page(404, "未找到", "没有这个公众号的页面，请从公众号菜单进入。", large)
            ctx = Ctx(account, account_id, session.prefix(_request(), account_id), large)
            with log.bind(account_id=account_id):
                try:
                    return view(ctx)
                except SignInFirst as first:
                    return first.response
                except Refusal as refusal:
                    return _error_page(ctx, refusal)
                except DomainError as error:
                    log.event(LOG, "h5 page refused", logging.WARNING, code=error.code)
                    return _error_page(ctx, Refusal(error.status, "暂时无法完成", error.message))
        except Exception:  # noqa: BLE001 - the resident sees a page, the log gets the traceback
            LOG.error("h5 page failed", exc_info=True, extra={"fields": {"page": view.__name__}})
            return _bare_page(500, "系统正忙", "系统暂时出了点问题，您填写的内容没有提交。请稍后再试。", large)
    return wrapper


# ---- sign-in through WeChat ------------------------------------------------------------------------

@bp.route("/h5/{account_id}/start", methods=["GET"])
@h5_page
def start(ctx: Ctx) -> Response:
    """Send the browser to WeChat's authorize page; WeChat sends it back to /oauth with a code."""
    target = _next(ctx)
    base = session.public_base(_request())
    if base is None:
        raise Refusal(400, "链接不正确", "无法识别访问的网址，请从公众号菜单重新进入。")
    state = session.new_state()
    redirect_uri = f"{base}{ctx.prefix}/h5/{ctx.account_id}/oauth?next={quote(target, safe='/')}"
    return session.redirect(oauth.authorize_url(ctx.account.appid, redirect_uri, state),
                            set_cookies=[session.cookie(session.STATE_COOKIE, state, _oauth_path(ctx),
                                                        session.STATE_LIFETIME_S)])


@bp.route("/h5/{account_id}/oauth", methods=["GET"])
@h5_page
def oauth_callback(ctx: Ctx) -> Response:
    """WeChat's redirect: check the state, exchange the code for the openid, start the session."""
    target = _next(ctx)
    q = _query()
    retry = session.start_url(ctx.prefix, ctx.account_id, target)
    if not session.state_ok(_request(), q.get("state")):
        raise Refusal(400, "链接已过期", "这个登录链接已过期或不完整。请点下面的按钮重新进入。", retry)
    try:
        openid = oauth.exchange_code(ctx.account_id, q.get("code") or "")
    except oauth.CodeRejected as exc:
        log.event(LOG, "h5 oauth code rejected", logging.WARNING, errcode=exc.errcode)
        raise Refusal(400, "链接已失效", "微信的登录凭证已失效（每个只能用一次，几分钟内有效）。"
                                        "请点下面的按钮重新进入。", retry) from None
    except oauth.OAuthError as exc:
        log.event(LOG, "h5 oauth failed", logging.ERROR, errcode=exc.errcode, error=str(exc))
        raise Refusal(502, "暂时无法登录", "暂时连不上微信，请稍后再试。", retry) from None
    except SecretsMissing:
        log.event(LOG, "h5 oauth impossible: the account has no secrets", logging.ERROR)
        raise Refusal(503, "暂时无法登录", "这个公众号的页面还没有开通，请在公众号里直接留言。") from None
    token, _ = session.issue(ctx.account_id, openid)
    log.event(LOG, "h5 session started")
    return session.redirect(ctx.prefix + target, set_cookies=[
        session.cookie(session.SESSION_COOKIE, token, f"{ctx.prefix}/h5/{ctx.account_id}/",
                       int(session.SESSION_LIFETIME.total_seconds())),
        session.cookie(session.STATE_COOKIE, "", _oauth_path(ctx), 0)])


def _oauth_path(ctx: Ctx) -> str:
    return f"{ctx.prefix}/h5/{ctx.account_id}/oauth"


def _next(ctx: Ctx) -> str:
    """The page to go to after signing in: one of this account's pages, or the 便民纸条 form."""
    raw = _query().get("next")
    if raw is None:
        return f"/h5/{ctx.account_id}/request"
    target = session.safe_next(ctx.account_id, raw)
    if target is None:
        raise Refusal(400, "链接不正确", "这个链接指向的页面不对，请从公众号菜单重新进入。")
    return target


# ---- 便民纸条 ----------------------------------------------------------------------------------------

@bp.route("/h5/{account_id}/request", methods=["GET"])
@h5_page
def request_form(ctx: Ctx) -> Response:
    signed_in = _signed_in(ctx)
    if signed_in is None:
        return _to_start(ctx, "request")
    return _page(ctx, "便民纸条", _request_form(ctx, signed_in, {}, []))


@bp.route("/h5/{account_id}/request", methods=["POST"], content_types=FORM)
@h5_page
def request_submit(ctx: Ctx) -> Response:
    signed_in, form = posted_form(ctx, "request")
    try:
        filed = residents.file_request(ctx.account.view, signed_in.openid, form,
                                       senders=(session.sender_key(signed_in),))
    except DomainError as error:
        log.event(LOG, "h5 request not filed", logging.ERROR if isinstance(error, StorageUnavailable)
                  else logging.INFO, code=error.code)
        return _page(ctx, "便民纸条", _request_form(ctx, signed_in, form, _problems(error, BUSY_REQUEST)),
                     status=status_of(error))
    if filed.duplicate:
        return _page(ctx, "已经提交过了", render("h5:duplicate", number=filed.number, nav=_nav(ctx)))
    log.event(LOG, "h5 request filed", number=filed.number, category=filed.category)
    return _page(ctx, "已收到您的便民纸条", _filed(ctx, filed))


# ---- 户档案 -----------------------------------------------------------------------------------------

@bp.route("/h5/{account_id}/profile", methods=["GET"])
@h5_page
def profile_form(ctx: Ctx) -> Response:
    signed_in = _signed_in(ctx)
    if signed_in is None:
        return _to_start(ctx, "profile")
    shown = residents.profile(ctx.account_id, signed_in.openid)
    return _page(ctx, "我的资料", _profile_form(ctx, signed_in, shown.values, [], shown.registered))


@bp.route("/h5/{account_id}/profile", methods=["POST"], content_types=FORM)
@h5_page
def profile_submit(ctx: Ctx) -> Response:
    signed_in, form = posted_form(ctx, "profile")
    if form.get("action") == "delete":
        outcome = residents.delete_profile(ctx.account_id, signed_in.openid, form.get("confirm") == "yes")
        if outcome.result == "nothing":
            return _page(ctx, "没有资料", _message(ctx, "您没有登记过资料", "不需要删除。"))
        if outcome.result == "ask":
            return _page(ctx, "确认删除", render("h5:confirm_delete", action=ctx.path("profile"),
                                                 csrf=_csrf(signed_in), back=ctx.path("profile")))
        log.event(LOG, "h5 profile deleted")
        return _page(ctx, "资料已删除", _message(
            ctx, "您的资料已删除", "社区不再保存您的姓名、地址和电话。以后需要送餐或上门服务时，可以重新登记。"))
    try:
        saved = residents.save_profile(ctx.account.view, signed_in.openid, form)
    except DomainError as error:
        log.event(LOG, "h5 profile not saved", logging.ERROR if isinstance(error, StorageUnavailable)
                  else logging.INFO, code=error.code)
        registered = isinstance(error, FormRejected) and error.registered
        return _page(ctx, "我的资料", _profile_form(ctx, signed_in, form, _problems(error, BUSY_PROFILE), registered),
                     status=status_of(error))
    log.event(LOG, "h5 profile saved", saved=sorted(k for k, v in saved.values.items()
                                                    if k != "relation" and v not in (None, "")))
    return _page(ctx, "已保存", _saved(ctx, saved.values))


def _problems(error: DomainError, busy: str) -> list[str]:
    if isinstance(error, FormRejected):
        return list(error.problems)
    return [busy if isinstance(error, StorageUnavailable) else error.message]


# ---- rendering ---------------------------------------------------------------------------------------

def _page(ctx: Ctx, title: str, body: Markup, status: int = 200) -> Response:
    page = _page_of_request()
    href = f"{ctx.prefix}/h5/{ctx.account_id}/{page}" + ("" if ctx.large else "?large=1")
    size = render("common:size_link", href=href, label="标准字号" if ctx.large else "大字")
    return pages.respond(f"{title} - {ctx.account.view.name}", body, status, ctx.large, size)


def _bare_page(status: int, title: str, text: str, large: bool) -> Response:
    return pages.respond(title, render("common:message", title=title, text=text), status, large)


def _error_page(ctx: Ctx, refusal: Refusal) -> Response:
    body = render("h5:refusal", title=refusal.title, text=refusal.text,
                  retry=when(refusal.retry, "h5:retry", href=refusal.retry))
    return pages.respond(f"{refusal.title} - {ctx.account.view.name}", body, status_of(refusal), ctx.large)


def _errors(problems: list[str]) -> Markup:
    return when(problems, "h5:errors", items=each("h5:error_item", ({"text": p} for p in problems)))


def _nav(ctx: Ctx) -> Markup:
    return render("h5:nav", request_href=ctx.path("request"), profile_href=ctx.path("profile"))


def _csrf(signed_in: session.Session) -> Markup:
    return render("h5:csrf", csrf=signed_in.csrf)


def _checked(on: bool) -> Markup:
    return Markup(" checked" if on else "")


def _message(ctx: Ctx, title: str, text: str) -> Markup:
    return render("h5:message", title=title, text=text, nav=_nav(ctx))


def _request_form(ctx: Ctx, signed_in: session.Session, form: dict[str, str], problems: list[str]) -> Markup:
    return render("h5:request_form", account_name=ctx.account.view.name, errors=_errors(problems),
                  action=ctx.path("request"), csrf=_csrf(signed_in), max_text=MAX_TEXT, text=form.get("text", ""),
                  phone=form.get("phone", ""), address=form.get("address", ""),
                  consent_checked=_checked(form.get("consent") == "yes"), consent_text=CONSENT_REQUEST, nav=_nav(ctx))


def _filed(ctx: Ctx, filed: Filed) -> Markup:
    lines = ({"text": line} for line in (filed.reply or "").split("\n") if line.strip())
    return render("h5:filed", number=filed.number, routed=when(filed.team_name, "h5:routed", team=filed.team_name),
                  said=each("h5:line", lines), nav=_nav(ctx))


def _profile_form(ctx: Ctx, signed_in: session.Session, values: dict[str, Any], problems: list[str],
                  registered: bool) -> Markup:
    v = {k: str(values.get(k) or "") for k in (*PROFILE_LABELS, "relation")}
    options = [("", "未填写")] + [(m, m) for m in MOBILITY]
    if v["mobility"] and v["mobility"] not in MOBILITY:  # a value staff recorded: keep it selectable
        options.append((v["mobility"], v["mobility"]))
    relation = v["relation"] if v["relation"] in dict(RELATIONS) else "self"
    return render(
        "h5:profile_form", status=render("h5:registered" if registered else "h5:not_registered"),
        errors=_errors(problems), action=ctx.path("profile"), csrf=_csrf(signed_in),
        relations=each("h5:relation", ({"value": val, "text": text, "checked": _checked(val == relation)}
                                       for val, text in RELATIONS)),
        mobility_options=each("h5:option", (
            {"value": val, "text": text, "selected": Markup(" selected" if val == v["mobility"] else "")}
            for val, text in options)),
        consent_checked=_checked(values.get("consent") == "yes"), consent_text=CONSENT_PROFILE,
        delete=when(registered, "h5:delete_form", action=ctx.path("profile"), csrf=_csrf(signed_in)),
        nav=_nav(ctx), **{k: v[k] for k in PROFILE_LABELS})


def _saved(ctx: Ctx, values: dict[str, Any]) -> Markup:
    rows = ({"label": label, "value": values[k]} for k, label in PROFILE_LABELS.items()
            if values.get(k) not in ("", None))
    return render("h5:saved", who=dict(RELATIONS)[values["relation"]], rows=each("h5:saved_row", rows),
                  edit=ctx.path("profile"), nav=_nav(ctx))
