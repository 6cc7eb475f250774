"""Staff blocking a sender of 便民纸条 (屏蔽), and unblocking: the block item (counters table,
`store.windows.block_id`) and an audit event on the request that showed the abuse, in one transaction.

While blocked, every filing from that (account, openid), in chat or on H5, is refused inside its own
transaction (`store.windows.write_sender_quota`)."""
from __future__ import annotations

import json
from datetime import datetime

from chalicelib.store.counters import Counter
from chalicelib.store.windows import block_id


def is_blocked(account_id: str, openid: str) -> bool:
    try:
        return int(Counter.get(block_id(account_id, openid), consistent_read=True).value or 0) >= 1
    except Counter.DoesNotExist:
        return False


def set_blocked(request, blocked: bool, staff, reason: str, now: datetime) -> None:
    """Block (or unblock) the sender of `request` (a HelpRequest with an openid), audited on it."""
    from pynamodb.connection import Connection
    from pynamodb.transactions import TransactWrite

    from chalicelib.config import settings
    from chalicelib.store.request_writes import event_id
    from chalicelib.store.requests import RequestEvent

    marker = Counter(block_id(request.account_id, request.openid))
    with TransactWrite(connection=Connection(region=settings().region)) as tx:
        if blocked:
            tx.save(Counter(marker.counter_id, value=1))
        else:
            tx.delete(marker)
        tx.save(RequestEvent(request.number, event_id(now), community_key=request.community_key,
                             action="block_sender" if blocked else "unblock_sender", actor_kind="staff",
                             actor_id=staff.username, actor_role=staff.role, note=reason,
                             fields=json.dumps({"account_id": request.account_id}, ensure_ascii=False), at=now),
                condition=RequestEvent.event_id.does_not_exist())
