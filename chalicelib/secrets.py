"""Account secrets from SSM Parameter Store (SecureString), read once per container and cached.

Path per stage and account: `{SSM_PREFIX}/accounts/{account_id}/{name}` where name is one of
`app_secret`, `token`, `encoding_aes_key`. The values never reach a table, a log or config.json.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from botocore.session import get_session  # imported on first use: keeps cold start low

from chalicelib.config import settings

SECRET_NAMES = ("app_secret", "token", "encoding_aes_key")


class SecretsMissing(LookupError):
    """An account has no (or incomplete) secrets in SSM."""


@dataclass(frozen=True)
class AccountSecrets:
    app_secret: str = field(repr=False)
    token: str = field(repr=False)
    encoding_aes_key: str | None = field(repr=False, default=None)  # only needed in compatible/safe mode


def parameter_path(account_id: str, name: str) -> str:
    return f"{settings().ssm_prefix}/accounts/{account_id}/{name}"


class SecretStore:
    """Reads an account's three parameters in one GetParameters call and caches them."""

    def __init__(self, ssm_client=None, ttl_seconds: int | None = None, clock=time.monotonic):
        self._client = ssm_client
        self._ttl = settings().secrets_cache_seconds if ttl_seconds is None else ttl_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, AccountSecrets]] = {}
        self._lock = threading.Lock()

    def _ssm(self):
        if self._client is None:

            self._client = get_session().create_client("ssm", region_name=settings().region)
        return self._client

    def get(self, account_id: str) -> AccountSecrets:
        now = self._clock()
        cached = self._cache.get(account_id)
        if cached and now - cached[0] < self._ttl:
            return cached[1]
        names = [parameter_path(account_id, n) for n in SECRET_NAMES]
        answer = self._ssm().get_parameters(Names=names, WithDecryption=True)
        values = {p["Name"].rsplit("/", 1)[-1]: p["Value"] for p in answer.get("Parameters", [])}
        missing = [n for n in ("app_secret", "token") if not values.get(n)]
        if missing:
            raise SecretsMissing(f"account {account_id}: no SSM parameter {', '.join(missing)}")
        secrets = AccountSecrets(values["app_secret"], values["token"], values.get("encoding_aes_key"))
        with self._lock:
            self._cache[account_id] = (now, secrets)
        return secrets

    def put(self, account_id: str, secrets: AccountSecrets) -> None:
        """Write (or overwrite) an account's parameters as SecureString; used when onboarding an account."""
        for name in SECRET_NAMES:
            value = getattr(secrets, name)
            if value:
                self._ssm().put_parameter(Name=parameter_path(account_id, name), Value=value,
                                          Type="SecureString", Overwrite=True)
        with self._lock:
            self._cache.pop(account_id, None)


_STORE: SecretStore | None = None


def secret_store() -> SecretStore:
    """The container's secret store, built on first use."""
    global _STORE
    if _STORE is None:
        _STORE = SecretStore()
    return _STORE
