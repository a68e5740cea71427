"""Command-line values converted without pydantic.

Typer (from 0.2x) converts every option value with a pydantic ``TypeAdapter``: importing
pydantic and building the adapters costs a few hundred milliseconds per command, more than
``coder status`` needs for its queries on a large project (SPEC §10). The options of ``coder``
are plain strings, numbers with bounds, enums (choices) and paths: :func:`install` converts
those the way typer does, with typer's own helpers, and hands every other annotation (lists,
tuples, dates, custom parsers, bools that are not flags) to typer's pydantic path unchanged.
When the installed typer has no such hook, nothing is changed.
"""

from __future__ import annotations

import sys
import types
import typing
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

NUMBERS = (int, float)


def _plain(annotation: Any) -> Any:
    """``Optional[X]`` → ``X``; anything else as it is."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or (sys.version_info >= (3, 10) and origin is types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def install() -> bool:
    """Route simple annotations past pydantic; True when typer's hook was found."""
    try:
        from typer import _coercion, core
        from typer._click.exceptions import BadParameter
        from typer._param_types import coerce_cli_choice, coerce_cli_path, routes_to_path
    except ImportError:  # another typer: leave it alone
        return False
    original = getattr(core, "build_runtime_param", None)
    base = getattr(_coercion, "RuntimeParam", None)
    if original is None or base is None or getattr(original, "_coder_fast", False):
        return False

    @dataclass(frozen=True)
    class FastParam(base):  # type: ignore[misc, valid-type]
        kind: str = "str"
        leaf: Any = None
        item: Any = None  # for kind "list": the FastParam of one element

        def _coerce_value(self, value, param, ctx):
            info = self.parameter_info
            if self.kind == "list":  # a repeated option or a variadic argument: a tuple
                return [self.item._coerce_value(v, param, ctx) for v in value]
            try:
                if self.kind == "str":
                    if isinstance(value, bytes):
                        return value.decode("utf-8", "replace")
                    if value is None:
                        raise ValueError("None is not a valid string")
                    return str(value)
                if self.kind == "bool":
                    return _bool(value)
                if self.kind == "number":
                    return _number(self.leaf, value, info.min, info.max)
                if self.kind == "choice":
                    return coerce_cli_choice(value, choices=list(self.leaf),
                                             case_sensitive=info.case_sensitive, ctx=ctx)
                # a path: typer's own checks (exists, dir_okay, …) on a Path object
                path_type = info.path_type or self.leaf
                if isinstance(value, str) and isinstance(path_type, type) \
                        and issubclass(path_type, Path):
                    value = path_type(value)
                return coerce_cli_path(value, info, path_type=path_type, param=param, ctx=ctx)
            except ValueError as exc:
                raise BadParameter(f"Value error, {exc}" if self.kind == "choice" else str(exc),
                                   ctx=ctx, param=param) from None

    def simple(annotation, info):
        """A FastParam for ``annotation`` when it is one of the simple kinds, else None."""
        leaf = _plain(annotation)
        args = {"annotation": annotation, "parameter_info": info, "leaf": leaf}
        if getattr(info, "parser", None) is None:
            if typing.get_origin(leaf) is list:
                inner = typing.get_args(leaf)
                item = simple(inner[0], info) if len(inner) == 1 else None
                if item is not None and item.kind != "list":
                    return FastParam(**args, kind="list", item=item)
                return None
            if leaf is str:
                return FastParam(**args, kind="str")
            if leaf is bool:
                return FastParam(**args, kind="bool")
            if leaf in NUMBERS and not getattr(info, "clamp", False):
                return FastParam(**args, kind="number")
            if isinstance(leaf, type) and issubclass(leaf, Enum):
                return FastParam(**args, kind="choice")
            if isinstance(leaf, type) and issubclass(leaf, Path) \
                    and routes_to_path(leaf, info):
                return FastParam(**args, kind="path")
        return None

    def fast_build(descriptor):
        fast = None
        if descriptor.file_annotation is None:
            fast = simple(descriptor.annotation, descriptor.parameter_info)
        return fast if fast is not None else original(descriptor)

    fast_build._coder_fast = True  # type: ignore[attr-defined]
    core.build_runtime_param = fast_build
    return True


_TRUE = {"1", "on", "t", "true", "y", "yes"}
_FALSE = {"0", "off", "f", "false", "n", "no", ""}


def _bool(value: Any) -> bool:
    """As pydantic reads a bool (typer's rule: an empty string is False)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError("Input should be a valid boolean, unable to interpret input")


def _number(kind: type, value: Any, low: float | None, high: float | None):
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"Input should be a valid {'integer' if kind is int else 'number'}")
    if isinstance(value, str):
        text = value.strip()
        try:
            number = int(text) if kind is int else float(text)
        except ValueError:
            what = "integer, unable to parse string as an integer" if kind is int \
                else "number, unable to parse string as a number"
            raise ValueError(f"Input should be a valid {what}") from None
    else:
        number = kind(value)
        if kind is int and number != value:
            raise ValueError("Input should be a valid integer, got a number with a "
                             "fractional part")
    if low is not None and number < low:
        raise ValueError(f"Input should be greater than or equal to {low}")
    if high is not None and number > high:
        raise ValueError(f"Input should be less than or equal to {high}")
    return number
