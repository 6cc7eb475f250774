"""The WeChat callback protocol adapter, against callbacks built the way WeChat builds them.

Signatures are sha1 over the sorted parts; encrypted callbacks are made with wechatpy's own
`WeChatCrypto`, so the adapter is checked for interoperability, not against itself.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import secrets
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from wechatpy.crypto import WeChatCrypto

from chalicelib.domain.messages import Article, NO_REPLY, Reply
from chalicelib.wechat.protocol import (
    MAX_BODY, AccountKeys, CallbackRejected, open_message, render_reply, seal_reply, verify_url)

NOW = 1_780_000_000
WINDOW = 300
APPID = "wx0123456789abcdef"
ORIGINAL_ID = "gh_0123456789ab"
OPENID = "oResident0123456789abcdefgh"


def demo_key() -> str:
    """An EncodingAESKey: base64 of 32 random bytes without the '='."""
    return base64.b64encode(os.urandom(32)).decode("ascii").rstrip("=")


TOKEN = "demo" + secrets.token_hex(8)
KEY = demo_key()
PLAIN = AccountKeys(APPID, TOKEN, None, "plain")
COMPATIBLE = AccountKeys(APPID, TOKEN, KEY, "compatible")
SAFE = AccountKeys(APPID, TOKEN, KEY, "safe")


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def signed_query(token: str = TOKEN, timestamp: int | str = NOW, nonce: str = "n0nce", **more) -> dict[str, str]:
    return {"signature": sign(token, str(timestamp), nonce), "timestamp": str(timestamp), "nonce": nonce,
            "openid": OPENID, **more}


def cdata(value) -> str:
    return str(value) if isinstance(value, int) else f"<![CDATA[{value}]]>"


def message(msg_type: str, **fields) -> str:
    """A callback XML as WeChat sends it; nested dicts/lists become nested elements."""
    def render(name, value):
        if isinstance(value, dict):
            return f"<{name}>" + "".join(render(k, v) for k, v in value.items()) + f"</{name}>"
        if isinstance(value, list):
            return "".join(render(name, v) for v in value)
        return f"<{name}>{cdata(value)}</{name}>"

    base = {"ToUserName": ORIGINAL_ID, "FromUserName": OPENID, "CreateTime": NOW, "MsgType": msg_type}
    return "<xml>" + "".join(render(k, v) for k, v in {**base, **fields}.items()) + "</xml>"


def post_plain(keys: AccountKeys, body: str | bytes, window: int = WINDOW, **query):
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return open_message(keys, signed_query(**query), raw, NOW, window)


def encrypt(xml: str, appid: str = APPID, key: str = KEY, token: str = TOKEN, nonce: str = "n0nce") -> tuple[str, str]:
    """(Encrypt, MsgSignature) exactly as wechatpy (and WeChat) produce them."""
    envelope = ET.fromstring(WeChatCrypto(token, key, appid).encrypt_message(xml, nonce, str(NOW)))
    return envelope.findtext("Encrypt"), envelope.findtext("MsgSignature")


def post_aes(keys: AccountKeys, xml: str, *, appid: str = APPID, key: str = KEY, plain_too: bool = False,
             msg_signature: str | None = None):
    """An encrypted callback: safe mode sends ToUserName + Encrypt; compatible mode the plain fields too."""
    encrypted, signature = encrypt(xml, appid=appid, key=key)
    outer = xml[len("<xml>"):-len("</xml>")] if plain_too else f"<ToUserName>{cdata(ORIGINAL_ID)}</ToUserName>"
    body = f"<xml>{outer}<Encrypt>{cdata(encrypted)}</Encrypt></xml>"
    query = signed_query(encrypt_type="aes", msg_signature=msg_signature or signature)
    return open_message(keys, query, body.encode("utf-8"), NOW, WINDOW)


def post_encrypt_field(keys: AccountKeys, encrypted: str):
    """A correctly signed encrypted callback whose Encrypt is whatever the test says."""
    body = f"<xml><ToUserName>{cdata(ORIGINAL_ID)}</ToUserName><Encrypt>{cdata(encrypted)}</Encrypt></xml>"
    query = signed_query(encrypt_type="aes", msg_signature=sign(TOKEN, str(NOW), "n0nce", encrypted))
    return open_message(keys, query, body.encode("utf-8"), NOW, WINDOW)


def aes_raw(plaintext: bytes, key: str = KEY) -> str:
    """AES-CBC the way WeChat does (IV = key[:16]) over bytes the test controls, padding included."""
    k = base64.b64decode(key + "=")
    enc = Cipher(algorithms.AES(k), modes.CBC(k[:16])).encryptor()
    return base64.b64encode(enc.update(plaintext) + enc.finalize()).decode("ascii")


def rejected(call, *args, **kwargs) -> CallbackRejected:
    with pytest.raises(CallbackRejected) as info:
        call(*args, **kwargs)
    exc = info.value
    assert 400 <= exc.status < 500
    assert TOKEN not in exc.reason and KEY not in exc.reason and TOKEN not in str(exc)
    return exc


# ---- keys -------------------------------------------------------------------------------------------

def test_account_keys_hide_secrets_and_check_the_key():
    assert TOKEN not in repr(SAFE) and KEY not in repr(SAFE) and APPID in repr(SAFE)
    with pytest.raises(ValueError):
        AccountKeys(APPID, TOKEN, None, "safe")
    with pytest.raises(ValueError):
        AccountKeys(APPID, TOKEN, KEY[:-1], "compatible")
    with pytest.raises(ValueError):
        AccountKeys(APPID, TOKEN, KEY, "secret")
    assert AccountKeys(APPID, TOKEN, "left over", "plain").mode == "plain"  # plain mode never uses the key


# ---- URL verification -------------------------------------------------------------------------------

def test_verify_url_returns_echostr_unchanged():
    for keys in (PLAIN, COMPATIBLE, SAFE):
        assert verify_url(keys, signed_query(echostr="5838479218127813673"), NOW, WINDOW) == "5838479218127813673"


def test_verify_url_wrong_or_missing_signature():
    query = signed_query(echostr="123")
    assert rejected(verify_url, PLAIN, {**query, "signature": "0" * 40}, NOW, WINDOW).status == 403
    assert rejected(verify_url, PLAIN, {**query, "signature": "签名"}, NOW, WINDOW).status == 403
    assert rejected(verify_url, PLAIN, signed_query(token="other", echostr="123"), NOW, WINDOW).status == 403
    without = {k: v for k, v in query.items() if k != "signature"}
    assert rejected(verify_url, PLAIN, without, NOW, WINDOW).status == 403
    assert rejected(verify_url, PLAIN, {}, NOW, WINDOW).status == 403


def test_verify_url_timestamp_window():
    stale = signed_query(timestamp=NOW - WINDOW - 1, echostr="123")
    assert rejected(verify_url, PLAIN, stale, NOW, WINDOW).status == 403
    future = signed_query(timestamp=NOW + WINDOW + 1, echostr="123")
    assert rejected(verify_url, PLAIN, future, NOW, WINDOW).status == 403
    assert verify_url(PLAIN, signed_query(timestamp=NOW - WINDOW, echostr="123"), NOW, WINDOW) == "123"
    assert verify_url(PLAIN, stale, NOW, 0) == "123"  # window 0: no freshness check


def test_verify_url_echostr_missing_or_unsafe():
    assert rejected(verify_url, PLAIN, signed_query(), NOW, WINDOW).status == 400
    assert rejected(verify_url, PLAIN, signed_query(echostr="<script>"), NOW, WINDOW).status == 400
    assert rejected(verify_url, PLAIN, signed_query(echostr="1" * 257), NOW, WINDOW).status == 400


# ---- modes ------------------------------------------------------------------------------------------

TEXT = message("text", Content="你好，社区", MsgId=23456789012345678)


def test_plain_mode():
    inbound, encrypted = post_plain(PLAIN, TEXT)
    assert not encrypted
    assert (inbound.kind, inbound.text, inbound.openid, inbound.account_original_id) == (
        "text", "你好，社区", OPENID, ORIGINAL_ID)
    assert inbound.msg_id == "23456789012345678"
    assert inbound.created_at == datetime.fromtimestamp(NOW, timezone.utc)
    assert inbound.extra == {}


def test_plain_mode_checks_signature_and_window():
    assert rejected(post_plain, PLAIN, TEXT, token="wrong").status == 403
    assert rejected(post_plain, PLAIN, TEXT, timestamp=NOW - 3600).status == 403
    inbound, _ = post_plain(PLAIN, TEXT, window=0, timestamp=NOW - 3600)
    assert inbound.text == "你好，社区"


def test_compatible_mode_requires_the_encrypted_part():
    """Compatible mode's plaintext copy is not authenticated: without encrypt_type=aes it is refused."""
    assert rejected(post_plain, COMPATIBLE, TEXT).status == 403
    assert rejected(post_plain, COMPATIBLE, TEXT, encrypt_type="raw").status == 403


