"""The password policy, the same for every way a password is set (CLI, REST, FAB's pages, self-service):
at least 8 characters, not the user name, not a common password (a bundled list, and patterns such as
one repeated character, a run like 12345678 or abcdefgh, or a word of the list with digits after it)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from app.i18n import t

MIN_LENGTH = 8
COMMON_FILE = Path(__file__).with_name("data") / "common_passwords.txt"
TRAILING = re.compile(r"[\d!@#$%^&*.?_\-]+$")


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list of passwords people use most (lower case)."""
    return frozenset(line.strip() for line in COMMON_FILE.read_text(encoding="utf-8").splitlines() if line.strip())


def _is_run(text: str) -> bool:
    """abcdefgh, 87654321: each character one after (or before) the previous."""
    steps = {ord(b) - ord(a) for a, b in zip(text, text[1:], strict=False)}
    return steps in ({1}, {-1})


def _is_repeat(text: str) -> bool:
    """aaaaaaaa, abababab, 12341234: a short piece said again and again."""
    return any(
        len(text) % size == 0 and text == text[:size] * (len(text) // size) for size in range(1, len(text) // 2 + 1)
    )


def is_common(password: str) -> bool:
    """A password an attacker tries first."""
    lower = password.lower()
    stem = TRAILING.sub("", lower)
    return lower in common_passwords() or stem in common_passwords() or _is_run(lower) or _is_repeat(lower)


def password_problems(password: str, username: str = "") -> list[str]:
    """Every reason the password is refused (empty when it is acceptable)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(t("password_short", min=MIN_LENGTH))
    name = username.strip().lower()
    if name and (password.lower() == name or (len(name) >= 3 and name in password.lower())):
        problems.append(t("password_username"))
    if is_common(password):
        problems.append(t("password_common"))
    return problems
