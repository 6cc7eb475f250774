"""Account secrets from SSM Parameter Store (SecureString), read once per container and cached.

Path per stage and account: `{SSM_PREFIX}/accounts/{account_id}/{name}` where name is one of
`app_secret`, `token`, `encoding_aes_key`. The values never reach a table, a log or config.json.
"""
from __future__ import annotations

import time
from dataclasses import field

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.cache import ContainerCache
from chalicelib.config import settings
from chalicelib.domain.errors import SecretsMissing, SecretsUnavailable
from chalicelib.domain.records import record
from chalicelib.store.base import shared_session

SECRET_NAMES = ("app_secret", "token", "encoding_aes_key")
MISS_SECONDS = 30


@record
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
        ttl = settings().secrets_cache_seconds if ttl_seconds is None else ttl_seconds
        # A miss (no or incomplete parameters) is kept briefly: a broken account does not ask SSM per call.
        # room for every account of a large district (about 200 bytes each)
        self._cache = ContainerCache(ttl, clock=clock, max_entries=20_000, miss_seconds=MISS_SECONDS)

    def _ssm(self):
        if self._client is None:
            # the container's one botocore session (store/base.py), shared with DynamoDB and SQS
            self._client = shared_session().create_client("ssm", region_name=settings().region)
        return self._client

    def connect(self):
        """Make the SSM client now (Lambda's init phase, `bootstrap.warm_up`) and return it; sends nothing."""
        return self._ssm()

    def get(self, account_id: str) -> AccountSecrets:
        """The account's secrets; `SecretsMissing` when SSM lacks them (remembered MISS_SECONDS)."""
        secrets = self._cache.get(account_id, lambda: self._load(account_id))
        if secrets is None:
            raise SecretsMissing(f"account {account_id}: no or incomplete SSM parameters")
        return secrets

    def _load(self, account_id: str) -> AccountSecrets | None:
        names = [parameter_path(account_id, n) for n in SECRET_NAMES]
        try:
            answer = self._ssm().get_parameters(Names=names, WithDecryption=True)
        except (BotoCoreError, ClientError) as exc:  # throttled, timed out, down: not cached, the caller parks
            raise SecretsUnavailable(f"SSM: {type(exc).__name__}: {exc}") from exc
        values = {p["Name"].rsplit("/", 1)[-1]: p["Value"] for p in answer.get("Parameters", [])}
        if not values.get("app_secret") or not values.get("token"):
            return None
        return AccountSecrets(values["app_secret"], values["token"], values.get("encoding_aes_key"))

    def put(self, account_id: str, secrets: AccountSecrets) -> None:
        """Write (or overwrite) an account's parameters as SecureString; used when onboarding an account."""
        for name in SECRET_NAMES:
            value = getattr(secrets, name)
            if value:
                self._ssm().put_parameter(Name=parameter_path(account_id, name), Value=value,
                                          Type="SecureString", Overwrite=True)
        self._cache.forget(account_id)


_STORE: SecretStore | None = None


def secret_store() -> SecretStore:
    """The container's secret store, built on first use."""
    global _STORE
    if _STORE is None:
        _STORE = SecretStore()
    return _STORE
