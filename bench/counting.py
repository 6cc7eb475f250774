"""DynamoDB calls counted on the client (botocore's event hooks), for the benchmarks' figures."""
from __future__ import annotations


def count_dynamodb(calls: list[str], sizes: list[int] | None = None):
    """From now on, every DynamoDB call this process makes appends its operation name to `calls` (and its
    response's size in bytes to `sizes`, if given): PynamoDB's session factory, which the platform's store
    installs, wrapped; clients built earlier are not counted (`daily_post.forget_clients` drops them).
    Returns a function that stops the counting (for clients built after it)."""
    import botocore.session
    import pynamodb.connection.base

    import chalicelib.store.base  # noqa: F401 - installs the platform's session factory, which we wrap

    make_session = pynamodb.connection.base.get_session

    def counting_session() -> botocore.session.Session:
        session = make_session()
        # the hooks return None: a value from a before-call hook would replace the call's response
        session.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
        if sizes is not None:
            session.register("after-call.dynamodb", lambda http_response, **_: sizes.append(
                len(http_response.content or b"")))
        return session

    pynamodb.connection.base.get_session = counting_session

    def stop() -> None:
        pynamodb.connection.base.get_session = make_session
    return stop
