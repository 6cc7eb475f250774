"""The WeChat callback protocol for official accounts: signatures, AES envelopes, XML in and out.

Pure protocol: no HTTP framework, no storage, no network. The callback route hands over the query
parameters and the raw body; this module answers with an `Inbound` (or `CallbackRejected` with a 4xx
status) and turns a `Reply` back into the XML WeChat expects, sealed in an encrypted envelope when the
request came encrypted.

Message encryption (compatible and safe mode) is WeChat's scheme, as implemented by wechatpy's
`PrpCrypto`: AES-256-CBC with key = base64(EncodingAESKey + "="), IV = key[:16], plaintext =
16 random bytes + 4-byte big-endian length + message + appid, PKCS#7 padding to 32 bytes. It is
written out here on top of `cryptography` because wechatpy's version does not check the padding or the
length field (so garbage surfaces as struct.error or a false "wrong appid"), picks its random prefix
with `random` rather than `secrets`, and importing wechatpy pulls in requests (about 0.25 s of cold
start). The tests check interoperability against wechatpy in both directions.

Hostile input never escapes as anything but `CallbackRejected`: bodies are size-capped, must be UTF-8,
are parsed with expat with any DOCTYPE/ENTITY declaration refused (no DTD, so no entity expansion and
no external entities), nesting is capped, and every field is validated before use.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
import secrets
import string
from dataclasses import field
from datetime import datetime, timezone
from xml.parsers import expat


from chalicelib.domain.messages import Inbound, Reply
from chalicelib.domain.patterns import lazy_re
from chalicelib.domain.records import record
from chalicelib.domain.text import xml_safe

MAX_BODY = 64 * 1024
MODES = ("plain", "compatible", "safe")
MAX_ARTICLES = 8
MAX_DEPTH = 8  # <xml> is depth 1; PublishEventInfo/article_detail/item/article_url is 5
MAX_ECHOSTR = 256

_ECHOSTR = lazy_re(r"[A-Za-z0-9+/=_.\-]+")
_DIGITS = lazy_re(r"[0-9]{1,12}")
_NONCE = lazy_re(r"[A-Za-z0-9_\-]{1,64}")
_CDATA = lazy_re(r"<!\[CDATA\[.*?\]\]>", re.S)
_SIGNATURE = lazy_re(r"[0-9a-f]{40}")
# What WeChat's fields look like; anything else is refused with 400 before it can reach a table.
_OPENID = lazy_re(r"[A-Za-z0-9_\-]{1,64}")  # FromUserName (an openid, 28 characters in practice)
_ORIGINAL_ID = lazy_re(r"[A-Za-z0-9_\-@.]{1,64}")  # ToUserName (gh_…)
_MSG_ID = lazy_re(r"[0-9]{1,32}")
_NAME = lazy_re(r"[A-Za-z_]{1,64}")  # MsgType, Event
MAX_FIELD = 8192  # characters in any one field (a resident's Content is far shorter on WeChat's side)
MAX_FIELDS = 64  # top-level fields of one message
_PREFIX_ALPHABET = string.ascii_letters + string.digits


class CallbackRejected(Exception):
    """The request is not a valid WeChat callback."""

    def __init__(self, status: int, reason: str):
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


@record
class AccountKeys:
    """What an account's callback needs: appid, Token, EncodingAESKey and the message mode."""

    appid: str
    token: str = field(repr=False)
    encoding_aes_key: str | None = field(repr=False)  # 43 chars; needed for compatible/safe
    mode: str  # "plain" | "compatible" | "safe"

    def __post_init__(self) -> None:
        # Configuration errors (not request errors): ValueError, and never the secret values.
        if self.mode not in MODES:
            raise ValueError(f"unknown message mode {self.mode!r} for {self.appid}")
        if not self.token:
            raise ValueError(f"empty callback token for {self.appid}")
        # A plain-mode account never uses its key, so a stale or odd one stored for it is not an error.
        if self.mode != "plain":
            if not self.encoding_aes_key:
                raise ValueError(f"{self.mode} mode needs an EncodingAESKey for {self.appid}")
            _aes_key(self.encoding_aes_key, self.appid)


# ---- signatures -------------------------------------------------------------------------------------

def _sha1_sorted(*parts: str) -> str:
    """WeChat's signature: sha1 of the parts sorted and concatenated (sorted as UTF-8 bytes, like wechatpy)."""
    data = sorted(p.encode("utf-8", "surrogatepass") for p in parts)
    return hashlib.sha1(b"".join(data)).hexdigest()


