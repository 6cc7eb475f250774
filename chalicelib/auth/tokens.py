"""Console tokens: short-lived JWTs (HS256) signed with a key kept in SSM.

The key is the SecureString parameter `{SSM_PREFIX}/console/jwt_key`, read once per container and cached
for `SECRETS_CACHE_SECONDS` (like the account secrets in chalicelib/secrets.py), so a rotated key reaches
every container within that time; rotating it signs every staff user out.

Claims: `sub` (username), `name`, `role`, the scope fields, `ver` (the user's token_version), `iss`
(app and stage), `aud` ("console"), `iat`, `exp` (30 minutes). Tokens are never logged.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any


from chalicelib import clock
from chalicelib.config import APP_NAME, settings
from chalicelib.secrets import secret_store

TOKEN_LIFETIME = timedelta(minutes=30)
ALGORITHM = "HS256"
AUDIENCE = "console"
MIN_KEY_BYTES = 32  # RFC 7518 §3.2: an HS256 key at least as long as the hash
REQUIRED_CLAIMS = ("sub", "role", "ver", "iat", "exp", "iss", "aud")


class TokenInvalid(Exception):
    """Refused: malformed, badly signed, expired, for another stage or audience, or revoked. The message
    says why, for logs only (it never contains the token)."""


class SigningKeyMissing(LookupError):
    """No usable signing key in SSM."""


def key_path() -> str:
    return f"{settings().ssm_prefix}/console/jwt_key"


def issuer() -> str:
    return f"{APP_NAME}:{settings().stage}"


class SigningKeyStore:
    """Reads the signing key with one GetParameter call and caches it.

    Without a client of its own it uses the account secrets' SSM client (`chalicelib.secrets`): one client
    per container, and whatever replaces that store (a test's fresh fake AWS) replaces this cache too.
    """

    def __init__(self, ssm_client=None, ttl_seconds: int | None = None, clock=time.monotonic):
        self._client = ssm_client
        self._ttl = settings().secrets_cache_seconds if ttl_seconds is None else ttl_seconds
        self._clock = clock
        self._cached: tuple[Any, float, bytes] | None = None  # (client, read at, key)
        self._lock = threading.Lock()

    def _ssm(self):
        if self._client is not None:
            return self._client

        return secret_store()._ssm()  # noqa: SLF001 - the container's one SSM client

    def get(self) -> bytes:
        ssm = self._ssm()
        now = self._clock()
        cached = self._cached
        if cached and cached[0] is ssm and now - cached[1] < self._ttl:
            return cached[2]
        try:
            value = ssm.get_parameter(Name=key_path(), WithDecryption=True)["Parameter"]["Value"]
        except ssm.exceptions.ParameterNotFound:
            raise SigningKeyMissing(f"no SSM parameter {key_path()}") from None
        key = value.encode("utf-8")
        if len(key) < MIN_KEY_BYTES:
            raise SigningKeyMissing(f"SSM parameter {key_path()} is shorter than {MIN_KEY_BYTES} bytes")
        with self._lock:
            self._cached = (ssm, now, key)
        return key

    def put(self, value: str) -> None:
        """Write (or overwrite) the key as a SecureString; used by the laptop seed and by operators."""
        if len(value.encode("utf-8")) < MIN_KEY_BYTES:
            raise ValueError(f"the signing key must be at least {MIN_KEY_BYTES} bytes")
        self._ssm().put_parameter(Name=key_path(), Value=value, Type="SecureString", Overwrite=True)
        with self._lock:
            self._cached = None


_STORE: SigningKeyStore | None = None


def signing_key_store() -> SigningKeyStore:
    """The container's key store, built on first use."""
    global _STORE
    if _STORE is None:
        _STORE = SigningKeyStore()
    return _STORE


def reset() -> None:
    """Forget the cached key and client (tests)."""
    global _STORE
    _STORE = None


def _jwt():
    """PyJWT, loaded on first use in this one place: importing it imports `cryptography` (tens of ms), which
    a cold Lambda that only answers WeChat's plain-mode callbacks never needs."""
    import jwt

    return jwt


def sign(payload: dict[str, Any], key: str | None = None) -> str:
    """An HS256 token of `payload`, signed with `key` (default: the console's key from SSM)."""
    return _jwt().encode(payload, key or signing_key_store().get(), algorithm=ALGORITHM)


def verify(token: str, audience: str, required: tuple[str, ...], key: str | None = None) -> dict[str, Any]:
    """The claims of an HS256 token of ours for `audience` (issuer checked, `required` claims present);
    `TokenInvalid` otherwise. Only HS256 (no `none`, no algorithm confusion); expiry is checked against
    the platform's clock, with no leeway."""
    jwt = _jwt()
    try:
        claims = jwt.decode(token, key or signing_key_store().get(), algorithms=[ALGORITHM], audience=audience,
                            issuer=issuer(), options={"require": list(required), "verify_exp": False,
                                                      "verify_iat": False})
    except jwt.PyJWTError as exc:
        raise TokenInvalid(type(exc).__name__) from None
    if not expiry_ok(claims):
        raise TokenInvalid("ExpiredSignatureError")
    return claims


def issue(claims: dict[str, Any], now: datetime | None = None) -> tuple[str, datetime]:
    """A signed token with `claims` (sub, name, role, scope, ver) and its expiry."""
    now = now or clock.now()
    expires_at = (now + TOKEN_LIFETIME).replace(microsecond=0)
    payload = {**claims, "iss": issuer(), "aud": AUDIENCE, "iat": int(now.timestamp()),
               "exp": int(expires_at.timestamp())}
    return sign(payload), expires_at


def expiry_ok(claims: dict[str, Any]) -> bool:
    """`exp` is still ahead of the platform's clock (no leeway): PyJWT would read the wall clock."""
    exp = claims.get("exp")
    return isinstance(exp, int) and not isinstance(exp, bool) and clock.now().timestamp() < exp


def decode(token: str) -> dict[str, Any]:
    """The claims of a valid token; `TokenInvalid` otherwise. Only HS256 is accepted (no `none`, no
    algorithm confusion), and expiry is checked against the clock with no leeway."""
    if not token or len(token) > 4096:
        raise TokenInvalid("missing or oversized token")
    claims = verify(token, AUDIENCE, tuple(REQUIRED_CLAIMS))
    if not isinstance(claims.get("sub"), str) or not isinstance(claims.get("ver"), int):
        raise TokenInvalid("malformed claims")
    return claims
