"""Laptop-only emulator of the WeChat official-account HTTP API.

The platform reaches WeChat through one setting, ``WECHAT_API_BASE``: production
points it at https://api.weixin.qq.com, the laptop at this emulator
(default http://127.0.0.1:8001).  The emulator follows WeChat's documented
request/response shapes and error codes for the calls the platform makes,
checks access tokens, enforces the mass-send quota and the 48-hour
customer-service window, and appends every API call it receives as one JSON
line to ``.local/wechat-api.jsonl``.

Emulator-only helpers live under ``/__emulator/`` (clock — on the laptop stack the shared
LOCAL_CLOCK_FILE, so the platform's time moves with it —, user interactions,
simulated user messages pushed to the platform, recent calls).  They are not
written to the call log.

Faults (laptop only, for `make simulate`): ``POST /__emulator/faults`` with shares of API calls to answer
with 40001 (any call: the platform refreshes its token), 45015 / 45047 (customer-service messages),
45028 (mass sends), a 502 without errcode, a time-out (the connection is held ``timeout_s`` and closed
without an answer; nothing is done) or a slow answer (``slow_s``, then done); and ``kill_pid`` with
``kill_on`` / ``kill_after``: on that call, the process (a queue worker) is killed before WeChat acts
(``kill_pids``: the one of them that made the call).
``GET /__emulator/faults`` counts what was injected.

Run:  python -m local.wechat_emulator --port 8001 [--seed local/seed.json] [--log PATH]
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import logging
import math
import os
import random
import re
import secrets
import signal
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable
from xml.parsers.expat import ExpatError

import xmltodict
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from local.procnet import socket_inodes

log = logging.getLogger("wechat_emulator")

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PORT = 8001
DEFAULT_SEED = REPO_ROOT / "local" / "seed.json"
DEFAULT_LOG = REPO_ROOT / ".local" / "wechat-api.jsonl"
DEFAULT_PLATFORM_URL = "http://127.0.0.1:8000"
DEFAULT_OPENID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"  # the openid used in WeChat's own examples
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")  # no DST in China

TOKEN_TTL = 7200             # access_token lifetime (s)
TOKEN_GRACE = 300            # old cgi-bin/token token stays valid this long after a refresh
CS_WINDOW = 48 * 3600        # customer-service window since the user's last message
CS_PER_WINDOW = 5             # customer-service messages allowed per user message (then 45047)
TEMP_MEDIA_TTL = 3 * 86400   # temporary media (media/upload) expire after 3 days
OAUTH_CODE_TTL = 300         # OAuth code lifetime
MASS_QUOTA = {"subscription": ("day", 1), "service": ("month", 4)}
CLIENTMSGID_TTL = 24 * 3600  # WeChat checks a mass send's clientmsgid against the last 24 hours
MASS_HELPER_OPENID = "oR5Gjjl_eiZoUpGozMo7dbBJ362A"  # FromUserName of job reports (公众号群发助手)
SECRET_KEYS = {"secret", "appsecret", "app_secret"}
OPENID_RE = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SECRET_QUERY_RE = re.compile(r"((?:^|[?&])(?:secret|appsecret)=)[^&\s]*")

ERRORS = {
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40004: "invalid media type",
    40007: "invalid media_id",
    40008: "invalid message type",
    40009: "invalid image size",
    40010: "invalid voice size",
    40011: "invalid video size",
    40012: "invalid thumb size",
    40013: "invalid appid",
    40016: "invalid button size",
    40023: "invalid sub button size",
    40029: "invalid code",
    40037: "invalid template_id",
    40066: "invalid url",
    40125: "invalid appsecret",
    40163: "code been used",
    41001: "access_token missing",
    41002: "appid missing",
    41004: "appsecret missing",
    41005: "media data missing",
    42001: "access_token expired",
    43001: "require GET method",
    43002: "require POST method",
    44002: "empty post data",
    44004: "empty content",
    45015: "response out of time limit or subscription is canceled",
    45028: "has no masssend quota",
    45047: "out of response count limit",
    45065: "clientmsgid exist",
    45067: "clientmsgid size out of limit",
    46003: "menu no exist",
    47001: "data format error",
    48001: "api unauthorized",
    61500: "date format error",
    61501: "date range error",
}

# msgtype -> required fields of the matching object, for message/custom/send
CUSTOM_MSGTYPES = {
    "text": ("content",), "image": ("media_id",), "voice": ("media_id",),
    "video": ("media_id",), "music": ("musicurl", "hqmusicurl", "thumb_media_id"),
    "news": ("articles",), "mpnews": ("media_id",), "mpnewsarticle": ("article_id",),
    "msgmenu": ("list",), "wxcard": ("card_id",),
    "miniprogrampage": ("title", "pagepath", "thumb_media_id"),
}
# msgtype -> required fields, for message/mass/sendall
MASS_MSGTYPES = {
    "mpnews": ("media_id",), "text": ("content",), "image": ("media_id",),
    "voice": ("media_id",), "mpvideo": ("media_id",), "wxcard": ("card_id",),
}
# media type -> (max bytes, errcode when too large)
MEDIA_LIMITS = {
    "image": (10 * 2**20, 40009), "voice": (2 * 2**20, 40010),
    "video": (10 * 2**20, 40011), "thumb": (64 * 2**10, 40012),
}
# datacube path -> (max days in range, row builder method name)
DATACUBE = {
    "/datacube/getusersummary": (7, "_row_user_summary"),
    "/datacube/getusercumulate": (7, "_row_user_cumulate"),
    "/datacube/getarticlesummary": (1, "_rows_article_summary"),
    "/datacube/getarticletotal": (1, "_rows_article_total"),
    "/datacube/getuserread": (3, "_rows_user_read"),
}


SENDING_PATHS = {"/cgi-bin/message/custom/send", "/cgi-bin/message/template/send",
                 "/cgi-bin/message/subscribe/bizsend", "/cgi-bin/message/mass/sendall", "/cgi-bin/draft/add",
                 "/cgi-bin/freepublish/submit"}
FAULT_PATHS = {"45015": {"/cgi-bin/message/custom/send"}, "45047": {"/cgi-bin/message/custom/send"},
               "45028": {"/cgi-bin/message/mass/sendall"}, "5xx": SENDING_PATHS, "timeout": SENDING_PATHS,
               "slow": SENDING_PATHS}


class Faults:
    """The simulator's switches (laptop only): shares of API calls answered with a fault."""

    def __init__(self) -> None:
        self.config: dict[str, Any] = {}
        self.injected: dict[str, int] = {}
        self.seen: dict[str, int] = {}
        self.killed: list[int] = []
        self.in_flight = 0  # API calls being answered now (the simulator waits for none before moving time)
        self.lock = threading.Lock()
        self.rng = random.Random(0)

    def set(self, config: dict) -> None:
        with self.lock:
            self.config = dict(config)
            self.rng = random.Random(config.get("seed", 0))
            self.seen = {}

    def draw(self, path: str, authed: bool, account_type: str | None = None) -> str | None:
        with self.lock:
            c = self.config
            if not c:
                return None
            self.seen[path] = self.seen.get(path, 0) + 1
            if (c.get("kill_pid") or c.get("kill_pids")) and path == c.get("kill_on") and self.seen[path] == int(c.get("kill_after", 1)):
                self.injected["kill"] = self.injected.get("kill", 0) + 1
                return "kill"
            roll = self.rng.random()
            for kind, share in (c.get("rates") or {}).items():
                if kind == "40001" and not authed or kind != "40001" and path not in FAULT_PATHS.get(kind, ()):
                    continue
                if kind == "45028" and account_type != "service":  # a subscription account's one a day
                    continue
                if roll < float(share):
                    if self.injected.get(kind, 0) >= int((c.get("max") or {}).get(kind, 10**9)):
                        return None
                    self.injected[kind] = self.injected.get(kind, 0) + 1
                    return kind
                roll -= float(share)
        return None


