"""Tests of the laptop-only WeChat API emulator, over real HTTP on 127.0.0.1."""
from __future__ import annotations

import base64
import hashlib
import json
import threading
from datetime import datetime, timezone

import pytest
import requests
import xmltodict
from wechatpy.crypto import WeChatCrypto
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from local import wechat_emulator as we


def _aes_key(seed: str) -> str:
    return base64.b64encode(hashlib.sha256(seed.encode()).digest()).decode()[:43]


ACCOUNTS = [
    {"id": "xianggang-huayuan", "name": "香港花园社区", "type": "subscription", "appid": "wxsub0000000000001",
     "original_id": "gh_sub000000001", "encryption_mode": "plain",
     "demo_secrets": {"app_secret": "sub-secret-0001", "token": "subtoken", "encoding_aes_key": _aes_key("a")}},
    {"id": "wei-shinan", "name": "微市南", "type": "service", "appid": "wxsvc0000000000002",
     "original_id": "gh_svc000000002", "encryption_mode": "safe",
     "demo_secrets": {"app_secret": "svc-secret-0002", "token": "svctoken", "encoding_aes_key": _aes_key("b")}},
    {"id": "badaguan", "name": "八大关社区", "type": "subscription", "appid": "wxcmp0000000000003",
     "original_id": "gh_cmp000000003", "encryption_mode": "compatible",
     "demo_secrets": {"app_secret": "cmp-secret-0003", "token": "cmptoken", "encoding_aes_key": _aes_key("c")}},
]
SUB, SVC, CMP = ACCOUNTS
OPENID = "oUser0000000000000000000001"
BEIJING_10AM = datetime(2025, 3, 10, 2, 0, tzinfo=timezone.utc)  # 2025-03-10 10:00 Asia/Shanghai


class Api:
    """A thin client of the emulator."""

    def __init__(self, base_url: str, server):
        self.base, self.server, self.emulator = base_url, server, server.emulator
        self.http = requests.Session()
        self.http.trust_env = False

    def get(self, _path, **params):
        return self.http.get(self.base + _path, params=params, allow_redirects=False)

    def post(self, path, body=None, **params):
        return self.http.post(self.base + path, params=params, json=body)

    def token(self, account):
        reply = self.get("/cgi-bin/token", grant_type="client_credential", appid=account["appid"],
                         secret=account["demo_secrets"]["app_secret"]).json()
        return reply["access_token"]

    def call(self, path, token, body=None):
        return self.post(path, body, access_token=token).json()

    def menu(self, token):
        return self.get("/cgi-bin/menu/get", access_token=token).json()


@pytest.fixture
def api(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"accounts": ACCOUNTS}, ensure_ascii=False), encoding="utf-8")
    server, base_url = we.start_in_thread(port=0, seed_file=seed, log_path=tmp_path / "logs" / "wechat-api.jsonl",
                                          platform_url="http://127.0.0.1:9")
    server.emulator.clock.set(BEIJING_10AM)
    yield Api(base_url, server)
    server.shutdown()
    server.server_close()


def text_msg(touser=OPENID, content="您好"):
    return {"touser": touser, "msgtype": "text", "text": {"content": content}}


def test_token_new_each_call_old_one_has_five_minutes(api):
    first, second = api.token(SUB), api.token(SUB)
    assert first != second
    assert api.menu(first)["errcode"] == 46003  # still valid: no menu yet
    api.emulator.clock.advance(301)
    assert api.menu(first)["errcode"] == 40001
    assert api.menu(second)["errcode"] == 46003
    reply = api.get("/cgi-bin/token", grant_type="client_credential", appid=SUB["appid"], secret="wrong").json()
    assert reply["errcode"] == 40125
    reply = api.get("/cgi-bin/token", grant_type="client_credential", appid="wxnope", secret="x").json()
    assert reply["errcode"] == 40013