def test_compatible_mode_aes_post_uses_the_ciphertext():
    outer_says = message("text", Content="plain copy", MsgId=1)
    encrypted, signature = encrypt(TEXT)
    body = outer_says[:-len("</xml>")] + f"<Encrypt>{cdata(encrypted)}</Encrypt></xml>"
    query = signed_query(encrypt_type="aes", msg_signature=signature)
    inbound, is_encrypted = open_message(COMPATIBLE, query, body.encode(), NOW, WINDOW)
    assert is_encrypted and inbound.text == "你好，社区" and inbound.msg_id == "23456789012345678"
    inbound, is_encrypted = post_aes(COMPATIBLE, TEXT, plain_too=True)
    assert is_encrypted and inbound.text == "你好，社区"


def test_safe_mode_aes_post():
    inbound, encrypted = post_aes(SAFE, TEXT)
    assert encrypted and inbound.kind == "text" and inbound.text == "你好，社区"


def test_safe_mode_accepts_the_wechatpy_envelope_as_is():
    envelope = WeChatCrypto(TOKEN, KEY, APPID).encrypt_message(TEXT, "n0nce", str(NOW))
    signature = ET.fromstring(envelope).findtext("MsgSignature")
    query = signed_query(encrypt_type="aes", msg_signature=signature)
    inbound, encrypted = open_message(SAFE, query, envelope.encode(), NOW, WINDOW)
    assert encrypted and inbound.text == "你好，社区"


