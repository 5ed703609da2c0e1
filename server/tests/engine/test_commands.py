"""The commands' field table: the same names and types as their constructors, and what the dataclasses gave."""

from __future__ import annotations

import importlib.util
import pickle
import types
import typing
from pathlib import Path

import pytest

import hftsim.engine.commands as commands
from hftsim import compiled
from hftsim.engine import CancelOrder, PlaceOrder, Side

KINDS = [
    commands.PlaceOrder,
    commands.CancelOrder,
    commands.CancelAll,
    commands.AmendOrder,
    commands.SetSymbolStatus,
    commands.OpenAccount,
    commands.DebitCash,
    commands.CreditCash,
]


def _source() -> types.ModuleType:
    """commands.py loaded as plain Python under another name: its constructors keep their annotations."""
    path = Path(commands.__file__ or "").with_name("commands.py")
    spec = importlib.util.spec_from_file_location("commands_source", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _names(hint: object) -> tuple[str, ...]:
    args = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    return tuple(t.__name__ for t in args if isinstance(t, type))


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_fields_name_each_constructor_argument_with_its_types(kind: type[commands.Fields]) -> None:
    twin = getattr(_source(), kind.__name__)
    hints = typing.get_type_hints(twin.__init__)
    hints.pop("return")
    assert [(name, _names(hint)) for name, hint in hints.items()] == [
        (name, tuple(t.__name__ for t in allowed)) for name, allowed in kind.FIELDS
    ]


def test_equality_repr_and_pickling_by_the_fields() -> None:
    order = PlaceOrder(1, "ACME", Side.BUY, 5, 9990, client_order_id="a")
    assert order == PlaceOrder(1, "ACME", Side.BUY, 5, 9990, client_order_id="a")
    assert order != PlaceOrder(1, "ACME", Side.BUY, 6, 9990, client_order_id="a")
    assert CancelOrder(1, 2) != PlaceOrder(1, "ACME", Side.BUY, 5, 9990)
    assert repr(CancelOrder(1, 2)) == "CancelOrder(user_id=1, order_id=2, client_order_id=None)"
    assert pickle.loads(pickle.dumps(order)) == order


def test_typed_says_whether_the_commands_check_their_fields_types() -> None:
    """The rules skip the type checks of the fields a command types itself (commands.TYPED): true of the
    compiled classes, which refuse a wrong type when built, and false from source, where the rules check."""
    assert commands.TYPED is compiled.ORDER_PATH.compiled
    assert _source().TYPED is False
