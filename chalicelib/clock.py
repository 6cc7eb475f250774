"""The one clock (时钟): every "now" of the platform, aware UTC.

Deployed stages read the system clock and ignore everything else here. On the laptop stack (stage
`local` only) the platform can run at a set time, so that a demo, a test or a simulation sees 09:30
whatever the wall clock says:

- `LOCAL_CLOCK=2026-12-01T09:30+08:00` starts the clock there (it then runs on from that moment);
- `LOCAL_CLOCK_FILE` names a small JSON file shared by the stack's processes (`make run` writes it, the
  WeChat emulator's `/__emulator/clock` endpoint moves it): `{"offset_seconds": 5400.0}` or
  `{"frozen_at": "2026-12-01T01:30:00+00:00"}`. It is read again whenever it changes.

Tests swap the clock with `set_clock(fn)` (and `reset()`), or through `chalicelib.bootstrap`.
"""
from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone
from typing import Callable
from zoneinfo import ZoneInfo

_override: Callable[[], datetime] | None = None
_file_state: dict = {"path": None, "mtime": None, "offset": 0.0, "frozen": None}
_env_anchor: dict = {"value": None, "offset": None}


def now() -> datetime:
    """Now, aware UTC: the platform's only source of the current time."""
    if _override is not None:
        return _override()
    wall = datetime.now(timezone.utc)
    if os.environ.get("STAGE", "local") != "local":
        return wall
    frozen, offset = _local_adjustment(wall)
    if frozen is not None:
        return frozen
    return wall if not offset else datetime.fromtimestamp(wall.timestamp() + offset, timezone.utc)


def set_clock(fn: Callable[[], datetime] | datetime | None) -> None:
    """Fix the clock (a datetime) or drive it (a function); None gives the real clock back."""
    global _override
    if isinstance(fn, datetime):
        fixed = fn if fn.tzinfo else fn.replace(tzinfo=timezone.utc)
        _override = lambda: fixed  # noqa: E731
    else:
        _override = fn


def reset() -> None:
    set_clock(None)


def parse_local_clock(value: str) -> datetime:
    """`2026-12-01T09:30+08:00` (or with `Z`); a naive time is read as Asia/Shanghai."""
    text = value.strip().replace("Z", "+00:00")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:

        moment = moment.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    return moment.astimezone(timezone.utc)


def _local_adjustment(wall: datetime) -> tuple[datetime | None, float]:
    """(a frozen moment or None, the offset in seconds) for the laptop stack."""
    path = os.environ.get("LOCAL_CLOCK_FILE")
    found = read_local_clock_file(path) if path else None
    if found is not None:
        return found
    value = os.environ.get("LOCAL_CLOCK")
    if not value:
        return None, 0.0
    if _env_anchor["value"] != value:  # anchor once per process: the clock runs on from LOCAL_CLOCK
        _env_anchor["value"] = value
        _env_anchor["offset"] = parse_local_clock(value).timestamp() - time.time()
    return None, float(_env_anchor["offset"])


def read_local_clock_file(path: str) -> tuple[datetime | None, float] | None:
    """(the frozen moment or None, the offset in seconds) the shared clock file says, read again whenever it
    changes; None when there is no such file. The laptop's processes (the platform, the emulator) all read
    it through here."""
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        return None
    if _file_state["path"] != path or _file_state["mtime"] != mtime:
        _read_file(path, mtime)
    return _file_state["frozen"], _file_state["offset"]


def _read_file(path: str, mtime: int) -> None:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        data = {}
    frozen = data.get("frozen_at")
    _file_state.update(path=path, mtime=mtime, offset=float(data.get("offset_seconds") or 0.0),
                       frozen=parse_local_clock(frozen) if frozen else None)


def write_local_clock_file(path: str, *, offset_seconds: float = 0.0, frozen_at: datetime | None = None) -> None:
    """Write the laptop clock's shared file atomically (used by the stack and the emulator, never deployed)."""
    data: dict = {"offset_seconds": offset_seconds}
    if frozen_at is not None:
        data = {"frozen_at": frozen_at.astimezone(timezone.utc).isoformat()}
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.replace(tmp, path)
