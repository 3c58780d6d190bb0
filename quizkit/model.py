"""``@frozen``: immutable data classes that are cheap to define.

``@dataclass(frozen=True)`` makes every class generate, and compile at import, a ``__setattr__`` and
a ``__delattr__`` of its own and an ``__init__`` that sets each field through ``object.__setattr__``:
about half a millisecond per class. The lesson model alone has two dozen classes, and every command
that runs a lesson defines them before it shows anything. ``@frozen`` makes a plain dataclass (an
``__init__`` and a ``__repr__``; value equality only with ``eq=True``, else identity, like any
object) and gives it the two shared functions below, written once: a field is set once, by ``__init__`` (or ``__post_init__``),
and never again, and nothing is deleted. Both raise :class:`dataclasses.FrozenInstanceError`, as a
frozen dataclass does. Type checkers see a frozen dataclass (``dataclass_transform``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import FrozenInstanceError, dataclass, fields
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: Any) -> Any:
        return lambda decorator: decorator


_Class = TypeVar("_Class", bound=type)


def _set_once(self: object, name: str, value: object) -> None:
    if name in self.__dict__:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")
    object.__setattr__(self, name, value)


def _no_delete(self: object, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


@overload
def frozen(cls: _Class, /) -> _Class: ...


@overload
def frozen(*, eq: bool = False) -> Callable[[_Class], _Class]: ...


@dataclass_transform(frozen_default=True, eq_default=False)
def frozen(cls: _Class | None = None, /, *, eq: bool = False) -> _Class | Callable[[_Class], _Class]:
    """An immutable dataclass (see the module's docstring); ``eq=True`` adds value equality and a
    hash over the compared fields, as a frozen dataclass has."""

    def make(cls: _Class) -> _Class:
        made: Any = dataclass(eq=eq)(cls)
        made.__setattr__ = _set_once
        made.__delattr__ = _no_delete
        if eq:
            names = tuple(f.name for f in fields(made) if (f.compare if f.hash is None else f.hash))
            made.__hash__ = lambda self: hash(tuple(getattr(self, name) for name in names))
        return cast("_Class", made)

    return make if cls is None else make(cls)
