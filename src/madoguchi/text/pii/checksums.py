"""Check digits of the two numbers that must never be stored (pure Python, no spaCy)."""

from __future__ import annotations


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check used by every card brand."""
    if not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def my_number_check_digit(first11: str) -> int:
    """Check digit of an individual number from its first 11 digits (the 総務省令 formula)."""
    total = 0
    for n in range(1, 12):
        p = int(first11[11 - n])  # n-th digit counted from the right
        q = n + 1 if n <= 6 else n - 5
        total += p * q
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def my_number_valid(digits: str) -> bool:
    """12 digits whose last is the check digit of the first 11."""
    return (
        len(digits) == 12
        and digits.isascii()
        and digits.isdigit()
        and my_number_check_digit(digits[:11]) == int(digits[11])
    )
