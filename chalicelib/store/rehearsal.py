"""The callback's AWS calls rehearsed offline in Lambda's init phase (预演), so its first request runs them warm.

A botocore client's first call of an operation builds what every later call reuses: the operation's model
and shapes, the event handlers' lookups for its event names, the endpoint resolution, the serializer's and
PynamoDB's paths. Measured in a fresh container (bench/scale.py), a resident's first message paid 2–5 ms
more for each operation it used than the same message to an account the container had not seen yet.

`offline(clients)` answers this thread's calls on those clients with an empty 200 (`{}`, or no items)
through botocore's own `before-send` event, so a call takes botocore's whole path — parameters validated,
the request serialised and signed, the answer parsed — but nothing is sent: no network round trip is added
to the init phase, no item is read or written, and no other thread's call is touched. `rehearse_callback`
runs the operations callbacks use: BatchGetItem (an account; a canteen with its menus), Query (a
resident's requests; an older community's canteens), GetItem, a transaction and the secrets'
GetParameters.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from botocore.awsrequest import AWSResponse
from pynamodb.transactions import TransactWrite

from chalicelib.config import settings
from chalicelib.store.accounts import Account
from chalicelib.store.base import batch_get_across, transaction_connection
from chalicelib.store.canteens import Canteen, Menu
from chalicelib.store.inbox import Delivery
from chalicelib.store.org import Community, District
from chalicelib.store.rules import RuleSet

REHEARSAL = "~rehearsal"  # the key every rehearsed call names (never an id: ids match [A-Za-z0-9_.-])
_HANDLER_ID = "chalicelib.store.rehearsal"


# What each operation answers when it finds nothing, where that is more than `{}` (PynamoDB reads these).
_EMPTY_ANSWERS = {"Query": b'{"Items": [], "Count": 0, "ScannedCount": 0}'}


class _Body:
    """An HTTP body as botocore reads one."""

    def __init__(self, content: bytes):
        self._content = content

    def stream(self, **_ignored) -> Iterator[bytes]:
        yield self._content


@contextmanager
def offline(*clients) -> Iterator[list[str]]:
    """Inside the block, this thread's calls on `clients` are answered `{}` without being sent; the list
    yielded collects the operations so answered."""
    thread = threading.get_ident()
    answered: list[str] = []

    def answer(request, event_name: str = "", **_ignored):
        if threading.get_ident() != thread:
            return None  # another thread's call goes out as usual
        operation = event_name.rsplit(".", 1)[-1]
        answered.append(operation)
        return AWSResponse(request.url, 200, {}, _Body(_EMPTY_ANSWERS.get(operation, b"{}")))

    unique = dict.fromkeys(clients)  # DynamoDB's client may serve models and transactions alike
    for client in unique:
        client.meta.events.register_first("before-send", answer, unique_id=_HANDLER_ID)
    try:
        yield answered
    finally:
        for client in unique:
            client.meta.events.unregister("before-send", unique_id=_HANDLER_ID)


def rehearse_callback(ssm) -> list[str]:
    """Run a callback's DynamoDB and SSM operations once each, offline; the operations rehearsed."""
    dynamodb = Account._get_connection().connection.client
    transactions = transaction_connection()
    with offline(dynamodb, transactions.client, ssm) as answered:
        batch_get_across({Account: [REHEARSAL], Community: [REHEARSAL], District: [REHEARSAL],
                          RuleSet: [REHEARSAL]})
        list(Canteen.by_community.query(REHEARSAL))
        try:
            Menu.get(REHEARSAL, "2000-01-01")
        except Menu.DoesNotExist:
            pass
        with TransactWrite(connection=transactions) as transaction:
            transaction.condition_check(Delivery, REHEARSAL, condition=Delivery.delivery_key.does_not_exist())
        ssm.get_parameters(Names=[f"{settings().ssm_prefix}/accounts/{REHEARSAL}/token"], WithDecryption=True)
    return answered
