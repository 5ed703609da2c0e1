"""The password policy: long enough, not the user name, not on the list every guessing tool tries first.

Login attempts are rate-limited, but a one-character or a `password123`
password falls to the first handful of guesses whatever the limit. The
policy is checked wherever a password is set (`UserStore.add`), so the CLI
and any admin screen refuse the same passwords with the same words.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

DEFAULT_MIN_LENGTH = 8


class WeakPassword(ValueError):
    """The password breaks the policy; the message says what a good one needs."""


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list (`common_passwords.txt`), lower-cased."""
    text = files(__package__).joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_password(password: str, username: str, min_length: int = DEFAULT_MIN_LENGTH) -> None:
    """Raise WeakPassword when `password` breaks the policy."""
    if len(password) < min_length:
        raise WeakPassword(f"the password is too short: use at least {min_length} characters")
    if password.lower() == username.lower():
        raise WeakPassword("the password must not be the user name")
    if password.lower() in common_passwords():
        raise WeakPassword("the password is one of the most common passwords: choose another")