def test_safe_mode_refuses_plaintext():
    assert rejected(post_plain, SAFE, TEXT).status == 403
    assert rejected(post_plain, SAFE, TEXT, encrypt_type="raw").status == 403


def test_plain_account_refuses_aes():
    with pytest.raises(CallbackRejected) as info:
        open_message(PLAIN, signed_query(encrypt_type="aes", msg_signature="x"), TEXT.encode(), NOW, WINDOW)
    assert info.value.status == 403


def test_unknown_encrypt_type():
    assert rejected(post_plain, COMPATIBLE, TEXT, encrypt_type="rsa").status == 400


def test_foreign_appid_inside_ciphertext():
    assert rejected(post_aes, SAFE, TEXT, appid="wxforeign0000000").status == 403


def test_wrong_key_is_rejected():
    assert rejected(post_aes, SAFE, TEXT, key=demo_key()).status in (400, 403)


def test_wrong_or_missing_msg_signature():
    assert rejected(post_aes, SAFE, TEXT, msg_signature="0" * 40).status == 403
    encrypted, _ = encrypt(TEXT)
    body = f"<xml><Encrypt>{cdata(encrypted)}</Encrypt></xml>".encode()
    assert rejected(open_message, SAFE, signed_query(encrypt_type="aes"), body, NOW, WINDOW).status == 403


def test_aes_post_still_needs_the_url_signature():
    encrypted, signature = encrypt(TEXT)
    body = f"<xml><Encrypt>{cdata(encrypted)}</Encrypt></xml>".encode()
    query = {**signed_query(encrypt_type="aes", msg_signature=signature), "signature": "f" * 40}
    assert rejected(open_message, SAFE, query, body, NOW, WINDOW).status == 403


def test_aes_post_without_encrypt():
    query = signed_query(encrypt_type="aes", msg_signature="x")
    assert rejected(open_message, SAFE, query, b"<xml><ToUserName>a</ToUserName></xml>", NOW, WINDOW).status == 400


# ---- every message and event type -------------------------------------------------------------------

def test_image():
    inbound, _ = post_plain(PLAIN, message("image", PicUrl="http://mmbiz.qpic.cn/x", MediaId="media1", MsgId=11))
    assert (inbound.kind, inbound.media_id, inbound.msg_id) == ("image", "media1", "11")
    assert inbound.extra == {"PicUrl": "http://mmbiz.qpic.cn/x"}


