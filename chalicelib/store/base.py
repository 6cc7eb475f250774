"""Shared pieces of the PynamoDB models: table metadata, index helper, the container's one botocore session."""
from __future__ import annotations

import threading
import time
from functools import lru_cache
from typing import Iterable, Mapping

import botocore.config
import botocore.loaders
import botocore.session
import pynamodb.connection.base
from pynamodb.connection import Connection
from pynamodb.exceptions import GetError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.config import settings, table_name
from chalicelib.store import model_classes  # noqa: F401 - PynamoDB's class set-up, made cheap before any model


_LOADER = [botocore.loaders.create_loader()]  # botocore's service descriptions, parsed once per container


class SharedSession(botocore.session.Session):
    """The container's one botocore session (共享会话), whose clients are made once and shared.

    PynamoDB opens a session and a DynamoDB client per model (and per thread); each new session registers
    botocore's ~370 built-in event handlers and each new client builds its service model, endpoint rules
    and client class again: tens of milliseconds each, paid on a container's first request to every
    model. Here every model, the unit of work, SSM and SQS share one session, and a client asked for
    again with the same arguments is the one already made (botocore clients are thread-safe; client
    creation is not, hence the lock). A client whose credentials came back empty is made anew, as
    PynamoDB itself does.
    """

    def __init__(self) -> None:
        super().__init__()
        self.register_component("data_loader", _LOADER[0])
        self._clients: dict[tuple, object] = {}
        self._lock = threading.Lock()

    def create_client(self, service_name, region_name=None, api_version=None, use_ssl=True, verify=None,
                      endpoint_url=None, aws_access_key_id=None, aws_secret_access_key=None,
                      aws_session_token=None, config=None, aws_account_id=None):
        options = None if config is None else tuple(
            (name, repr(getattr(config, name, None))) for name in botocore.config.Config.OPTION_DEFAULTS)
        key = (service_name, region_name, api_version, use_ssl, verify, endpoint_url, aws_access_key_id,
               aws_secret_access_key, aws_session_token, options, aws_account_id)
        with self._lock:
            client = self._clients.get(key)
            signer = getattr(client, "_request_signer", None)
            if client is None or (signer is not None and not getattr(signer, "_credentials", True)):
                client = self._clients[key] = super().create_client(
                    service_name, region_name=region_name, api_version=api_version, use_ssl=use_ssl,
                    verify=verify, endpoint_url=endpoint_url, aws_access_key_id=aws_access_key_id,
                    aws_secret_access_key=aws_secret_access_key, aws_session_token=aws_session_token,
                    config=config, aws_account_id=aws_account_id)
            return client


_shared: list[SharedSession] = []
_shared_lock = threading.Lock()


def shared_session() -> SharedSession:
    """The container's botocore session, for PynamoDB and the other AWS clients (SSM, SQS)."""
    if not _shared:
        with _shared_lock:
            if not _shared:
                _shared.append(SharedSession())
    return _shared[0]


def forget_session(descriptions: bool = False) -> None:
    """Drop the shared session and its clients (tests and benchmarks: the next client talks to the endpoint
    set now); with `descriptions`, botocore's parsed service descriptions too, as a new container has none."""
    with _shared_lock:
        _shared.clear()
        if descriptions:
            _LOADER[0] = botocore.loaders.create_loader()


pynamodb.connection.base.get_session = shared_session


@lru_cache(maxsize=1)
def transaction_connection() -> Connection:
    """The connection PynamoDB's `TransactWrite` goes through (事务连接), with the store's deadlines and
    retries, on the container's one DynamoDB client: the unit of work, posts, staff and the matrix."""
    config = settings()
    return Connection(region=config.region, connect_timeout_seconds=config.storage_connect_timeout_s,
                      read_timeout_seconds=config.storage_read_timeout_s, max_retry_attempts=config.storage_retries)


BATCH_ROUNDS = 3


def batch_get_across(keys: Mapping[type[Model], Iterable]) -> dict[type[Model], list[Model]]:
    """Items of several tables in one BatchGetItem (一次批量读取): PynamoDB's `batch_get` reads one table.
    A model keyed by a hash key alone is asked for by hash keys, one with a range key by (hash, range)
    pairs. Keys DynamoDB leaves unprocessed (throttled) are asked again after a short back-off, up to
    BATCH_ROUNDS requests in all; a failure, or keys still unprocessed, raise PynamoDB's `GetError`, as
    `Model.get` does (a callback then parks). Missing items are simply absent."""
    request: dict[str, dict] = {}
    models: dict[str, type[Model]] = {}
    for model, model_keys in keys.items():
        wanted = [_key(model, key) for key in dict.fromkeys(model_keys)]
        if wanted:
            request[model.Meta.table_name] = {"Keys": wanted}
            models[model.Meta.table_name] = model
    found: dict[type[Model], list[Model]] = {model: [] for model in keys}
    for attempt in range(BATCH_ROUNDS + 1):
        if not request:
            return found
        if attempt == BATCH_ROUNDS:
            raise GetError(f"Failed to batch get items: still unprocessed after {BATCH_ROUNDS} requests")
        if attempt:
            time.sleep(0.05 * 2 ** (attempt - 1))
        connection = models[next(iter(request))]._get_connection().connection  # one client serves every table
        try:
            answer = connection.dispatch("BatchGetItem", {"RequestItems": request})
        except pynamodb.connection.base.BOTOCORE_EXCEPTIONS as exc:
            raise GetError(f"Failed to batch get items: {exc}", exc) from exc
        for table, items in answer.get("Responses", {}).items():
            found[models[table]].extend(models[table].from_raw_data(item) for item in items)
        request = answer.get("UnprocessedKeys") or {}
    return found


def _key(model: type[Model], key) -> dict:
    """A key in DynamoDB's form: a hash key, or (hash key, range key) for a model with a range key."""
    hash_attribute, range_attribute = model._hash_key_attribute(), model._range_key_attribute()
    hash_key, range_key = key if range_attribute is not None else (key, None)
    found = {hash_attribute.attr_name: {hash_attribute.attr_type: hash_attribute.serialize(hash_key)}}
    if range_attribute is not None:
        found[range_attribute.attr_name] = {range_attribute.attr_type: range_attribute.serialize(range_key)}
    return found


class TableMeta:
    """A model's or an index's PynamoDB `Meta` (表和索引的设置). PynamoDB only reads and sets its
    attributes, so each table and index gets an instance of this rather than a class of its own: a class
    each cost a cold start ~60,000 instructions, ~3.5 M for the platform's ~75 (bench/import_time.py)."""

    def __repr__(self) -> str:
        return f"Meta({', '.join(f'{name}={value!r}' for name, value in vars(self).items())})"


def table_meta(table: str, ttl_attribute: str | None = None) -> TableMeta:
    """A PynamoDB `Meta` for a logical table: name from the environment, on-demand billing."""
    Meta = TableMeta()  # noqa: N806 - PynamoDB's name for it
    Meta.table_name = table_name(table)
    Meta.region = settings().region
    Meta.billing_mode = "PAY_PER_REQUEST"
    # Deadlines per request and capped retries: a throttled or slow DynamoDB fails fast, and the callback
    # (which also has an overall budget, `services.chat.within_budget`) parks the message instead.
    Meta.connect_timeout_seconds = settings().storage_connect_timeout_s
    Meta.read_timeout_seconds = settings().storage_read_timeout_s
    Meta.max_retry_attempts = settings().storage_retries
    Meta.logical_name = table
    Meta.ttl_attribute = ttl_attribute
    return Meta


def index_meta(name: str, keys_only: bool = False) -> TableMeta:
    """A PynamoDB GSI `Meta` (on-demand tables need no throughput)."""
    Meta = TableMeta()  # noqa: N806
    Meta.index_name = name
    Meta.projection = KeysOnlyProjection() if keys_only else AllProjection()
    return Meta


__all__ = ["GlobalSecondaryIndex", "TableMeta", "batch_get_across", "forget_session", "index_meta", "shared_session",
           "table_meta", "transaction_connection"]

