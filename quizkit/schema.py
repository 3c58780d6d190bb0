"""Stage two of loading: a small declarative schema that checks a node tree and describes itself.

The same declarations validate lesson files (collecting every problem with its position) and
produce the JSON Schema that ``quizkit schema`` prints, so the two cannot drift apart.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from quizkit.errors import Problem
from quizkit.rawyaml import Node

# Plain YAML 1.1 only reads "1.0e-3" as a float; "1e-3" would be text. Numbers are read from the
# source text with this pattern instead, so both spellings mean the same thing.
_NUMBER = re.compile(r"^[-+]?(\d[\d_]*)?(\.\d*)?([eE][-+]?\d+)?$")
_SPECIAL_FLOATS = {".inf": math.inf, "+.inf": math.inf, "-.inf": -math.inf, ".nan": math.nan}


class Invalid:
    """Marker for a value that failed its check (the problem has been recorded already)."""

    def __repr__(self) -> str:
        return "INVALID"


INVALID: Any = Invalid()


@dataclass(eq=False)
class Checker:
    """Collects problems for one file."""

    path: str
    problems: list[Problem] = field(default_factory=list)
    formulas: bool = True  # read the formulas and templates of a lesson too (see quizkit.lesson.read_lesson)

    def error(self, node: Node, message: str) -> Any:
        self.problems.append(Problem(self.path, node.line, node.column, message))
        return INVALID


class Record(dict):
    """A checked mapping: plain values by key, plus the nodes they came from (for later problems)."""

    def __init__(self, node: Node, values: dict[str, Any]) -> None:
        super().__init__(values)
        self.node = node

    def at(self, key: str) -> Node:
        """The node of ``key``'s value, or the mapping itself if the key was not written."""
        nodes = self.node.value
        return nodes[key] if isinstance(nodes, dict) and key in nodes else self.node

    def written(self, key: str) -> bool:
        return isinstance(self.node.value, dict) and key in self.node.value


class Spec:
    """Base of all schema types."""

    doc: str = ""
    kinds: tuple[str, ...] = ("scalar",)  # node kinds this spec can read, for AnyOf dispatch

    def check(self, node: Node, checker: Checker) -> Any:
        raise NotImplementedError

    def json_schema(self) -> dict[str, Any]:
        raise NotImplementedError

    def _with_doc(self, schema: dict[str, Any]) -> dict[str, Any]:
        if self.doc:
            schema["description"] = self.doc
        return schema


@dataclass(eq=False)
class Text(Spec):
    """A text value, optionally matching ``pattern``; ``multiline=False`` refuses line breaks."""

    doc: str = ""
    pattern: str | None = None
    pattern_hint: str = ""
    multiline: bool = True

    def check(self, node: Node, checker: Checker) -> Any:
        if node.kind != "scalar" or node.is_null:
            return checker.error(node, f"expected text, found {node.describe()}")
        text = str(node.value)
        if not text.strip():
            return checker.error(node, "expected text, found an empty string")
        if self.pattern and not re.fullmatch(self.pattern, text):
            return checker.error(node, f"{text!r} is not a valid value: {self.pattern_hint or self.pattern}")
        return text

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string", "minLength": 1}
        if self.pattern:
            schema["pattern"] = f"^(?:{self.pattern})$"
        return self._with_doc(schema)


def read_number(node: Node) -> float | None:
    """The number a scalar node spells, or None. Accepts 1e-3, 1_000, .inf, -0.0."""
    if node.kind != "scalar" or node.quoted or node.is_null or node.is_bool:
        return None
    text = str(node.value)
    # A lesson writes the same few numbers thousands of times (case arrays): short texts are
    # remembered, and a long one (never a number one would write) is not kept alive by the memo.
    return _short_number_in(text) if len(text) <= 40 else _number_in(text)


def _number_in(written: str) -> float | None:
    text = written.strip()
    if text.lower() in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[text.lower()]
    if not _NUMBER.match(text) or not any(ch.isdigit() for ch in text):
        return None
    try:
        return float(text.replace("_", ""))
    except ValueError:
        return None


_short_number_in = functools.lru_cache(maxsize=4096)(_number_in)


