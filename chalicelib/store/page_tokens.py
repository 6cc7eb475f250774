"""Page tokens (翻页令牌): the cursors of staff lists and the audit log, and Open311's `page_token`.

A token is DynamoDB's LastEvaluatedKey as base64url JSON plus an HMAC-SHA256 tag over it and the query
it belongs to (index and partition), keyed by a key derived from the console's signing key in SSM. A
token that is not ours, altered, or from another query is `BadCursor` (400), never a DynamoDB error.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json

from chalicelib.auth.tokens import signing_key_store
from chalicelib.domain.errors import BadRequest

MAX_TOKEN = 2048
TAG_BYTES = 16


class BadCursor(BadRequest):
    code = "bad_cursor"


def _key() -> bytes:

    return hmac.new(signing_key_store().get(), b"page-token", hashlib.sha256).digest()


def _tag(query: str, payload: str) -> str:
    digest = hmac.new(_key(), f"{query}\n{payload}".encode(), hashlib.sha256).digest()[:TAG_BYTES]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def encode(last_key: dict | None, query: str) -> str | None:
    """The token for resuming `query` after `last_key` (None at the end)."""
    if not last_key:
        return None
    payload = base64.urlsafe_b64encode(json.dumps(last_key, separators=(",", ":")).encode()).decode().rstrip("=")
    return f"{payload}.{_tag(query, payload)}"


def decode(token: str | None, query: str) -> dict | None:
    """The start key in a token of ours for this very query; BadCursor otherwise."""
    if not token:
        return None
    if not isinstance(token, str) or len(token) > MAX_TOKEN or token.count(".") != 1:
        raise BadCursor("cursor 无效")
    payload, tag = token.split(".")
    if not hmac.compare_digest(tag.encode(), _tag(query, payload).encode()):
        raise BadCursor("cursor 无效")
    try:
        value = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise BadCursor("cursor 无效") from None
    if not isinstance(value, dict):
        raise BadCursor("cursor 无效")
    return value