def test_stable_token_same_until_forced(api):
    body = {"grant_type": "client_credential", "appid": SVC["appid"], "secret": SVC["demo_secrets"]["app_secret"]}
    first = api.post("/cgi-bin/stable_token", body).json()
    assert first["expires_in"] == 7200
    api.emulator.clock.advance(100)
    again = api.post("/cgi-bin/stable_token", body).json()
    assert again["access_token"] == first["access_token"] and again["expires_in"] == 7100
    forced = api.post("/cgi-bin/stable_token", {**body, "force_refresh": True}).json()
    assert forced["access_token"] != first["access_token"]
    assert api.menu(first["access_token"])["errcode"] == 40001
    assert api.post("/cgi-bin/stable_token", {**body, "secret": "bad"}).json()["errcode"] == 40125
    assert api.get("/cgi-bin/stable_token").json()["errcode"] == 43002


def test_access_token_missing_unknown_expired(api):
    assert api.post("/cgi-bin/message/custom/send", text_msg()).json()["errcode"] == 41001
    assert api.call("/cgi-bin/message/custom/send", "not-a-token", text_msg())["errcode"] == 40001
    token = api.token(SUB)
    api.emulator.clock.advance(7201)
    assert api.call("/cgi-bin/message/custom/send", token, text_msg())["errcode"] == 42001


def test_custom_send_window_and_validation(api):
    token = api.token(SUB)
    send = "/cgi-bin/message/custom/send"
    assert api.call(send, token, text_msg())["errcode"] == 45015
    opened = api.post("/__emulator/interactions", {"account_id": SUB["id"], "openid": OPENID}).json()
    assert opened["appid"] == SUB["appid"]
    assert api.call(send, token, text_msg()) == {"errcode": 0, "errmsg": "ok"}
    assert api.call(send, token, text_msg(touser="x"))["errcode"] == 40003
    assert api.call(send, token, {"touser": OPENID, "msgtype": "fax"})["errcode"] == 40008
    assert api.call(send, token, text_msg(content=""))["errcode"] == 44004
    assert api.call(send, token, {"touser": OPENID, "msgtype": "image", "image": {"media_id": "nope"}})["errcode"] == 40007
    assert api.http.post(api.base + send, params={"access_token": token}, data="{bad").json()["errcode"] == 47001
    assert api.http.post(api.base + send, params={"access_token": token}, data="").json()["errcode"] == 44002
    api.emulator.clock.advance(48 * 3600 + 1)
    token = api.token(SUB)
    assert api.call(send, token, text_msg())["errcode"] == 45015


def mass_text():
    return {"filter": {"is_to_all": True}, "msgtype": "text", "text": {"content": "社区通知：明天停水"}}


def test_subscription_mass_send_once_a_day(api):
    token = api.token(SUB)
    reply = api.call("/cgi-bin/message/mass/sendall", token, mass_text())
    assert reply["errcode"] == 0 and reply["errmsg"] == "send job submission success" and reply["msg_id"]
    assert api.call("/cgi-bin/message/mass/sendall", token, mass_text())["errcode"] == 45028
    api.emulator.clock.advance(14 * 3600 + 1)  # 00:00:01 next day in Asia/Shanghai
    token = api.token(SUB)
    assert api.call("/cgi-bin/message/mass/sendall", token, mass_text())["errcode"] == 0
    assert api.call("/cgi-bin/message/mass/sendall", token, {"msgtype": "text"})["errcode"] == 47001


def test_service_mass_send_four_a_month(api):
    api.emulator.clock.set(datetime(2025, 3, 28, 2, 0, tzinfo=timezone.utc))
    token = api.token(SVC)
    for _ in range(4):
        assert api.call("/cgi-bin/message/mass/sendall", token, mass_text())["errcode"] == 0
    assert api.call("/cgi-bin/message/mass/sendall", token, mass_text())["errcode"] == 45028
    api.emulator.clock.set(datetime(2025, 3, 31, 16, 0, 1, tzinfo=timezone.utc))  # April 1st in Beijing
    token = api.token(SVC)
    assert api.call("/cgi-bin/message/mass/sendall", token, mass_text())["errcode"] == 0


