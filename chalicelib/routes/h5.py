"""Residents' H5 pages inside WeChat: the 便民纸条 form and the household profile (户档案).

Who the resident is comes from WeChat's silent web authorization (`snsapi_base`,
`chalicelib.wechat.oauth`): `/h5/{account_id}/start` sends the browser to WeChat, WeChat sends it back to
`/h5/{account_id}/oauth` with a code, the code becomes the openid, and the openid a two-hour session
(`chalicelib.domain.h5_session`) in the HttpOnly cookie `h5s`, scoped to the account's pages.

The pages follow the house style of the canteen menu (`routes/canteens.menu_page`): rendered on the
server, no script, no outside asset, simplified Chinese, large type (22px, 28px with 大字), high
contrast, every field labelled, buttons at least 44px high. Forms post back form-urlencoded and are
answered with a page; every form carries the session's CSRF token.

A meal delivery cannot be ordered here: ordering checks the cut-off, the address and the meal's
delivery capacity in a conversation (`canteen_actions.meal_order`), which is chat-only. When the text of
a 便民纸条 reads as a meal order and the community has a canteen, the page says to order in the chat
(and links the menu); the resident may still file the text as an ordinary 便民纸条 with one button.
"""
from __future__ import annotations

import functools
import html
import logging
import re
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import parse_qs, quote

from chalice import Blueprint, Response

from chalicelib import bootstrap, clock
from chalicelib.domain.errors import StorageUnavailable
from chalicelib.domain.filing import MAX_TEXT, Need, is_meaningful
from chalicelib.services import filing
from chalicelib import log
from chalicelib.config import settings
from chalicelib.domain import h5_session

bp = Blueprint(__name__)
LOG = log.get_logger("h5")

SESSION_COOKIE = "h5s"
STATE_COOKIE = "h5st"
STATE_LIFETIME_S = 600  # WeChat's codes live five minutes; the round trip takes seconds
FORM = ["application/x-www-form-urlencoded"]
MAX_FORM_FIELDS = 40
HOST_RE = re.compile(r"^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$")
PREFIX_RE = re.compile(r"^(/[A-Za-z0-9._~-]+)*$")
PHONE_RE = re.compile(r"^\+?[0-9][0-9 -]{4,19}$")
CONSENT_REQUEST = "同意社区保存我的地址和电话用于上门服务"
CONSENT_PROFILE = "同意社区保存以上资料，用于送餐和上门服务"
MOBILITY = ("能自行走动", "行动不便", "卧床")
RELATIONS = (("self", "本人"), ("relative", "为家中老人登记"))
PROFILE_LABELS = {"name": "姓名", "address": "地址", "phone": "联系电话", "household_size": "家庭人数",
                  "mobility": "行动情况", "dietary_notes": "饮食注意"}
HTML_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",  # personal data, and forms carrying a session's token
    "Referrer-Policy": "no-referrer",  # the OAuth callback's URL holds a code
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}


# ---- the request's context ------------------------------------------------------------------------

@dataclass(frozen=True)
class Ctx:
    account: Any  # chalicelib.store.ports.GatewayAccount
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


class Refusal(Exception):
    """Answer with an error page: `status`, a title and a sentence for the resident."""

    def __init__(self, status: int, title: str, text: str, retry: str | None = None):
        super().__init__(title)
        self.status, self.title, self.text, self.retry = status, title, text, retry


def _request():
    return bp.current_request


def _query() -> Any:
    return _request().query_params or {}


def _prefix(account_id: str) -> str:
    """What precedes /h5/ in the URL the browser used: API Gateway's stage (/api) on its own domain, a
    base path mapping on a custom domain, nothing on the laptop."""
    seen = str((_request().context or {}).get("path") or "")
    at = seen.find(f"/h5/{account_id}/")
    prefix = seen[:at] if at > 0 else ""
    return prefix if PREFIX_RE.match(prefix) else ""


def _public_base() -> str:
    """scheme://host as the browser sees it (Host and X-Forwarded-Proto, which API Gateway sets)."""
    headers = _request().headers
    host = headers.get("host") or ""
    if not HOST_RE.match(host):
        raise Refusal(400, "链接不正确", "无法识别访问的网址，请从公众号菜单重新进入。")
    proto = (headers.get("x-forwarded-proto") or "").split(",")[0].strip().lower()
    if proto not in ("http", "https"):
        proto = "http" if _insecure_stage() else "https"
    return f"{proto}://{host}"


