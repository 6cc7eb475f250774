"""Logging of the laptop's own processes: botocore's "Found credentials in environment variables." (INFO,
once per client) says nothing on the laptop, where the credentials are the stack's demo values."""
from __future__ import annotations

import logging


def quiet_botocore() -> None:
    for name in ("botocore.credentials", "botocore.configprovider"):
        logging.getLogger(name).setLevel(logging.WARNING)