def test_template_message_needs_service_account(api):
    body = {"touser": OPENID, "template_id": "tmpl-1", "data": {"thing1": {"value": "停水通知"}}}
    assert api.call("/cgi-bin/message/template/send", api.token(SUB), body)["errcode"] == 48001
    reply = api.call("/cgi-bin/message/template/send", api.token(SVC), body)
    assert reply["errcode"] == 0 and isinstance(reply["msgid"], int)
    assert api.call("/cgi-bin/message/template/send", api.token(SVC), {**body, "template_id": ""})["errcode"] == 40037
    assert api.call("/cgi-bin/message/subscribe/bizsend", api.token(SUB), body) == {"errcode": 0, "errmsg": "ok"}


def test_media_draft_freepublish_and_mpnews_mass_send(api):
    token = api.token(SVC)
    upload = api.http.post(api.base + "/cgi-bin/media/upload", params={"access_token": token, "type": "thumb"},
                           files={"media": ("cover.jpg", b"\xff\xd8" + b"0" * 100, "image/jpeg")}).json()
    assert upload["type"] == "thumb" and upload["thumb_media_id"]
    bad = api.http.post(api.base + "/cgi-bin/media/upload", params={"access_token": token, "type": "pdf"},
                        files={"media": ("a.pdf", b"%PDF")}).json()
    assert bad["errcode"] == 40004
    img = api.http.post(api.base + "/cgi-bin/media/uploadimg", params={"access_token": token},
                        files={"media": ("a.png", b"\x89PNG")}).json()
    assert img["url"].startswith("http://mmbiz.qpic.cn/")
    article = {"title": "社区周报", "content": "<p>本周活动</p>", "thumb_media_id": upload["thumb_media_id"]}
    draft = api.call("/cgi-bin/draft/add", token, {"articles": [article]})
    assert set(draft) == {"media_id"}
    assert api.call("/cgi-bin/draft/add", token, {"articles": [{**article, "thumb_media_id": "x"}]})["errcode"] == 40007
    published = api.call("/cgi-bin/freepublish/submit", token, {"media_id": draft["media_id"]})
    assert published["errcode"] == 0 and published["publish_id"] and published["msg_data_id"]
    status = api.call("/cgi-bin/freepublish/get", token, {"publish_id": published["publish_id"]})
    assert status["publish_status"] == 0 and status["article_detail"]["count"] == 1
    assert api.call("/cgi-bin/freepublish/submit", token, {"media_id": "missing"})["errcode"] == 40007
    mass = {"filter": {"is_to_all": True}, "msgtype": "mpnews", "mpnews": {"media_id": draft["media_id"]},
            "send_ignore_reprint": 0}
    reply = api.call("/cgi-bin/message/mass/sendall", token, mass)
    assert reply["errcode"] == 0 and reply["msg_data_id"]


def test_menu_create_and_get(api):
    token = api.token(SUB)
    assert api.menu(token)["errcode"] == 46003
    menu = {"button": [{"type": "click", "name": "社区通知", "key": "NOTICE"},
                       {"name": "办事", "sub_button": [{"type": "view", "name": "预约", "url": "https://example.org"}]}]}
    assert api.call("/cgi-bin/menu/create", token, menu) == {"errcode": 0, "errmsg": "ok"}
    assert api.call("/cgi-bin/menu/get", token)["errcode"] == 43001  # menu/get is a GET
    too_many = {"button": [{"type": "click", "name": str(i), "key": str(i)} for i in range(4)]}
    assert api.call("/cgi-bin/menu/create", token, too_many)["errcode"] == 40016
    assert api.menu(token) == {"menu": menu}


def test_datacube_ranges(api):
    token = api.token(SVC)
    week = {"begin_date": "2025-03-03", "end_date": "2025-03-09"}
    summary = api.call("/datacube/getusersummary", token, week)
    assert [row["ref_date"] for row in summary["list"]] == [f"2025-03-0{d}" for d in range(3, 10)]
    assert summary == api.call("/datacube/getusersummary", token, week)  # deterministic
    assert len(api.call("/datacube/getusercumulate", token, week)["list"]) == 7
    assert api.call("/datacube/getusercumulate", token, {**week, "begin_date": "2025-03-02"})["errcode"] == 61501
    assert api.call("/datacube/getusersummary", token, {**week, "end_date": "2025-03-10"})["errcode"] == 61501
    assert api.call("/datacube/getarticlesummary", token, {"begin_date": "2025-03-08",
                                                           "end_date": "2025-03-09"})["errcode"] == 61501
    day = {"begin_date": "2025-03-08", "end_date": "2025-03-08"}
    article = api.call("/datacube/getarticlesummary", token, day)["list"][0]
    assert article["ref_date"] == "2025-03-08" and article["int_page_read_user"] > 0
    total = api.call("/datacube/getarticletotal", token, day)["list"][0]
    assert [d["stat_date"] for d in total["details"]] == ["2025-03-08", "2025-03-09"]
    assert api.call("/datacube/getarticletotal", token, {"begin_date": "3/8", "end_date": "3/8"})["errcode"] == 61500


def test_oauth_code_flow(api):
    reply = api.get("/connect/oauth2/authorize", appid=SVC["appid"], redirect_uri="http://127.0.0.1:8000/h5?x=1",
                    response_type="code", scope="snsapi_base", state="s1", openid=OPENID)
    assert reply.status_code == 302
    location = reply.headers["Location"]
    assert location.startswith("http://127.0.0.1:8000/h5?x=1&code=") and location.endswith("&state=s1")
    code = location.split("code=")[1].split("&")[0]
    params = {"appid": SVC["appid"], "secret": SVC["demo_secrets"]["app_secret"], "code": code,
              "grant_type": "authorization_code"}
    first = api.get("/sns/oauth2/access_token", **params).json()
    assert first["openid"] == OPENID and first["scope"] == "snsapi_base"
    assert api.get("/sns/oauth2/access_token", **params).json()["errcode"] == 40163
    assert api.get("/sns/oauth2/access_token", **{**params, "code": "zzz"}).json()["errcode"] == 40029
    assert api.get("/connect/oauth2/authorize", appid="wxnope", redirect_uri="http://x").status_code == 400


def test_call_log_lines(api, tmp_path):
    token = api.token(SUB)
    api.post("/cgi-bin/stable_token", {"grant_type": "client_credential", "appid": SUB["appid"],
                                       "secret": SUB["demo_secrets"]["app_secret"]})
    api.call("/cgi-bin/message/custom/send", token, text_msg())
    api.post("/__emulator/clock", {"advance_seconds": 5})
    text = (tmp_path / "logs" / "wechat-api.jsonl").read_text(encoding="utf-8")
    assert SUB["demo_secrets"]["app_secret"] not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert [line["path"] for line in lines] == ["/cgi-bin/token", "/cgi-bin/stable_token",
                                               "/cgi-bin/message/custom/send"]
    for line in lines:
        assert set(line) == {"time", "method", "path", "query", "body", "response"}
        assert line["time"].startswith("2025-03-10T02:00") and line["time"].endswith("Z")
    assert lines[0]["query"]["secret"] == "***" and lines[1]["body"]["secret"] == "***"
    assert lines[2]["response"]["errcode"] == 45015 and lines[2]["body"]["text"]["content"] == "您好"
    calls = api.get("/__emulator/calls", path="/cgi-bin/token").json()["calls"]
    assert len(calls) == 1 and calls[0]["query"]["secret"] == "***"


def test_clock_endpoint(api):
    assert api.post("/__emulator/clock", {"now": "2025-05-01T08:00:00+08:00"}).json()["now"].startswith(
        "2025-05-01T00:00:00")
    assert api.post("/__emulator/clock", {"advance_seconds": 3600}).json()["now"].startswith("2025-05-01T01:00:00")


@pytest.fixture
def platform():
    """A stand-in platform: checks WeChat's signature, decrypts if needed and echoes a text reply."""
    received = []

    def app(environ, start_response):
        req = Request(environ)
        acc = {a["id"]: a for a in ACCOUNTS}[req.path.rsplit("/", 1)[-1]]
        demo, q = acc["demo_secrets"], req.args
        expected = hashlib.sha1("".join(sorted([demo["token"], q["timestamp"], q["nonce"]])).encode()).hexdigest()
        if q["signature"] != expected:
            return Response("bad signature", status=403)(environ, start_response)
        body = req.get_data(as_text=True)
        crypto = WeChatCrypto(demo["token"], demo["encoding_aes_key"], acc["appid"])
        aes = q.get("encrypt_type") == "aes"
        plain = crypto.decrypt_message(body, q["msg_signature"], q["timestamp"], q["nonce"]) if aes else body
        msg = xmltodict.parse(plain)["xml"]
        received.append({"query": dict(q), "body": body, "msg": msg})
        reply = ("<xml><ToUserName><![CDATA[{0}]]></ToUserName><FromUserName><![CDATA[{1}]]></FromUserName>"
                 "<CreateTime>{2}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                 "<Content><![CDATA[收到：{3}]]></Content></xml>").format(
            msg["FromUserName"], msg["ToUserName"], msg["CreateTime"], msg.get("Content") or msg.get("Event"))
        if aes:
            reply = crypto.encrypt_message(reply, q["nonce"], q["timestamp"])
        return Response(reply, content_type="application/xml")(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("account", [SUB, SVC, CMP], ids=["plain", "safe", "compatible"])
def test_user_message_round_trip(api, platform, account):
    api.emulator.platform_url, received = platform
    reply = api.post("/__emulator/user-message", {"account_id": account["id"], "openid": OPENID, "content": "停水了吗"})
    assert reply.status_code == 200, reply.text
    result = reply.json()
    assert result["status"] == 200
    assert result["reply"]["Content"] == "收到：停水了吗" and result["reply"]["ToUserName"] == OPENID
    assert "<Encrypt>" not in result["reply_xml"]
    sent = received[-1]
    assert sent["msg"]["ToUserName"] == account["original_id"] and sent["msg"]["MsgType"] == "text"
    mode = account["encryption_mode"]
    assert ("<Encrypt>" in sent["body"]) == (mode != "plain")
    assert ("停水了吗" in sent["body"]) == (mode != "safe")
    # the user's message opened the customer-service window
    send = api.call("/cgi-bin/message/custom/send", api.token(account), text_msg())
    assert send == {"errcode": 0, "errmsg": "ok"}


def test_user_message_event_and_unreachable_platform(api, platform):
    result = api.post("/__emulator/user-message", {"account_id": SUB["id"], "openid": OPENID, "content": "x"})
    assert result.status_code == 502 and result.json()["error"] == "platform_unreachable"
    api.emulator.platform_url, received = platform
    result = api.post("/__emulator/user-message", {"account_id": SUB["id"], "openid": OPENID,
                                                   "event": "CLICK", "event_key": "NOTICE"}).json()
    assert received[-1]["msg"]["Event"] == "CLICK" and received[-1]["msg"]["EventKey"] == "NOTICE"
    assert result["reply"]["Content"] == "收到：CLICK"
    assert api.post("/__emulator/user-message", {"account_id": "nope"}).status_code == 404


def test_seed_file_of_the_repo_loads():
    accounts = we.load_accounts(we.DEFAULT_SEED) if we.DEFAULT_SEED.exists() else ACCOUNTS
    assert all(a["type"] in ("subscription", "service") for a in accounts)


def test_access_log_hides_secret(api, caplog):
    with caplog.at_level("INFO", logger="werkzeug"):
        api.token(SUB)
    assert "/cgi-bin/token" in caplog.text and SUB["demo_secrets"]["app_secret"] not in caplog.text