@dataclass(eq=False)
class Number(Spec):
    """A number within the bounds given, an integer if ``integer``, finite if ``finite``."""

    doc: str = ""
    minimum: float | None = None
    exclusive_minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    finite: bool = True

    def check(self, node: Node, checker: Checker) -> Any:
        value = read_number(node)
        if value is None:
            kind = "a whole number" if self.integer else "a number"
            return checker.error(node, f"expected {kind}, found {node.describe()}")
        if self.finite and not math.isfinite(value):
            return checker.error(node, f"expected a finite number, found {node.value}")
        if self.integer:
            if not value.is_integer():
                return checker.error(node, f"expected a whole number, found {node.value}")
            value = int(value)
        if self.minimum is not None and value < self.minimum:
            return checker.error(node, f"must be at least {_bound(self.minimum)}, found {node.value}")
        if self.exclusive_minimum is not None and value <= self.exclusive_minimum:
            return checker.error(node, f"must be greater than {_bound(self.exclusive_minimum)}, found {node.value}")
        if self.maximum is not None and value > self.maximum:
            return checker.error(node, f"must be at most {_bound(self.maximum)}, found {node.value}")
        return value

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "integer" if self.integer else "number"}
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.exclusive_minimum is not None:
            schema["exclusiveMinimum"] = self.exclusive_minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return self._with_doc(schema)


def _bound(value: float) -> str:
    """A schema bound as written in messages: 1048576 rather than 1.04858e+06."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"


@dataclass(eq=False)
class Boolean(Spec):
    """true or false, written as YAML's plain booleans."""

    doc: str = ""

    def check(self, node: Node, checker: Checker) -> Any:
        text = str(node.value).lower() if node.kind == "scalar" else ""
        if node.is_bool and text in ("true", "false"):
            return text == "true"
        if node.is_bool:  # yes/no/on/off: legal YAML 1.1 but a classic trap, so insist on clarity
            return checker.error(node, f"write true or false, not {node.value!r}")
        return checker.error(node, f"expected true or false, found {node.describe()}")

    def json_schema(self) -> dict[str, Any]:
        return self._with_doc({"type": "boolean"})


@dataclass(eq=False)
class Choice(Spec):
    """One of ``values``, written as plain text."""

    values: tuple[str, ...] = ()
    doc: str = ""

    def check(self, node: Node, checker: Checker) -> Any:
        if node.kind == "scalar" and not node.is_null and str(node.value) in self.values:
            return str(node.value)
        found = repr(node.value) if node.kind == "scalar" else node.describe()
        return checker.error(node, f"expected one of {', '.join(self.values)}; found {found}")

    def json_schema(self) -> dict[str, Any]:
        return self._with_doc({"enum": list(self.values)})


@dataclass(eq=False)
class ListOf(Spec):
    """A list of ``item`` values, at least ``min_items`` of them."""

    item: Spec
    doc: str = ""
    min_items: int = 0
    kinds: tuple[str, ...] = ("sequence",)

    def check(self, node: Node, checker: Checker) -> Any:
        if node.kind != "sequence":
            return checker.error(node, f"expected a list, found {node.describe()}")
        assert isinstance(node.value, list)
        if len(node.value) < self.min_items:
            return checker.error(node, f"expected at least {self.min_items} item(s), found {len(node.value)}")
        # Invalid items are dropped (their problems are recorded), so that checks across the
        # whole file (duplicate ids, correct options, ...) still run on the items that are valid.
        values = [self.item.check(item, checker) for item in node.value]
        return [v for v in values if v is not INVALID]

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "array", "items": self.item.json_schema()}
        if self.min_items:
            schema["minItems"] = self.min_items
        return self._with_doc(schema)


@dataclass(eq=False)
class MapOf(Spec):
    """A mapping with free keys (matching ``key_pattern``) and values of one spec."""

    value: Spec
    doc: str = ""
    key_pattern: str = r"[A-Za-z_][A-Za-z0-9_]*"
    key_hint: str = "letters, digits and _, not starting with a digit"
    min_items: int = 0
    kinds: tuple[str, ...] = ("mapping",)

    def check(self, node: Node, checker: Checker) -> Any:
        if node.kind != "mapping":
            return checker.error(node, f"expected a mapping, found {node.describe()}")
        assert isinstance(node.value, dict)
        if len(node.value) < self.min_items:
            return checker.error(
                node, f"expected at least {self.min_items} entr{'y' if self.min_items == 1 else 'ies'}"
            )
        result: dict[str, Any] = {}
        for key, child in node.value.items():
            if not re.fullmatch(self.key_pattern, key):
                checker.error(node.key_nodes[key], f"{key!r} is not a valid name ({self.key_hint})")
                result[key] = INVALID
                continue
            result[key] = self.value.check(child, checker)
        return INVALID if any(v is INVALID for v in result.values()) else Record(node, result)

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {
            "type": "object",
            "propertyNames": {"pattern": f"^(?:{self.key_pattern})$"},
            "additionalProperties": self.value.json_schema(),
        }
        if self.min_items:
            schema["minProperties"] = self.min_items
        return self._with_doc(schema)