def _same(expected: str, given: str | None) -> bool:
    """Constant-time comparison that also copes with missing or non-ASCII input."""
    if not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", "replace"))


def _param(query: dict[str, str] | None, name: str) -> str | None:
    value = (query or {}).get(name)
    return value if isinstance(value, str) else None


def _check_signature(keys: AccountKeys, query: dict[str, str] | None, now: float, window_s: int) -> tuple[str, str]:
    """Check `signature` and the timestamp window; returns (timestamp, nonce)."""
    timestamp = _param(query, "timestamp")
    nonce = _param(query, "nonce")
    if timestamp is None or nonce is None:
        raise CallbackRejected(403, "missing signature parameters")
    if not _DIGITS.fullmatch(timestamp) or not _NONCE.fullmatch(nonce):
        raise CallbackRejected(400, "malformed timestamp or nonce")
    if not _same(_sha1_sorted(keys.token, timestamp, nonce), _param(query, "signature")):
        raise CallbackRejected(403, "bad signature")
    if window_s:
        if abs(now - int(timestamp)) > window_s:
            raise CallbackRejected(403, "stale timestamp")
    return timestamp, nonce


def verify_url(keys: AccountKeys, query: dict[str, str], now: float, window_s: int) -> str:
    """GET URL verification: checks the signature over [token, timestamp, nonce] and the timestamp window
    (window_s == 0 turns the window off), then returns echostr unchanged. WeChat sends echostr in plain
    for official accounts, also in safe mode.

    echostr is not covered by the signature and is reflected in the response, so it must be 1-256
    characters of [A-Za-z0-9+/=_.-] (WeChat's are digits); anything else is 400.
    """
    _check_signature(keys, query, now, window_s)
    echostr = _param(query, "echostr")
    if not echostr:
        raise CallbackRejected(400, "missing echostr")
    if len(echostr) > MAX_ECHOSTR or not _ECHOSTR.fullmatch(echostr):
        raise CallbackRejected(400, "malformed echostr")
    return echostr


# ---- AES envelope -----------------------------------------------------------------------------------

