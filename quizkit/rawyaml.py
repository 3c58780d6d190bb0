"""Stage one of loading: YAML text to a tree of nodes that remember where they came from.

Only PyYAML's parser and resolver are used (no object construction at all): the tree is composed
here from the parser's events, so a lesson file can never instantiate Python objects. Scalars keep
their source text; the schema decides what they mean, which sidesteps YAML 1.1 traps such as ``no``
turning into ``False`` in a text field.

Each event is checked before it is composed, in the one pass over the file, against bounds on what
the file can make us build: nesting at most :data:`MAX_DEPTH` deep, at most
:data:`MAX_ALIAS_EXPANSIONS` alias references expanded and :data:`MAX_NODES` nodes after expansion,
and no alias inside the node it names. So a
recursive alias (``title: &a [*a]``), 1000 nested lists or an alias bomb (nine aliases of nine
aliases of ...) is one problem at its ``file:line:col``, found in time proportional to the file's
size, never a RecursionError or gigabytes of nodes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
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
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MAP_TAG = "tag:yaml.org,2002:map"  # every mapping's, unless the file tags it otherwise
_SEQ_TAG = "tag:yaml.org,2002:seq"  # every sequence's, likewise
# Binary, sets and every "!!python/..." tag are refused: a lesson is plain data.
_PLAIN_TAGS = frozenset({_BOOL_TAG, _INT_TAG, _FLOAT_TAG, _NULL_TAG, _STR_TAG, _TIMESTAMP_TAG})

# Lessons nest about eight levels; array literals add one per dimension, and numpy allows 64.
MAX_DEPTH = 100
# Aliases are rare in lessons (a shared hint, a repeated case); these bounds leave room for many
# while an alias bomb stops at once. Every later stage walks the expanded tree, so the node bound
# is what keeps `quizkit list` and `validate` fast.
MAX_ALIAS_EXPANSIONS = 1_000
MAX_NODES = 100_000
_TOO_MANY_NODES = f"the file would have more than {MAX_NODES} values once aliases are expanded"


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


# Tags by number in the cache's form of a tree (only trees without problems are kept, so only these).
_TAG_CODES = (_STR_TAG, _INT_TAG, _FLOAT_TAG, _BOOL_TAG, _NULL_TAG, _TIMESTAMP_TAG, _MAP_TAG, _SEQ_TAG)
_CODE_OF_TAG = {tag: number for number, tag in enumerate(_TAG_CODES)}
_TAG_AND_QUOTED = [(tag, quoted) for tag in _TAG_CODES for quoted in (False, True)]  # by ``how``


def _to_plain(node: Node) -> list[Any]:
    """JSON-ready form of a tree, compact since a lesson has tens of thousands of nodes.

    Each node is ``[value, line, column, how]``: the value is the text of a scalar, a list of the
    items of a sequence or, for a mapping, ``{key: [key node, value node]}``; ``how`` is
    ``2 * tag number + quoted`` for a tag of :data:`_TAG_CODES`, else ``[tag, quoted]``.
    """
    number = _CODE_OF_TAG.get(node.tag)
    how: Any = [node.tag, node.quoted] if number is None else 2 * number + node.quoted
    value = node.value
    if isinstance(value, str):  # most nodes: no recursion needed
        return [value, node.line, node.column, how]
    if isinstance(value, list):
        return [[_to_plain(child) for child in value], node.line, node.column, how]
    keys = node.key_nodes  # a node of every key of the mapping (see Node)
    pairs = {name: [_to_plain(keys[name]), _to_plain(child)] for name, child in value.items()}
    return [pairs, node.line, node.column, how]


def _from_plain(plain: list[Any]) -> Node:
    """Inverse of :func:`_to_plain` (the input is authenticated: see :mod:`quizkit.lessoncache`)."""
    value, line, column, how = plain
    tag, quoted = _TAG_AND_QUOTED[how] if type(how) is int else how
    if type(value) is str:
        return Node("scalar", value, tag, line, column, quoted)
    if type(value) is list:
        return Node("sequence", [_from_plain(child) for child in value], tag, line, column, quoted)
    keys = {}
    values = {}
    for name, (key, child) in value.items():
        keys[name] = _from_plain(key)
        values[name] = _from_plain(child)
    return Node("mapping", values, tag, line, column, quoted, keys)


def _loader() -> Any:
    import yaml

    # libyaml's parser is many times faster and still reports positions; neither builds Python objects.
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose(text: str, path: str) -> tuple[Node | None, list[Problem]]:
    import yaml

    try:
        documents, problems = _Composer(path).run(yaml.parse(text, Loader=_loader()))
    except yaml.MarkedYAMLError as exc:
        return None, [_syntax_problem(exc, text, path)]
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, at an offset
        line, column = _line_and_column(text, exc.position)
        character = exc.character if isinstance(exc.character, int) else ord(exc.character or "\0")
        return None, [Problem(path, line, column, f"character U+{character:04X} is not allowed in YAML ({exc.reason})")]
    except yaml.YAMLError as exc:  # anything else PyYAML raises without a position
        return None, [Problem(path, 1, 1, "YAML error: " + " ".join(str(exc).split()))]
    except _TooBig as exc:
        return None, [exc.problem]
    if not documents:
        return None, [Problem(path, 1, 1, "the file is empty")]
    if len(documents) > 1:
        second = documents[1]
        problems.append(
            Problem(path, second.line, second.column, "a lesson file holds one YAML document; this starts a second one")
        )
    return documents[0], problems


class _TooBig(Exception):
    """The event stream broke a bound of the module docstring (``problem`` says which, where)."""

    def __init__(self, path: str, mark: Any, message: str) -> None:
        self.problem = Problem(path, mark.line + 1, mark.column + 1, message)


class _Open:
    """A mapping or sequence being composed: its node so far and the problems found inside it."""

    __slots__ = ("anchor", "keep_value", "key", "keys", "node", "problems", "start")

    def __init__(self, node: Node, anchor: str | None, start: Any) -> None:
        self.node = node
        self.anchor = anchor
        self.start = start  # the start mark, where a duplicate of its anchor says the first one is
        self.problems: list[Problem] = []
        self.key: Node | None = None  # a mapping's key waiting for its value
        self.keep_value = True  # False: the waiting key was refused, and its value is not read
        self.keys = node.key_nodes


class _Composer:
    """PyYAML's parser events to a tree of :class:`Node`, in one pass that checks the bounds first.

    Each event is checked against the bounds (:data:`MAX_DEPTH`, :data:`MAX_ALIAS_EXPANSIONS`,
    :data:`MAX_NODES`, no alias inside the node it names) before it is composed, so nothing past a
    bound is ever built. What PyYAML's composer would do is done here: plain scalars get their tag
    from PyYAML's resolver, an alias stands for the node of its anchor (an undefined alias or a
    duplicate anchor is PyYAML's ComposerError, naming the anchor as PyYAML's own composer does,
    raised once the whole stream has parsed: a syntax error anywhere in the file is reported first). Problems of
    the tree (keys that are not text, merge keys, duplicate keys, tags) are collected per node, so
    that an alias repeats those of its anchor's node, and those inside a value whose key was refused
    do not count (the value is left out).
    """

    def __init__(self, path: str) -> None:
        import yaml

        self.path = path
        self.resolve = yaml.resolver.Resolver().resolve
        self.resolved: dict[tuple[str, tuple[bool, bool]], str] = {}
        self.scalar_kind = yaml.ScalarNode
        # anchor -> (node, the problems inside it, start mark), for the current document
        self.anchors: dict[str, tuple[Node, Sequence[Problem], Any]] = {}
        self.error: yaml.MarkedYAMLError | None = None  # the composer's first error, raised at the end

    def run(self, events: Iterable[Any]) -> tuple[list[Node], list[Problem]]:
        """The documents of the stream (their root nodes) and the problems of the first one.

        ``events`` are PyYAML's parser events (``yaml.parse``), whose attributes the stubs do not
        type: every event has a start mark, and scalars, aliases and collections an anchor.

        One branch per kind of event, checking the bounds and then composing; this loop is most of
        the time of loading a lesson that is not cached, so scalars (four events in five) and the
        items of sequences take the shortest path.
        """
        import yaml

        path = self.path
        # The bounds, as in the module docstring: running totals of nodes and alias references
        # once expanded, and for each open collection its anchor (an alias of it inside it is
        # recursive) and the totals when it opened (what is inside it is the difference).
        sizes: dict[str, tuple[int, int]] = {}  # anchor -> (nodes, alias references) once expanded
        open_anchors: list[str | None] = []  # outermost first
        opened_at: list[tuple[int, int]] = []
        nodes = aliases = 0
        # The tree.
        stack: list[_Open] = []
        documents: list[Node] = []
        first_problems: list[Problem] = []
        resolved, resolve, scalar_kind = self.resolved, self.resolve, self.scalar_kind
        anchors = self.anchors
        scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
        sequence_start, mapping_start = yaml.SequenceStartEvent, yaml.MappingStartEvent
        sequence_end, mapping_end = yaml.SequenceEndEvent, yaml.MappingEndEvent
        document_start = yaml.DocumentStartEvent
        problems: Sequence[Problem]
        for event in events:
            kind = type(event)
            if kind is scalar_event:
                nodes += 1
                mark = event.start_mark
                if nodes > MAX_NODES:
                    raise _TooBig(path, mark, _TOO_MANY_NODES)
                tag = event.tag
                if tag is None or tag == "!":
                    # The resolver reads only the text and how it was written: remembered for the
                    # file, since lessons repeat the same numbers and words many times.
                    written = (event.value, event.implicit)
                    tag = resolved.get(written)
                    if tag is None:
                        tag = resolved[written] = resolve(scalar_kind, *written)
                node = Node("scalar", event.value, tag, mark.line + 1, mark.column + 1, event.style in _QUOTED_STYLES)
                problems = () if tag in _PLAIN_TAGS else [self._tag_problem(node)]
                if event.anchor is not None:
                    sizes[event.anchor] = (1, 0)
                    self._anchor(event.anchor, node, problems, mark)
            elif kind is sequence_start or kind is mapping_start:
                nodes += 1
                mark = event.start_mark
                if len(open_anchors) >= MAX_DEPTH:
                    raise _TooBig(path, mark, f"lists and mappings are nested more than {MAX_DEPTH} levels deep here")
                if nodes > MAX_NODES:
                    raise _TooBig(path, mark, _TOO_MANY_NODES)
                open_anchors.append(event.anchor)
                opened_at.append((nodes - 1, aliases))
                stack.append(self._start(event, kind is mapping_start))
                continue
            elif kind is sequence_end or kind is mapping_end:
                anchor = open_anchors.pop()
                nodes_before, aliases_before = opened_at.pop()
                if anchor is not None:
                    sizes[anchor] = (nodes - nodes_before, aliases - aliases_before)
                done = stack.pop()
                node, problems = done.node, done.problems
                if node.kind == "mapping":
                    self._check_tag(node, _MAP_TAG, done.problems)
                if done.anchor is not None:
                    anchors[done.anchor] = (node, problems, done.start)
            elif kind is alias_event:
                mark = event.start_mark
                named = event.anchor or ""  # an alias always names an anchor
                if named in open_anchors:
                    raise _TooBig(path, mark, f"alias *{event.anchor} is inside the node it names (a recursive alias)")
                alias_nodes, alias_refs = sizes.get(named, (0, 0))  # undefined: reported by _alias
                nodes += alias_nodes
                aliases += alias_refs + 1
                if aliases > MAX_ALIAS_EXPANSIONS:
                    raise _TooBig(
                        path,
                        mark,
                        f"aliases here would be expanded more than {MAX_ALIAS_EXPANSIONS} times; write the values out",
                    )
                if nodes > MAX_NODES:
                    raise _TooBig(path, mark, _TOO_MANY_NODES)
                node, problems = self._alias(event)
            elif kind is document_start:
                sizes.clear()  # anchors do not carry over from one document to the next
                anchors.clear()
                continue
            else:
                continue
            if stack:
                parent = stack[-1]
                children = parent.node.value
                if type(children) is list and not problems:
                    children.append(node)
                else:
                    self._add(parent, node, problems)
            else:
                if not documents:
                    first_problems = list(problems)
                documents.append(node)
        if self.error is not None:
            raise self.error
        return documents, first_problems

    def _start(self, event: Any, mapping: bool) -> _Open:
        tag = event.tag
        if tag is None or tag == "!":
            tag = _MAP_TAG if mapping else _SEQ_TAG
        mark = event.start_mark
        value: dict[str, Node] | list[Node] = {} if mapping else []
        opened = _Open(
            Node("mapping" if mapping else "sequence", value, tag, mark.line + 1, mark.column + 1), None, mark
        )
        if event.anchor is not None:
            self._anchor(event.anchor, opened.node, opened.problems, mark)
            opened.anchor = event.anchor
        if not mapping:
            self._check_tag(opened.node, _SEQ_TAG, opened.problems)
        return opened

    def _alias(self, event: Any) -> tuple[Node, Sequence[Problem]]:
        found = self.anchors.get(event.anchor or "")
        if found is not None:
            return found[0], list(found[1])
        if self.error is None:
            import yaml

            self.error = yaml.composer.ComposerError(
                None, None, f"found undefined alias {event.anchor!r}", event.start_mark
            )
        mark = event.start_mark
        return Node("scalar", "", _NULL_TAG, mark.line + 1, mark.column + 1), ()  # never used: the error is raised

    def _anchor(self, anchor: str, node: Node, problems: Sequence[Problem], mark: Any) -> None:
        if anchor in self.anchors and self.error is None:
            import yaml

            self.error = yaml.composer.ComposerError(
                f"found duplicate anchor {anchor!r}; first occurrence",
                self.anchors[anchor][2],
                "second occurrence",
                mark,
            )
        self.anchors[anchor] = (node, problems, mark)

    def _add(self, parent: _Open, node: Node, problems: Sequence[Problem]) -> None:
        """Put a finished ``node`` (with the ``problems`` inside it) into the collection being composed."""
        children = parent.node.value
        if type(children) is list:
            children.append(node)
            if problems:
                parent.problems += problems
            return
        assert isinstance(children, dict)
        key = parent.key
        if key is None:  # ``node`` is a key
            if problems:
                parent.problems += problems
            parent.key, parent.keep_value = node, False
            if node.kind != "scalar":
                parent.problems.append(Problem(self.path, node.line, node.column, "a key must be plain text"))
                return
            name = str(node.value)
            if name == "<<":
                parent.problems.append(
                    Problem(self.path, node.line, node.column, "merge keys ('<<') are not supported")
                )
            elif name in children:
                first = parent.keys[name]
                parent.problems.append(
                    Problem(
                        self.path,
                        node.line,
                        node.column,
                        f"duplicate key '{name}' (first written on line {first.line})",
                    )
                )
            else:
                parent.keys[name] = node
                parent.keep_value = True
            return
        parent.key = None
        if parent.keep_value:  # a refused key's value is not read: its problems do not count
            children[str(key.value)] = node
            if problems:
                parent.problems += problems

    def _check_tag(self, node: Node, expected: str, problems: list[Problem]) -> None:
        if node.tag != expected:
            problems.append(self._tag_problem(node))

    def _tag_problem(self, node: Node) -> Problem:
        return Problem(self.path, node.line, node.column, f"YAML tag {node.tag!r} is not allowed in a lesson file")


_QUOTED_STYLES = ("'", '"', "|", ">")


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
