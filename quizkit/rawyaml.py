"""Stage one of loading: YAML text to a tree of nodes that remember where they came from.

Only PyYAML's safe composer is used (no object construction at all), so a lesson file can never
instantiate Python objects. Scalars keep their source text; the schema decides what they mean, which
sidesteps YAML 1.1 traps such as ``no`` turning into ``False`` in a text field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

import yaml

from quizkit.errors import Problem

# libyaml's composer is ~20x faster and still reports positions; both build no Python objects.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_NULL_TAG = "tag:yaml.org,2002:null"
_STR_TAG = "tag:yaml.org,2002:str"
# Binary, sets and every "!!python/..." tag are refused: a lesson is plain data.
_PLAIN_TAGS = frozenset({_BOOL_TAG, _INT_TAG, _FLOAT_TAG, _NULL_TAG, _STR_TAG, "tag:yaml.org,2002:timestamp"})


@dataclass(frozen=True)
class Node:
    """A YAML node with its 1-based position.

    ``value`` is ``dict[str, Node]`` for a mapping, ``list[Node]`` for a sequence and the scalar's
    source text for a scalar. ``key_nodes`` maps each key of a mapping to the node of the key itself,
    so an unknown key can be reported where it is written.
    """

    kind: str  # "mapping" | "sequence" | "scalar"
    value: Union[dict[str, "Node"], list["Node"], str]
    tag: str
    line: int
    column: int
    quoted: bool = False
    key_nodes: dict[str, "Node"] = field(default_factory=dict)

    @property
    def is_null(self) -> bool:
        return self.kind == "scalar" and self.tag == _NULL_TAG and not self.quoted

    @property
    def is_bool(self) -> bool:
        return self.kind == "scalar" and self.tag == _BOOL_TAG and not self.quoted

    @property
    def is_number(self) -> bool:
        return self.kind == "scalar" and self.tag in (_INT_TAG, _FLOAT_TAG) and not self.quoted

    def describe(self) -> str:
        """A short name for what this node holds, for error messages."""
        if self.kind != "scalar":
            return "a " + self.kind
        if self.is_null:
            return "nothing (null)"
        if self.is_bool:
            return f"a boolean ({self.value})"
        if self.is_number:
            return f"a number ({self.value})"
        return f"text ({self.value!r})" if len(str(self.value)) < 40 else "text"


def load(text: str, path: str) -> tuple[Node | None, list[Problem]]:
    """Compose ``text`` into a node tree; problems (syntax, duplicate keys, tags) are returned, not raised."""
    problems: list[Problem] = []
    try:
        documents = list(yaml.compose_all(text, Loader=_LOADER))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(part for part in (exc.context, exc.problem) if part)
        return None, [Problem(path, line, column, f"YAML syntax error: {message}")]
    except yaml.YAMLError as exc:  # e.g. unreadable characters, reported without a position
        return None, [Problem(path, 1, 1, f"YAML error: {exc}")]
    if not documents or documents[0] is None:
        return None, [Problem(path, 1, 1, "the file is empty")]
    if len(documents) > 1:
        line, column = _position(documents[1]) if documents[1] is not None else (1, 1)
        problems.append(Problem(path, line, column, "a lesson file holds one YAML document; this starts a second one"))
    return _convert(documents[0], path, problems), problems


def _position(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _convert(node: yaml.Node, path: str, problems: list[Problem]) -> Node:
    line, column = _position(node)
    if isinstance(node, yaml.MappingNode):
        values: dict[str, Node] = {}
        keys: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = _convert(key_node, path, problems)
            if key.kind != "scalar":
                problems.append(Problem(path, key.line, key.column, "a key must be plain text"))
                continue
            name = str(key.value)
            if name == "<<":
                problems.append(Problem(path, key.line, key.column, "merge keys ('<<') are not supported"))
                continue
            if name in values:
                first = keys[name]
                problems.append(
                    Problem(path, key.line, key.column, f"duplicate key '{name}' (first written on line {first.line})")
                )
                continue
            keys[name] = key
            values[name] = _convert(value_node, path, problems)
        _check_collection_tag(node, "tag:yaml.org,2002:map", path, problems)
        return Node("mapping", values, node.tag, line, column, key_nodes=keys)
    if isinstance(node, yaml.SequenceNode):
        _check_collection_tag(node, "tag:yaml.org,2002:seq", path, problems)
        items = [_convert(item, path, problems) for item in node.value]
        return Node("sequence", items, node.tag, line, column)
    quoted = node.style in ("'", '"', "|", ">")
    if node.tag not in _PLAIN_TAGS:
        problems.append(Problem(path, line, column, f"YAML tag {node.tag!r} is not allowed in a lesson file"))
    return Node("scalar", node.value, node.tag, line, column, quoted=quoted)


def _check_collection_tag(node: yaml.Node, expected: str, path: str, problems: list[Problem]) -> None:
    if node.tag != expected:
        line, column = _position(node)
        problems.append(Problem(path, line, column, f"YAML tag {node.tag!r} is not allowed in a lesson file"))
