"""The password policy: length, not the user name, not a common password."""

from __future__ import annotations

import pytest

from hftsim.store.passwords import WeakPassword, check_password, common_passwords


def test_the_common_list_ships_with_the_package() -> None:
    assert {"password", "123456", "qwerty", "letmein"} <= common_passwords()
    assert not any(p.startswith("#") for p in common_passwords())


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("", "too short"),
        ("x", "too short"),
        ("seven77", "at least 8 characters"),
        ("Password123", "most common"),
        ("QWERTYUIOP", "most common"),
        ("Alice-Smith", "user name"),
    ],
)
def test_weak_passwords_are_refused_with_what_to_do(password: str, reason: str) -> None:
    with pytest.raises(WeakPassword, match=reason):
        check_password(password, "alice-smith")


def test_a_good_password_passes_and_the_length_is_a_setting() -> None:
    check_password("correct horse battery", "alice")
    check_password("short-1", "alice", min_length=6)
    with pytest.raises(WeakPassword, match="at least 12"):
        check_password("eleven-char", "alice", min_length=12)
