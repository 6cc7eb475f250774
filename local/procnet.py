"""Which sockets use a TCP port, read from /proc/net (Linux; empty elsewhere): the laptop stack's helpers
find the process holding a port (`stack.port_holder`) and the process behind a request
(`wechat_emulator.caller_pid`) through it."""
from __future__ import annotations

from pathlib import Path

LISTEN = "0A"  # /proc/net/tcp's state of a listening socket


def socket_inodes(port: int, listening: bool = False) -> set[str]:
    """The inode numbers of the sockets whose local port is `port` (only listening ones if asked)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 9 and (not listening or fields[3] == LISTEN) \
                    and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes
