"""`hftsim users`: a missing data directory and a weak password are one-line refusals, not a fresh database."""

from __future__ import annotations

from pathlib import Path

import pytest

from hftsim.cli import main


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HFTSIM_SESSION__PASSWORD_PROFILE", "CHEAPEST")


def refusal(argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert isinstance(exc.value.code, str), "a refusal exits with a message"
    return exc.value.code


@pytest.mark.parametrize("command", [["users", "list"], ["users", "add", "alice", "--password", "a-long-secret"]])
def test_a_missing_data_dir_is_refused_and_not_created(tmp_path: Path, command: list[str]) -> None:
    typo = tmp_path / "dat"
    message = refusal([*command, "--data-dir", str(typo)])
    assert (
        message == f"hftsim: data directory {typo} does not exist; check --data-dir, or add --create to start a new one"
    )
    assert not typo.exists()


def test_create_makes_the_data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "new" / "data"
    main(["users", "add", "alice", "--password", "a-long-secret", "--data-dir", str(data), "--create"])
    main(["users", "list", "--data-dir", str(data)])
    out = capsys.readouterr().out
    assert "added alice" in out
    assert "alice" in out.splitlines()[-1] and "trader" in out.splitlines()[-1]


@pytest.mark.parametrize(
    ("password", "reason"), [("short", "at least 8 characters"), ("Password1", "most common"), ("", "too short")]
)
def test_a_weak_password_is_refused_in_one_line(tmp_path: Path, password: str, reason: str) -> None:
    message = refusal(["users", "add", "bob", "--password", password, "--data-dir", str(tmp_path)])
    assert message.startswith("hftsim: ") and reason in message and "\n" not in message


def test_the_minimum_length_follows_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HFTSIM_SESSION__PASSWORD_MIN_LENGTH", "16")
    message = refusal(["users", "add", "bob", "--password", "fifteen-chars-x", "--data-dir", str(tmp_path)])
    assert "at least 16 characters" in message
