"""Residents' H5 pages: sign-in through WeChat's silent web authorization (the emulator), the 便民纸条
form, the household profile, and what they refuse (open redirects, forged forms, stale codes)."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from chalice.test import Client

from app import app
from chalicelib.domain import h5_session
from chalicelib.store.requests import HelpRequest, RequestContact
from chalicelib.store.residents import Profile, Resident

SAFE = "xianggang-huayuan"
RESIDENT = "o-h5-resident"
HOST = {"Host": "h5.test"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def http(seed, wechat, morning):
    with Client(app, stage_name="test") as client:
        yield client.http


def set_cookies(response) -> dict[str, str]:
    """name -> value of the response's Set-Cookie headers."""
    raw = response.headers.get("Set-Cookie") or response.headers.get("set-cookie") or []
    found = {}
    for cookie in [raw] if isinstance(raw, str) else raw:
        name, _, rest = cookie.partition("=")
        found[name] = rest.split(";", 1)[0]
    return found


def cookie_header(name: str, value: str) -> dict[str, str]:
    return {**HOST, "Cookie": f"{name}={value}"}


def sign_in(http, openid: str = RESIDENT, page: str = "request") -> str:
    """start -> the emulator's authorize page -> the oauth callback; the session cookie's value."""
    started = http.get(f"/h5/{SAFE}/start?next=/h5/{SAFE}/{page}", headers=HOST)
    assert started.status_code == 302
    authorize = started.headers["Location"]
    assert "/connect/oauth2/authorize?appid=" in authorize and authorize.endswith("#wechat_redirect")
    assert "scope=snsapi_base" in authorize
    state_cookie = set_cookies(started)["h5st"]
    back = requests.get(authorize.split("#")[0] + "&" + urlencode({"openid": openid}), allow_redirects=False,
                        timeout=5)
    assert back.status_code == 302
    callback = urlsplit(back.headers["Location"])
    assert callback.netloc == "h5.test" and callback.path == f"/h5/{SAFE}/oauth"
    assert parse_qs(callback.query)["state"] == [state_cookie]
    landed = http.get(f"{callback.path}?{callback.query}", headers=cookie_header("h5st", state_cookie))
    assert landed.status_code == 302 and landed.headers["Location"] == f"/h5/{SAFE}/{page}"
    return set_cookies(landed)["h5s"]


def csrf_of(page) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.body.decode()).group(1)


def post(http, page: str, session: str, fields: dict[str, str]):
    return http.post(f"/h5/{SAFE}/{page}", headers={**cookie_header("h5s", session), **FORM},
                     body=urlencode(fields))


# ---- sign-in ----------------------------------------------------------------------------------------

def test_a_resident_signs_in_and_files_a_request(http):
    session = sign_in(http)
    claims = h5_session.decode(session, SAFE)
    assert claims.openid == RESIDENT
    form = http.get(f"/h5/{SAFE}/request", headers=cookie_header("h5s", session))
    assert form.status_code == 200
    page = form.body.decode()
    assert 'lang="zh-CN"' in page and "<script" not in page and "http" not in page.split("<body>")[1]
    for field in ("text", "phone", "address", "consent"):
        assert f'<label for="{field}"' in page or f'for="{field}"' in page
    filed = post(http, "request", session, {"csrf": csrf_of(form), "text": "3号楼楼道灯坏了，晚上看不见",
                                           "phone": "13812345678", "address": "香港中路10号3单元502",
                                           "consent": "yes"})
    assert filed.status_code == 200
    [request] = list(HelpRequest.scan())
    assert request.channel == "h5" and request.openid == RESIDENT and request.account_id == SAFE
    assert re.fullmatch(r"XG-\d{8}-\d{4}", request.number)
    body = filed.body.decode()
    assert request.number in body and "回复“我的纸条”可查看进度" in body
    assert RequestContact.get(request.number).address == "香港中路10号3单元502"


def test_the_cookies_are_http_only_lax_and_scoped(http):
    started = http.get(f"/h5/{SAFE}/start", headers=HOST)
    cookie = started.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and f"Path=/h5/{SAFE}/oauth" in cookie
    assert "Secure" not in cookie  # the test stage is plain http; every other stage adds Secure
    assert "redirect_uri=http%3A%2F%2Fh5.test%2Fh5%2Fxianggang-huayuan%2Foauth%3Fnext%3D%2Fh5%2F" \
           "xianggang-huayuan%2Frequest" in started.headers["Location"]


