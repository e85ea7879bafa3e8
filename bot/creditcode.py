"""Unified social credit codes (统一社会信用代码, GB 32100-2015) and ID numbers (GB 11643)."""

from __future__ import annotations

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def credit_code_check_char(first17: str) -> str:
    """The 18th (check) character for the first 17 characters of a credit code."""
    total = sum(CHARSET.index(c) * w for c, w in zip(first17.upper(), _WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def is_valid_credit_code(code: str) -> bool:
    """True for an 18-character code whose characters and check character are valid."""
    code = code.strip().upper()
    if len(code) != 18 or any(c not in CHARSET for c in code):
        return False
    return credit_code_check_char(code[:17]) == code[17]


def is_valid_id_number(number: str) -> bool:
    """True for an 18-character resident ID number with a valid ISO 7064 check digit."""
    number = number.strip().upper()
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(c) * w for c, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17]
