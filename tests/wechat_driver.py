"""Drive the gateway as WeChat's servers do: sign, encrypt, POST, and open the reply.

Uses the account's demo token and AES key from the seed and wechatpy's own crypto, so the platform is
checked against an independent implementation of the protocol.
"""
from __future__ import annotations

import hashlib
import itertools
import secrets
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from local import seed as seed_module

_MSG_IDS = itertools.count(int(time.time() * 1000) % 10**9)


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def cdata(value: Any) -> str:
    return "<![CDATA[" + str(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def message_xml(fields: dict[str, Any]) -> str:
    inner = "".join(f"<{k}>{v if isinstance(v, int) else cdata(v)}</{k}>" for k, v in fields.items())
    return f"<xml>{inner}</xml>"


@dataclass
class Answer:
    status: int
    body: str
    xml: dict[str, str] | None  # the (decrypted) reply's fields, None for 'success' or an error

    @property
    def text(self) -> str | None:
        return (self.xml or {}).get("Content")


class WeChat:
    """One account as WeChat sees it."""

    def __init__(self, http, account_id: str, seed=None):
        seed = seed or seed_module.read()
        self.account = next(a for a in seed.records("accounts") if a["id"] == account_id)
        self.http = http
        self.token = self.account["demo_secrets"]["token"]
        self.key = self.account["demo_secrets"]["encoding_aes_key"]
        self.mode = self.account["encryption_mode"]

    def crypto(self, appid: str | None = None):
        from wechatpy.crypto import WeChatCrypto

        return WeChatCrypto(self.token, self.key, appid or self.account["appid"])

    def fields(self, openid: str, msg_type: str, created: int | None = None, **extra: Any) -> dict[str, Any]:
        base = {"ToUserName": self.account["original_id"], "FromUserName": openid,
                "CreateTime": created or int(time.time()), "MsgType": msg_type}
        if msg_type != "event" and "MsgId" not in extra:
            extra["MsgId"] = next(_MSG_IDS)
        return {**base, **extra}

    def post_raw(self, body: bytes | str, query: dict[str, str], content_type: str = "text/xml") -> Any:
        data = body.encode() if isinstance(body, str) else body
        return self.http.post(f"/wechat/{self.account['id']}?{urlencode(query)}", body=data,
                              headers={"Content-Type": content_type})

    def deliver(self, fields: dict[str, Any], encrypt: bool | None = None, appid: str | None = None,
                timestamp: int | None = None, nonce: str | None = None) -> Answer:
        """Send one message as WeChat would for this account's mode (a fresh nonce unless given);
        returns the opened reply."""
        ts = str(timestamp or int(time.time()))
        nonce = nonce or secrets.token_hex(8)
        xml = message_xml(fields)
        encrypt = self.mode != "plain" if encrypt is None else encrypt
        query = {"signature": sign(self.token, ts, nonce), "timestamp": ts, "nonce": nonce,
                 "openid": str(fields.get("FromUserName", ""))}
        if encrypt:
            envelope = self.crypto(appid).encrypt_message(xml, nonce, ts)
            encrypted = ET.fromstring(envelope).findtext("Encrypt")
            query.update(encrypt_type="aes", msg_signature=sign(self.token, ts, nonce, encrypted))
            body = f"<xml><ToUserName>{cdata(fields['ToUserName'])}</ToUserName><Encrypt>{cdata(encrypted)}</Encrypt></xml>"
            if self.mode == "compatible":
                body = xml[:-len("</xml>")] + f"<Encrypt>{cdata(encrypted)}</Encrypt></xml>"
        else:
            body = xml
        response = self.post_raw(body, query)
        return self.open(response, encrypted=encrypt, nonce=nonce, ts=ts)

    def open(self, response, encrypted: bool, nonce: str, ts: str) -> Answer:
        body = response.body.decode() if isinstance(response.body, bytes) else (response.body or "")
        if response.status_code != 200 or body == "success":
            return Answer(response.status_code, body, None)
        if encrypted:
            root = ET.fromstring(body)
            signature = root.findtext("MsgSignature")
            body_plain = self.crypto().decrypt_message(body, signature, root.findtext("TimeStamp"),
                                                       root.findtext("Nonce"))
        else:
            body_plain = body
        return Answer(200, body, {child.tag: (child.text or "") for child in ET.fromstring(body_plain)})

    def text(self, openid: str, content: str, **kw: Any) -> Answer:
        return self.deliver(self.fields(openid, "text", Content=content), **kw)

    def event(self, openid: str, event: str, created: int | None = None, **extra: Any) -> Answer:
        return self.deliver(self.fields(openid, "event", created=created, Event=event, **extra))