def caller_pid(environ: dict, candidates: list[int]) -> int | None:
    """Which of the candidate processes made this request (Linux: the client's socket, through /proc)."""
    inodes = {f"socket:[{inode}]" for inode in socket_inodes(int(environ.get("REMOTE_PORT") or 0))}
    for pid in candidates:
        try:
            if any(os.readlink(fd) in inodes for fd in Path(f"/proc/{pid}/fd").iterdir()):
                return int(pid)
        except OSError:
            continue
    return None


@dataclass(frozen=True)
class Route:
    method: str
    handler: str
    auth: bool = True       # requires ?access_token=
    body: str = "json"      # "json", "multipart" or "none"


ROUTES: dict[str, Route] = {
    "/cgi-bin/token": Route("GET", "h_token", auth=False, body="none"),
    "/cgi-bin/stable_token": Route("POST", "h_stable_token", auth=False),
    "/cgi-bin/message/custom/send": Route("POST", "h_custom_send"),
    "/cgi-bin/message/template/send": Route("POST", "h_template_send"),
    "/cgi-bin/message/subscribe/bizsend": Route("POST", "h_bizsend"),
    "/cgi-bin/message/mass/sendall": Route("POST", "h_sendall"),
    "/cgi-bin/draft/add": Route("POST", "h_draft_add"),
    "/cgi-bin/draft/get": Route("POST", "h_draft_get"),
    "/cgi-bin/draft/delete": Route("POST", "h_draft_delete"),
    "/cgi-bin/freepublish/submit": Route("POST", "h_freepublish_submit"),
    "/cgi-bin/freepublish/get": Route("POST", "h_freepublish_get"),
    "/cgi-bin/menu/create": Route("POST", "h_menu_create"),
    "/cgi-bin/menu/get": Route("GET", "h_menu_get", body="none"),
    "/cgi-bin/menu/delete": Route("GET", "h_menu_delete", body="none"),
    "/cgi-bin/media/upload": Route("POST", "h_media_upload", body="multipart"),
    "/cgi-bin/material/add_material": Route("POST", "h_media_upload", body="multipart"),
    "/cgi-bin/media/uploadimg": Route("POST", "h_uploadimg", body="multipart"),
    **{path: Route("POST", "h_datacube") for path in DATACUBE},
    "/sns/oauth2/access_token": Route("GET", "h_sns_access_token", auth=False, body="none"),
    "/connect/oauth2/authorize": Route("GET", "h_authorize", auth=False, body="none"),
}


class WeChatError(Exception):
    """An API error answered as {"errcode", "errmsg"} with HTTP 200, like WeChat."""

    def __init__(self, errcode: int, errmsg: str | None = None, **extra: Any):
        super().__init__(errcode)
        self.errcode = errcode
        self.errmsg = errmsg or ERRORS.get(errcode, "system error")
        self.extra = extra  # fields WeChat adds to some errors (45065: the existing msg_id)


class Clock:
    """Wall clock plus an adjustable offset, so tests can move time."""

    def __init__(self, source: Callable[[], float] = time.time):
        self._source = source
        self._offset = 0.0
        self._lock = threading.Lock()

    def time(self) -> float:
        with self._lock:
            return self._source() + self._offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), timezone.utc)

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        with self._lock:
            self._offset = when.timestamp() - self._source()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0


class FileClock(Clock):
    """The laptop stack's shared clock (`LOCAL_CLOCK_FILE`, see chalicelib/clock.py): the emulator reads
    it, and its /__emulator/clock endpoint writes it, so the platform's time moves with the emulator's."""

    def __init__(self, path: str | os.PathLike, source: Callable[[], float] = time.time):
        super().__init__(source)
        self.path = str(path)

    def _state(self) -> tuple[float, float | None]:
        from chalicelib.clock import read_local_clock_file

        found = read_local_clock_file(self.path)
        if found is None:
            return 0.0, None
        frozen, offset = found
        return offset, (frozen.timestamp() if frozen is not None else None)

    def time(self) -> float:
        with self._lock:
            offset, frozen = self._state()
            return frozen if frozen is not None else self._source() + offset

    def _write(self, offset: float = 0.0, frozen: float | None = None) -> None:
        from chalicelib.clock import write_local_clock_file

        write_local_clock_file(self.path, offset_seconds=offset,
                               frozen_at=datetime.fromtimestamp(frozen, timezone.utc) if frozen is not None else None)

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        with self._lock:
            _, frozen = self._state()
            if frozen is not None:
                self._write(frozen=when.timestamp())
            else:
                self._write(offset=when.timestamp() - self._source())

    def advance(self, seconds: float) -> None:
        with self._lock:
            offset, frozen = self._state()
            if frozen is not None:
                self._write(frozen=frozen + seconds)
            else:
                self._write(offset=offset + seconds)

    def reset(self) -> None:
        with self._lock:
            self._write(offset=0.0)


@dataclass
class Token:
    value: str
    appid: str
    kind: str                      # "token" (cgi-bin/token) or "stable" (cgi-bin/stable_token)
    expires_at: float
    revoked_at: float | None = None


