"""``@frozen``: immutable data classes that are cheap to define.

``@dataclass(frozen=True)`` makes every class generate, and compile at import, a ``__setattr__`` and
a ``__delattr__`` of its own and an ``__init__`` that sets each field through ``object.__setattr__``:
about half a millisecond per class. The lesson model alone has two dozen classes, and every command
that runs a lesson defines them before it shows anything. ``@frozen`` makes a plain dataclass (an
``__init__`` and a ``__repr__``, no value equality: identity, like any object) and gives it the two
shared functions below, written once: a field is set once, by ``__init__`` (or ``__post_init__``),
and never again, and nothing is deleted. Both raise :class:`dataclasses.FrozenInstanceError`, as a
frozen dataclass does. Type checkers see a frozen dataclass (``dataclass_transform``).
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

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


@dataclass_transform(frozen_default=True, eq_default=False)
def frozen(cls: _Class) -> _Class:
    """An immutable dataclass without value equality (see the module's docstring)."""
    made: Any = dataclass(eq=False)(cls)
    made.__setattr__ = _set_once
    made.__delattr__ = _no_delete
    return cast("_Class", made)
