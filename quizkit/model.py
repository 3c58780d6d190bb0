"""``@frozen``: immutable data classes that are cheap to define.

``@dataclass(frozen=True)`` makes every class generate, and compile at import, a ``__setattr__`` and
a ``__delattr__`` of its own and an ``__init__`` that sets each field through ``object.__setattr__``:
about half a millisecond per class. The lesson model alone has two dozen classes, and every command
that runs a lesson defines them before it shows anything. ``@frozen`` makes a plain dataclass (a
``__repr__``; value equality only with ``eq=True``, else identity, like any object) and gives it the
two shared functions below, written once: a field is set once, by ``__init__`` (or
``__post_init__``), and never again, and nothing is deleted. Both raise
:class:`dataclasses.FrozenInstanceError`, as a frozen dataclass does. Type checkers see a frozen
dataclass (``dataclass_transform``).

Its ``__init__`` is its own, compiled once per class like a dataclass's: it fills the instance's
``__dict__`` directly instead of going through ``__setattr__`` once per field, which makes an
instance of a dozen fields about five times cheaper to build (grading builds thousands: a result per
case). It takes every field, in order, as a dataclass's does, with its default or default factory;
``field(init=False)``, keyword-only fields and ``InitVar`` are refused when the class is defined.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, FrozenInstanceError, dataclass, fields
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


def _init_of(cls: type) -> Callable[..., None]:
    """``cls.__init__``: each field's value, or its default, stored straight into ``__dict__``."""
    parameters, lines = [], []
    scope: dict[str, Any] = {"_MISSING": MISSING}
    for number, field in enumerate(fields(cls)):
        name = field.name
        if not field.init or field.kw_only is True:
            raise TypeError(f"@frozen {cls.__name__}.{name}: every field must be a positional __init__ argument")
        if field.default is not MISSING:
            scope[f"_default{number}"] = field.default
            parameters.append(f"{name}=_default{number}")
        elif field.default_factory is not MISSING:
            scope[f"_factory{number}"] = field.default_factory
            parameters.append(f"{name}=_MISSING")
            lines.append(f"    if {name} is _MISSING: {name} = _factory{number}()")
        else:
            parameters.append(name)
        lines.append(f"    _fields[{name!r}] = {name}")
    if len(cls.__dataclass_fields__) != len(fields(cls)):  # type: ignore[attr-defined]
        raise TypeError(f"@frozen {cls.__name__}: ClassVar and InitVar annotations are not supported")
    if hasattr(cls, "__post_init__"):
        lines.append("    self.__post_init__()")
    source = f"def __init__(self, {', '.join(parameters)}):\n    _fields = self.__dict__\n" + "\n".join(lines)
    exec(source, scope)  # our own source, made of the class's field names
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return cast("Callable[..., None]", init)


@overload
def frozen(cls: _Class, /) -> _Class: ...


@overload
def frozen(*, eq: bool = False) -> Callable[[_Class], _Class]: ...


@dataclass_transform(frozen_default=True, eq_default=False)
def frozen(cls: _Class | None = None, /, *, eq: bool = False) -> _Class | Callable[[_Class], _Class]:
    """An immutable dataclass (see the module's docstring); ``eq=True`` adds value equality and a
    hash over the compared fields, as a frozen dataclass has."""

    def make(cls: _Class) -> _Class:
        made: Any = dataclass(eq=eq, init=False)(cls)
        made.__init__ = _init_of(made)
        made.__setattr__ = _set_once
        made.__delattr__ = _no_delete
        if eq:
            names = tuple(f.name for f in fields(made) if (f.compare if f.hash is None else f.hash))
            made.__hash__ = lambda self: hash(tuple(getattr(self, name) for name in names))
        return cast("_Class", made)

    return make if cls is None else make(cls)
