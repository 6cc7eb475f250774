"""Staff passwords: argon2id hashes only.

The cost profile is RFC 9106's low-memory one unless `ARGON2_PROFILE` names another of argon2-cffi's
profiles (the tests use CHEAPEST). A hash records its own parameters, so verification works across
profiles.
"""
from __future__ import annotations

import os
from functools import lru_cache


@lru_cache(maxsize=1)
def _hasher():
    from argon2 import PasswordHasher, profiles  # imported on first use: not every Lambda checks passwords

    profile = getattr(profiles, os.environ.get("ARGON2_PROFILE", "RFC_9106_LOW_MEMORY"))
    return PasswordHasher.from_parameters(profile)


def hash_password(password: str) -> str:
    if not password:
        raise ValueError("password must not be empty")
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