def test_voice_with_and_without_recognition():
    inbound, _ = post_plain(PLAIN, message("voice", MediaId="v1", Format="amr", Recognition="楼道灯坏了", MsgId=12))
    assert (inbound.kind, inbound.media_id, inbound.recognition, inbound.text) == ("voice", "v1", "楼道灯坏了", "楼道灯坏了")
    assert inbound.extra == {"Format": "amr"}
    inbound, _ = post_plain(PLAIN, message("voice", MediaId="v2", Format="amr", Recognition="", MsgId=13))
    assert inbound.recognition is None and inbound.text is None
    inbound, _ = post_plain(PLAIN, message("voice", MediaId="v3", Format="speex", MsgId=14))
    assert inbound.recognition is None and inbound.text is None and inbound.extra == {"Format": "speex"}


@pytest.mark.parametrize("kind", ["video", "shortvideo"])
def test_video(kind):
    inbound, _ = post_plain(PLAIN, message(kind, MediaId="m1", ThumbMediaId="t1", MsgId=15))
    assert (inbound.kind, inbound.media_id, inbound.extra) == (kind, "m1", {"ThumbMediaId": "t1"})


def test_location():
    xml = message("location", Location_X="36.066", Location_Y="120.383", Scale=15, Label="青岛市市南区香港中路", MsgId=16)
    inbound, _ = post_plain(PLAIN, xml)
    assert (inbound.kind, inbound.latitude, inbound.longitude, inbound.label) == (
        "location", 36.066, 120.383, "青岛市市南区香港中路")
    assert inbound.extra == {"Scale": "15"}


def test_link():
    inbound, _ = post_plain(PLAIN, message("link", Title="通知", Description="停水", Url="https://example.org/a", MsgId=17))
    assert (inbound.kind, inbound.title, inbound.url, inbound.extra) == (
        "link", "通知", "https://example.org/a", {"Description": "停水"})


def test_subscribe_plain_and_by_qr_code():
    inbound, _ = post_plain(PLAIN, message("event", Event="subscribe", EventKey=""))
    assert (inbound.kind, inbound.event, inbound.event_key, inbound.scene, inbound.msg_id) == (
        "event", "subscribe", None, None, None)
    assert inbound.dedupe_key == f"evt#{OPENID}#{NOW}#subscribe"
    inbound, _ = post_plain(PLAIN, message("event", Event="subscribe", EventKey="qrscene_123", Ticket="TICKET"))
    assert (inbound.event_key, inbound.scene, inbound.extra) == ("qrscene_123", "123", {"Ticket": "TICKET"})


def test_unsubscribe():
    inbound, _ = post_plain(PLAIN, message("event", Event="unsubscribe", EventKey=""))
    assert (inbound.kind, inbound.event, inbound.event_key) == ("event", "unsubscribe", None)


def test_scan():
    inbound, _ = post_plain(PLAIN, message("event", Event="SCAN", EventKey="123", Ticket="TICKET"))
    assert (inbound.event, inbound.event_key, inbound.scene, inbound.extra) == ("SCAN", "123", "123", {"Ticket": "TICKET"})


def test_location_event():
    xml = message("event", Event="LOCATION", Latitude="36.066", Longitude="120.383", Precision="65.0")
    inbound, _ = post_plain(PLAIN, xml)
    assert (inbound.event, inbound.latitude, inbound.longitude, inbound.extra) == (
        "LOCATION", 36.066, 120.383, {"Precision": "65.0"})


def test_click_and_view():
    inbound, _ = post_plain(PLAIN, message("event", Event="CLICK", EventKey="CANTEEN_MENU"))
    assert (inbound.event, inbound.event_key, inbound.url) == ("CLICK", "CANTEEN_MENU", None)
    inbound, _ = post_plain(PLAIN, message("event", Event="VIEW", EventKey="https://example.org/x?a=1&b=2", MenuId=7))
    assert (inbound.event, inbound.event_key, inbound.url) == (
        "VIEW", "https://example.org/x?a=1&b=2", "https://example.org/x?a=1&b=2")
    assert inbound.extra == {"MenuId": "7"}


def test_mass_send_job_finish():
    xml = message("event", Event="MASSSENDJOBFINISH", MsgID=1000001625, Status="send success", TotalCount=100,
                  FilterCount=80, SentCount=75, ErrorCount=5)
    inbound, _ = post_plain(PLAIN, xml)
    assert (inbound.event, inbound.status, inbound.msg_id) == ("MASSSENDJOBFINISH", "send success", None)
    assert inbound.extra == {"MsgID": "1000001625", "TotalCount": "100", "FilterCount": "80", "SentCount": "75",
                             "ErrorCount": "5"}