def _aes_key(encoding_aes_key: str | None, appid: str) -> bytes:

    if not isinstance(encoding_aes_key, str) or len(encoding_aes_key) != 43:
        raise ValueError(f"the EncodingAESKey of {appid} must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"the EncodingAESKey of {appid} is not base64") from None
    if len(key) != 32:
        raise ValueError(f"the EncodingAESKey of {appid} does not decode to 32 bytes")
    return key


def _cipher(key: bytes):
    """AES-256-CBC with WeChat's IV (the key's first 16 bytes). `cryptography` is loaded here, on the first
    safe-mode message, and nowhere else: plain-mode accounts and the other Lambdas never pay for it."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def _decrypt(keys: AccountKeys, encrypt: str) -> str:
    """Encrypt → the inner XML text; 400 on anything malformed, 403 when the appid inside is not ours."""

    try:
        raw = base64.b64decode(encrypt.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise CallbackRejected(400, "Encrypt is not base64") from None
    if not raw or len(raw) % 16:
        raise CallbackRejected(400, "Encrypt is not a whole number of AES blocks")
    decryptor = _cipher(_aes_key(keys.encoding_aes_key, keys.appid)).decryptor()
    plain = decryptor.update(raw) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= 32 or pad > len(plain) or plain[-pad:] != bytes([pad]) * pad:
        raise CallbackRejected(400, "bad padding in Encrypt")
    content = plain[16:-pad]
    if len(content) < 4:
        raise CallbackRejected(400, "Encrypt too short")
    length = int.from_bytes(content[:4], "big")
    if length > len(content) - 4:
        raise CallbackRejected(400, "bad length in Encrypt")
    message, appid = content[4:4 + length], content[4 + length:]
    if not hmac.compare_digest(appid, keys.appid.encode("utf-8")):
        raise CallbackRejected(403, "Encrypt is for another appid")
    try:
        return message.decode("utf-8")
    except UnicodeDecodeError:
        raise CallbackRejected(400, "Encrypt holds invalid UTF-8") from None


def _encrypt(keys: AccountKeys, text: str) -> str:

    key = _aes_key(keys.encoding_aes_key, keys.appid)
    message = text.encode("utf-8")
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(16)).encode("ascii")
    data = prefix + len(message).to_bytes(4, "big") + message + keys.appid.encode("utf-8")
    pad = 32 - len(data) % 32
    data += bytes([pad]) * pad
    encryptor = _cipher(key).encryptor()
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode("ascii")


def rehearse_envelope() -> None:
    """Seal a text and open it again with a throwaway key (预演; Lambda's init phase, `bootstrap.warm_up`):
    `cryptography` and OpenSSL's AES are loaded there instead of in the first safe-mode callback (60 of
    the seed's 66 accounts are in safe mode)."""
    keys = AccountKeys("wx-rehearsal", "rehearsal", "A" * 43, "safe")
    if _decrypt(keys, _encrypt(keys, "<xml/>")) != "<xml/>":
        raise ValueError("the AES envelope does not round-trip")


# ---- XML in -----------------------------------------------------------------------------------------

class _Node:
    __slots__ = ("tag", "parts", "children")

    def __init__(self, tag: str):
        self.tag = tag
        self.parts: list[str] = []
        self.children: list[_Node] = []

    @property
    def text(self) -> str:
        return "".join(self.parts)


class _Hostile(Exception):
    """Raised from inside expat's callbacks to stop the parse."""


def _parse_xml(text: str) -> _Node:
    """Parse with expat into a small tree; no DTD of any kind, bounded depth, root must be <xml>."""

    parser = expat.ParserCreate()
    stack: list[_Node] = []
    roots: list[_Node] = []

    def start(tag, _attrs):
        if len(stack) >= MAX_DEPTH:
            raise _Hostile("XML nested too deeply")
        node = _Node(tag)
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)

    def end(_tag):
        stack.pop()

    def chars(data):
        if stack:
            stack[-1].parts.append(data)

    def refuse(*_args):
        raise _Hostile("DTD not allowed")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    try:
        parser.Parse(text, True)
    except _Hostile as exc:
        raise CallbackRejected(400, str(exc)) from None
    except (expat.ExpatError, ValueError, RecursionError):
        raise CallbackRejected(400, "malformed XML") from None
    if not roots or roots[0].tag != "xml":
        raise CallbackRejected(400, "root element is not <xml>")
    return roots[0]


def _has_dtd_text(text: str) -> bool:
    """'<!DOCTYPE' / '<!ENTITY' outside CDATA sections (inside them it is just a resident's text)."""
    outside = _CDATA.sub("", text).lower()
    return "<!doctype" in outside or "<!entity" in outside


def _load(text: str) -> _Node:
    if _has_dtd_text(text):
        raise CallbackRejected(400, "DTD not allowed")
    return _parse_xml(text)


def _to_json(node: _Node):
    """A nested element as plain JSON data: leaves are strings; <item> and repeated tags become lists."""
    if not node.children:
        return node.text
    out: dict = {}
    for tag, nodes in _groups(node.children).items():
        if tag == "item" or len(nodes) > 1:
            out[tag] = [_to_json(n) for n in nodes]
        else:
            out[tag] = _to_json(nodes[0])
    return out


def _groups(nodes: list[_Node]) -> dict[str, list[_Node]]:
    groups: dict[str, list[_Node]] = {}
    for node in nodes:
        groups.setdefault(node.tag, []).append(node)
    return groups


def _flatten(groups: dict[str, list[_Node]], prefix: str, extra: dict[str, str]) -> None:
    """Leftover fields into `extra`: leaves by name ("PicUrl"), nested elements by dotted path
    ("PublishEventInfo.publish_id"); lists (an element holding <item>s, or a repeated tag) as JSON."""
    for tag, nodes in groups.items():
        key = prefix + tag
        if len(key) > 128 or len(extra) >= MAX_FIELDS:
            raise CallbackRejected(400, "too many or too long field names")
        if len(nodes) > 1:
            extra[key] = json.dumps([_to_json(n) for n in nodes], ensure_ascii=False)
        elif not nodes[0].children:
            extra[key] = nodes[0].text
        elif any(child.tag == "item" for child in nodes[0].children):
            extra[key] = json.dumps(_to_json(nodes[0]), ensure_ascii=False)
        else:
            _flatten(_groups(nodes[0].children), key + ".", extra)
            continue
        if len(extra[key]) > 4 * MAX_FIELD:
            raise CallbackRejected(400, f"{key} too long")


class _Fields:
    """The top-level fields of a message; `take` consumes one, the rest end up in `extra`."""

    def __init__(self, root: _Node):
        if len(root.children) > MAX_FIELDS:
            raise CallbackRejected(400, "too many fields")
        self.groups = _groups(root.children)

    def take(self, name: str, limit: int = MAX_FIELD) -> str | None:
        nodes = self.groups.pop(name, None)
        if not nodes:
            return None
        text = nodes[0].text
        if len(text) > limit:
            raise CallbackRejected(400, f"{name} too long")
        return text

    def matching(self, name: str, pattern: re.Pattern, required: bool = True) -> str | None:
        """A field that must look like WeChat's (an openid, a MsgId …): 400 naming it otherwise."""
        value = self.required(name) if required else (self.take(name) or None)
        if value is not None and not pattern.fullmatch(value):
            raise CallbackRejected(400, f"malformed {name}")
        return value

    def required(self, name: str) -> str:
        value = self.take(name)
        if not value:
            raise CallbackRejected(400, f"missing {name}")
        return value

    def number(self, name: str) -> float | None:
        value = self.take(name)
        if value is None or not value.strip():
            return None
        try:
            number = float(value)
        except ValueError:
            raise CallbackRejected(400, f"{name} is not a number") from None
        if not math.isfinite(number):
            raise CallbackRejected(400, f"{name} is not a number")
        return number


def _created_at(value: str) -> datetime:
    value = value.strip()
    if not _DIGITS.fullmatch(value):
        raise CallbackRejected(400, "CreateTime is not an integer")
    try:
        return datetime.fromtimestamp(int(value), timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise CallbackRejected(400, "CreateTime out of range") from None


def _to_inbound(root: _Node) -> Inbound:
    f = _Fields(root)
    to_user = f.matching("ToUserName", _ORIGINAL_ID)
    from_user = f.matching("FromUserName", _OPENID)
    created_at = _created_at(f.required("CreateTime"))
    msg_type = f.matching("MsgType", _NAME)
    kw: dict = {"msg_id": f.matching("MsgId", _MSG_ID, required=False)}
    extra: dict[str, str] = {}

    if msg_type == "text":
        kw["text"] = f.take("Content")
    elif msg_type == "image":
        kw["media_id"] = f.take("MediaId")
    elif msg_type == "voice":
        kw["media_id"] = f.take("MediaId")
        recognition = f.take("Recognition")
        if recognition:
            kw["recognition"] = kw["text"] = recognition
    elif msg_type in ("video", "shortvideo"):
        kw["media_id"] = f.take("MediaId")
    elif msg_type == "location":
        kw["latitude"] = f.number("Location_X")
        kw["longitude"] = f.number("Location_Y")
        kw["label"] = f.take("Label")
    elif msg_type == "link":
        kw["title"] = f.take("Title")
        kw["url"] = f.take("Url")
    elif msg_type == "event":
        event = f.matching("Event", _NAME, required=False)
        event_key = f.take("EventKey") or None
        kw.update(event=event, event_key=event_key)
        if event == "subscribe" and event_key and event_key.startswith("qrscene_"):
            kw["scene"] = event_key[len("qrscene_"):] or None
        elif event == "SCAN":
            kw["scene"] = event_key
        elif event == "VIEW":
            kw["url"] = event_key
        elif event == "LOCATION":
            kw["latitude"] = f.number("Latitude")
            kw["longitude"] = f.number("Longitude")
        elif event in ("MASSSENDJOBFINISH", "TEMPLATESENDJOBFINISH"):
            kw["status"] = f.take("Status")
    else:
        extra["MsgType"] = msg_type
        msg_type = "unknown"

    _flatten(f.groups, "", extra)
    return Inbound(kind=msg_type, openid=from_user, account_original_id=to_user, created_at=created_at,
                   extra=extra, **kw)


def open_message(keys: AccountKeys, query: dict[str, str], body: bytes, now: float,
                 window_s: int) -> tuple[Inbound, bool]:
    """Verify, decrypt and parse one POSTed callback; returns (message, encrypted), where `encrypted`
    tells whether the reply must be sealed with `seal_reply`.

    Order of checks: size (413), the format of timestamp and nonce (400), signature and timestamp window
    (403), the account's mode against encrypt_type (403: plain account sent aes, compatible or safe
    account sent plaintext), then the body (400), the msg_signature (403), decryption (400; 403 for a
    foreign appid) and the inner XML, whose fields must look like WeChat's (400).

    What this cannot tell: whether this (timestamp, nonce, signature) was used before. In plain mode the
    signature does not cover the body, so the gateway records each one with the delivery (single use).
    """
    if body is None:
        body = b""
    elif isinstance(body, str):  # tolerated: a framework that already decoded the body
        body = body.encode("utf-8", "surrogatepass")
    if len(body) > MAX_BODY:
        raise CallbackRejected(413, "body too large")
    timestamp, nonce = _check_signature(keys, query, now, window_s)

    encrypt_type = _param(query, "encrypt_type") or "raw"
    if encrypt_type not in ("raw", "aes"):
        raise CallbackRejected(400, "unsupported encrypt_type")
    encrypted = encrypt_type == "aes"
    if encrypted and keys.mode == "plain":
        raise CallbackRejected(403, "encrypted callback for a plain-mode account")
    if not encrypted and keys.mode != "plain":
        # Compatible mode sends both; only the encrypted part is authenticated, so it is required and used.
        raise CallbackRejected(403, f"plaintext callback for a {keys.mode}-mode account")

    if not body:
        raise CallbackRejected(400, "empty body")
    try:
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError:
        raise CallbackRejected(400, "body is not UTF-8") from None
    root = _load(text)

    if encrypted:
        envelope = _Fields(root)
        encrypt = envelope.take("Encrypt", MAX_BODY)  # the whole message, sealed
        if not encrypt:
            raise CallbackRejected(400, "missing Encrypt")
        if not _same(_sha1_sorted(keys.token, timestamp, nonce, encrypt), _param(query, "msg_signature")):
            raise CallbackRejected(403, "bad msg_signature")
        root = _load(_decrypt(keys, encrypt))
    return _to_inbound(root), encrypted


def replay_stamp(query: dict[str, str]) -> tuple[str, int]:
    """After `open_message` accepted the query: "timestamp#nonce#signature" (the part of a callback URL
    that can be captured and replayed) and the UNIX time it was signed for."""
    timestamp = _param(query, "timestamp") or "0"
    return f"{timestamp}#{_param(query, 'nonce')}#{_param(query, 'signature')}", int(timestamp)


# ---- XML out ----------------------------------------------------------------------------------------

def _cdata(value: str | None) -> str:
    """A CDATA section holding exactly `value` (minus XML-illegal characters), ']]>' included."""
    return "<![CDATA[" + xml_safe(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def render_reply(reply: Reply, to_openid: str, from_original_id: str, now: float) -> str:
    """The passive reply: text → MsgType text; articles → MsgType news (the first 8 articles; when both
    are set, the articles win); an empty reply → the literal 'success'."""
    if reply.empty:
        return "success"
    head = (f"<xml><ToUserName>{_cdata(to_openid)}</ToUserName>"
            f"<FromUserName>{_cdata(from_original_id)}</FromUserName>"
            f"<CreateTime>{int(now)}</CreateTime>")
    if reply.articles:
        articles = reply.articles[:MAX_ARTICLES]
        items = "".join(
            f"<item><Title>{_cdata(a.title)}</Title><Description>{_cdata(a.description)}</Description>"
            f"<PicUrl>{_cdata(a.image_url)}</PicUrl><Url>{_cdata(a.url)}</Url></item>"
            for a in articles)
        return (f"{head}<MsgType><![CDATA[news]]></MsgType><ArticleCount>{len(articles)}</ArticleCount>"
                f"<Articles>{items}</Articles></xml>")
    return f"{head}<MsgType><![CDATA[text]]></MsgType><Content>{_cdata(reply.text)}</Content></xml>"


def seal_reply(keys: AccountKeys, xml: str, timestamp: str, nonce: str) -> str:
    """The encrypted envelope for compatible/safe mode, signed with
    MsgSignature = sha1(sorted [token, timestamp, nonce, Encrypt]). 'success' is returned unchanged."""
    if xml == "success":
        return xml
    encrypt = _encrypt(keys, xml)
    signature = _sha1_sorted(keys.token, timestamp, nonce, encrypt)
    stamp = timestamp if _DIGITS.fullmatch(timestamp) else _cdata(timestamp)
    return (f"<xml><Encrypt>{_cdata(encrypt)}</Encrypt><MsgSignature>{_cdata(signature)}</MsgSignature>"
            f"<TimeStamp>{stamp}</TimeStamp><Nonce>{_cdata(nonce)}</Nonce></xml>")
