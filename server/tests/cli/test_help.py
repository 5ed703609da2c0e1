"""The command explains itself: a version, and every subcommand's --help ends with an example."""

from __future__ import annotations

import argparse
from importlib.metadata import version

import pytest

from hftsim.cli import main, parser


def subcommands(p: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append((*path, name))
                found.extend(subcommands(sub, (*path, name)))
    return found


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"hftsim {version('hftsim')}"


def test_there_are_subcommands_to_check() -> None:
    assert {("serve",), ("users", "add"), ("users", "list"), ("journal", "truncate"), ("bots",)} <= set(
        subcommands(parser())
    )


@pytest.mark.parametrize("path", [(), *subcommands(parser())], ids=lambda p: " ".join(p) or "hftsim")
def test_every_help_ends_with_an_example(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*path, "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    tail = text[text.rindex("\nexample") :]
    assert f"hftsim {' '.join(path)}".rstrip() in tail, text


def test_a_mistyped_command_is_two_lines_without_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["srve"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'srve'" in err and "serve" in err and "Traceback" not in err
