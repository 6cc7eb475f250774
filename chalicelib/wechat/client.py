"""The WeChat API client of an account: wechatpy's client, pointed at `WECHAT_API_BASE`, with its token
taken from the shared `TokenStore` (wechatpy never fetches tokens on its own here)."""
from __future__ import annotations

from functools import lru_cache


from chalicelib.config import settings
from chalicelib.wechat.http import WeChatTransportError, call_json
from chalicelib.secrets import secret_store
from chalicelib.store.accounts import Account
from chalicelib.store.ports import ACCOUNT_CACHE
from chalicelib.wechat import publishing_api
from chalicelib.wechat.tokens import FreshToken, TokenStore

WECHAT_ORIGIN = "https://api.weixin.qq.com"
TOKEN_ERRORS = (40001, 40014, 42001)  # invalid credential, invalid token, expired token
TIMEOUT_S = 5  # the token fetch (callers may wait on its lease)
WORKER_TIMEOUT_S = 15  # API calls come from queue workers, not bound by a callback's 5 s: wait for slow answers


class WeChatUnanswered(RuntimeError):
    """WeChat answered with an HTTP error and no errcode: the call may or may not have taken effect."""


class WeChatApiError(RuntimeError):
    """WeChat answered with a non-zero errcode."""

    def __init__(self, errcode: int, errmsg: str, body: dict | None = None):
        super().__init__(f"WeChat error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.body = body or {}  # WeChat's whole answer (45065 carries the existing mass send's msg_id)


def _answer(exc) -> dict:
    try:
        body = exc.response.json()
    except Exception:  # noqa: BLE001 - no response, or not JSON: the code and message are enough
        return {}
    return body if isinstance(body, dict) else {}


def api_url(path: str) -> str:
    """`/cgi-bin/stable_token` -> the configured base (WeChat, or the laptop's emulator)."""
    return settings().wechat_api_base + path


def fetch_stable_token(account_id: str, force_refresh: bool) -> FreshToken:
    """WeChat's stable_token call, with the account's appid and its secret from SSM."""
    account = account_facts(account_id)
    secret = secret_store().get(account_id).app_secret
    answer = call_json("POST", api_url("/cgi-bin/stable_token"), timeout=TIMEOUT_S, body={
        "grant_type": "client_credential", "appid": account.appid, "secret": secret,
        "force_refresh": force_refresh})
    if answer.get("errcode"):
        raise WeChatApiError(int(answer["errcode"]), str(answer.get("errmsg", "")))
    return FreshToken(answer["access_token"], int(answer["expires_in"]))


@lru_cache(maxsize=1)
def token_store() -> TokenStore:
    return TokenStore(fetch_stable_token)


def account_facts(account_id: str):
    """The account's public facts (appid, notification templates …), cached in the same per-container
    cache as the gateway's account view, so that staff edits reach warm containers within minutes."""

    return ACCOUNT_CACHE.get(("account_facts", account_id), lambda: Account.get(account_id))


def client_for(account_id: str):
    """A wechatpy client for the account (cheap to build, and free of per-request state)."""
    return _client_class()(account_id)


@lru_cache(maxsize=1)
def _client_class():
    # wechatpy (and requests, its transport) are heavy and only some Lambdas call WeChat: loaded here, on
    # first use, and nowhere else.
    import requests
    from wechatpy import WeChatClient
    from wechatpy.exceptions import WeChatClientException

    class AllianceClient(WeChatClient):
        def __init__(self, account_id: str):
            super().__init__(account_facts(account_id).appid, secret="", timeout=WORKER_TIMEOUT_S,
                             auto_retry=False)
            self.account_id = account_id
            self._token: str | None = None

        @property
        def access_token(self):
            """The shared token, read once per client (one worker message: the daily-stats worker's four
            datacube calls read it once, not four times); a token WeChat rejects is replaced below."""
            if self._token is None:
                self._token = token_store().get(self.account_id)
            return self._token

        def fetch_access_token(self):
            return {"access_token": self.access_token}

        def _request(self, method, url_or_endpoint, **kwargs):
            if not url_or_endpoint.startswith(("http://", "https://")):
                url_or_endpoint = kwargs.pop("api_base_url", self.API_BASE_URL) + url_or_endpoint
            if url_or_endpoint.startswith(WECHAT_ORIGIN):
                url_or_endpoint = settings().wechat_api_base + url_or_endpoint[len(WECHAT_ORIGIN):]
            kwargs.setdefault("params", {})
            try:
                return super()._request(method, url_or_endpoint, **kwargs)
            except requests.RequestException as exc:
                raise WeChatTransportError(type(exc).__name__) from exc
            except WeChatClientException as exc:
                if exc.errcode is None:
                    raise WeChatUnanswered(f"HTTP {getattr(exc.response, 'status_code', '?')}") from exc
                if exc.errcode not in TOKEN_ERRORS:
                    raise WeChatApiError(int(exc.errcode or 0), str(exc.errmsg), _answer(exc)) from exc
                rejected = kwargs["params"].get("access_token")
                self._token = token_store().get(self.account_id, rejected=rejected)
                kwargs["params"]["access_token"] = self._token
                try:
                    return super()._request(method, url_or_endpoint, **kwargs)
                except WeChatClientException as again:
                    if again.errcode is None:
                        raise WeChatUnanswered(f"HTTP {getattr(again.response, 'status_code', '?')}") from again
                    raise WeChatApiError(int(again.errcode or 0), str(again.errmsg), _answer(again)) from again

    return publishing_api.attach(AllianceClient)  # draft, freepublish, mass send, article images


# What a caller of the API may catch: WeChat said no (`api`), or gave no answer (`transport`: may have gone out).
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (WeChatTransportError, WeChatUnanswered)