def test_without_a_session_the_pages_send_the_resident_to_sign_in(http):
    for page in ("request", "profile"):
        answer = http.get(f"/h5/{SAFE}/{page}", headers=HOST)
        assert answer.status_code == 302
        assert answer.headers["Location"] == f"/h5/{SAFE}/start?next=/h5/{SAFE}/{page}"
    forged = http.get(f"/h5/{SAFE}/request", headers=cookie_header("h5s", "not.a.token"))
    assert forged.status_code == 302
    posted = post(http, "request", "not.a.token", {"text": "灯坏了"})
    assert posted.status_code == 303 and HelpRequest.count() == 0
    # an account that does not exist
    for page in ("start", "oauth", "request", "profile"):
        answer = http.get(f"/h5/no-such-account/{page}", headers=HOST)
        assert answer.status_code == 404 and "没有这个公众号" in answer.body.decode()


def test_a_session_of_another_account_or_a_console_token_is_no_session(http):
    from chalicelib.auth import tokens

    other, _ = h5_session.issue("badaguan", RESIDENT)
    assert http.get(f"/h5/{SAFE}/request", headers=cookie_header("h5s", other)).status_code == 302
    console, _ = tokens.issue({"sub": "admin", "role": "district_admin", "ver": 1})
    assert http.get(f"/h5/{SAFE}/request", headers=cookie_header("h5s", console)).status_code == 302
    session, _ = h5_session.issue(SAFE, RESIDENT)
    with pytest.raises(tokens.TokenInvalid):
        tokens.decode(session)


EVIL_TARGETS = ["https://evil.example/", "//evil.example/h5/x", "/h5/badaguan/request", f"/h5/{SAFE}/../../admin",
                f"/h5/{SAFE}/start", "/\\evil.example", f"/h5/{SAFE}//evil.example", "/h5/xianggang-huayuan/request@x"]


def test_next_pointing_elsewhere_is_refused(http):
    for target in EVIL_TARGETS:
        answer = http.get(f"/h5/{SAFE}/start?" + urlencode({"next": target}), headers=HOST)
        assert answer.status_code == 400 and "Location" not in answer.headers, target
        assert "链接不正确" in answer.body.decode()
        callback = http.get(f"/h5/{SAFE}/oauth?" + urlencode({"next": target, "code": "x", "state": "s"}),
                            headers=cookie_header("h5st", "s"))
        assert callback.status_code == 400 and "Location" not in callback.headers, target


def test_a_bad_code_or_state_gets_a_chinese_page(http, wechat):
    started = http.get(f"/h5/{SAFE}/start", headers=HOST)
    state = set_cookies(started)["h5st"]
    bad = http.get(f"/h5/{SAFE}/oauth?code=0123456789abcdef&state={state}", headers=cookie_header("h5st", state))
    assert bad.status_code == 400
    page = bad.body.decode()
    assert "链接已失效" in page and "Traceback" not in page and f"/h5/{SAFE}/start?next=" in page
    assert "h5s" not in set_cookies(bad)
    wrong_state = http.get(f"/h5/{SAFE}/oauth?code=abc&state=other", headers=cookie_header("h5st", state))
    assert wrong_state.status_code == 400 and "链接已过期" in wrong_state.body.decode()
    secret_sent = [c for c in wechat.calls if c["path"] == "/sns/oauth2/access_token"]
    assert secret_sent and secret_sent[0]["query"]["secret"] == "***"  # the emulator's log redacts it

    # a code works once
    started = http.get(f"/h5/{SAFE}/start", headers=HOST)
    state = set_cookies(started)["h5st"]
    back = requests.get(started.headers["Location"].split("#")[0], allow_redirects=False, timeout=5)
    callback = urlsplit(back.headers["Location"])
    first = http.get(f"{callback.path}?{callback.query}", headers=cookie_header("h5st", state))
    again = http.get(f"{callback.path}?{callback.query}", headers=cookie_header("h5st", state))
    assert first.status_code == 302 and again.status_code == 400


# ---- the 便民纸条 form ------------------------------------------------------------------------------

