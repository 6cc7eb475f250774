"""WeChat web authorization (网页授权) with scope `snsapi_base`: learn the openid of a resident who opens
one of the platform's H5 pages inside WeChat. Silent: the resident sees no consent screen.

1. `authorize_url(appid, redirect_uri, state)`: where the browser is sent. WeChat matches this URL's
   parameters in their documented order, so they are written in that order.
2. WeChat sends the browser back to `redirect_uri?code=…&state=…`.
3. `exchange_code(account_id, code)`: the code (single use, valid five minutes) for the openid, with
   the account's app secret from SSM.

Only a verified 服务号 has web authorization on real WeChat; the laptop's emulator lets every account use it.

On the laptop the authorize page and the API are both the emulator's (`WECHAT_API_BASE`); in
production the authorize page is on open.weixin.qq.com and the API on api.weixin.qq.com.
"""
from __future__ import annotations

from urllib.parse import quote


from chalicelib.config import settings
from chalicelib.domain.patterns import lazy_re
from chalicelib.secrets import secret_store
from chalicelib.store.ports import gateway_account
from chalicelib.wechat.client import TIMEOUT_S, WECHAT_ORIGIN, api_url
from chalicelib.wechat.http import WeChatTransportError, call_json

AUTHORIZE_ORIGIN = "https://open.weixin.qq.com"
AUTHORIZE_PATH = "/connect/oauth2/authorize"
SCOPE = "snsapi_base"
OPENID_RE = lazy_re(r"^[A-Za-z0-9_-]{6,64}$")
CODE_RE = lazy_re(r"^[A-Za-z0-9_-]{1,128}$")
# The code is the resident's fault (stale, used, forged), not the platform's: invalid code, code used,
# missing code.
CODE_ERRORS = frozenset({40029, 40163, 41008})


class OAuthError(Exception):
    """Web authorization failed. `errcode` is WeChat's (None when WeChat could not be reached or its
    answer made no sense); the message is for logs and never holds the secret or the code."""

    def __init__(self, message: str, errcode: int | None = None):
        super().__init__(message)
        self.errcode = errcode


class CodeRejected(OAuthError):
    """The code is invalid, expired or already used: the resident should simply open the page again."""


def authorize_base() -> str:
    """Where the authorize page is: WeChat's open.weixin.qq.com, or the configured base itself (the
    emulator serves /connect/oauth2/authorize)."""
    base = settings().wechat_api_base
    return AUTHORIZE_ORIGIN if base == WECHAT_ORIGIN else base


def authorize_url(appid: str, redirect_uri: str, state: str) -> str:
    """WeChat's authorize URL for `snsapi_base`, parameters in the order WeChat requires."""
    return (f"{authorize_base()}{AUTHORIZE_PATH}?appid={quote(appid, safe='')}"
            f"&redirect_uri={quote(redirect_uri, safe='')}&response_type=code&scope={SCOPE}"
            f"&state={quote(state, safe='')}#wechat_redirect")


def exchange_code(account_id: str, code: str) -> str:
    """The openid behind `code`, for the account. Raises CodeRejected (the resident's code is no good),
    OAuthError (WeChat refused or could not be reached) or chalicelib.secrets.SecretsMissing."""
    if not code or not CODE_RE.match(code):
        raise CodeRejected("malformed code", 40029)
    account = gateway_account(account_id)
    if account is None:
        raise OAuthError(f"no account {account_id}")
    secret = secret_store().get(account_id).app_secret
    try:
        # WeChat documents this call as a GET with the secret in the query; the URL is never logged here.
        data = call_json("GET", api_url("/sns/oauth2/access_token"), timeout=TIMEOUT_S, params={
            "appid": account.appid, "secret": secret, "code": code, "grant_type": "authorization_code"})
    except WeChatTransportError as exc:
        raise OAuthError(f"WeChat unreachable or unreadable: {type(exc).__name__}") from None
    if not isinstance(data, dict):
        raise OAuthError("WeChat answered something other than an object")
    if data.get("errcode"):
        errcode = _int(data["errcode"])
        kind = CodeRejected if errcode in CODE_ERRORS else OAuthError
        raise kind(f"WeChat error {errcode}: {str(data.get('errmsg', ''))[:200]}", errcode)
    openid = data.get("openid")
    if not isinstance(openid, str) or not OPENID_RE.match(openid):
        raise OAuthError("WeChat answered without a usable openid")
    return openid


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