def iso_utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def redact(obj: Any) -> Any:
    """Replace app secrets by "***" anywhere in a query/body structure."""
    if isinstance(obj, dict):
        return {k: ("***" if k in SECRET_KEYS else redact(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [redact(v) for v in obj]
    return obj


def sign(*parts: str) -> str:
    """WeChat's signature: sha1 of the sorted, concatenated parts."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def to_xml(fields: dict[str, Any]) -> str:
    inner = "".join(
        f"<{k}>{v}</{k}>" if isinstance(v, int) else f"<{k}><![CDATA[{v}]]></{k}>"
        for k, v in fields.items())
    return f"<xml>{inner}</xml>"


def load_accounts(seed_file: str | os.PathLike) -> list[dict]:
    """Read the "accounts" list of the seed file and check the fields we use."""
    data = json.loads(Path(seed_file).read_text(encoding="utf-8"))
    accounts = data.get("accounts", [])
    for acc in accounts:
        missing = [k for k in ("id", "appid", "type") if not acc.get(k)]
        if missing or not acc.get("demo_secrets", {}).get("app_secret"):
            raise ValueError(f"seed account {acc.get('id')!r} lacks {missing or ['demo_secrets.app_secret']}")
        if acc["type"] not in MASS_QUOTA:
            raise ValueError(f"seed account {acc['id']!r}: type must be subscription or service")
    return accounts


def load_residents(seed_file: str | os.PathLike) -> list[dict]:
    """The seed's demo residents ({openid, name, note}) offered by the OAuth page; WeChat's sample user first."""
    data = json.loads(Path(seed_file).read_text(encoding="utf-8"))
    residents = [r for r in data.get("demo_residents", []) if OPENID_RE.match(str(r.get("openid", "")))]
    if not any(r["openid"] == DEFAULT_OPENID for r in residents):
        residents.insert(0, {"openid": DEFAULT_OPENID, "name": "微信示例用户", "note": "微信文档里的示例用户"})
    return residents


def new_resident_openid(name: str) -> str:
    """A stable demo openid for a new resident's name (the same name signs in as the same resident)."""
    return "o-new-" + hashlib.sha1(name.strip().encode("utf-8")).hexdigest()[:16]


class Emulator:
    """In-memory WeChat state plus a WSGI app.  Use ``emulator.wsgi`` as the app."""

    def __init__(self, accounts: list[dict], clock: Clock | None = None,
                 log_path: str | os.PathLike | None = None, platform_url: str | None = None,
                 residents: list[dict] | None = None):
        self.residents = residents if residents is not None else [
            {"openid": DEFAULT_OPENID, "name": "微信示例用户", "note": "微信文档里的示例用户"}]
        self.clock = clock or Clock()
        self.log_path = Path(log_path) if log_path else None
        self.platform_url = (platform_url or os.environ.get("PLATFORM_URL") or DEFAULT_PLATFORM_URL).rstrip("/")
        self.accounts = {a["appid"]: a for a in accounts}
        self.accounts_by_id = {a["id"]: a for a in accounts}
        self.calls: deque[dict] = deque(maxlen=1000)
        self.faults = Faults()
        self._lock = threading.RLock()
        self._log_lock = threading.Lock()
        self._request = threading.local()  # what a handler may need of the HTTP request (its Accept header)
        self.reset()

    def reset(self) -> None:
        """Forget tokens, quotas, media, drafts, menus and interactions."""
        with self._lock:
            self.tokens: dict[str, Token] = {}
            self.current: dict[tuple[str, str], str] = {}
            self.last_message: dict[tuple[str, str], float] = {}
            self.cs_sent: dict[tuple[str, str], int] = {}
            self.mass_sends: dict[str, list[float]] = {}
            self.menus: dict[str, dict] = {}
            self.media: dict[str, dict] = {}
            self.drafts: dict[str, dict] = {}
            self.publishes: dict[str, dict] = {}
            self.clientmsgids: dict[tuple[str, str], dict] = {}
            self.oauth_codes: dict[str, dict] = {}
            self._seq = 2_000_000_000 + secrets.randbelow(10**8)  # ids survive restarts without clashes
            for acc in self.accounts.values():  # DEMO ONLY: each account's cover image for the demo posts
                self.media[f"demo-cover-{acc['id']}"] = {"appid": acc["appid"], "type": "image", "permanent": True,
                                                         "created_at": 0.0, "filename": "demo-cover.png", "size": 0}

    def _next_id(self) -> int:
        self._seq += 1
        return self._seq

    # ----- Python API used by the control endpoints and by tests -----

    def account(self, appid: str | None = None, account_id: str | None = None) -> dict:
        acc = self.accounts.get(appid or "") or self.accounts_by_id.get(account_id or "")
        if acc is None:
            raise KeyError(f"unknown account (appid={appid!r}, account_id={account_id!r})")
        return acc

    def record_interaction(self, appid: str, openid: str) -> float:
        """Note that ``openid`` just messaged ``appid``: opens the 48 h window."""
        with self._lock:
            now = self.clock.time()
            self.last_message[(appid, openid)] = now
            self.cs_sent[(appid, openid)] = 0
            return now + CS_WINDOW

    # ----- token helpers -----

    def _check_secret(self, appid: str | None, secret: str | None) -> dict:
        if not appid:
            raise WeChatError(41002)
        account = self.accounts.get(appid)
        if account is None:
            raise WeChatError(40013)
        if not secret:
            raise WeChatError(41004)
        if not secrets.compare_digest(str(secret), account["demo_secrets"]["app_secret"]):
            raise WeChatError(40125)
        return account

    def _issue(self, appid: str, kind: str, revoke_previous_at: float | None) -> Token:
        now = self.clock.time()
        old = self.tokens.get(self.current.get((appid, kind), ""))
        if old and revoke_previous_at is not None:
            old.revoked_at = min(old.revoked_at or revoke_previous_at, revoke_previous_at)
        token = Token(secrets.token_urlsafe(96), appid, kind, now + TOKEN_TTL)
        self.tokens[token.value] = token
        self.current[(appid, kind)] = token.value
        return token

    def _token_reply(self, token: Token) -> dict:
        return {"access_token": token.value, "expires_in": max(0, math.ceil(token.expires_at - self.clock.time()))}

    def _authenticate(self, query: dict) -> dict:
        value = query.get("access_token")
        if not value:
            raise WeChatError(41001)
        token = self.tokens.get(value)
        now = self.clock.time()
        if token is None or (token.revoked_at is not None and now >= token.revoked_at):
            raise WeChatError(40001)
        if now >= token.expires_at:
            raise WeChatError(42001)
        return self.accounts[token.appid]

    # ----- validation helpers -----

    @staticmethod
    def _openid(body: dict, key: str = "touser") -> str:
        openid = body.get(key)
        if not isinstance(openid, str) or not OPENID_RE.match(openid):
            raise WeChatError(40003)
        return openid

    def _known_media(self, appid: str, media_id: Any) -> None:
        item = None
        if isinstance(media_id, str):
            item = self.media.get(media_id) or self.drafts.get(media_id)
        if not item or item["appid"] != appid:
            raise WeChatError(40007)
        if not item.get("permanent", True) and self.clock.time() - item["created_at"] > TEMP_MEDIA_TTL:
            raise WeChatError(40007)

    def _message_object(self, appid: str, body: dict, table: dict) -> tuple[str, dict]:
        msgtype = body.get("msgtype")
        if msgtype not in table:
            raise WeChatError(40008)
        obj = body.get(msgtype)
        if not isinstance(obj, dict):
            raise WeChatError(44004 if msgtype == "text" else 47001)
        for field in table[msgtype]:
            if not obj.get(field):
                raise WeChatError(44004 if field == "content" else 47001)
            if field.endswith("media_id"):
                self._known_media(appid, obj[field])
        return msgtype, obj

    # ----- WeChat API handlers: (account, query, body, files) -> dict | Response -----

    def h_token(self, account, query, body, files):
        if query.get("grant_type") != "client_credential":
            raise WeChatError(40002)
        acc = self._check_secret(query.get("appid"), query.get("secret"))
        # A new token each call; the previous one keeps working for 5 minutes.
        return self._token_reply(self._issue(acc["appid"], "token", self.clock.time() + TOKEN_GRACE))

    def h_stable_token(self, account, query, body, files):
        if body.get("grant_type") != "client_credential":
            raise WeChatError(40002)
        acc = self._check_secret(body.get("appid"), body.get("secret"))
        force = body.get("force_refresh") in (True, "true", 1)
        current = self.tokens.get(self.current.get((acc["appid"], "stable"), ""))
        now = self.clock.time()
        if force:  # force refresh invalidates the previous stable token at once
            return self._token_reply(self._issue(acc["appid"], "stable", now))
        if current and current.revoked_at is None and current.expires_at - now > TOKEN_GRACE:
            return self._token_reply(current)
        # within the last 5 minutes WeChat hands out a fresh token; the old one lives on until expiry
        return self._token_reply(self._issue(acc["appid"], "stable", None))

    def h_custom_send(self, account, query, body, files):
        touser = self._openid(body)
        self._message_object(account["appid"], body, CUSTOM_MSGTYPES)
        last = self.last_message.get((account["appid"], touser))
        if last is None or self.clock.time() - last > CS_WINDOW:
            raise WeChatError(45015)
        key = (account["appid"], touser)
        if self.cs_sent.get(key, 0) >= CS_PER_WINDOW:
            raise WeChatError(45047)
        self.cs_sent[key] = self.cs_sent.get(key, 0) + 1
        return {"errcode": 0, "errmsg": "ok"}

    def _template_fields(self, body: dict) -> None:
        self._openid(body)
        if not isinstance(body.get("template_id"), str) or not body["template_id"]:
            raise WeChatError(40037)
        if not isinstance(body.get("data"), dict):
            raise WeChatError(47001)

    def h_template_send(self, account, query, body, files):
        if account["type"] != "service":  # template messages are a service-account feature
            raise WeChatError(48001)
        self._template_fields(body)
        return {"errcode": 0, "errmsg": "ok", "msgid": self._next_id()}

    def h_bizsend(self, account, query, body, files):
        self._template_fields(body)
        return {"errcode": 0, "errmsg": "ok"}

    def h_draft_add(self, account, query, body, files):
        articles = body.get("articles")
        if not isinstance(articles, list) or not 1 <= len(articles) <= 8:
            raise WeChatError(47001)
        for article in articles:
            if not isinstance(article, dict) or not article.get("title") or not article.get("content"):
                raise WeChatError(47001)
            self._known_media(account["appid"], article.get("thumb_media_id"))
        media_id = secrets.token_urlsafe(32)
        self.drafts[media_id] = {"appid": account["appid"], "articles": copy.deepcopy(articles),
                                 "created_at": self.clock.time()}
        return {"media_id": media_id}

    def h_draft_get(self, account, query, body, files):
        draft = self.drafts.get(str(body.get("media_id")))
        if draft is None or draft["appid"] != account["appid"]:
            raise WeChatError(40007)
        return {"news_item": copy.deepcopy(draft["articles"])}

    def h_draft_delete(self, account, query, body, files):
        draft = self.drafts.get(str(body.get("media_id")))
        if draft is None or draft["appid"] != account["appid"]:
            raise WeChatError(40007)
        del self.drafts[str(body["media_id"])]
        return {"errcode": 0, "errmsg": "ok"}

    def job_report_xml(self, account_id: str, job_id: str, status: str = "send success") -> str:
        """WeChat's report on a finished job of the account, as pushed to the callback URL:
        MASSSENDJOBFINISH for a mass send's msg_id, PUBLISHJOBFINISH for a publish_id."""
        acc = self.account(account_id=account_id)
        with self._lock:
            mass = self.publishes.get(f"mass:{job_id}")
            pub = self.publishes.get(str(job_id))
            head = (f"<ToUserName><![CDATA[{acc.get('original_id', '')}]]></ToUserName><FromUserName><![CDATA["
                    f"{MASS_HELPER_OPENID}]]></FromUserName><CreateTime>{int(self.clock.time())}</CreateTime>"
                    "<MsgType><![CDATA[event]]></MsgType>")
            if mass is not None and mass["appid"] == acc["appid"]:
                count = len(self.drafts[mass["media_id"]]["articles"])
                urls = "".join(f"<item><ArticleIdx>{i}</ArticleIdx><ArticleUrl><![CDATA[https://mp.weixin.qq.com/"
                               f"s/{mass['article_id']}_{i}]]></ArticleUrl></item>" for i in range(1, count + 1))
                sent = 118 if status == "send success" else 0
                return (f"<xml>{head}<Event><![CDATA[MASSSENDJOBFINISH]]></Event><MsgID>{job_id}</MsgID>"
                        f"<Status><![CDATA[{status}]]></Status><TotalCount>120</TotalCount>"
                        f"<FilterCount>118</FilterCount><SentCount>{sent}</SentCount>"
                        f"<ErrorCount>{118 - sent}</ErrorCount><ArticleUrlResult><Count>{count}</Count>"
                        f"<ResultList>{urls}</ResultList></ArticleUrlResult></xml>")
            if pub is not None and pub["appid"] == acc["appid"]:
                count = len(self.drafts[pub["media_id"]]["articles"])
                items = "".join(f"<item><idx>{i}</idx><article_url><![CDATA[https://mp.weixin.qq.com/s/"
                                f"{pub['article_id']}_{i}]]></article_url></item>" for i in range(1, count + 1))
                code = 0 if status == "send success" else 2
                detail = f"<article_detail><count>{count}</count>{items}</article_detail>" if code == 0 else ""
                return (f"<xml>{head}<Event><![CDATA[PUBLISHJOBFINISH]]></Event><PublishEventInfo>"
                        f"<publish_id>{job_id}</publish_id><publish_status>{code}</publish_status>"
                        f"<article_id><![CDATA[{pub['article_id']}]]></article_id>{detail}"
                        "</PublishEventInfo></xml>")
        raise KeyError(f"no mass send or publish {job_id!r} of {account_id!r}")

    def h_freepublish_submit(self, account, query, body, files):
        media_id = body.get("media_id")
        if media_id not in self.drafts or self.drafts[media_id]["appid"] != account["appid"]:
            raise WeChatError(40007)
        publish_id, msg_data_id = str(self._next_id()), self._next_id()
        self.publishes[publish_id] = {"appid": account["appid"], "media_id": media_id,
                                      "msg_data_id": msg_data_id, "article_id": secrets.token_urlsafe(24),
                                      "at": self.clock.time()}
        return {"errcode": 0, "errmsg": "ok", "publish_id": publish_id, "msg_data_id": msg_data_id}

    def h_freepublish_get(self, account, query, body, files):
        pub = self.publishes.get(str(body.get("publish_id")))
        if pub is None or pub["appid"] != account["appid"]:
            raise WeChatError(47001)
        items = [{"idx": i + 1, "article_url": f"https://mp.weixin.qq.com/s/{pub['article_id']}_{i + 1}"}
                 for i in range(len(self.drafts[pub["media_id"]]["articles"]))]
        return {"publish_id": str(body["publish_id"]), "publish_status": 0, "article_id": pub["article_id"],
                "article_detail": {"count": len(items), "item": items}, "fail_idx": []}

    def h_sendall(self, account, query, body, files):
        filt = body.get("filter")
        if not isinstance(filt, dict) or not isinstance(filt.get("is_to_all"), bool):
            raise WeChatError(47001)
        if not filt["is_to_all"] and filt.get("tag_id") in (None, ""):
            raise WeChatError(47001)
        msgtype, obj = self._message_object(account["appid"], body, MASS_MSGTYPES)
        if msgtype == "mpnews" and obj["media_id"] not in self.drafts:
            raise WeChatError(40007)
        period, limit = MASS_QUOTA[account["type"]]
        now = self.clock.time()
        clientmsgid = body.get("clientmsgid")
        if clientmsgid is not None:
            if not isinstance(clientmsgid, str) or len(clientmsgid) > 64:
                raise WeChatError(45067)
            earlier = self.clientmsgids.get((account["appid"], clientmsgid))
            if earlier and now - earlier["at"] < CLIENTMSGID_TTL:
                raise WeChatError(45065, msg_id=earlier["msg_id"])

        def key(ts: float):
            local = datetime.fromtimestamp(ts, CHINA_TZ)
            return local.date() if period == "day" else (local.year, local.month)

        sent = self.mass_sends.setdefault(account["appid"], [])
        if sum(1 for ts in sent if key(ts) == key(now)) >= limit:
            raise WeChatError(45028)
        sent.append(now)
        reply = {"errcode": 0, "errmsg": "send job submission success", "msg_id": self._next_id()}
        if clientmsgid is not None:
            self.clientmsgids[(account["appid"], clientmsgid)] = {"msg_id": reply["msg_id"], "at": now}
        if msgtype == "mpnews":
            reply["msg_data_id"] = self._next_id()
            self.publishes[f"mass:{reply['msg_id']}"] = {"appid": account["appid"], "media_id": obj["media_id"],
                                                    "msg_data_id": reply["msg_data_id"],
                                                    "article_id": secrets.token_urlsafe(24), "at": now}
        return reply

    def h_menu_create(self, account, query, body, files):
        buttons = body.get("button")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            raise WeChatError(40016)
        for button in buttons:
            if not isinstance(button, dict) or not button.get("name"):
                raise WeChatError(47001)
            subs = button.get("sub_button") or []
            if not isinstance(subs, list) or len(subs) > 5:
                raise WeChatError(40023)
            if not subs and not button.get("type"):
                raise WeChatError(47001)
        self.menus[account["appid"]] = copy.deepcopy({"button": buttons})
        return {"errcode": 0, "errmsg": "ok"}

    def h_menu_get(self, account, query, body, files):
        if account["appid"] not in self.menus:
            raise WeChatError(46003)
        return {"menu": copy.deepcopy(self.menus[account["appid"]])}

    def h_menu_delete(self, account, query, body, files):
        self.menus.pop(account["appid"], None)
        return {"errcode": 0, "errmsg": "ok"}

    def h_media_upload(self, account, query, body, files):
        mtype = query.get("type")
        if mtype not in MEDIA_LIMITS:
            raise WeChatError(40004)
        if "media" not in files:
            raise WeChatError(41005)
        limit, errcode = MEDIA_LIMITS[mtype]
        if files["media"]["size"] > limit:
            raise WeChatError(errcode)
        permanent = "add_material" in body.get("_path", "")
        media_id = secrets.token_urlsafe(32)
        now = self.clock.time()
        self.media[media_id] = {"appid": account["appid"], "type": mtype, "created_at": now,
                                "permanent": permanent, **files["media"]}
        if permanent:
            reply = {"media_id": media_id}
            if mtype in ("image", "thumb"):
                reply["url"] = f"http://mmbiz.qpic.cn/mmbiz_jpg/{media_id}/0"
            return reply
        return {"type": mtype, "thumb_media_id" if mtype == "thumb" else "media_id": media_id,
                "created_at": int(now)}

    def h_uploadimg(self, account, query, body, files):
        if "media" not in files:
            raise WeChatError(41005)
        if files["media"]["size"] > 2**20:  # uploadimg accepts jpg/png below 1 MB
            raise WeChatError(40009)
        return {"url": f"http://mmbiz.qpic.cn/mmbiz_png/{secrets.token_urlsafe(24)}/0"}

    def h_datacube(self, account, query, body, files):
        max_days, builder = DATACUBE[body["_path"]]
        raw = (body.get("begin_date"), body.get("end_date"))
        if not all(isinstance(d, str) and DATE_RE.match(d) for d in raw):
            raise WeChatError(61500)
        try:
            begin, end = (date.fromisoformat(d) for d in raw)
        except ValueError as exc:
            raise WeChatError(61500) from exc
        today = datetime.fromtimestamp(self.clock.time(), CHINA_TZ).date()
        if begin > end or (end - begin).days + 1 > max_days or end >= today:  # end_date at most yesterday
            raise WeChatError(61501)
        rows: list[dict] = []
        for n in range((end - begin).days + 1):
            rows.extend(getattr(self, builder)(account["appid"], begin + timedelta(days=n), today))
        return {"list": rows}

    @staticmethod
    def _num(appid: str, key: str, low: int, high: int) -> int:
        digest = hashlib.sha256(f"{appid}|{key}".encode()).hexdigest()
        return low + int(digest[:8], 16) % (high - low + 1)

    def _row_user_summary(self, appid, day, today):
        return [{"ref_date": day.isoformat(), "user_source": 0,
                 "new_user": self._num(appid, f"new{day}", 3, 40), "cancel_user": self._num(appid, f"cancel{day}", 0, 6)}]

    def _row_user_cumulate(self, appid, day, today):
        base = self._num(appid, "base", 800, 5000)
        return [{"ref_date": day.isoformat(), "cumulate_user": base + (day - date(2024, 1, 1)).days * 7}]

    def _articles_of(self, appid: str, day: date) -> list[tuple[str, str]]:
        """(msgid, title) of articles published that day, or one demo article."""
        found = []
        for pub in self.publishes.values():
            if pub["appid"] == appid and datetime.fromtimestamp(pub["at"], CHINA_TZ).date() == day:
                for idx, art in enumerate(self.drafts[pub["media_id"]]["articles"], start=1):
                    found.append((f"{pub['msg_data_id']}_{idx}", art["title"]))
        return found or [(f"{self._num(appid, f'msg{day}', 2247483648, 2247583648)}_1", "社区周报（演示数据）")]

    def _article_stats(self, appid: str, msgid: str, day: date) -> dict:
        read = self._num(appid, f"read{msgid}{day}", 50, 900)
        return {"int_page_read_user": read, "int_page_read_count": read + self._num(appid, f"rc{msgid}{day}", 0, 120),
                "ori_page_read_user": 0, "ori_page_read_count": 0,
                "share_user": read // 10, "share_count": read // 8,
                "add_to_fav_user": read // 25, "add_to_fav_count": read // 25}

    def _rows_article_summary(self, appid, day, today):
        return [{"ref_date": day.isoformat(), "msgid": msgid, "title": title, **self._article_stats(appid, msgid, day)}
                for msgid, title in self._articles_of(appid, day)]

    def _rows_article_total(self, appid, day, today):
        """Per article of the day's send, one detail per day up to seven days: cumulative, as WeChat's are."""
        rows = []
        for msgid, title in self._articles_of(appid, day):
            stat_days = [day + timedelta(days=n) for n in range(7) if day + timedelta(days=n) < today]
            details, total = [], {}
            for n, d in enumerate(stat_days):
                daily = self._article_stats(appid, msgid, d)
                total = {k: total.get(k, 0) + (v if n == 0 else v // (n + 1)) for k, v in daily.items()}
                details.append({"stat_date": d.isoformat(), "target_user": self._num(appid, "target", 800, 5000),
                                **total})
            rows.append({"ref_date": day.isoformat(), "msgid": msgid, "title": title, "details": details})
        return rows

    def _rows_user_read(self, appid, day, today):
        """getuserread: the day's reads over all the account's articles, per source and in total (99999999)."""
        read = self._num(appid, f"uread{day}", 80, 1500)
        sources = {0: read // 2, 2: read // 4, 4: read - read // 2 - read // 4}
        rows = [{"ref_date": day.isoformat(), "user_source": src, "int_page_read_user": n * 4 // 5,
                 "int_page_read_count": n, "ori_page_read_user": 0, "ori_page_read_count": 0,
                 "share_user": n // 12, "share_count": n // 10, "add_to_fav_user": n // 30,
                 "add_to_fav_count": n // 30} for src, n in sources.items()]
        total = {k: sum(r[k] for r in rows) for k in rows[0] if k not in ("ref_date", "user_source")}
        return rows + [{"ref_date": day.isoformat(), "user_source": 99999999, **total}]

    def h_sns_access_token(self, account, query, body, files):
        acc = self._check_secret(query.get("appid"), query.get("secret"))
        if query.get("grant_type") != "authorization_code":
            raise WeChatError(40002)
        code = self.oauth_codes.get(query.get("code") or "")
        if code is None or code["appid"] != acc["appid"] or self.clock.time() > code["expires_at"]:
            raise WeChatError(40029)
        if code["used"]:
            raise WeChatError(40163)
        code["used"] = True
        return {"access_token": secrets.token_urlsafe(64), "expires_in": TOKEN_TTL,
                "refresh_token": secrets.token_urlsafe(64), "openid": code["openid"], "scope": code["scope"]}

    def h_authorize(self, account, query, body, files):
        redirect_uri = query.get("redirect_uri")
        if query.get("appid") not in self.accounts or not redirect_uri:
            return Response("<h1>参数错误</h1><p>appid 或 redirect_uri 无效，请检查链接。</p>",
                            status=400, content_type="text/html; charset=utf-8")
        openid = query.get("openid") or ""
        if not openid and (query.get("new_resident") or "").strip():
            openid = new_resident_openid(query["new_resident"])
        if not openid and getattr(self._request, "wants_html", False):
            # WeChat signs the user in silently; in a browser, the emulator asks which resident this is
            return self._choose_resident(query)
        openid = openid or DEFAULT_OPENID  # a script (no text/html in Accept): WeChat's sample user
        if not OPENID_RE.match(openid):
            return Response("<h1>参数错误</h1><p>openid 无效。</p>", status=400,
                            content_type="text/html; charset=utf-8")
        code = secrets.token_hex(16)
        self.oauth_codes[code] = {"appid": query["appid"], "openid": openid,
                                  "scope": query.get("scope", "snsapi_base"),
                                  "expires_at": self.clock.time() + OAUTH_CODE_TTL, "used": False}
        parts = urllib.parse.urlsplit(redirect_uri)
        params = urllib.parse.parse_qsl(parts.query) + [("code", code), ("state", query.get("state", ""))]
        location = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(params)))
        return Response(status=302, headers={"Location": location})

    def _choose_resident(self, query: dict) -> Response:
        """The emulator's sign-in page: pick a demo resident by name, or name a new one."""
        from html import escape

        account = self.accounts[query["appid"]]
        keep = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
                       for k, v in query.items() if k not in ("openid", "new_resident"))
        choices = "".join(
            f'<li><button name="openid" value="{escape(r["openid"])}">{escape(r["name"])}</button>'
            f'<small>{escape(r.get("note", ""))} · {escape(r["openid"])}</small></li>' for r in self.residents)
        page = f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>选择居民 · 微信授权（模拟）</title>
<style>body{{font:18px/1.6 sans-serif;max-width:34em;margin:1em auto;padding:0 1em}}
li{{list-style:none;margin:.5em 0}}button{{font-size:1em;padding:.4em 1em;margin-right:.6em;min-width:8em}}
small{{color:#555;display:block}}input[type=text]{{font-size:1em;padding:.3em}}</style></head><body>
<h1>以哪位居民的身份进入？</h1>
<p>这是笔记本环境的微信模拟器：真实微信会静默授权（snsapi_base），这里请选择居民。
公众号：{escape(account.get("name", account["id"]))}</p>
<form method="get" action="/connect/oauth2/authorize">{keep}<ul>{choices}</ul></form>
<form method="get" action="/connect/oauth2/authorize">{keep}
<p><label>新居民的称呼 <input type="text" name="new_resident" required maxlength="20"></label>
<button>以新居民进入</button></p></form></body></html>"""
        return Response(page, status=200, content_type="text/html; charset=utf-8")

    # ----- HTTP plumbing -----

    def wsgi(self, environ, start_response):
        request = Request(environ)
        if request.path.startswith("/__emulator/"):
            response = self._control(request)
        else:
            response = self._api(request)
        return response(environ, start_response)

    @staticmethod
    def _json(payload: Any, status: int = 200) -> Response:
        return Response(json.dumps(payload, ensure_ascii=False), status=status,
                        content_type="application/json; charset=utf-8")

    def _api(self, request: Request) -> Response:
        path, query = request.path, request.args.to_dict()
        self._request.wants_html = "text/html" in request.headers.get("Accept", "")
        route = ROUTES.get(path)
        body: Any = None
        files: dict[str, dict] = {}
        body_error: int | None = None
        if route and route.body == "multipart":
            for name, storage in request.files.items():
                files[name] = {"filename": storage.filename, "size": len(storage.read())}
            body = {**request.form.to_dict(), **files}
        elif request.method == "POST":
            raw = request.get_data()
            if not raw.strip():
                body_error = 44002
            else:
                try:
                    body = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError):
                    body, body_error = {"raw": raw[:2000].decode("utf-8", "replace")}, 47001
                if body_error is None and not isinstance(body, dict):
                    body_error = 47001
        with self.faults.lock:
            self.faults.in_flight += 1
        try:
            return self._answer(request, path, query, route, body, body_error, files)
        finally:
            with self.faults.lock:
                self.faults.in_flight -= 1

    def _answer(self, request, path, query, route, body, body_error, files) -> Response:
        status, result = 200, None
        token = self.tokens.get(query.get("access_token", ""))
        account_type = self.accounts.get(token.appid, {}).get("type") if token else None
        fault = self.faults.draw(path, bool(route and route.auth), account_type) if route else None
        if fault == "kill":
            victim = caller_pid(request.environ, self.faults.config.get("kill_pids") or []) or \
                int(self.faults.config["kill_pid"])
            self.faults.killed.append(victim)
            os.kill(victim, signal.SIGKILL)
            return Response("worker killed", status=502)
        if fault == "5xx":
            return Response("<html>502 Bad Gateway</html>", status=502, content_type="text/html")
        if fault == "timeout":
            time.sleep(float(self.faults.config.get("timeout_s", 16)))
            return Response("", status=504)
        if fault == "slow":
            time.sleep(float(self.faults.config.get("slow_s", 2)))
        try:
            if fault and fault.isdigit():
                raise WeChatError(int(fault))
            if route is None:
                status, result = 404, {"errcode": 40066, "errmsg": ERRORS[40066]}
            else:
                with self._lock:
                    result = self._dispatch(route, path, request.method, query, body, body_error, files)
        except WeChatError as err:
            result = {"errcode": err.errcode, "errmsg": err.errmsg, **err.extra}
        if isinstance(result, Response):
            logged = {"status": result.status_code, "location": result.headers.get("Location")}
            response = result
        else:
            logged, response = result, self._json(result, status)
        self._log_call(request.method, path, query, body, logged)
        return response

    def _dispatch(self, route, path, method, query, body, body_error, files):
        if method != route.method:
            raise WeChatError(43002 if route.method == "POST" else 43001)
        account = self._authenticate(query) if route.auth else None
        if route.body == "json" and body_error:
            raise WeChatError(body_error)
        body = dict(body or {}, _path=path) if route.body != "none" else {}
        return getattr(self, route.handler)(account, query, body, files)

    def _log_call(self, method, path, query, body, response) -> None:
        entry = {"time": iso_utc(self.clock.time()), "method": method, "path": path,
                 "query": redact(query), "body": redact(body), "response": response}
        with self._log_lock:
            self.calls.append(entry)
            if self.log_path:
                self.log_path.parent.mkdir(parents=True, exist_ok=True)
                with self.log_path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(entry, ensure_ascii=False) + "\n")

    # ----- emulator-only endpoints -----

    def _control(self, request: Request) -> Response:
        name = request.path[len("/__emulator/"):].strip("/")
        payload = request.get_json(force=True, silent=True) if request.method == "POST" else None
        if request.method == "POST" and not isinstance(payload, dict):
            return self._json({"error": "bad_request", "message": "expected a JSON object body"}, 400)
        try:
            if (request.method, name) == ("GET", "health"):
                return self._json({"ok": True, "now": iso_utc(self.clock.time()), "accounts": sorted(self.accounts_by_id)})
            if (request.method, name) == ("GET", "calls"):
                limit = int(request.args.get("limit", 100))
                with self._log_lock:
                    calls = [c for c in self.calls if c["path"] == request.args.get("path", c["path"])]
                return self._json({"calls": calls[-limit:] if limit > 0 else []})
            if name == "clock" and request.method in ("GET", "POST"):
                if payload and "now" in payload:
                    self.clock.set(datetime.fromisoformat(str(payload["now"]).replace("Z", "+00:00")))
                elif payload and "advance_seconds" in payload:
                    self.clock.advance(float(payload["advance_seconds"]))
                elif payload and payload.get("reset"):
                    self.clock.reset()
                return self._json({"now": iso_utc(self.clock.time())})
            if name == "faults" and request.method in ("GET", "POST"):
                if request.method == "POST":
                    self.faults.set(payload)
                return self._json({"config": self.faults.config, "injected": self.faults.injected,
                                   "killed": self.faults.killed, "in_flight": self.faults.in_flight})
            if (request.method, name) == ("POST", "reset"):
                self.reset()
                self.clock.reset()
                return self._json({"ok": True})
            if (request.method, name) == ("POST", "interactions"):
                acc = self.account(payload.get("appid"), payload.get("account_id"))
                openid = payload.get("openid") or DEFAULT_OPENID
                until = self.record_interaction(acc["appid"], openid)
                return self._json({"ok": True, "appid": acc["appid"], "openid": openid,
                                   "window_expires_at": iso_utc(until)})
            if (request.method, name) == ("POST", "user-message"):
                status, result = self.send_user_message(payload)
                return self._json(result, status)
            if (request.method, name) == ("POST", "job-finish"):
                status, result = self.push_job_report(payload)
                return self._json(result, status)
        except KeyError as exc:
            return self._json({"error": "unknown_account", "message": str(exc)}, 404)
        except (TypeError, ValueError) as exc:
            return self._json({"error": "bad_request", "message": str(exc)}, 400)
        return self._json({"error": "not_found", "message": f"no emulator endpoint {request.method} /__emulator/{name}"}, 404)

    def send_user_message(self, payload: dict, timeout: float = 5.0) -> tuple[int, dict]:
        """Play WeChat: push a signed (and, per account, encrypted) user message to the platform."""
        acc = self.account(payload.get("appid"), payload.get("account_id"))
        demo = acc.get("demo_secrets", {})
        mode = acc.get("encryption_mode", "plain")
        if not demo.get("token") or (mode != "plain" and len(demo.get("encoding_aes_key") or "") != 43):
            raise ValueError(f"account {acc['id']!r} lacks demo_secrets.token / a 43-char encoding_aes_key")
        openid = payload.get("openid") or DEFAULT_OPENID
        self.record_interaction(acc["appid"], openid)
        now = int(self.clock.time())
        fields: dict[str, Any] = {"ToUserName": acc.get("original_id", ""), "FromUserName": openid, "CreateTime": now}
        if payload.get("event"):
            fields.update(MsgType="event", Event=payload["event"])
            if payload.get("event_key") is not None:
                fields["EventKey"] = payload["event_key"]
        else:
            with self._lock:
                msg_id = self._next_id()
            fields.update(MsgType="text", Content=str(payload.get("content", "")), MsgId=msg_id)
        return self._push(acc, to_xml(fields), openid, timeout)

    def push_job_report(self, payload: dict, timeout: float = 5.0) -> tuple[int, dict]:
        """Play WeChat: push MASSSENDJOBFINISH / PUBLISHJOBFINISH for a job to the platform."""
        acc = self.account(payload.get("appid"), payload.get("account_id"))
        plain = self.job_report_xml(acc["id"], str(payload["job_id"]), str(payload.get("status", "send success")))
        return self._push(acc, plain, MASS_HELPER_OPENID, timeout)

    def _push(self, acc: dict, plain: str, openid: str, timeout: float) -> tuple[int, dict]:
        """Sign (and, per account, encrypt) a message and POST it to the platform's callback URL."""
        from wechatpy.crypto import WeChatCrypto  # imported lazily: only this feature needs it
        from wechatpy.exceptions import WeChatException

        demo = acc.get("demo_secrets", {})
        mode = acc.get("encryption_mode", "plain")
        if not demo.get("token") or (mode != "plain" and len(demo.get("encoding_aes_key") or "") != 43):
            raise ValueError(f"account {acc['id']!r} lacks demo_secrets.token / a 43-char encoding_aes_key")
        now = int(self.clock.time())
        fields = {"ToUserName": acc.get("original_id", "")}
        timestamp, nonce = str(now), str(secrets.randbelow(10**9))
        query = {"signature": sign(demo["token"], timestamp, nonce), "timestamp": timestamp,
                 "nonce": nonce, "openid": openid}
        crypto = None
        body = plain
        if mode in ("safe", "compatible"):
            crypto = WeChatCrypto(demo["token"], demo["encoding_aes_key"], acc["appid"])
            encrypt = xmltodict.parse(crypto.encrypt_message(plain, nonce, timestamp))["xml"]["Encrypt"]
            query.update(encrypt_type="aes", msg_signature=sign(demo["token"], timestamp, nonce, encrypt))
            if mode == "safe":
                body = to_xml({"ToUserName": fields["ToUserName"], "Encrypt": encrypt})
            else:
                body = plain[:-len("</xml>")] + f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        url = f"{self.platform_url}/wechat/{acc['id']}?{urllib.parse.urlencode(query)}"
        req = urllib.request.Request(url, data=body.encode("utf-8"), method="POST",
                                     headers={"Content-Type": "text/xml; charset=utf-8"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(req, timeout=timeout) as resp:
                status, text = resp.status, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as err:
            status, text = err.code, err.read().decode("utf-8", "replace")
        except (urllib.error.URLError, OSError) as err:
            return 502, {"error": "platform_unreachable", "url": url.split("?")[0],
                         "message": f"could not reach the platform: {err}"}
        result: dict[str, Any] = {"status": status, "reply_xml": text, "reply": None, "sent_xml": plain}
        if text.strip() in ("", "success") or not text.lstrip().startswith("<"):
            return 200, result
        try:
            parsed = xmltodict.parse(text)["xml"]
            if crypto is not None and "Encrypt" in parsed:
                result["reply_xml"] = crypto.decrypt_message(text, parsed.get("MsgSignature"),
                                                             parsed.get("TimeStamp"), parsed.get("Nonce"))
                parsed = xmltodict.parse(result["reply_xml"])["xml"]
            result["reply"] = parsed
        except WeChatException as exc:  # bad MsgSignature or AppId in the encrypted reply
            result["error"] = f"cannot decrypt the reply: {exc!r}"
        except (ValueError, KeyError, TypeError, ExpatError) as exc:
            result["error"] = f"reply is not valid WeChat XML: {exc}"
        return 200, result


class _RedactingHandler(WSGIRequestHandler):
    """werkzeug's access log, minus app secrets in query strings."""

    def log(self, type: str, message: str, *args: Any) -> None:
        super().log(type, "%s", SECRET_QUERY_RE.sub(r"\1***", message % args))


def start_in_thread(port: int = 0, host: str = "127.0.0.1", *, accounts: list[dict] | None = None,
                    seed_file: str | os.PathLike | None = None, log_path: str | os.PathLike | None = None,
                    clock: Clock | None = None, platform_url: str | None = None,
                    residents: list[dict] | None = None) -> tuple[BaseWSGIServer, str]:
    """Serve the emulator from a daemon thread.  Returns (server, base_url);
    ``server.emulator`` is the Emulator, ``server.shutdown()`` stops it."""
    if accounts is None:
        accounts = load_accounts(seed_file or os.environ.get("SEED_FILE") or DEFAULT_SEED)
    emulator = Emulator(accounts, clock=clock, log_path=log_path, platform_url=platform_url, residents=residents)
    server = make_server(host, port, emulator.wsgi, threaded=True, request_handler=_RedactingHandler)
    server.block_on_close = False  # closing does not wait for clients' keep-alive connections to end
    server.emulator = emulator  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     name="wechat-emulator", daemon=True).start()
    return server, f"http://{host}:{server.server_port}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Laptop-only WeChat API emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("WECHAT_EMULATOR_PORT", DEFAULT_PORT)))
    parser.add_argument("--seed", default=os.environ.get("SEED_FILE") or str(DEFAULT_SEED))
    parser.add_argument("--log", default=os.environ.get("WECHAT_EMULATOR_LOG") or str(DEFAULT_LOG))
    parser.add_argument("--platform-url", default=os.environ.get("PLATFORM_URL") or DEFAULT_PLATFORM_URL,
                        help="where /__emulator/user-message pushes messages")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        accounts = load_accounts(args.seed)
        residents = load_residents(args.seed)
    except (OSError, ValueError) as exc:
        log.error("cannot load seed file %s: %s", args.seed, exc)
        return 2
    clock_file = os.environ.get("LOCAL_CLOCK_FILE")  # the laptop stack's shared clock (make run)
    server, base_url = start_in_thread(args.port, args.host, accounts=accounts, log_path=args.log,
                                       platform_url=args.platform_url, residents=residents,
                                       clock=FileClock(clock_file) if clock_file else None)
    log.info("WeChat emulator for %d account(s) on %s, logging calls to %s", len(accounts), base_url, args.log)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    log.info("WeChat emulator stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
