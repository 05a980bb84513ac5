"""Dataclasses read back from files (recordings, evaluation results), which may be crafted.

`typed_fields` keeps the entries of a dict that are fields of a dataclass and checks each
against the field's declared type, so a wrong type is refused where the file is read, with the
field's name, and never reaches a report, a replay or a chart. Fields of other types (nested
dataclasses, enums) are left to their own `from_dict`.
"""

from __future__ import annotations

import functools
import types
import typing

_NUMBERS = {str: (str,), int: (int,), float: (int, float), bool: (bool,), type(None): (type(None),)}


@functools.cache
def _hints(cls) -> dict:
    return typing.get_type_hints(cls)


def _matches(value, hint) -> bool | None:
    """True or False where `hint` is one this checks; None where it is not."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint in _NUMBERS:
        # bool is an int to Python, never to a file's reader.
        return isinstance(value, _NUMBERS[hint]) and (hint is bool or not isinstance(value, bool))
    if origin in (typing.Union, types.UnionType):
        results = [_matches(value, a) for a in args]
        return None if None in results else any(results)
    if origin in (list, tuple) and args:
        if not isinstance(value, (list, tuple)):
            return False
        if origin is tuple and args[-1] is not Ellipsis:  # fixed length: tuple[float, int, int]
            results = [_matches(v, a) for v, a in zip(value, args)] if len(value) == len(args) else [False]
        else:
            results = [_matches(v, args[0]) for v in value]
        return None if None in results else all(results)
    return None


def typed_fields(cls, d) -> dict:
    """The entries of `d` that are fields of dataclass `cls`, each of its declared type (ValueError if not)."""
    if not isinstance(d, dict):
        raise ValueError(f"{cls.__name__}: not an object")
    hints = _hints(cls)
    out = {}
    for name, value in d.items():
        if name not in cls.__dataclass_fields__:
            continue  # files from newer versions may carry more
        if _matches(value, hints[name]) is False:
            raise ValueError(f"{name}: {type(value).__name__} is not {hints[name]}")
        out[name] = value
    return out
