"""Stage one of loading: YAML text to a tree of nodes that remember where they came from.

Only PyYAML's safe composer is used (no object construction at all), so a lesson file can never
instantiate Python objects. Scalars keep their source text; the schema decides what they mean, which
sidesteps YAML 1.1 traps such as ``no`` turning into ``False`` in a text field.

Before anything is composed, one pass over the parser's events bounds what the file can make us
build: nesting at most :data:`MAX_DEPTH` deep, at most :data:`MAX_ALIAS_EXPANSIONS` alias references
expanded and :data:`MAX_NODES` nodes after expansion, and no alias inside the node it names. So a
recursive alias (``title: &a [*a]``), 1000 nested lists or an alias bomb (nine aliases of nine
aliases of ...) is one problem at its ``file:line:col``, found in time proportional to the file's
size, never a RecursionError or gigabytes of nodes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from quizkit.errors import Problem

if TYPE_CHECKING:
    import yaml

# PyYAML is imported when a file is composed, not when a composed tree comes from the cache.
_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_NULL_TAG = "tag:yaml.org,2002:null"
_STR_TAG = "tag:yaml.org,2002:str"
# Binary, sets and every "!!python/..." tag are refused: a lesson is plain data.
_PLAIN_TAGS = frozenset({_BOOL_TAG, _INT_TAG, _FLOAT_TAG, _NULL_TAG, _STR_TAG, "tag:yaml.org,2002:timestamp"})

# Lessons nest about eight levels; array literals add one per dimension, and numpy allows 64.
MAX_DEPTH = 100
# Aliases are rare in lessons (a shared hint, a repeated case); these bounds leave room for many
# while an alias bomb stops at once. Every later stage walks the expanded tree, so the node bound
# is what keeps `quizkit list` and `validate` fast.
MAX_ALIAS_EXPANSIONS = 1_000
MAX_NODES = 100_000


class Node:
    """A YAML node with its 1-based position.

    ``value`` is ``dict[str, Node]`` for a mapping, ``list[Node]`` for a sequence and the scalar's
    source text for a scalar. ``key_nodes`` maps each key of a mapping to the node of the key itself,
    so an unknown key can be reported where it is written. Nodes are never changed once built.

    A plain class with slots rather than a dataclass: a lesson is some ten thousand nodes, rebuilt
    from the cache by every command that reads it, and a slotted ``__init__`` is several times cheaper.
    """

    __slots__ = ("column", "key_nodes", "kind", "line", "quoted", "tag", "value")

    def __init__(
        self,
        kind: str,  # "mapping" | "sequence" | "scalar"
        value: dict[str, Node] | list[Node] | str,
        tag: str,
        line: int,
        column: int,
        quoted: bool = False,
        key_nodes: dict[str, Node] | None = None,
    ) -> None:
        self.kind = kind
        self.value = value
        self.tag = tag
        self.line = line
        self.column = column
        self.quoted = quoted
        self.key_nodes: dict[str, Node] = {} if key_nodes is None else key_nodes

    def _fields(self) -> tuple[object, ...]:
        return self.kind, self.value, self.tag, self.line, self.column, self.quoted, self.key_nodes

    def __eq__(self, other: object) -> bool:
        return self._fields() == other._fields() if isinstance(other, Node) else NotImplemented

    __hash__ = None  # type: ignore[assignment]  # it holds dicts and lists

    def __repr__(self) -> str:
        return f"Node({self.kind}, {self.value!r}, line {self.line}, column {self.column})"

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


@dataclass(frozen=True)
class Positions:
    """Where each value of a composed file was written: the position map a loaded lesson keeps.

    Checks that run after the model is built (``quizkit validate``'s answer keys, references and
    variants) place their problems with it, so the file is composed once, from the cache or not.
    """

    path: str
    root: Node

    def node(self, *keys: str | int) -> Node:
        """The node at ``keys`` (mapping keys and list indices), or the deepest ancestor written."""
        return descend(self.root, *keys)

    def problem(self, message: str, *keys: str | int) -> Problem:
        """``message`` placed at the node of ``keys`` (see :meth:`node`)."""
        node = self.node(*keys)
        return Problem(self.path, node.line, node.column, message)


def descend(node: Node, *keys: str | int) -> Node:
    """The node at ``keys`` (mapping keys and list indices) below ``node``, or the deepest one written."""
    for key in keys:
        child = _child(node, key)
        if child is None:
            break
        node = child
    return node


def _child(node: Node, key: str | int) -> Node | None:
    children = node.value
    if isinstance(children, list) and isinstance(key, int):
        return children[key] if 0 <= key < len(children) else None
    if isinstance(children, dict) and isinstance(key, str):
        return children.get(key)
    return None


def load(text: str, path: str) -> tuple[Node | None, list[Problem]]:
    """Compose ``text`` into a node tree; problems (syntax, duplicate keys, tags) are returned, not raised.

    A tree composed without problems is kept in quizkit's cache (see :mod:`quizkit.lessoncache`),
    keyed by the text's digest, so the next command that reads the same file skips PyYAML.
    """
    from quizkit import lessoncache

    cached = lessoncache.load(text)
    if cached is not None:
        return _from_plain(cached), []
    root, problems = _compose(text, path)
    if root is not None and not problems:
        lessoncache.store(text, _to_plain(root))
    return root, problems


def _to_plain(node: Node) -> list[Any]:
    """JSON-ready form of a tree: [kind, value, tag, line, column, quoted, key nodes]."""
    if node.kind == "mapping":
        assert isinstance(node.value, dict)
        value: Any = {name: _to_plain(child) for name, child in node.value.items()}
    elif node.kind == "sequence":
        assert isinstance(node.value, list)
        value = [_to_plain(child) for child in node.value]
    else:
        value = node.value
    keys = {name: _to_plain(key) for name, key in node.key_nodes.items()}
    return [node.kind, value, node.tag, node.line, node.column, node.quoted, keys]


def _from_plain(plain: list[Any]) -> Node:
    """Inverse of :func:`_to_plain` (the input is authenticated: see :mod:`quizkit.lessoncache`)."""
    kind, value, tag, line, column, quoted, keys = plain
    if kind == "mapping":
        value = {name: _from_plain(child) for name, child in value.items()}
    elif kind == "sequence":
        value = [_from_plain(child) for child in value]
    key_nodes = {name: _from_plain(key) for name, key in keys.items()}
    return Node(kind, value, tag, line, column, quoted, key_nodes)


def _loader() -> Any:
    import yaml

    # libyaml's composer is ~20x faster and still reports positions; both build no Python objects.
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose(text: str, path: str) -> tuple[Node | None, list[Problem]]:
    import yaml

    _LOADER = _loader()
    problems: list[Problem] = []
    try:
        too_big = _check_size(yaml.parse(text, Loader=_LOADER), path)
        if too_big is not None:
            return None, [too_big]
        documents = list(yaml.compose_all(text, Loader=_LOADER))
    except yaml.MarkedYAMLError as exc:
        return None, [_syntax_problem(exc, text, path)]
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, at an offset
        line, column = _line_and_column(text, exc.position)
        character = exc.character if isinstance(exc.character, int) else ord(exc.character or "\0")
        return None, [Problem(path, line, column, f"character U+{character:04X} is not allowed in YAML ({exc.reason})")]
    except yaml.YAMLError as exc:  # anything else PyYAML raises without a position
        return None, [Problem(path, 1, 1, "YAML error: " + " ".join(str(exc).split()))]
    if not documents or documents[0] is None:
        return None, [Problem(path, 1, 1, "the file is empty")]
    if len(documents) > 1:
        line, column = _position(documents[1]) if documents[1] is not None else (1, 1)
        problems.append(Problem(path, line, column, "a lesson file holds one YAML document; this starts a second one"))
    return _convert(documents[0], path, problems), problems


def _check_size(events: Iterable[yaml.Event], path: str) -> Problem | None:
    """The first bound of the module docstring that the event stream breaks, as a problem."""
    import yaml

    sizes: dict[str, tuple[int, int]] = {}  # anchor -> (nodes, alias references) once expanded
    open_anchors: list[str | None] = []  # anchors of the collections being read, outermost first
    counts: list[list[int]] = [[0, 0]]  # per open collection: nodes and alias references inside
    nodes = aliases = 0
    for event in events:
        mark = event.start_mark
        assert mark is not None  # the parser marks every event it makes
        where = (mark.line + 1, mark.column + 1)
        if isinstance(event, yaml.DocumentStartEvent):
            sizes.clear()  # anchors do not carry over from one document to the next
        elif isinstance(event, yaml.AliasEvent):
            named = event.anchor or ""  # an alias always names an anchor
            if named in open_anchors:
                return Problem(path, *where, f"alias *{event.anchor} is inside the node it names (a recursive alias)")
            alias_nodes, alias_refs = sizes.get(named, (0, 0))  # undefined: the composer says so
            nodes += alias_nodes
            aliases += alias_refs + 1
            counts[-1][0] += alias_nodes
            counts[-1][1] += alias_refs + 1
            if aliases > MAX_ALIAS_EXPANSIONS:
                return Problem(
                    path,
                    *where,
                    f"aliases here would be expanded more than {MAX_ALIAS_EXPANSIONS} times; write the values out",
                )
        elif isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
            nodes += 1
            counts[-1][0] += 1
            if isinstance(event, yaml.CollectionStartEvent):
                if len(open_anchors) >= MAX_DEPTH:
                    return Problem(
                        path, *where, f"lists and mappings are nested more than {MAX_DEPTH} levels deep here"
                    )
                open_anchors.append(event.anchor)
                counts.append([1, 0])
            elif event.anchor is not None:
                sizes[event.anchor] = (1, 0)
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor = open_anchors.pop()
            inside = counts.pop()
            counts[-1][0] += inside[0] - 1  # the start event was counted in the parent already
            counts[-1][1] += inside[1]
            if anchor is not None:
                sizes[anchor] = (inside[0], inside[1])
        if nodes > MAX_NODES:
            return Problem(path, *where, f"the file would have more than {MAX_NODES} values once aliases are expanded")
    return None


# A line inside a quoted string that reads like a YAML key: the sign of a quote closed too late.
_KEY_LINE = re.compile(r"\n[ \t]*(- +)?[A-Za-z_][\w-]*:(\s|$)")


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str, path: str) -> Problem:
    """A syntax error at the parser's mark, with the context's position and a hint at an unclosed quote."""
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    message = f"YAML syntax error: {exc.problem or exc.context or 'unreadable'}"
    context = exc.context_mark
    if exc.problem and exc.context:
        if context is not None and context is not mark:
            message += f" ({exc.context}, which starts at {context.line + 1}:{context.column + 1})"
        else:
            message += f" ({exc.context})"
    quote = _unclosed_quote(exc, text, mark.index if mark else len(text))
    if quote is not None and quote != (line, column):
        message += f"; a quoted string that starts at {quote[0]}:{quote[1]} may be unclosed"
    return Problem(path, line, column, message)


def _unclosed_quote(exc: yaml.MarkedYAMLError, text: str, error_index: int) -> tuple[int, int] | None:
    """Where a quoted scalar that may be unclosed begins (line, column), if one is in sight."""
    import yaml

    if exc.context == "while scanning a quoted scalar" and exc.context_mark is not None:
        return exc.context_mark.line + 1, exc.context_mark.column + 1
    try:
        for token in yaml.scan(text, Loader=_loader()):
            start = token.start_mark
            if start.index >= error_index:
                break
            if isinstance(token, yaml.ScalarToken) and token.style in ('"', "'"):
                raw = text[start.index : token.end_mark.index]
                if _KEY_LINE.search(raw):
                    return start.line + 1, start.column + 1
    except yaml.YAMLError:
        pass  # the tokens before the scanner's own error have been looked at
    return None


def _line_and_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of the character at ``offset``."""
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def _position(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _convert(node: yaml.Node, path: str, problems: list[Problem]) -> Node:
    import yaml

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
    assert isinstance(node, yaml.ScalarNode)  # the composer makes only these three kinds
    quoted = node.style in ("'", '"', "|", ">")
    if node.tag not in _PLAIN_TAGS:
        problems.append(Problem(path, line, column, f"YAML tag {node.tag!r} is not allowed in a lesson file"))
    return Node("scalar", node.value, node.tag, line, column, quoted=quoted)


def _check_collection_tag(node: yaml.Node, expected: str, path: str, problems: list[Problem]) -> None:
    if node.tag != expected:
        line, column = _position(node)
        problems.append(Problem(path, line, column, f"YAML tag {node.tag!r} is not allowed in a lesson file"))