@dataclass(eq=False)
class Field:
    """One key of a mapping's schema: the value's spec, whether it is required, its default."""

    spec: Spec
    required: bool = False
    default: Any = None


@dataclass(eq=False)
class Object(Spec):
    """A mapping with a fixed set of keys; an unknown key is an error with a suggestion."""

    fields: dict[str, Field]
    doc: str = ""
    title: str = ""
    kinds: tuple[str, ...] = ("mapping",)

    def check(self, node: Node, checker: Checker) -> Any:
        if node.kind != "mapping":
            what = self.title or "a mapping"
            return checker.error(node, f"expected {what}, found {node.describe()}")
        assert isinstance(node.value, dict)
        ok = True
        for key in node.value:
            if key not in self.fields:
                ok = False
                checker.error(node.key_nodes[key], _unknown_key_message(key, self.fields, self.title))
        values: dict[str, Any] = {}
        for name, spec_field in self.fields.items():
            if name in node.value:
                values[name] = spec_field.spec.check(node.value[name], checker)
                ok = ok and values[name] is not INVALID
            elif spec_field.required:
                where = f" in {self.title}" if self.title else ""
                checker.error(node, f"missing required key '{name}'{where}")
                ok = False
            else:
                values[name] = spec_field.default
        return Record(node, values) if ok else INVALID

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {name: f.spec.json_schema() for name, f in self.fields.items()},
            "additionalProperties": False,
        }
        required = [name for name, f in self.fields.items() if f.required]
        if required:
            schema["required"] = required
        if self.title:
            schema["title"] = self.title
        return self._with_doc(schema)


def _unknown_key_message(key: str, fields: dict[str, Field], where: str) -> str:
    import difflib  # only for this message: every load would pay its import

    close = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else f" (known keys: {', '.join(fields)})"
    place = f" in {where}" if where else ""
    return f"unknown key '{key}'{place}{hint}"


@dataclass(eq=False)
class Tagged(Spec):
    """Objects whose allowed keys depend on a tag key, such as a question's ``type``."""

    tag: str
    variants: dict[str, Object]
    doc: str = ""
    kinds: tuple[str, ...] = ("mapping",)

    def check(self, node: Node, checker: Checker) -> Any:
        if node.kind != "mapping":
            return checker.error(node, f"expected a mapping, found {node.describe()}")
        assert isinstance(node.value, dict)
        tag_node = node.value.get(self.tag)
        if tag_node is None:
            return checker.error(node, f"missing required key '{self.tag}' (one of {', '.join(self.variants)})")
        tag = Choice(tuple(self.variants)).check(tag_node, checker)
        if tag is INVALID:
            return INVALID
        return self.variants[tag].check(node, checker)

    def json_schema(self) -> dict[str, Any]:
        return self._with_doc(
            {"type": "object", "required": [self.tag], "oneOf": [v.json_schema() for v in self.variants.values()]}
        )


@dataclass(eq=False)
class AnyOf(Spec):
    """One of several specs, chosen by the kind of node written (scalar, list or mapping)."""

    options: tuple[Spec, ...]
    doc: str = ""

    def check(self, node: Node, checker: Checker) -> Any:
        for option in self.options:
            if node.kind in option.kinds:
                return option.check(node, checker)
        return checker.error(node, f"{node.describe()} is not allowed here")

    def json_schema(self) -> dict[str, Any]:
        return self._with_doc({"anyOf": [o.json_schema() for o in self.options]})

    @property
    def kinds(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(kind for option in self.options for kind in option.kinds)


@dataclass(eq=False)
class Converted(Spec):
    """A spec followed by a conversion that may reject the value with a message."""

    inner: Spec
    convert: Callable[[Any], Any]  # raises ValueError(message) to reject
    doc: str = ""

    def check(self, node: Node, checker: Checker) -> Any:
        value = self.inner.check(node, checker)
        if value is INVALID:
            return INVALID
        try:
            return self.convert(value)
        except ValueError as exc:
            return checker.error(node, str(exc))

    def json_schema(self) -> dict[str, Any]:
        schema = dict(self.inner.json_schema())
        if self.doc:
            schema["description"] = self.doc
        return schema

    @property
    def kinds(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.inner.kinds
