"""Test set-up: a fake AWS (moto's mock_aws) with fresh tables for every test that asks for `aws`."""
from __future__ import annotations

import os

# The environment is fixed before any platform module is imported: models read table names once.
for _var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
    os.environ.pop(_var, None)
os.environ.update({
    "AWS_DEFAULT_REGION": "cn-north-1",
    "AWS_REGION": "cn-north-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "STAGE": "test",
    "APP_VERSION": "test",
    "SSM_PREFIX": "/wechat-alliance/test",
    "WECHAT_API_BASE": "http://wechat.invalid",
    "ARGON2_PROFILE": "CHEAPEST",
})

import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402

from chalicelib import secrets  # noqa: E402
from chalicelib.store.registry import ALL_MODELS, create_tables  # noqa: E402


def reset_connections() -> None:
    """Drop PynamoDB's cached clients so that each test talks to its own fake AWS."""
    for model in ALL_MODELS:
        model._connection = None
    secrets._STORE = None


@pytest.fixture
def aws():
    with mock_aws():
        reset_connections()
        create_tables()
        yield
    reset_connections()


@pytest.fixture
def seed(aws):
    """The demo district loaded into the fake AWS."""
    from local import seed as seed_module

    data = seed_module.read(seed_module.DEFAULT_SEED)
    seed_module.load(data)
    return data