def test_template_send_job_finish():
    inbound, _ = post_plain(PLAIN, message("event", Event="TEMPLATESENDJOBFINISH", MsgID=200163836, Status="success"))
    assert (inbound.event, inbound.status, inbound.extra) == ("TEMPLATESENDJOBFINISH", "success", {"MsgID": "200163836"})


def test_publish_job_finish_flattens_publish_event_info():
    info = {"publish_id": 2247503051, "publish_status": 0, "article_id": "b5O2OUs25HBxRceL7hfReg-U9QGeq9zQjiDvyWP4Hq4",
            "article_detail": {"count": 1, "item": {"idx": 1, "article_url": "https://mp.weixin.qq.com/s/abc"}}}
    inbound, _ = post_aes(SAFE, message("event", Event="PUBLISHJOBFINISH", PublishEventInfo=info))
    assert (inbound.kind, inbound.event) == ("event", "PUBLISHJOBFINISH")
    assert inbound.extra["PublishEventInfo.publish_id"] == "2247503051"
    assert inbound.extra["PublishEventInfo.publish_status"] == "0"
    assert inbound.extra["PublishEventInfo.article_id"] == "b5O2OUs25HBxRceL7hfReg-U9QGeq9zQjiDvyWP4Hq4"
    assert json.loads(inbound.extra["PublishEventInfo.article_detail"]) == {
        "count": "1", "item": [{"idx": "1", "article_url": "https://mp.weixin.qq.com/s/abc"}]}


def test_publish_job_failure_lists_fail_idx():
    info = {"publish_id": 2247503052, "publish_status": 2, "fail_idx": [1, 2]}
    inbound, _ = post_plain(PLAIN, message("event", Event="PUBLISHJOBFINISH", PublishEventInfo=info))
    assert inbound.extra["PublishEventInfo.publish_status"] == "2"
    assert json.loads(inbound.extra["PublishEventInfo.fail_idx"]) == ["1", "2"]


def test_unknown_message_type_and_unknown_event():
    inbound, _ = post_plain(PLAIN, message("miniprogrampage", Title="x", MsgId=18))
    assert (inbound.kind, inbound.msg_id, inbound.extra) == ("unknown", "18", {"MsgType": "miniprogrampage", "Title": "x"})
    inbound, _ = post_plain(PLAIN, message("event", Event="scancode_push", EventKey="k",
                                           ScanCodeInfo={"ScanType": "qrcode", "ScanResult": "r"}))
    assert (inbound.kind, inbound.event, inbound.event_key) == ("event", "scancode_push", "k")
    assert inbound.extra == {"ScanCodeInfo.ScanType": "qrcode", "ScanCodeInfo.ScanResult": "r"}


def test_text_is_kept_exactly_as_sent():
    body = message("text", Content="  Ｈｅｌｌｏ\n]]]]><![CDATA[>x <b>&amp; 👍 ", MsgId=19)
    inbound, _ = post_plain(PLAIN, body)
    assert inbound.text == "  Ｈｅｌｌｏ\n]]>x <b>&amp; 👍 "
    inbound, _ = post_aes(SAFE, message("text", Content="<!DOCTYPE is only words here>", MsgId=20))
    assert inbound.text == "<!DOCTYPE is only words here>"


# ---- hostile input ----------------------------------------------------------------------------------

BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
                  '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
                  + message("text", Content="&lol3;", MsgId=1).replace("<![CDATA[&lol3;]]>", "&lol3;"))
XXE = ('<!doctype xml [<!entity xxe SYSTEM "file:///etc/passwd">]>'
       + message("text", MsgId=1).replace("</xml>", "<Content>&xxe;</Content></xml>"))


@pytest.mark.parametrize("body", [BILLION_LAUGHS, XXE, "<!DocType xml>" + TEXT], ids=["laughs", "xxe", "doctype"])
def test_dtd_is_refused(body):
    assert rejected(post_plain, PLAIN, body).status == 400
    assert rejected(post_aes, SAFE, body).status == 400


def test_dtd_hidden_from_the_text_check_is_still_refused_by_the_parser():
    # A fake CDATA opener in a comment hides the DOCTYPE from the textual pre-check; expat's handler refuses it.
    body = ('<!-- <![CDATA[ --><!DOCTYPE xml [<!ENTITY a "b">]><!-- ]]> -->'
            + TEXT.replace("<![CDATA[你好，社区]]>", "&a;"))
    exc = rejected(post_plain, PLAIN, body)
    assert (exc.status, exc.reason) == (400, "DTD not allowed")


def test_body_too_large_before_anything_else():
    big = TEXT.replace("你好，社区", "x" * (65 * 1024)).encode()
    assert len(big) > MAX_BODY
    assert rejected(post_plain, PLAIN, big).status == 413
    assert rejected(open_message, PLAIN, {}, big, NOW, WINDOW).status == 413


@pytest.mark.parametrize("body", [
    b"",
    b"\xff\xfe",
    b"\xff\xfe<\x00x\x00m\x00l\x00>\x00",
    b'{"ToUserName": "gh_x", "MsgType": "text"}',
    b"<xml><ToUserName>a</ToUserName>",
    b"<xml>&#0;</xml>",
    b"<root><ToUserName>a</ToUserName></root>",
    b"just words",
    b"<xml/><xml/>",
    ("<xml>" + "<a>" * 40 + "</a>" * 40 + "</xml>").encode(),
    ("<xml>" + "<a>" * 9000 + "</a>" * 9000 + "</xml>").encode(),  # just under MAX_BODY
], ids=["empty", "utf16-bom", "utf16", "json", "truncated", "nul-ref", "root", "words", "two-roots", "deep", "deeper"])
def test_malformed_bodies(body):
    assert rejected(post_plain, PLAIN, body).status == 400


@pytest.mark.parametrize("missing", ["ToUserName", "FromUserName", "CreateTime", "MsgType"])
def test_missing_required_fields(missing):
    xml = ET.fromstring(TEXT)
    xml.remove(xml.find(missing))
    assert rejected(post_plain, PLAIN, ET.tostring(xml)).status == 400
    assert rejected(post_aes, SAFE, ET.tostring(xml, encoding="unicode")).status == 400


@pytest.mark.parametrize("create_time", ["soon", "1.5", "-1", "１２３", "", "99999999999999999999"])
def test_bad_create_time(create_time):
    xml = TEXT.replace(f"<CreateTime>{NOW}</CreateTime>", f"<CreateTime>{create_time}</CreateTime>")
    assert rejected(post_plain, PLAIN, xml).status == 400


@pytest.mark.parametrize("value", ["north", "nan", "inf"])
def test_bad_coordinates(value):
    xml = message("location", Location_X=value, Location_Y="120.3", Scale=15, Label="x", MsgId=1)
    assert rejected(post_plain, PLAIN, xml).status == 400


@pytest.mark.parametrize("encrypted", ["not base64!!", "QUJD", "QUJDRA", "", "密文"],
                         ids=["chars", "short", "no-padding", "empty", "non-ascii"])
def test_broken_base64_in_encrypt(encrypted):
    assert rejected(post_encrypt_field, SAFE, encrypted).status == 400


def test_bad_padding_and_short_plaintext_in_encrypt():
    inner = TEXT.encode()
    content = os.urandom(16) + len(inner).to_bytes(4, "big") + inner + APPID.encode()
    fill = 32 - len(content) % 32
    cases = {
        "pad-zero": content + bytes(fill - 1) + b"\x00",
        "pad-too-big": content + bytes([33]) * fill,
        "pad-inconsistent": content + b"x" * ((28 - len(content)) % 32) + b"\x01\x02\x03\x04",
        "too-short": os.urandom(16) + b"\x10" * 16,
        "length-overflow": os.urandom(16) + (10**6).to_bytes(4, "big") + b"x" * 8 + b"\x04" * 4,
    }
    for name, plaintext in cases.items():
        assert len(plaintext) % 16 == 0, name
        assert rejected(post_encrypt_field, SAFE, aes_raw(plaintext)).status == 400, name
    not_utf8 = os.urandom(16) + (2).to_bytes(4, "big") + b"\xff\xfe" + APPID.encode()
    not_utf8 += bytes([32 - len(not_utf8) % 32]) * (32 - len(not_utf8) % 32)
    assert rejected(post_encrypt_field, SAFE, aes_raw(not_utf8)).status == 400