def test_a_bad_csrf_token_is_refused_and_nothing_is_filed(http):
    session = sign_in(http)
    for token in ("forged", ""):
        answer = post(http, "request", session, {"csrf": token, "text": "3号楼楼道灯坏了"})
        assert answer.status_code == 403 and "页面已过期" in answer.body.decode()
    assert HelpRequest.count() == 0


def test_empty_or_overlong_text_shows_the_form_again(http):
    session = sign_in(http)
    csrf = csrf_of(http.get(f"/h5/{SAFE}/request", headers=cookie_header("h5s", session)))
    empty = post(http, "request", session, {"csrf": csrf, "text": "   "})
    assert empty.status_code == 400 and "请写下需要帮忙的事" in empty.body.decode()
    assert 'name="csrf"' in empty.body.decode()
    long = post(http, "request", session, {"csrf": csrf, "text": "灯" * 5001})
    assert long.status_code == 400 and "最多 5000 字" in long.body.decode()
    no_consent = post(http, "request", session, {"csrf": csrf, "text": "灯坏了", "phone": "13812345678"})
    assert no_consent.status_code == 400 and "同意社区保存我的地址和电话用于上门服务" in no_consent.body.decode()
    assert "13812345678" in no_consent.body.decode()  # what was typed is kept
    assert HelpRequest.count() == 0


def test_without_consent_no_contact_is_kept_and_a_repeat_points_to_the_first(http):
    session = sign_in(http)
    csrf = csrf_of(http.get(f"/h5/{SAFE}/request", headers=cookie_header("h5s", session)))
    first = post(http, "request", session, {"csrf": csrf, "text": "家门口的下水道堵了"})
    [request] = list(HelpRequest.scan())
    assert RequestContact.count() == 0 or RequestContact.get(request.number).address is None
    again = post(http, "request", session, {"csrf": csrf, "text": "家门口的下水道堵了"})
    assert first.status_code == again.status_code == 200
    assert "已经提交过" in again.body.decode() and request.number in again.body.decode()
    assert HelpRequest.count() == 1


def test_a_meal_order_from_the_form_goes_through_the_one_filing_path(http):
    session = sign_in(http)
    csrf = csrf_of(http.get(f"/h5/{SAFE}/request", headers=cookie_header("h5s", session)))
    answer = post(http, "request", session, {"csrf": csrf, "text": "明天中午送两份饭", "address": "香港中路10号3单元502",
                                             "consent": "yes"})
    [request] = list(HelpRequest.scan())
    assert answer.status_code == 200 and request.number in answer.body.decode()
    assert request.category == "meal_delivery" and request.delivery_key and not request.flags
    assert "午餐，2 份" in answer.body.decode()


def test_large_type_needs_no_script(http):
    session = sign_in(http)
    normal = http.get(f"/h5/{SAFE}/request", headers=cookie_header("h5s", session)).body.decode()
    large = http.get(f"/h5/{SAFE}/request?large=1", headers=cookie_header("h5s", session)).body.decode()
    assert "font-size:22px" in normal and "font-size:28px" in large
    assert f'href="/h5/{SAFE}/request?large=1">大字' in normal
    assert f'action="/h5/{SAFE}/request?large=1"' in large


# ---- the household profile --------------------------------------------------------------------------

PROFILE = {"name": "王秀英", "address": "香港中路10号3单元502", "phone": "13812345678", "household_size": "2",
           "mobility": "行动不便", "dietary_notes": "少盐", "relation": "self"}


def test_the_profile_is_saved_with_consent_shown_in_full_and_deleted(http):
    session = sign_in(http, page="profile")
    form = http.get(f"/h5/{SAFE}/profile", headers=cookie_header("h5s", session))
    assert form.status_code == 200 and "还没有登记" in form.body.decode()
    csrf = csrf_of(form)
    saved = post(http, "profile", session, {"csrf": csrf, "action": "save", **PROFILE, "consent": "yes"})
    assert saved.status_code == 200 and "已保存" in saved.body.decode()
    resident = Resident.get(SAFE, RESIDENT)
    profile = Profile.get(resident.profile_id)
    assert profile.address == "香港中路10号3单元502" and profile.household_size == 2
    assert profile.mobility == "行动不便" and profile.consent_at is not None and resident.relation == "self"
    shown = http.get(f"/h5/{SAFE}/profile", headers=cookie_header("h5s", session)).body.decode()
    assert 'value="13812345678"' in shown and 'value="香港中路10号3单元502"' in shown
    assert '<option value="行动不便" selected>' in shown

    relative = post(http, "profile", session, {"csrf": csrf, **PROFILE, "relation": "relative", "consent": "yes"})
    assert relative.status_code == 200 and Resident.get(SAFE, RESIDENT).relation == "relative"

    asked = post(http, "profile", session, {"csrf": csrf, "action": "delete"})
    assert asked.status_code == 200 and "确定删除" in asked.body.decode()
    assert Profile.count() == 1  # only asked
    deleted = post(http, "profile", session, {"csrf": csrf, "action": "delete", "confirm": "yes"})
    assert deleted.status_code == 200 and "已删除" in deleted.body.decode()
    assert Profile.count() == 0 and Resident.get(SAFE, RESIDENT).profile_id is None


