"""The names the settings know, and the nearest one to a misspelt name.

A misspelt key in a TOML table or a misspelt `HFTSIM_` variable would
otherwise be silently ignored and the default used: the server would start
with guests allowed after `alow_guests = false`. Both are walked against the
settings models here, so the message can name the offending key and the
valid one it most likely meant.
"""

from __future__ import annotations

import difflib
import inspect
import typing
from collections.abc import Iterable, Mapping, Sequence

from pydantic import BaseModel

ENV_PREFIX = "HFTSIM_"
ENV_DELIMITER = "__"
NOT_SETTINGS = frozenset(
    {
        "HFTSIM_ADMIN_PASSWORD",
        "HFTSIM_CHROMIUM",
        "HFTSIM_UPDATE_SCREENSHOT",
        "HFTSIM_BENCH_PEERS",
        "HFTSIM_BENCH_CODE_COMMIT",
        "HFTSIM_BENCH_JOURNAL_BEFORE",
    }
)
"""Variables of the project's own tools (`hftsim bots`, tests, benchmarks) that share the prefix but are not
settings: the server lets them pass."""


def nearest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate `name` most likely misspells, if any is close enough."""
    found = difflib.get_close_matches(name.lower(), list(candidates), n=1, cutoff=0.6)
    return found[0] if found else None


def _element(annotation: object) -> tuple[type[BaseModel] | None, bool]:
    """The settings model a field's annotation holds, and whether a list index or dict key comes before it."""
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return annotation, False
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is list and args:
        return _element(args[0])[0], True
    if origin is dict and len(args) == 2:
        return _element(args[1])[0], True
    return None, False


def _walk(root: type[BaseModel], path: Sequence[str | int]) -> tuple[type[BaseModel] | None, bool] | None:
    """The model at the end of `path` and whether a list index or dict key comes next; None when a part of
    `path` names no field."""
    model: type[BaseModel] | None = root
    keyed = False
    for part in path:
        if keyed:
            keyed = False
            continue
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            return None
        model, keyed = _element(model.model_fields[part].annotation)
    return model, keyed


def model_at(root: type[BaseModel], path: Sequence[str | int]) -> type[BaseModel] | None:
    """The model whose keys are valid at `path` (field names, list indexes and dict keys), or None."""
    found = _walk(root, path)
    return None if found is None or found[1] else found[0]


def unknown_variables(root: type[BaseModel], environ: Mapping[str, str]) -> list[str]:
    """One line per `HFTSIM_` variable that names no setting, with the variable it most likely meant."""
    problems = []
    for name in sorted(environ):
        if not name.upper().startswith(ENV_PREFIX) or name.upper() in NOT_SETTINGS:
            continue
        parts = name[len(ENV_PREFIX) :].lower().split(ENV_DELIMITER)
        problem = _unknown_part(root, parts)
        if problem is None:
            continue
        index, hint = problem
        line = f"{name}: unknown name {parts[index]!r}"
        if hint is not None:
            meant = ENV_PREFIX + ENV_DELIMITER.join([*parts[:index], hint, *parts[index + 1 :]]).upper()
            line += f"; did you mean {meant}?"
        problems.append(line)
    return problems


def _unknown_part(root: type[BaseModel], parts: list[str]) -> tuple[int, str | None] | None:
    """The index of the first part of a variable's name that is not a setting, and the nearest valid one."""
    for index, part in enumerate(parts):
        found = _walk(root, parts[:index])
        assert found is not None, "every earlier part was checked"
        model, keyed = found
        if keyed:
            continue
        if model is None:
            return index, None
        if part not in model.model_fields:
            return index, nearest(part, model.model_fields)
    return None