def test_hostile_bytes_never_escape_as_other_exceptions():
    rng = random.Random(20261127)
    samples = [TEXT.encode(), BILLION_LAUGHS.encode(), message("event", Event="PUBLISHJOBFINISH",
                                                               PublishEventInfo={"a": {"item": {"b": 1}}}).encode()]
    for _ in range(300):
        sample = bytearray(rng.choice(samples))
        for _ in range(rng.randint(1, 8)):
            op = rng.random()
            pos = rng.randrange(len(sample))
            if op < 0.4:
                sample[pos] = rng.randrange(256)
            elif op < 0.7:
                del sample[pos:pos + rng.randint(1, 20)]
            else:
                sample[pos:pos] = rng.choice([b"<", b">", b"]]>", b"&", b"<xml>", b"\x00", b"<!--", b"&#x1;"])
        for keys, post in ((PLAIN, lambda k, b: post_plain(k, bytes(b))),
                           (SAFE, lambda k, b: post_encrypt_field(k, base64.b64encode(bytes(b)).decode()))):
            try:
                post(keys, sample)
            except CallbackRejected as exc:
                assert 400 <= exc.status < 500


# ---- replies ----------------------------------------------------------------------------------------

def test_text_reply_round_trips_cdata_breakers():
    text = "Reply ]]> with <b>tags</b> & ]]]]> and ]] ending]"
    xml = render_reply(Reply(text=text), OPENID, ORIGINAL_ID, NOW)
    root = ET.fromstring(xml)
    assert root.findtext("Content") == text
    assert (root.findtext("ToUserName"), root.findtext("FromUserName"), root.findtext("CreateTime"),
            root.findtext("MsgType")) == (OPENID, ORIGINAL_ID, str(NOW), "text")


def test_text_reply_strips_xml_illegal_characters():
    xml = render_reply(Reply(text="a\x00b\x08c\td\ne\x1ff\ufffeg\ud800h"), OPENID, ORIGINAL_ID, NOW)
    assert ET.fromstring(xml).findtext("Content") == "abc\td\nefgh"


def test_news_reply_keeps_at_most_eight_articles():
    articles = tuple(Article(title=f"第{i}条 ]]> <", description="d", url=f"https://example.org/{i}",
                             image_url=f"https://example.org/{i}.jpg") for i in range(9))
    root = ET.fromstring(render_reply(Reply(articles=articles), OPENID, ORIGINAL_ID, NOW))
    assert root.findtext("MsgType") == "news" and root.findtext("ArticleCount") == "8"
    items = root.findall("Articles/item")
    assert len(items) == 8
    assert [(i.findtext("Title"), i.findtext("Description"), i.findtext("PicUrl"), i.findtext("Url")) for i in items[:1]] == [
        ("第0条 ]]> <", "d", "https://example.org/0.jpg", "https://example.org/0")]


def test_empty_reply_is_success():
    assert render_reply(NO_REPLY, OPENID, ORIGINAL_ID, NOW) == "success"
    assert seal_reply(SAFE, "success", str(NOW), "n") == "success"


def test_sealed_reply_decrypts_with_wechatpy():
    xml = render_reply(Reply(text="收到 ]]> <好的>"), OPENID, ORIGINAL_ID, NOW)
    sealed = seal_reply(SAFE, xml, "1780000001", "r3ply")
    envelope = ET.fromstring(sealed)
    assert envelope.findtext("TimeStamp") == "1780000001" and envelope.findtext("Nonce") == "r3ply"
    decrypted = WeChatCrypto(TOKEN, KEY, APPID).decrypt_message(
        sealed, envelope.findtext("MsgSignature"), "1780000001", "r3ply")
    assert decrypted == xml
    assert ET.fromstring(decrypted).findtext("Content") == "收到 ]]> <好的>"


def test_sealed_reply_opens_with_open_message():
    xml = render_reply(Reply(text="ok"), OPENID, ORIGINAL_ID, NOW)
    sealed = seal_reply(COMPATIBLE, xml, str(NOW), "n0nce")
    query = signed_query(encrypt_type="aes", msg_signature=ET.fromstring(sealed).findtext("MsgSignature"))
    inbound, encrypted = open_message(COMPATIBLE, query, sealed.encode(), NOW, WINDOW)
    assert encrypted and inbound.text == "ok" and inbound.openid == ORIGINAL_ID