def test_the_profile_is_not_saved_without_consent_or_with_bad_fields(http):
    session = sign_in(http, page="profile")
    csrf = csrf_of(http.get(f"/h5/{SAFE}/profile", headers=cookie_header("h5s", session)))
    refused = post(http, "profile", session, {"csrf": csrf, "action": "save", **PROFILE})
    assert refused.status_code == 400 and "保存前请勾选" in refused.body.decode()
    bad = post(http, "profile", session, {"csrf": csrf, **PROFILE, "household_size": "九十", "phone": "call me",
                                          "consent": "yes"})
    assert bad.status_code == 400 and "家庭人数" in bad.body.decode() and "联系电话" in bad.body.decode()
    forged = post(http, "profile", session, {"csrf": "forged", **PROFILE, "consent": "yes"})
    assert forged.status_code == 403
    assert Profile.count() == 0


def test_a_registered_field_cannot_be_silently_emptied(http):
    session = sign_in(http, page="profile")
    csrf = csrf_of(http.get(f"/h5/{SAFE}/profile", headers=cookie_header("h5s", session)))
    post(http, "profile", session, {"csrf": csrf, **PROFILE, "consent": "yes"})
    cleared = post(http, "profile", session, {"csrf": csrf, **PROFILE, "phone": "", "consent": "yes"})
    assert cleared.status_code == 400 and "不能清空已登记的联系电话" in cleared.body.decode()
    assert Profile.get(Resident.get(SAFE, RESIDENT).profile_id).phone == "13812345678"


# ---- adapters and failures --------------------------------------------------------------------------

def test_the_authorize_url_is_wechats_in_production_and_the_emulators_elsewhere(monkeypatch):
    from chalicelib import config
    from chalicelib.wechat import oauth

    monkeypatch.setenv("WECHAT_API_BASE", "https://api.weixin.qq.com")
    config.settings.cache_clear()
    try:
        assert oauth.authorize_url("wx123", "https://h5.example/h5/a/oauth?next=/h5/a/request", "s1") == (
            "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx123&redirect_uri=https%3A%2F%2Fh5.example"
            "%2Fh5%2Fa%2Foauth%3Fnext%3D%2Fh5%2Fa%2Frequest&response_type=code&scope=snsapi_base&state=s1"
            "#wechat_redirect")
        monkeypatch.setenv("WECHAT_API_BASE", "http://127.0.0.1:8001/")
        config.settings.cache_clear()
        assert oauth.authorize_url("wx123", "x", "s").startswith("http://127.0.0.1:8001/connect/oauth2/authorize?")
    finally:
        config.settings.cache_clear()


def test_a_storage_failure_keeps_the_text_and_shows_a_chinese_page(http, monkeypatch):
    from pynamodb.exceptions import PutError

    from chalicelib.store import unit_of_work

    session = sign_in(http)
    csrf = csrf_of(http.get(f"/h5/{SAFE}/request", headers=cookie_header("h5s", session)))

    def broken(*args, **kwargs):
        raise PutError("DynamoDB is down")
    monkeypatch.setattr(unit_of_work, "commit", broken)
    answer = post(http, "request", session, {"csrf": csrf, "text": "楼道灯坏了"})
    assert answer.status_code == 503 and "系统正忙" in answer.body.decode() and "楼道灯坏了" in answer.body.decode()
    profile = post(http, "profile", session, {"csrf": csrf, **PROFILE, "consent": "yes"})
    assert profile.status_code == 500 and "系统正忙" in profile.body.decode()
    assert "Traceback" not in profile.body.decode()
