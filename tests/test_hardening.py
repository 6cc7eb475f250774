"""Malformed input is a 4xx and caches are bounded: crafted cursors and page tokens, missing account
secrets, random ids, per-container cache limits."""
from __future__ import annotations

import base64
import json

import pytest
from chalice.test import Client

from app import app
from chalicelib.cache import ContainerCache

SAFE = "xianggang-huayuan"


@pytest.fixture
def http(seed):
    with Client(app, stage_name="test") as client:
        yield client.http


def call(http, method, path, token=None, body=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = getattr(http, method)(path, headers=headers, body=json.dumps(body) if body is not None else b"")
    return response.status_code, (json.loads(response.body) if response.body else None)


def login(http, username):
    return call(http, "post", "/api/v1/auth/login", body={"username": username, "password": "Demo#2026"})[1]["token"]


def crafted(key: dict) -> str:
    """A cursor as the platform made them before: plain base64 JSON of a DynamoDB key."""
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


# ---- cursors and page tokens -------------------------------------------------------------------------

def test_cursors_that_are_not_ours_are_a_400(http, seed):
    sw = login(http, "sw.xianggang-huayuan")
    for n in range(3):
        assert call(http, "post", "/api/v1/requests", sw, {"community_id": SAFE, "text": f"第{n}件事"})[0] == 201
    status, page = call(http, "get", "/api/v1/requests?limit=2", sw)
    assert status == 200 and page["cursor"]
    status, rest = call(http, "get", f"/api/v1/requests?limit=2&cursor={page['cursor']}", sw)
    assert status == 200 and len(rest["items"]) == 1  # our own cursor resumes

    payload, tag = page["cursor"].split(".")
    bad = {
        "old-style crafted key": crafted({"number": {"S": "x"}, "community_key": {"S": "other"}, "bogus": {"N": "1"}}),
        "crafted with a tag": crafted({"number": {"S": "x"}}) + "." + tag,
        "altered tag": payload + "." + ("A" * len(tag) if tag[0] != "A" else "B" * len(tag)),
        "huge": "A" * 5000,
        "not base64": "%%%.%%%",
    }
    for why, cursor in bad.items():
        status, body = call(http, "get", f"/api/v1/requests?limit=2&cursor={cursor}", sw)
        assert status == 400 and body["code"] == "bad_cursor", why
        status, body = call(http, "get", f"/api/v1/audit?community={SAFE}&cursor={cursor}", sw)
        assert status == 400 and body["code"] == "bad_cursor", why
    # A cursor of one list does not open another: the audit log refuses the request list's.
    assert call(http, "get", f"/api/v1/audit?community={SAFE}&cursor={page['cursor']}", sw)[0] == 400


def test_an_anonymous_crafted_open311_page_token_is_a_400(http, seed):
    token = crafted({"number": {"S": "XG-1"}, "community_key": {"S": SAFE}, "created_at": {"S": "x"}})
    response = http.get(f"/open311/v2/requests.json?jurisdiction_id={SAFE}&page_token={token}")
    assert response.status_code == 400 and "page_token" in response.body.decode()


# ---- accounts whose secrets are missing -----------------------------------------------------------

def test_an_account_without_secrets_answers_503_and_asks_ssm_once(http, seed):
    from chalicelib.secrets import parameter_path, secret_store

    ssm = secret_store()._ssm()
    for name in ("app_secret", "token", "encoding_aes_key"):
        ssm.delete_parameter(Name=parameter_path("badaguan", name))
    asked = []
    real = ssm.get_parameters
    ssm.get_parameters = lambda **kw: asked.append(kw) or real(**kw)
    for _ in range(5):
        assert http.get("/wechat/badaguan?signature=x&timestamp=1&nonce=1&echostr=1").status_code == 503
        answer = http.post("/wechat/badaguan?signature=x&timestamp=1&nonce=1", body=b"<xml/>",
                           headers={"Content-Type": "text/xml"})
        assert answer.status_code == 503 and b"Traceback" not in answer.body
    assert len(asked) == 1  # the miss is cached briefly


# ---- bounded caches -------------------------------------------------------------------------------

def test_the_container_cache_is_bounded_lru_with_expiry_and_brief_misses():
    now = [0.0]
    cache = ContainerCache(300, clock=lambda: now[0], max_entries=3, miss_seconds=5)
    loads = []

    def load(value):
        return lambda: loads.append(value) or value

    for key in "abc":
        cache.get(key, load(key.upper()))
    cache.get("a", load("never"))  # a hit: 'a' is now the most recently used
    cache.get("d", load("D"))  # evicts 'b', the least recently used
    assert len(cache) == 3 and loads == ["A", "B", "C", "D"]
    assert cache.get("b", load("B2")) == "B2"  # reloaded
    assert cache.get("a", load("never")) == "A"
    now[0] = 301.0
    assert cache.get("a", load("A2")) == "A2"  # expired
    assert cache.get("unknown", load(None)) is None
    now[0] = 304.0
    assert cache.get("unknown", load("late")) is None  # a miss is kept only a few seconds
    now[0] = 307.0
    assert cache.get("unknown", load("now known")) == "now known"


def test_random_ids_do_not_grow_the_caches(http, seed):
    import secrets as random_secrets

    from chalicelib.store import ports

    ports.ACCOUNT_CACHE.clear()
    for n in range(300):
        long_id = random_secrets.token_hex(2048)  # 4 KB: refused without a read, never cached
        assert http.get(f"/api/v1/canteens/{long_id}/menus?date=2026-12-01").status_code == 404
        assert http.post(f"/wechat/{long_id}", body=b"<xml/>", headers={"Content-Type": "text/xml"}).status_code == 404
        short_id = f"no-such-{n}"
        assert http.post(f"/wechat/{short_id}", body=b"<xml/>", headers={"Content-Type": "text/xml"}).status_code \
            == 404
    assert len(ports.ACCOUNT_CACHE) <= ports.ACCOUNT_CACHE._max
    assert all(len(str(key)) < 200 for key in ports.ACCOUNT_CACHE._entries)
