"""Settings read once from the environment.

Every knob the runtime has lives here, so that a reader finds them in one place. Values come from
`.chalice/config.json` (per stage) and, in a deployed stack, from the template's `Globals` section,
which wires table and queue names to the resources it creates.
"""
from __future__ import annotations

import os
from functools import lru_cache

from chalicelib.domain.records import record

APP_NAME = "wechat-alliance"
# Stages that only ever run on a laptop or in the test suite and benchmarks (moto, the WeChat emulator):
# the only ones where the seed's demo keys, passwords and secrets may be written or accepted.
LAPTOP_STAGES = ("local", "test", "bench")

def table_env_var(table: str) -> str:
    """`accounts` -> `TABLE_ACCOUNTS`."""
    return "TABLE_" + table.upper()


def table_name(table: str) -> str:
    """The physical DynamoDB table name of a logical table, from its environment variable."""
    stage = os.environ.get("STAGE", "local")
    return os.environ.get(table_env_var(table)) or f"{APP_NAME}-{stage}-{table}"


@record
class Settings:
    stage: str
    version: str
    district_id: str
    region: str
    ssm_prefix: str
    wechat_api_base: str
    secrets_cache_seconds: int
    replay_window_s: int  # WeChat callbacks older (or newer) than this are refused; 0 turns the check off
    callback_budget_s: float  # a callback answers within this, parking its message if the store is slow
    storage_connect_timeout_s: float  # DynamoDB: per request, so a throttled store cannot eat WeChat's 5 s
    storage_read_timeout_s: float
    storage_retries: int
    log_level: str
    login_rate_per_address: int = 20  # logins a minute from one client address (429 beyond)

    @classmethod
    def from_env(cls) -> "Settings":
        stage = os.environ.get("STAGE", "local")
        return cls(
            stage=stage,
            version=os.environ.get("APP_VERSION", "dev"),
            district_id=os.environ.get("DISTRICT_ID", "shinan"),
            region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "cn-north-1",
            ssm_prefix=os.environ.get("SSM_PREFIX", f"/{APP_NAME}/{stage}").rstrip("/"),
            wechat_api_base=os.environ.get("WECHAT_API_BASE", "https://api.weixin.qq.com").rstrip("/"),
            secrets_cache_seconds=int(os.environ.get("SECRETS_CACHE_SECONDS", "900")),
            replay_window_s=int(os.environ.get("WECHAT_REPLAY_WINDOW_S", "300")),
            callback_budget_s=float(os.environ.get("WECHAT_CALLBACK_BUDGET_S", "4")),
            storage_connect_timeout_s=float(os.environ.get("STORAGE_CONNECT_TIMEOUT_S", "1")),
            storage_read_timeout_s=float(os.environ.get("STORAGE_READ_TIMEOUT_S", "2")),
            storage_retries=int(os.environ.get("STORAGE_RETRIES", "2")),
            log_level=os.environ.get("LOG_LEVEL", "INFO"),
            login_rate_per_address=int(os.environ.get("LOGIN_RATE_PER_ADDRESS", "20")),
        )


    @property
    def deployed(self) -> bool:
        """A real stage: any stage but the laptop's and the tests', and anything running inside Lambda."""
        return self.stage not in LAPTOP_STAGES or bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The settings of this container, read on first use."""
    return Settings.from_env()
