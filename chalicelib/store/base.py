"""Shared pieces of the PynamoDB models: table metadata from settings, index helper, clock."""
from __future__ import annotations

import botocore.loaders
import botocore.session
import pynamodb.connection.base
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from chalicelib.config import settings, table_name


_LOADER = botocore.loaders.create_loader()


def _session_with_shared_loader() -> botocore.session.Session:
    """A botocore session that reuses one data loader.

    PynamoDB opens one session per model; each would parse DynamoDB's service description again (tens
    of milliseconds each on a cold Lambda). Sharing the loader parses it once per container.
    """
    session = botocore.session.get_session()
    session.register_component("data_loader", _LOADER)
    return session


pynamodb.connection.base.get_session = _session_with_shared_loader
shared_session = _session_with_shared_loader  # for the other AWS clients (SSM, SQS): one loader per container


def table_meta(table: str, ttl_attribute: str | None = None) -> type:
    """A PynamoDB `Meta` for a logical table: name from the environment, on-demand billing."""

    class Meta:
        pass

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


def index_meta(name: str, keys_only: bool = False) -> type:
    """A PynamoDB GSI `Meta` (on-demand tables need no throughput)."""

    class Meta:
        pass

    Meta.index_name = name
    Meta.projection = KeysOnlyProjection() if keys_only else AllProjection()
    return Meta


__all__ = ["GlobalSecondaryIndex", "index_meta", "shared_session", "table_meta"]