def _insecure_stage() -> bool:
    return settings().stage in ("local", "test")


def _cookies(name: str) -> list[str]:
    """Every value of cookie `name` the browser sent (the most specific path first)."""
    found = []
    for part in (_request().headers.get("cookie") or "").split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name and value:
            found.append(value.strip().strip('"'))
    return found


def _cookie(name: str, value: str, path: str, max_age: int) -> str:
    parts = [f"{name}={value}", f"Path={path}", f"Max-Age={max_age}", "HttpOnly", "SameSite=Lax"]
    if not _insecure_stage():
        parts.append("Secure")
    return "; ".join(parts)


def _session(ctx: Ctx) -> h5_session.Session | None:
    for token in _cookies(SESSION_COOKIE):
        try:
            return h5_session.decode(token, ctx.account_id)
        except h5_session.SessionInvalid:
            continue
    return None


def _form() -> dict[str, str]:
    """The posted form, one value a field (the last)."""
    raw = _request().raw_body or b""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        parsed = parse_qs(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise Refusal(400, "提交的内容无法识别", "请返回上一页重新填写后提交。") from None
    return {k: v[-1] for k, v in parsed.items()}


def _to_start(ctx: Ctx, page: str, status: int = 302) -> Response:
    """No session: sign in through WeChat first, then come back to this page (a POST's form is lost)."""
    return _redirect(f"{ctx.prefix}/h5/{ctx.account_id}/start?next={quote(ctx.local(page), safe='/')}", status)


def _redirect(location: str, status: int = 302, cookies: list[str] | None = None) -> Response:
    headers: dict[str, Any] = {**HTML_HEADERS, "Location": location}
    if cookies:
        headers["Set-Cookie"] = cookies if len(cookies) > 1 else cookies[0]
    return Response(body="", status_code=status, headers=headers)


def h5_page(view: Callable[..., Response]) -> Callable[..., Response]:
    """The account behind the URL (404 page if none), and a Chinese page for every failure."""

    @functools.wraps(view)
    def wrapper(account_id: str) -> Response:
        from chalicelib.store.ports import gateway_account

        large = _query().get("large") == "1"
        try:
            account = gateway_account(account_id) if h5_session.ACCOUNT_ID_RE.match(account_id) else None
            if account is None:
                return _bare_page(404, "未找到", "没有这个公众号的页面，请从公众号菜单进入。", large)
            ctx = Ctx(account, account_id, _prefix(account_id), large)
            with log.bind(account_id=account_id):
                try:
                    return view(ctx)
                except Refusal as refusal:
                    return _error_page(ctx, refusal)
        except Exception:  # noqa: BLE001 - the resident sees a page, the log gets the traceback
            LOG.error("h5 page failed", exc_info=True, extra={"fields": {"page": view.__name__}})
            return _bare_page(500, "系统正忙", "系统暂时出了点问题，您填写的内容没有提交。请稍后再试。", large)
    return wrapper


# ---- sign-in through WeChat ------------------------------------------------------------------------

@bp.route("/h5/{account_id}/start", methods=["GET"])
@h5_page
def start(ctx: Ctx) -> Response:
    """Send the browser to WeChat's authorize page; WeChat sends it back to /oauth with a code."""
    from chalicelib.wechat import oauth

    target = _next(ctx)
    state = h5_session.new_state()
    redirect_uri = f"{_public_base()}{ctx.prefix}/h5/{ctx.account_id}/oauth?next={quote(target, safe='/')}"
    return _redirect(oauth.authorize_url(ctx.account.appid, redirect_uri, state), cookies=[
        _cookie(STATE_COOKIE, state, f"{ctx.prefix}/h5/{ctx.account_id}/oauth", STATE_LIFETIME_S)])


@bp.route("/h5/{account_id}/oauth", methods=["GET"])
@h5_page
def oauth_callback(ctx: Ctx) -> Response:
    """WeChat's redirect: check the state, exchange the code for the openid, start the session."""
    from chalicelib.secrets import SecretsMissing
    from chalicelib.wechat import oauth

    target = _next(ctx)
    q = _query()
    retry = f"{ctx.prefix}/h5/{ctx.account_id}/start?next={quote(target, safe='/')}"
    if not any(h5_session.states_match(s, q.get("state")) for s in _cookies(STATE_COOKIE)):
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
    token, session = h5_session.issue(ctx.account_id, openid)
    log.event(LOG, "h5 session started")
    return _redirect(ctx.prefix + target, cookies=[
        _cookie(SESSION_COOKIE, token, f"{ctx.prefix}/h5/{ctx.account_id}/",
                int(h5_session.SESSION_LIFETIME.total_seconds())),
        _cookie(STATE_COOKIE, "", f"{ctx.prefix}/h5/{ctx.account_id}/oauth", 0)])


def _next(ctx: Ctx) -> str:
    """The page to go to after signing in: one of this account's pages, or the 便民纸条 form."""
    raw = _query().get("next")
    if raw is None:
        return f"/h5/{ctx.account_id}/request"
    target = h5_session.safe_next(ctx.account_id, raw)
    if target is None:
        raise Refusal(400, "链接不正确", "这个链接指向的页面不对，请从公众号菜单重新进入。")
    return target


# ---- 便民纸条 ----------------------------------------------------------------------------------------

@bp.route("/h5/{account_id}/request", methods=["GET"])
@h5_page
def request_form(ctx: Ctx) -> Response:
    session = _session(ctx)
    if session is None:
        return _to_start(ctx, "request")
    return _page(ctx, "便民纸条", _request_form_html(ctx, session, {}, []))


@bp.route("/h5/{account_id}/request", methods=["POST"], content_types=FORM)
@h5_page
def request_submit(ctx: Ctx) -> Response:
    session = _session(ctx)
    if session is None:
        return _to_start(ctx, "request", 303)
    form = _form()
    _check_csrf(ctx, session, form)
    text = (form.get("text") or "").strip()
    phone, address = _clean_phone(form.get("phone")), (form.get("address") or "").strip()
    consent = form.get("consent") == "yes"
    errors = []
    if not is_meaningful(text):
        errors.append("请写下需要帮忙的事，例如：3号楼楼道灯坏了。")
    elif len(text) > MAX_TEXT:
        errors.append(f"写得太长了（{len(text)} 字），最多 {MAX_TEXT} 字。请删减一些后再提交。")
    if phone and not PHONE_RE.match(phone):
        errors.append("联系电话的格式不对，请只写数字，例如 13812345678。")
    if len(address) > 200:
        errors.append("地址太长了，最多 200 字。")
    if (phone or address) and not consent:
        errors.append(f"您留了电话或地址：如果同意社区保存，请勾选“{CONSENT_REQUEST}”；不同意的话，请把这两栏清空。")
    if errors:
        return _page(ctx, "便民纸条", _request_form_html(ctx, session, form, errors), status=400)

    contact = {k: v for k, v in (("phone", phone), ("address", address)) if v} if consent else {}
    try:
        filed = filing.file_need(ctx.account.view, Need(text=text, channel="h5", openid=session.openid,
                                                        contact=contact))
    except bootstrap.storage_errors() + (StorageUnavailable,) as exc:
        log.event(LOG, "h5 request not filed: storage failed", logging.ERROR, error=type(exc).__name__)
        return _page(ctx, "便民纸条", _request_form_html(
            ctx, session, form, ["系统正忙，这张纸条还没有提交。请稍等一会儿再点“提交”。"]), status=503)
    if filed.duplicate:
        return _page(ctx, "已经提交过了", _duplicate_html(ctx, filed.number))
    log.event(LOG, "h5 request filed", number=filed.number, category=filed.category)
    return _page(ctx, "已收到您的便民纸条", _filed_html(ctx, filed.number, filed.team_name, filed.reply))


def _check_csrf(ctx: Ctx, session: h5_session.Session, form: dict[str, str]) -> None:
    if not h5_session.csrf_ok(session, form.get("csrf")):
        log.event(LOG, "h5 form refused: bad csrf token", logging.WARNING)
        raise Refusal(403, "页面已过期", "这个页面已过期，内容没有提交。请重新打开页面再填写。",
                      ctx.path(_page_of_request()))


def _page_of_request() -> str:
    return _request().path.rsplit("/", 1)[-1]


def _clean_phone(value: str | None) -> str:
    return re.sub(r"\s+", "", (value or "").strip().replace("－", "-"))


# ---- 户档案 -----------------------------------------------------------------------------------------

@bp.route("/h5/{account_id}/profile", methods=["GET"])
@h5_page
def profile_form(ctx: Ctx) -> Response:
    from chalicelib.store.ports import DynamoPorts

    session = _session(ctx)
    if session is None:
        return _to_start(ctx, "profile")
    household = DynamoPorts().household(ctx.account_id, session.openid)
    return _page(ctx, "我的资料", _profile_form_html(ctx, session, _household_values(household), [],
                                                   household is not None))


@bp.route("/h5/{account_id}/profile", methods=["POST"], content_types=FORM)
@h5_page
def profile_submit(ctx: Ctx) -> Response:
    import uuid

    from chalicelib.domain.messages import NO_REPLY
    from chalicelib.domain.effects import DeleteProfile, SaveProfile
    from chalicelib.store.ports import DynamoPorts

    session = _session(ctx)
    if session is None:
        return _to_start(ctx, "profile", 303)
    form = _form()
    _check_csrf(ctx, session, form)
    household = DynamoPorts().household(ctx.account_id, session.openid)
    if form.get("action") == "delete":
        if household is None:
            return _page(ctx, "没有资料", _message_html(ctx, "您没有登记过资料", "不需要删除。"))
        if form.get("confirm") != "yes":
            return _page(ctx, "确认删除", _confirm_delete_html(ctx, session))
        bootstrap.unit_of_work().commit(None, NO_REPLY, (DeleteProfile(ctx.account_id, session.openid, household.profile_id),),
                            clock.now())
        log.event(LOG, "h5 profile deleted")
        return _page(ctx, "资料已删除", _message_html(
            ctx, "您的资料已删除", "社区不再保存您的姓名、地址和电话。以后需要送餐或上门服务时，可以重新登记。"))

    values, errors = _read_profile(form, _household_values(household))
    if errors:
        return _page(ctx, "我的资料", _profile_form_html(ctx, session, form, errors, household is not None),
                     status=400)
    fields = {k: v for k, v in values.items() if k != "relation"}
    relation = values["relation"]
    profile_id = household.profile_id if household else uuid.uuid4().hex
    bootstrap.unit_of_work().commit(None, NO_REPLY, (SaveProfile(ctx.account_id, session.openid, profile_id,
                                                     ctx.account.view.community_id, fields, relation=relation),),
                        clock.now())
    log.event(LOG, "h5 profile saved", saved=sorted(k for k, v in fields.items() if v not in (None, "")))
    return _page(ctx, "已保存", _saved_html(ctx, values))


def _household_values(household) -> dict[str, str]:
    if household is None:
        return {"relation": "self"}
    return {"name": household.name or "", "address": household.address or "", "phone": household.phone or "",
            "household_size": str(household.household_size or ""), "mobility": household.mobility or "",
            "dietary_notes": household.dietary_notes or "", "relation": household.relation or "self"}


def _read_profile(form: dict[str, str], current: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The profile fields from the form, and what is wrong with them (in the resident's words)."""
    errors = []
    values: dict[str, Any] = {
        "name": (form.get("name") or "").strip(), "address": (form.get("address") or "").strip(),
        "phone": _clean_phone(form.get("phone")), "household_size": (form.get("household_size") or "").strip(),
        "mobility": (form.get("mobility") or "").strip(), "dietary_notes": (form.get("dietary_notes") or "").strip(),
        "relation": form.get("relation") or "self"}
    if values["relation"] not in dict(RELATIONS):
        errors.append("请选择是本人登记，还是为家中老人登记。")
    if len(values["name"]) > 40:
        errors.append("姓名太长了，最多 40 字。")
    if values["address"] and len(values["address"]) < 4:
        errors.append("地址太短了，请写到门牌号，例如：香港中路10号3单元502。")
    if len(values["address"]) > 200:
        errors.append("地址太长了，最多 200 字。")
    if values["phone"] and not PHONE_RE.match(values["phone"]):
        errors.append("联系电话的格式不对，请只写数字，例如 13812345678。")
    if values["household_size"]:
        size = values["household_size"].translate(str.maketrans("０１２３４５６７８９", "0123456789"))
        if not size.isdigit() or not 1 <= int(size) <= 20:
            errors.append("家庭人数请写 1 到 20 之间的数字。")
        else:
            values["household_size"] = int(size)
    if values["mobility"] and values["mobility"] not in MOBILITY and values["mobility"] != current.get("mobility"):
        errors.append("请从列表里选择行动情况。")
    if len(values["dietary_notes"]) > 200:
        errors.append("饮食注意太长了，最多 200 字。")
    # SaveProfile only sets the fields it is given: a field emptied here would silently stay as it was.
    cleared = [PROFILE_LABELS[k] for k in PROFILE_LABELS if current.get(k) and values[k] in ("", None)]
    if cleared:
        errors.append(f"这里不能清空已登记的{'、'.join(cleared)}。请填上新的内容；"
                      "如果不想让社区保存，请用页面下方的“删除我的资料”，再重新登记需要的内容。")
    if not any(values[k] not in ("", None) for k in PROFILE_LABELS):
        errors.append("请至少填写一项，例如地址。")
    if form.get("consent") != "yes":
        errors.append(f"保存前请勾选“{CONSENT_PROFILE}”。")
    return values, errors


# ---- HTML ------------------------------------------------------------------------------------------

e = html.escape

STYLE = """
html{{font-size:{base}px}}
body{{font:1rem/1.6 system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:0 auto;padding:16px;color:#111;
background:#fff;max-width:40rem}}
h1{{font-size:1.35rem;margin:0 0 12px}} p{{margin:8px 0}}
label,legend{{display:block;font-weight:bold;margin:18px 0 4px}} legend{{padding:0 4px}}
input[type=text],input[type=tel],input[type=number],textarea,select{{box-sizing:border-box;width:100%;font:inherit;
color:#111;background:#fff;border:2px solid #333;border-radius:6px;padding:8px;min-height:52px}}
textarea{{min-height:8em}}
.check{{display:flex;gap:12px;align-items:flex-start;font-weight:normal}}
.check input{{width:32px;height:32px;flex:none;margin:4px 0}}
fieldset{{border:2px solid #555;border-radius:8px;margin:20px 0 0;padding:4px 12px 12px}}
button,.button{{display:inline-block;box-sizing:border-box;font:inherit;font-weight:bold;min-height:52px;min-width:44px;
padding:8px 24px;border-radius:8px;border:2px solid #1a5e20;background:#1a5e20;color:#fff;margin:20px 12px 0 0;
cursor:pointer;text-decoration:none;line-height:1.6}}
button.quiet,.button.quiet{{background:#fff;color:#1a5e20}}
button.danger{{background:#fff;color:#8a1c1c;border-color:#8a1c1c}}
a{{color:#0b4f9c}} :focus{{outline:3px solid #b35c00;outline-offset:2px}}
.error{{background:#fdecea;color:#6b1111;border:2px solid #8a1c1c;padding:8px 12px;border-radius:6px}}
.error ul{{margin:0;padding-left:1.2em}}
.ok{{background:#e8f5e9;color:#111;border:2px solid #1a5e20;padding:8px 12px;border-radius:6px}}
.number{{font-size:1.5rem;font-weight:bold;letter-spacing:1px}}
.hint{{color:#333;margin:0 0 4px}}
nav{{margin-top:28px;border-top:2px solid #ddd;padding-top:8px;display:flex;gap:8px 28px;flex-wrap:wrap}}
nav a,.size a{{display:inline-block;min-height:44px;line-height:44px}}
.size{{text-align:right;margin:0}}
dl{{margin:0}} dt{{font-weight:bold;margin-top:8px}} dd{{margin:0}}
"""


def _document(title: str, body: str, large: bool, size_link: str = "") -> str:
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<style>{STYLE.format(base=28 if large else 22)}</style></head><body>
{size_link}<main>
{body}
</main></body></html>"""


def _page(ctx: Ctx, title: str, body: str, status: int = 200) -> Response:
    page = _page_of_request()
    size = (f'<p class="size"><a href="{e(f"{ctx.prefix}/h5/{ctx.account_id}/{page}")}">标准字号</a></p>' if ctx.large
            else f'<p class="size"><a href="{e(f"{ctx.prefix}/h5/{ctx.account_id}/{page}?large=1")}">大字</a></p>')
    return Response(body=_document(f"{title} - {ctx.account.view.name}", body, ctx.large, size),
                    status_code=status, headers=dict(HTML_HEADERS))


def _bare_page(status: int, title: str, text: str, large: bool) -> Response:
    return Response(body=_document(title, f"<h1>{e(title)}</h1><p>{e(text)}</p>", large), status_code=status,
                    headers=dict(HTML_HEADERS))


def _error_page(ctx: Ctx, refusal: Refusal) -> Response:
    retry = f'<p><a class="button" href="{e(refusal.retry)}">重新进入</a></p>' if refusal.retry else ""
    body = f'<h1>{e(refusal.title)}</h1><p class="error" role="alert">{e(refusal.text)}</p>{retry}'
    return Response(body=_document(f"{refusal.title} - {ctx.account.view.name}", body, ctx.large),
                    status_code=refusal.status, headers=dict(HTML_HEADERS))


def _errors(errors: list[str]) -> str:
    if not errors:
        return ""
    items = "".join(f"<li>{e(x)}</li>" for x in errors)
    return f'<div class="error" role="alert"><p><b>还没有提交，请修改：</b></p><ul>{items}</ul></div>'


def _nav(ctx: Ctx) -> str:
    return (f'<nav><a href="{e(ctx.path("request"))}">写便民纸条</a>'
            f'<a href="{e(ctx.path("profile"))}">我的资料</a></nav>')


def _hidden(session: h5_session.Session) -> str:
    return f'<input type="hidden" name="csrf" value="{e(session.csrf)}">'


def _request_form_html(ctx: Ctx, session: h5_session.Session, form: dict[str, str], errors: list[str]) -> str:
    checked = " checked" if form.get("consent") == "yes" else ""
    return f"""<h1>便民纸条</h1>
<p>{e(ctx.account.view.name)}：写下需要社区帮忙的事，工作人员会尽快安排并联系您。</p>
{_errors(errors)}
<form method="post" action="{e(ctx.path('request'))}">{_hidden(session)}
<label for="text">需要帮忙的事</label>
<p class="hint" id="text-hint">例如：3号楼楼道灯坏了；家里老人需要上门理发。</p>
<textarea id="text" name="text" rows="6" maxlength="5000" required aria-describedby="text-hint">{e(form.get('text', ''))}</textarea>
<fieldset><legend>联系方式（可以不填）</legend>
<label for="phone">联系电话</label>
<input id="phone" name="phone" type="tel" inputmode="tel" autocomplete="tel" maxlength="20" value="{e(form.get('phone', ''))}">
<label for="address">地址</label>
<input id="address" name="address" type="text" autocomplete="street-address" maxlength="200" value="{e(form.get('address', ''))}">
<label class="check" for="consent"><input id="consent" name="consent" type="checkbox" value="yes"{checked}>{e(CONSENT_REQUEST)}</label>
</fieldset>
<button type="submit">提交</button>
</form>
{_nav(ctx)}"""


def _filed_html(ctx: Ctx, number: str, team: str | None, reply: str = "") -> str:
    routed = f"已转{e(team)}安排，" if team else ""
    said = "".join(f"<p>{e(line)}</p>" for line in reply.split("\n") if line.strip())
    return f"""<h1>已收到您的便民纸条</h1>
<div class="ok" role="status"><p>纸条编号</p><p class="number">{e(number)}</p></div>
<p>{routed}社区会尽快安排服务人员并联系您。</p>
{said}
<p>在公众号里回复“我的纸条”可查看进度。</p>
{_nav(ctx)}"""


def _duplicate_html(ctx: Ctx, number: str) -> str:
    return f"""<h1>已经提交过了</h1>
<div class="ok" role="status"><p>您刚刚已经提交过同样的需求，社区正在办理，不用重复提交。纸条编号</p>
<p class="number">{e(number)}</p></div>
<p>在公众号里回复“我的纸条”可查看进度。</p>
{_nav(ctx)}"""


def _profile_form_html(ctx: Ctx, session: h5_session.Session, values: dict[str, str], errors: list[str],
                       registered: bool) -> str:
    v = {k: str(values.get(k) or "") for k in (*PROFILE_LABELS, "relation")}
    options = [("", "未填写")] + [(m, m) for m in MOBILITY]
    if v["mobility"] and v["mobility"] not in MOBILITY:  # a value staff recorded: keep it selectable
        options.append((v["mobility"], v["mobility"]))
    mobility = "".join(f'<option value="{e(val)}"{" selected" if val == v["mobility"] else ""}>{e(text)}</option>'
                       for val, text in options)
    relation = v["relation"] if v["relation"] in dict(RELATIONS) else "self"
    radios = "".join(
        f'<label class="check" for="relation-{val}"><input id="relation-{val}" type="radio" name="relation" '
        f'value="{val}"{" checked" if val == relation else ""}>{e(text)}</label>' for val, text in RELATIONS)
    status = ("<p>下面是您登记的资料，只有您和社区工作人员能看到。</p>" if registered
              else "<p>您还没有登记资料。登记地址和电话后，送餐和上门服务会更方便。</p>")
    delete = f"""<form method="post" action="{e(ctx.path('profile'))}">{_hidden(session)}
<input type="hidden" name="action" value="delete">
<button type="submit" class="danger">删除我的资料</button>
</form>""" if registered else ""
    checked = " checked" if values.get("consent") == "yes" else ""
    return f"""<h1>我的资料（户档案）</h1>
{status}
{_errors(errors)}
<form method="post" action="{e(ctx.path('profile'))}">{_hidden(session)}
<input type="hidden" name="action" value="save">
<fieldset><legend>登记的是</legend>{radios}</fieldset>
<label for="name">姓名</label>
<input id="name" name="name" type="text" autocomplete="name" maxlength="40" value="{e(v['name'])}">
<label for="address">地址</label>
<p class="hint" id="address-hint">写到门牌号，例如：香港中路10号3单元502</p>
<input id="address" name="address" type="text" autocomplete="street-address" maxlength="200" aria-describedby="address-hint" value="{e(v['address'])}">
<label for="phone">联系电话</label>
<input id="phone" name="phone" type="tel" inputmode="tel" autocomplete="tel" maxlength="20" value="{e(v['phone'])}">
<label for="household_size">家庭人数</label>
<input id="household_size" name="household_size" type="number" inputmode="numeric" min="1" max="20" value="{e(v['household_size'])}">
<label for="mobility">行动情况</label>
<select id="mobility" name="mobility">{mobility}</select>
<label for="dietary_notes">饮食注意</label>
<p class="hint" id="diet-hint">例如：少盐、软烂、糖尿病</p>
<input id="dietary_notes" name="dietary_notes" type="text" maxlength="200" aria-describedby="diet-hint" value="{e(v['dietary_notes'])}">
<label class="check" for="consent"><input id="consent" name="consent" type="checkbox" value="yes"{checked}>{e(CONSENT_PROFILE)}</label>
<button type="submit">保存</button>
</form>
{delete}
{_nav(ctx)}"""


def _confirm_delete_html(ctx: Ctx, session: h5_session.Session) -> str:
    return f"""<h1>确定删除您的资料吗？</h1>
<p>删除后，社区不再保存您的姓名、地址、电话等资料；以后送餐或上门服务时，需要重新登记。</p>
<p>您提交过的便民纸条不受影响。</p>
<form method="post" action="{e(ctx.path('profile'))}">{_hidden(session)}
<input type="hidden" name="action" value="delete"><input type="hidden" name="confirm" value="yes">
<button type="submit" class="danger">确定删除</button>
<a class="button quiet" href="{e(ctx.path('profile'))}">不删除，返回</a>
</form>"""


def _saved_html(ctx: Ctx, values: dict[str, Any]) -> str:
    rows = "".join(f"<dt>{e(label)}</dt><dd>{e(str(values[k]))}</dd>" for k, label in PROFILE_LABELS.items()
                   if values.get(k) not in ("", None))
    who = dict(RELATIONS)[values["relation"]]
    return f"""<h1>已保存</h1>
<div class="ok" role="status"><p>您的资料已保存（{e(who)}）。</p></div>
<dl>{rows}</dl>
<p><a href="{e(ctx.path('profile'))}">修改资料</a></p>
{_nav(ctx)}"""


def _message_html(ctx: Ctx, title: str, text: str) -> str:
    return f'<h1>{e(title)}</h1><p>{e(text)}</p>{_nav(ctx)}'
