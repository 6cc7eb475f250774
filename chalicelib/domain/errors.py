"""Outcomes the callers answer for (错误), in one home.

Each error says what went wrong in simplified Chinese for staff or residents, carries a stable English
`code`, and the HTTP `status` an API answers it with. The domain knows no HTTP: the status is a hint
that `chalicelib.web.http` (the one place that maps errors to responses) reads for JSON routes, the
console's API and the H5 pages alike.
"""
from __future__ import annotations


class DomainError(ValueError):
    """Bad input or a request the platform cannot carry out."""

    status = 400
    code = "invalid"
    message = "请求有误"

    def __init__(self, message: str | None = None, code: str | None = None):
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        super().__init__(self.message)

    def body(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class BadRequest(DomainError):
    status = 400
    code = "bad_request"
    message = "请求有误"


class Unauthenticated(DomainError):
    """No (valid) credentials."""

    status = 401
    code = "unauthenticated"
    message = "请先登录"


class Forbidden(DomainError):
    """The principal sees the object but may not do this to it."""

    status = 403
    code = "forbidden"
    message = "没有权限执行此操作"


class NotFound(DomainError):
    """Missing, or out of the principal's scope: the two must look the same."""

    status = 404
    code = "not_found"
    message = "未找到该记录"


class ConflictError(DomainError):
    """The action does not fit the current state of the thing (e.g. a request already done)."""

    status = 409
    code = "conflict"
    message = "状态已变化，请刷新后再试"


class TooManyRequests(DomainError):
    status = 429
    code = "too_many_requests"
    message = "操作太频繁，请稍后再试"


class StorageUnavailable(DomainError):
    """The store did not answer in time (throttled, timed out, down): the caller parks or retries."""

    status = 503
    code = "storage_unavailable"
    message = "系统正忙，请稍后再试"


# ---- what a commit can answer (the unit of work raises these; nothing was written) --------------

class Duplicate(ConflictError):
    """This delivery was already committed (by an earlier or a concurrent copy)."""

    code = "duplicate"

    def __init__(self, delivery_key: str = ""):
        super().__init__("重复的消息")
        self.delivery_key = delivery_key


class DuplicateNeed(ConflictError):
    """The resident already has an open request for the same need (its number in `.number`)."""

    code = "duplicate_need"

    def __init__(self, number: str):
        super().__init__(f"同样的需求已有纸条 {number} 在办理")
        self.number = number


class Refused(ConflictError):
    """An effect's condition says no (e.g. the last delivery places are gone); `.reply` says so kindly."""

    code = "refused"

    def __init__(self, reply: str):
        super().__init__(reply)
        self.reply = reply


class OverLimit(Refused):
    """The sender's quota of 便民纸条 is used up (or staff blocked the sender); `.reply` says so kindly and
    nothing is filed (the one refusal that files nothing: a flood is not a need)."""

    status = 429
    code = "over_limit"


class Replayed(Forbidden):
    """This callback URL (timestamp, nonce, signature) already carried another delivery: a replay."""

    code = "replayed"

    def __init__(self, stamp_key: str = ""):
        super().__init__("replayed callback")
        self.stamp_key = stamp_key


class StaleState(ConflictError):
    """A change lost a race: the thing's state changed since it was read."""

    code = "stale_state"

    def __init__(self, detail: str = ""):
        super().__init__("刚被别人处理过，请刷新后再试")
        self.detail = detail


class PermanentFailure(ValueError):
    """A queued message that can never succeed (malformed, or about something that does not exist): the
    queue handler moves it to the dead-letter queue at once instead of retrying it."""


class SecretsUnavailable(StorageUnavailable):
    """SSM did not answer (throttled, timed out, down): the callback parks the raw message, never a 500."""

    code = "secrets_unavailable"


class SecretsMissing(LookupError):
    """An account has no (or incomplete) secrets in SSM: its callbacks answer 503, never 500."""
