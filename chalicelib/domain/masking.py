"""Masking personal data (脱敏): residents' phone numbers and addresses in lists, replies and logs."""
from __future__ import annotations


def mask_phone(phone: str | None) -> str:
    """13812345678 -> 138****5678."""
    if not phone:
        return ""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_address(address: str | None) -> str:
    """Keep the first few characters (the road), hide the rest."""
    if not address:
        return ""
    keep = min(6, max(1, len(address) // 3))
    return address[:keep] + "*" * (len(address) - keep)
