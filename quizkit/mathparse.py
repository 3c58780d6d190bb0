"""Safe reading of untrusted math text into SymPy expressions.

Learners type answers such as ``2λw``, ``λ·sign(w)`` or ``lam*w/|w|``. The text is first
*normalised* into Python-like syntax (Greek letters to names, ``^`` to ``**``, ``|x|`` to
``Abs(x)``, implicit multiplication made explicit), then read with ``ast.parse`` and turned into
a SymPy expression node by node from an allow-list. Nothing is ever evaluated as code, and every
limit (length, nesting, size of numbers) is checked before the work it guards.

Normalisation also accepts the notation learners paste: a label before ``=`` (``dL/dw =``), a
final full stop, ``½``, and common LaTeX. Every character keeps the position it had in the
learner's text, so a refusal (:class:`ParseError`) is one sentence of advice plus the span to mark
with a caret (:func:`caret_lines`), and :func:`reading` shows an accepted answer back in the
learner's own order and numbers. :func:`evaluate_number` reads plain arithmetic (``0.9^10``) with
the same allow-list and no SymPy at all.

SymPy is imported only inside :func:`parse`, :func:`symbols` and :func:`display`, so importing
this module (and calling :func:`normalize`, :func:`precheck`, :func:`reading` or
:func:`evaluate_number`) stays cheap.
"""

from __future__ import annotations

import ast
import keyword
import math
import operator
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from quizkit.errors import DeclarationError
from quizkit.rules import MAX_ANSWER_LENGTH, answer_length_problem

if TYPE_CHECKING:
    import sympy  # type: ignore[import-untyped]  # SymPy ships no type information

__all__ = [
    "ASSUMPTIONS",
    "MAX_LENGTH",
    "ParseError",
    "canonical_name",
    "caret_lines",
    "display",
    "display_name",
    "evaluate_number",
    "known_assumptions",
    "normalize",
    "parse",
    "precheck",
    "reading",
    "symbols",
    "variable_problems",
]

MAX_LENGTH = MAX_ANSWER_LENGTH  # characters of learner input
MAX_DEPTH = 25  # nested brackets, bars and calls; real answers need fewer than 10
MAX_NODES = 200  # expression nodes after parsing
MAX_EXPONENT = 1000  # |e| for a numeric exponent
MAX_DIGITS = 2000  # digits of any exact number produced by a power of numbers
MAX_ROOT_DIGITS = 100  # SymPy factors the base of a fractional power; big bases take seconds
MAX_DECIMAL_EXPONENT = 300  # the 300 in 1e300
MAX_DISPLAY = 300  # characters of the one-line reading shown to learners
MAX_FUNCTION_ARGS = 8  # Max/Min
_MAX_GLUED_NAME = 30  # longest name we try to split into declared variables

# --------------------------------------------------------------------------------------------
# Tables: declared once, used by normalisation, parsing and display alike.
# --------------------------------------------------------------------------------------------

# Unicode letter -> canonical ASCII name. The first letter listed for a name is the one shown.
_GREEK: dict[str, str] = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ϵ": "epsilon",
    "ζ": "zeta", "η": "eta", "θ": "theta", "ϑ": "theta", "ι": "iota", "κ": "kappa",
    "λ": "lam", "μ": "mu", "ν": "nu", "ξ": "xi", "ο": "omicron", "π": "pi", "ρ": "rho",
    "σ": "sigma", "ς": "sigma", "τ": "tau", "υ": "upsilon", "φ": "phi", "ϕ": "phi",
    "χ": "chi", "ψ": "psi", "ω": "omega",
    "Γ": "Gamma", "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda", "Ξ": "Xi", "Π": "Pi",
    "Σ": "Sigma", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega",
}  # fmt: skip

# Other spellings of a name. ``lambda`` is a Python keyword, so it can never survive to ast.parse.
# Canonical name -> the letter shown for it (the first listed above).
_GREEK_DISPLAY: dict[str, str] = {}
for _letter, _name in _GREEK.items():
    _GREEK_DISPLAY.setdefault(_name, _letter)

_NAME_ALIASES: dict[str, str] = {
    "lambda": "lam",
    "lamda": "lam",
    "lmbda": "lam",
    "eps": "epsilon",
}

# Canonical function name -> (SymPy attribute, fewest args, most args).
_FUNCTIONS: dict[str, tuple[str, int, int]] = {
    "sign": ("sign", 1, 1),
    "Abs": ("Abs", 1, 1),
    "exp": ("exp", 1, 1),
    "log": ("log", 1, 1),
    "sqrt": ("sqrt", 1, 1),
    "sin": ("sin", 1, 1),
    "cos": ("cos", 1, 1),
    "tan": ("tan", 1, 1),
    "sinh": ("sinh", 1, 1),
    "cosh": ("cosh", 1, 1),
    "tanh": ("tanh", 1, 1),
    "asin": ("asin", 1, 1),
    "acos": ("acos", 1, 1),
    "atan": ("atan", 1, 1),
    "Heaviside": ("Heaviside", 1, 1),
    "Max": ("Max", 2, MAX_FUNCTION_ARGS),
    "Min": ("Min", 2, MAX_FUNCTION_ARGS),
}

# Lower-cased spelling -> canonical function name (function names are matched case-insensitively).
_FUNCTION_ALIASES: dict[str, str] = {
    **{name.lower(): name for name in _FUNCTIONS},
    "sgn": "sign",
    "signum": "sign",
    "ln": "log",
    "arcsin": "asin",
    "arccos": "acos",
    "arctan": "atan",
}

# Names of constants; a declared variable of the same name takes precedence.
_CONSTANTS: dict[str, str] = {"pi": "pi", "e": "E", "E": "E"}

# The assumption words a lesson may declare; each is also the sympy.Symbol keyword it sets. The
# lesson model takes its list from here: the reader owns its vocabulary.
ASSUMPTIONS = ("real", "positive", "nonnegative", "negative", "nonpositive", "nonzero", "integer")
_ASSUMPTIONS = frozenset(ASSUMPTIONS)

_OPERATOR_CHARS: dict[str, str] = {
    "·": "*", "⋅": "*", "×": "*", "∗": "*", "∙": "*", "•": "*",
    "−": "-", "‐": "-", "‑": "-", "–": "-", "—": "-",
    "÷": "/", "∕": "/", "^": "**", "∣": "|",
}  # fmt: skip

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SUPERSCRIPT_RUN = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+")
_SUBSCRIPT_DIGITS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")

_NUMBER = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_ASCII_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_GREEK_SUFFIX = re.compile(r"_?\d+|_[A-Za-z0-9_]+")
_STEM_DIGITS = re.compile(r"([A-Za-z]+)_?(\d+)")
_ALLOWED_WHITESPACE = frozenset(" \t\r\n")
_DIGITS = frozenset("0123456789")

# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------

Span = tuple[int, int]


class ParseError(Exception):
    """An answer that cannot be read.

    ``message`` is one sentence of advice for the learner: what is wrong and how to write it.
    ``span`` is the (start, end) of the offending piece in the text as the learner typed it (for a
    caret under it), or ``None`` when the whole answer is at fault. ``normalized`` is how the input
    was read after normalisation, or ``None`` when it was rejected before that; it is internal
    syntax, for tests and logs, never for learners.
    """

    def __init__(self, message: str, normalized: str | None = None, span: Span | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.normalized = normalized
        self.span = span


def known_assumptions() -> frozenset[str]:
    """The assumption words a question may declare for a variable."""
    return _ASSUMPTIONS


def caret_lines(source: str, span: Span | None) -> tuple[str, str] | None:
    """The learner's text and a line with ``^~~~`` under ``span`` (as packaging's parser errors).

    Line breaks and tabs become spaces so the caret stays aligned; ``None`` without a span.
    """
    if span is None:
        return None
    line = "".join(" " if char in "\t\r\n" else char for char in source)
    start = max(0, min(span[0], len(line)))
    end = max(start + 1, min(span[1], len(line) + 1))

    # Wide characters (CJK, emoji) take two columns; count them so the caret lines up.
    def columns(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)

    return line, " " * columns(line[:start]) + "^" + "~" * max(0, columns(line[start:end]) - 1)


# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    """One token of a learner's expression, with where it came from."""

    kind: str  # "number" | "name" | "function" | "string" | "op" | "other"
    text: str
    spaced: bool = False  # whitespace came before it
    span: Span = (0, 0)  # where it came from in the learner's text
    bar: bool = False  # made from an absolute-value bar (Abs, its "(" or ")")


class _Chars:
    """Text being rewritten, with the span of the learner's text each character came from.

    Every rewrite keeps the spans, so an error found late (in ``ast``) can still point a caret
    at what the learner typed.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.spans: list[Span] = [(index, index + 1) for index in range(len(text))]
        self.length = len(text)

    def span(self, start: int, end: int) -> Span:
        """The learner's span behind characters ``start:end`` (an empty range points at ``start``)."""
        if start >= len(self.spans):
            return (self.length, self.length + 1)
        if end <= start:
            return (self.spans[start][0], self.spans[start][0])
        return (self.spans[start][0], self.spans[end - 1][1])

    def replace(self, start: int, end: int, new: str) -> None:
        span = self.span(start, end)
        self.text = self.text[:start] + new + self.text[end:]
        self.spans[start:end] = [span] * len(new)

    def sub(self, pattern: re.Pattern[str], replacement: Callable[[re.Match[str]], str]) -> None:
        for match in reversed(list(pattern.finditer(self.text))):
            self.replace(match.start(), match.end(), replacement(match))


def precheck(text: str) -> None:
    """Reject input that must not be processed at all: too long, empty, or with control characters.

    Needs no SymPy, so callers can answer such input without starting a worker.
    """
    if not isinstance(text, str):
        raise TypeError(f"an answer must be a string, not {type(text).__name__}")
    too_long = answer_length_problem(text)
    if too_long is not None:
        raise ParseError(f"{too_long} Write a shorter expression.")
    for index, char in enumerate(text):
        if char in _ALLOWED_WHITESPACE:
            continue
        if unicodedata.category(char) in ("Cc", "Cs", "Co", "Cn"):
            raise ParseError(
                f"The answer contains an invisible or unassigned character (U+{ord(char):04X}); retype it without it.",
                span=(index, index + 1),
            )
    if not text.strip():
        raise ParseError("The answer is empty; type an expression.")


def canonical_name(spelling: str) -> str:
    """The single spelling used internally for a name: ``lambda1``, ``lam_1``, ``λ₁`` -> ``lam1``.

    Function names come back in their canonical form (``sgn`` -> ``sign``). Text that is not one
    name is returned normalised but otherwise unchanged.
    """
    tokens = _tokenize(_prepare(spelling))
    if len(tokens) == 1 and tokens[0].kind in ("name", "function"):
        return tokens[0].text
    return "".join(token.text for token in tokens)


def _canonical_spelling(spelling: str) -> tuple[str, str]:
    """(kind, canonical text) for one ASCII name token."""
    function = _FUNCTION_ALIASES.get(spelling.lower())
    if function is not None:
        return "function", function
    match = _STEM_DIGITS.fullmatch(spelling)
    stem, digits = (match.group(1), match.group(2)) if match else (spelling, "")
    return "name", _NAME_ALIASES.get(stem, stem) + digits


# ½ and its kin: NFKC would give "1⁄2", glued to the digits around it (3½ -> 31⁄2).
_VULGAR_FRACTION = re.compile("[\u00bc-\u00be\u2150-\u215e\u2189]")
_FRACTION_SLASH = "\u2044"


def _vulgar_fraction(match: re.Match[str]) -> str:
    numerator, _, denominator = unicodedata.normalize("NFKC", match.group(0)).partition(_FRACTION_SLASH)
    return f"({numerator}/{denominator})"


# ³⁄₁₀: superscript digits, the fraction slash, subscript digits.
_SCRIPT_FRACTION = re.compile("([⁰¹²³⁴⁵⁶⁷⁸⁹]+)\u2044([₀₁₂₃₄₅₆₇₈₉]+)")


def _script_fraction(match: re.Match[str]) -> str:
    return f"({unicodedata.normalize('NFKC', match.group(1))}/{unicodedata.normalize('NFKC', match.group(2))})"


def _prepare(text: str) -> _Chars:
    """Character-level clean-up, keeping where each character came from."""
    chars = _Chars(text)
    chars.sub(_VULGAR_FRACTION, _vulgar_fraction)
    chars.sub(_SCRIPT_FRACTION, _script_fraction)

    # Superscripts before NFKC: NFKC would turn w² into w2, which reads as a name.
    def as_power(match: re.Match[str]) -> str:
        exponent = match.group(0).translate(_SUPERSCRIPTS)
        return f"^({exponent})" if exponent[0] in "+-" else f"^{exponent}"

    chars.sub(_SUPERSCRIPT_RUN, as_power)
    # NFKC folds full-width letters, subscript digits (λ₁ -> λ1) and the micro sign into plain
    # ones; zero-width characters pasted from documents carry no meaning here.
    for index in range(len(chars.text) - 1, -1, -1):
        char = chars.text[index]
        if unicodedata.category(char) == "Cf":
            chars.replace(index, index + 1, "")
        elif not char.isascii():
            folded = unicodedata.normalize("NFKC", char).replace(_FRACTION_SLASH, "/")
            if folded != char:
                chars.replace(index, index + 1, folded)
    return chars


# --- LaTeX -----------------------------------------------------------------------------------

_LATEX_GREEK_NAMES = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau "
    "upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Phi Psi Omega"
).split()
_LATEX_WORDS: dict[str, str] = {
    **{name: _GREEK_DISPLAY[_NAME_ALIASES.get(name, name)] for name in _LATEX_GREEK_NAMES},
    "varepsilon": "ε", "vartheta": "θ", "varphi": "φ", "varsigma": "σ", "varpi": "π",
    "cdot": "·", "times": "×", "ast": "*", "div": "÷",
    "vert": "|", "lvert": "|", "rvert": "|", "mid": "|",
    "left": "", "right": "", "big": "", "Big": "", "bigl": "", "bigr": "", "Bigl": "", "Bigr": "",
    **{name: name for name in ("sin", "cos", "tan", "sinh", "cosh", "tanh", "exp", "log", "ln",
                               "arcsin", "arccos", "arctan", "max", "min", "sgn")},
}  # fmt: skip
_LATEX_UNWRAP = frozenset(
    {"operatorname", "mathrm", "text", "textrm", "textit", "mathit", "mathbf", "boldsymbol", "mathsf"}
)
_LATEX_FRACTIONS = frozenset({"frac", "dfrac", "tfrac"})
_LATEX_SPACING = frozenset(",;:! ")
_LATEX_COMMAND = re.compile(r"\\([A-Za-z]+|.?)")
_LATEX_MATH_DELIMITERS = re.compile(r"\$|\\[()\[\]]")  # $…$, \(…\), \[…\]


def _closing_brace(text: str, opening: int) -> int:
    """Index of the ``}`` matching the ``{`` at ``opening``, or -1."""
    depth = 0
    for index in range(opening, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    return -1


def _skip_spaces(text: str, index: int) -> int:
    while index < len(text) and text[index] == " ":
        index += 1
    return index


def _latex(chars: _Chars) -> None:
    """Rewrite the LaTeX learners paste: ``\\frac{a}{b}``, ``\\lambda``, ``^{2}``, ``\\operatorname{sign}``.

    Unknown commands are left in place; the tokenizer reports them with a caret.
    """
    chars.sub(_LATEX_MATH_DELIMITERS, lambda match: " ")
    index = 0
    while index < len(chars.text):
        text = chars.text
        char = text[index]
        if char in "^_" and text[index + 1 : index + 2] == "{":
            close = _closing_brace(text, index + 1)
            if close < 0:
                index += 1
                continue
            content = text[index + 2 : close]
            if content.isalnum():
                # λ_{1} -> λ_1 (a subscripted name), w^{2} -> w^2
                chars.replace(close, close + 1, "")
                chars.replace(index + 1, index + 2, "")
            else:
                chars.replace(close, close + 1, ")")
                chars.replace(index + 1, index + 2, "(")
            index += 1
            continue
        if char != "\\":
            index += 1
            continue
        match = _LATEX_COMMAND.match(text, index)
        assert match is not None  # the pattern matches any backslash
        word = match.group(1)
        after = _skip_spaces(text, match.end())
        braced = text[after : after + 1] == "{"
        if word in _LATEX_FRACTIONS and braced:
            first_close = _closing_brace(text, after)
            second_open = _skip_spaces(text, first_close + 1) if first_close > 0 else -1
            if second_open > 0 and text[second_open : second_open + 1] == "{":
                second_close = _closing_brace(text, second_open)
                if second_close > 0:
                    # Right to left, so earlier indices stay valid.
                    chars.replace(second_close, second_close + 1, "))")
                    chars.replace(first_close, second_open + 1, ")/(")
                    chars.replace(index, after + 1, "((")
                    index += 2
                    continue
        elif (word in _LATEX_UNWRAP or word == "sqrt") and braced:
            close = _closing_brace(text, after)
            if close > 0:
                if word == "sqrt":
                    chars.replace(close, close + 1, ")")
                    chars.replace(index, after + 1, "sqrt(")
                else:
                    chars.replace(close, close + 1, " ")
                    chars.replace(index, after + 1, "")
                continue
        elif word in _LATEX_SPACING:
            chars.replace(index, match.end(), " ")
            continue
        elif word in _LATEX_WORDS:
            replacement = _LATEX_WORDS[word]
            chars.replace(index, match.end(), replacement)
            continue
        index = match.end()  # unknown: leave it for the tokenizer to report


# --- labels, punctuation ---------------------------------------------------------------------

_LETTER = r"[A-Za-z\u0370-\u03ff]"
_LABEL_NAME = rf"{_LETTER}[A-Za-z0-9_\u0370-\u03ff]*"
_GROUP = r"(?:\(.*\)|\[.*\])"
_LABEL = re.compile(
    "|".join(
        [
            # dL/dw, d/dw(λ|w|), ∂L/∂w, d(λ|w|)/dw, d/dw [λ|w|]
            rf"[d∂]\s*(?:{_LABEL_NAME}|{_GROUP})?\s*/\s*[d∂]\s*{_LABEL_NAME}(?:\s*{_GROUP})?",
            # L'(w), f(w), g(w, λ), ∇L(w)
            rf"∇?\s*{_LABEL_NAME}\s*['′]*\s*\([^()=]*\)",
            # L', f″, ∇L
            rf"{_LABEL_NAME}\s*['′]+",
            rf"∇\s*{_LABEL_NAME}",
            # w_new, w_next, w_(t+1)
            rf"{_LABEL_NAME}_(?:new|next|\(\s*t\s*\+\s*1\s*\))",
        ]
    )
)
_TRAILING_PUNCTUATION = ".,;"
# "… for w ≠ 0", "… (if w > 0)": the condition the prompt states, repeated after the answer.
_TRAILING_CONDITION = re.compile(
    r"[\s,;]*(\(\s*)?\b(?:for|if|when|where)\s+[^()=<>≠≤≥]*(?:≠|!=|<=|>=|<|>|≤|≥|=)(?:(?!\belse\b)[^()])*(?(1)\)|)[\s.,;]*$"
)


def _top_level_equals(text: str) -> list[int]:
    """Positions of ``=`` signs outside brackets that are not part of ``==``, ``<=``, ``:=``, ..."""
    found: list[int] = []
    depth = 0
    for index, char in enumerate(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "=" and depth == 0:
            before = text[index - 1 : index]
            after = text[index + 1 : index + 2]
            if before not in ("=", "<", ">", "!", ":") and after != "=":
                found.append(index)
    return found


def _strip_label_and_punctuation(chars: _Chars) -> None:
    """``dL/dw = λ·sign(w).`` -> ``λ·sign(w)``: a label before a single ``=``, and a final full stop."""
    condition = _TRAILING_CONDITION.search(chars.text)
    if condition is not None and condition.start() > 0:
        chars.replace(condition.start(), len(chars.text), "")
    text = chars.text
    end = len(text)
    while end and (text[end - 1].isspace() or text[end - 1] in _TRAILING_PUNCTUATION):
        end -= 1
    if end and end < len(text):
        chars.replace(end, len(text), "")
    equals = _top_level_equals(chars.text)
    if len(equals) == 1 and chars.text.count("=") == 1:
        left = chars.text[: equals[0]].strip()
        if _LABEL.fullmatch(left):
            chars.replace(0, equals[0] + 1, "")


# --- tokens ----------------------------------------------------------------------------------


def _tokenize(chars: _Chars) -> list[_Token]:
    text = chars.text
    tokens: list[_Token] = []
    spaced = False
    index = 0
    while index < len(text):
        char = text[index]
        start = index
        if char.isspace():
            spaced = True
            index += 1
            continue
        if char in _DIGITS or (char == "." and text[index + 1 : index + 2] in _DIGITS):
            match = _NUMBER.match(text, index)
            assert match is not None  # an ASCII digit or ".digit" always starts a number
            kind, name, index = "number", match.group(0), match.end()
        elif char in _GREEK:
            suffix = _GREEK_SUFFIX.match(text, index + 1)
            end = suffix.end() if suffix else index + 1
            kind, name = _canonical_spelling(_GREEK[char] + text[index + 1 : end])
            index = end
        elif char.isascii() and (char.isalpha() or char == "_"):
            match = _ASCII_NAME.match(text, index)
            assert match is not None
            kind, name = _canonical_spelling(match.group(0))
            index = match.end()
        elif char == "√":
            kind, name, index = "function", "sqrt", index + 1
        elif char in "'\"":
            # Keep quoted text whole so the caret covers it (it is rejected later).
            end = text.find(char, index + 1)
            end = len(text) if end < 0 else end + 1
            kind, name, index = "string", text[index:end], end
        elif char == "\\":
            match = _LATEX_COMMAND.match(text, index)
            assert match is not None
            kind, name, index = "other", match.group(0), match.end()
        else:
            kind = "op" if char in _OPERATOR_CHARS or char in "+-*/()[]{},|.=<>!%&~@:;?#$" else "other"
            name, index = _OPERATOR_CHARS.get(char, char), index + 1
        tokens.append(_Token(kind, name, spaced, chars.span(start, index)))
        spaced = False
    return tokens


def _split_glued(name: str, known: frozenset[str], before_call: bool) -> list[tuple[str, str]] | None:
    """Split ``lamw`` into ``lam``, ``w`` when exactly one split into declared names exists.

    The last piece may be a function name when a ``(`` follows (``lamsign(w)``).
    """
    if len(name) > _MAX_GLUED_NAME:
        return None
    # ways[i]: the splits of name[i:], capped at two because only a unique split is used.
    ways: list[list[list[tuple[str, str]]]] = [[] for _ in range(len(name) + 1)]
    ways[len(name)] = [[]]
    for start in range(len(name) - 1, -1, -1):
        for end in range(start + 1, len(name) + 1):
            if not ways[end]:
                continue
            kind, piece = _canonical_spelling(name[start:end])
            last = end == len(name)
            if (kind == "name" and piece in known) or (kind == "function" and last and before_call):
                for rest in ways[end]:
                    ways[start].append([(kind, piece), *rest])
                    if len(ways[start]) > 1:
                        break
            if len(ways[start]) > 1:
                break
    if len(ways[0]) == 1 and len(ways[0][0]) > 1:
        return ways[0][0]
    return None


def _split_glued_names(tokens: list[_Token], known: frozenset[str]) -> list[_Token]:
    result: list[_Token] = []
    for index, token in enumerate(tokens):
        if token.kind == "name" and token.text not in known and token.text not in _CONSTANTS:
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            before_call = following is not None and following.text == "("
            pieces = _split_glued(token.text, known, before_call)
            if pieces:
                for number, (kind, piece) in enumerate(pieces):
                    result.append(_Token(kind, piece, token.spaced and number == 0, token.span))
                continue
        result.append(token)
    return result


def _ends_operand(token: _Token) -> bool:
    return token.kind in ("number", "name", "function", "string") or token.text in ")]}"


def _bar_roles(tokens: list[_Token]) -> dict[int, str]:
    """Decide for each ``|`` whether it opens or closes an absolute value ("open"/"close").

    A bar closes when an operand precedes it and the innermost open bracket is a bar; otherwise
    it opens. Bars left open at the end are absent from the result and stay literal ``|``.
    """
    roles: dict[int, str] = {}
    openers: list[tuple[str, int]] = []
    previous_ends_operand = False
    for index, token in enumerate(tokens):
        if token.text in "([{":
            openers.append((token.text, index))
        elif token.text in ")]}":
            # A bar still open inside these brackets has no partner.
            while openers and openers[-1][0] == "|":
                roles.pop(openers.pop()[1])
            if openers:
                openers.pop()
        elif token.text == "|":
            if previous_ends_operand and openers and openers[-1][0] == "|":
                roles[index] = "close"
                openers.pop()
                previous_ends_operand = True
            else:
                roles[index] = "open"
                openers.append(("|", index))
                previous_ends_operand = False
            continue
        previous_ends_operand = _ends_operand(token)
    for kind, index in openers:
        if kind == "|":
            roles.pop(index)
    return roles


def _convert_bars(tokens: list[_Token]) -> list[_Token]:
    roles = _bar_roles(tokens)
    result: list[_Token] = []
    for index, token in enumerate(tokens):
        role = roles.get(index)
        if role == "open":
            result += [
                _Token("function", "Abs", token.spaced, token.span, True),
                _Token("op", "(", False, token.span, True),
            ]
        elif role == "close":
            result.append(_Token("op", ")", token.spaced, token.span, True))
        else:
            result.append(token)
    return result


def _implicit_product(left: _Token, right: _Token) -> bool:
    """Whether juxtaposed tokens mean multiplication: ``2w``, ``λ sign(w)``, ``)(``, ``w(1-w)``."""
    if left.kind == "string" or right.kind == "string":
        return False
    if left.kind == "number" and right.kind == "number":
        return False  # "1.2.3" must stay an error, not become 1.2*.3
    if left.kind == "function" and right.text == "(":
        return False  # a call
    left_ends = left.kind in ("number", "name", "function") or left.text == ")"
    right_starts = right.kind in ("number", "name", "function") or right.text == "("
    return left_ends and right_starts


def _render(tokens: list[_Token]) -> tuple[str, list[int]]:
    """Python-syntax text for ``tokens``, and for each of its characters the token it came from."""
    parts: list[str] = []
    owners: list[int] = []
    for index, token in enumerate(tokens):
        if index:
            if _implicit_product(tokens[index - 1], token):
                parts.append("*")
                owners.append(index)
            elif token.spaced:
                parts.append(" ")
                owners.append(index)
        parts.append(token.text)
        owners.extend([index] * len(token.text))
    return "".join(parts), owners


@dataclass(frozen=True)
class _Reading:
    """An answer after normalisation: its tokens and their Python-syntax rendering."""

    source: str  # as the learner typed it
    tokens: list[_Token]
    text: str
    owners: list[int]

    def span(self, start: int, end: int) -> Span:
        """The learner's span behind characters ``start:end`` of :attr:`text`."""
        if not self.tokens:
            return (0, max(1, len(self.source)))
        if start >= len(self.owners):
            end_of_input = len(self.source.rstrip())
            return (end_of_input, end_of_input + 1)
        first = self.tokens[self.owners[start]].span
        last = self.tokens[self.owners[max(start, min(end, len(self.owners)) - 1)]].span
        return (first[0], max(first[0] + 1, last[1]))


def _read(text: str, known: Iterable[str] | None) -> _Reading:
    chars = _prepare(text)
    _latex(chars)
    _strip_label_and_punctuation(chars)
    tokens = _tokenize(chars)
    if known is not None:
        tokens = _split_glued_names(tokens, frozenset(known))
    tokens = _convert_bars(tokens)
    rendered, owners = _render(tokens)
    return _Reading(text, tokens, rendered, owners)


def normalize(text: str, *, variables: Iterable[str] | None = None) -> str:
    """Rewrite learner notation into Python/SymPy syntax without interpreting it.

    Greek letters become names (``λ`` -> ``lam``, ``α`` -> ``alpha``), ``lambda`` -> ``lam``,
    subscript digits join the name (``λ₁`` -> ``lam1``), ``·``/``×`` -> ``*``, ``−`` -> ``-``,
    ``^`` and superscripts -> ``**``, ``½`` -> ``(1/2)``, ``|x|`` -> ``Abs(x)``, ``sgn`` -> ``sign``,
    and implicit multiplication is made explicit (``2λw`` -> ``2*lam*w``, ``w(1-w)`` -> ``w*(1-w)``).
    Common LaTeX is rewritten (``\\frac{a}{b}``, ``\\lambda``, ``^{2}``, ``\\operatorname{sign}``),
    and a label before a single ``=`` (``dL/dw =``, ``L'(w) =``) and final ``.``/``,``/``;`` dropped.

    With ``variables`` (canonical names), names glued together are split when there is exactly
    one way to do it (``lamw`` -> ``lam*w``). Unmatched ``|`` bars are left in place.
    """
    return _read(text, variables).text


# --- the learner's own notation, for "Read as" -----------------------------------------------

_SHOWN_OPERATORS = {"*": "·", "-": "−", "**": "^"}


def _shown(tokens: list[_Token]) -> str:
    """The answer as the learner wrote it, tidied: ``2(w-0.3)+λ`` -> ``2(w − 0.3) + λ``.

    Keeps their order, numbers and bars; names in display form (``lam1`` -> ``λ₁``); a middle dot
    where two names meet, so a split such as ``lamw`` -> ``λ·w`` is visible.
    """
    parts: list[str] = []
    previous: _Token | None = None
    for index, token in enumerate(tokens):
        if token.bar:
            text = "" if token.kind == "function" else "|"
        elif token.kind == "name":
            text = display_name(token.text)
        elif token.kind == "function":
            text = {"Abs": "abs"}.get(token.text, token.text)
        elif token.text == "*" and index + 1 < len(tokens) and tokens[index + 1].text == "*":
            continue  # the first half of a typed "**"
        elif token.text == "*" and index and tokens[index - 1].text == "*":
            text = "^"
        elif token.kind == "op" and token.text in "+-" and previous is not None and _ends_operand(previous):
            text = f" {_SHOWN_OPERATORS.get(token.text, token.text)} "  # binary: spaced; unary: not
        elif token.text == ",":
            text = ", "
        else:
            text = _SHOWN_OPERATORS.get(token.text, token.text)
        # λ·w shows how names were split; 2λ stays glued unless the learner spaced it (1/2 w).
        after_factor = previous is not None and (previous.kind in ("name", "function") or previous.text == ")")
        after_spaced_number = previous is not None and previous.kind == "number" and token.spaced
        if token.kind in ("name", "function") and (after_factor or after_spaced_number):
            parts.append("·")
        parts.append(text)
        if not (token.bar and token.kind == "function"):
            previous = token
    shown = "".join(parts).strip()
    return shown if len(shown) <= MAX_DISPLAY else shown[: MAX_DISPLAY - 1] + "…"


def reading(text: str, variables: Mapping[str, str]) -> str:
    """How an answer that :func:`parse` accepts is shown back to the learner (``Read as``)."""
    return _shown(_read(text, _declare(variables)).tokens)


# --------------------------------------------------------------------------------------------
# Declared variables
# --------------------------------------------------------------------------------------------


def variable_problems(variables: Mapping[str, str]) -> list[str]:
    """Problems with a question's variable declarations (name -> assumption); empty if fine."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for name, assumption in variables.items():
        if not isinstance(name, str) or not isinstance(assumption, str):
            problems.append(f"variable {name!r}: name and assumption must be text")
            continue
        canonical = canonical_name(name)
        if not canonical.isidentifier() or canonical.startswith("_") or keyword.iskeyword(canonical):
            problems.append(f"variable {name!r} is not a usable name")
        elif canonical in _FUNCTIONS:
            problems.append(f"variable {name!r} has the name of a function")
        elif canonical in seen:
            problems.append(f"variables {seen[canonical]!r} and {name!r} are the same name")
        seen.setdefault(canonical, name)
        if assumption not in _ASSUMPTIONS:
            known = ", ".join(sorted(_ASSUMPTIONS))
            problems.append(f"variable {name!r}: unknown assumption {assumption!r} (known: {known})")
    return problems


def _declare(variables: Mapping[str, str]) -> dict[str, str]:
    """Canonical name -> assumption; raises DeclarationError for broken declarations (the author's bug)."""
    problems = variable_problems(variables)
    if problems:
        raise DeclarationError("; ".join(problems))
    return {canonical_name(name): assumption for name, assumption in variables.items()}


def display_name(name: str) -> str:
    """How a canonical name is shown: ``lam`` -> ``λ``, ``lam1`` -> ``λ₁``, ``w2`` -> ``w₂``."""
    match = _STEM_DIGITS.fullmatch(name)
    stem, digits = (match.group(1), match.group(2)) if match else (name, "")
    return _GREEK_DISPLAY.get(stem, stem) + digits.translate(_SUBSCRIPT_DIGITS)


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------

# Look-alikes of Latin letters from other scripts: pasted from documents or typed on another
# keyboard layout, they are invisible mistakes, so the message names the letter they imitate.
_LOOKALIKES: dict[str, str] = {
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "ԝ": "w", "ѡ": "w",
    "і": "i", "ј": "j", "ѕ": "s", "һ": "h", "ԛ": "q", "ɡ": "g", "ɩ": "i", "ʟ": "L",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
    "Т": "T", "Х": "X", "ο": "o", "Ο": "O", "ν": "v", "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z",
    "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
}  # fmt: skip

_OPERATOR_ADVICE: dict[str, str] = {
    "%": "'%' cannot be used; for a percentage write a fraction such as 42/100",
    "!": "factorials (!) are not supported; write the product out, or use + − * / ^ only",
    "&": "'&' cannot be used; write one expression with + − * / ^",
    "@": "'@' cannot be used; use * or · to multiply",
    "~": "'~' cannot be used; write one expression with + − * / ^",
    "<": "comparisons (<, >) cannot be used; give only the expression",
    ">": "comparisons (<, >) cannot be used; give only the expression",
    ":": "':' cannot be used; give only the expression",
    ";": "';' cannot be used; give one expression",
    "?": "'?' cannot be used; give only the expression",
    "#": "'#' cannot be used; give only the expression",
}
_OPERATOR_SYMBOLS: dict[type, str] = {
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.MatMult: "@",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.Invert: "~",
    ast.Not: "not",
}
_NODE_ADVICE: dict[type, str] = {
    ast.Subscript: "Use parentheses ( ) to group, not square brackets [ ].",
    ast.List: "Use parentheses ( ) to group, not square brackets [ ].",
    ast.Tuple: "Give one expression; commas only separate the arguments of Max(a, b) and Min(a, b).",
    ast.Compare: "Comparisons cannot be used; give only the expression.",
}
# The four operations both readers (SymPy and plain numbers) compute directly; ** is checked first.
_ARITHMETIC: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_NUMBERS_ONLY = "Give a number; only numbers, + − * / ^ and brackets can be used here."
_SUPPORTED = "abs, sign, exp, log, sqrt, sin, cos, tan, sinh, cosh, tanh, asin, acos, atan, Heaviside, Max, Min"


def _char_description(char: str) -> str:
    try:
        name = unicodedata.name(char)
    except ValueError:
        name = "an unnamed character"
    return f"U+{ord(char):04X} {name}"


class _Diagnosis:
    """Finds the first thing in a reading that cannot be an answer, and says how to write it."""

    def __init__(self, reading: _Reading, declared: Mapping[str, str]) -> None:
        self.reading = reading
        self.tokens = reading.tokens
        self.declared = declared

    def fail(self, message: str, span: Span) -> ParseError:
        return ParseError(message, self.reading.text, span)

    def uses(self) -> str:
        return ", ".join(display_name(name) for name in self.declared)

    def run(self) -> None:
        self.brackets()
        for index, token in enumerate(self.tokens):
            if token.text == "=":  # a label the reader did not recognise, or an equation
                self.operator(token, self.tokens[index - 1] if index else None, None)
        last = self.tokens[-1]
        if last.kind == "op" and last.text in ("+", "-", "*", "/", "**", ","):
            final = self.reading.source[last.span[0] : last.span[1]]
            raise self.fail(f"The answer ends too early: add what should follow the final '{final}'.", last.span)
        for index, token in enumerate(self.tokens):
            before = self.tokens[index - 1] if index else None
            after = self.tokens[index + 1] if index + 1 < len(self.tokens) else None
            self.token(token, before, after)

    def brackets(self) -> None:
        opened: list[_Token] = []
        for token in self.tokens:
            if token.text in "([{":
                opened.append(token)
            elif token.text in ")]}":
                if not opened:
                    raise self.fail(
                        f"This '{token.text}' has no matching opening bracket; remove it or add one.", token.span
                    )
                opened.pop()
            elif token.text == "|":
                raise self.fail("This '|' has no partner; absolute-value bars come in pairs, as in |w|.", token.span)
        if opened:
            raise self.fail(f"This '{opened[-1].text}' is never closed; add the closing bracket.", opened[-1].span)
        if len(opened) > MAX_DEPTH:  # pragma: no cover - depth is checked on the text below
            raise self.fail("The answer is nested too deeply; simplify it.", opened[-1].span)

    def token(self, token: _Token, before: _Token | None, after: _Token | None) -> None:
        if token.kind == "other":
            self.other(token)
        elif token.kind == "string":
            if token.text.startswith("'") and before is not None and _ends_operand(before):
                raise self.fail(
                    "A prime (') is only understood in a label such as L'(w) = …; write the derivative itself.",
                    token.span,
                )
            raise self.fail("Quotes cannot be used in an answer; write the expression without them.", token.span)
        elif token.kind == "op":
            self.operator(token, before, after)
        elif token.kind == "number":
            if after is not None and after.kind == "number":
                if after.spaced:
                    raise self.fail("Two numbers in a row; put an operator (+ − * /) between them.", after.span)
                raise self.fail(
                    "This number has more than one decimal point; write one number such as 0.25.",
                    (token.span[0], after.span[1]),
                )
        elif token.kind == "function":
            if token.bar:
                return
            if after is None or after.text != "(":
                argument = after.text if after is not None and after.kind in ("name", "number") else "…"
                shown = display_name(argument) if after is not None and after.kind == "name" else argument
                raise self.fail(
                    f"Write {token.text} with parentheses around its argument: {token.text}({shown}).", token.span
                )
        elif token.kind == "name":
            self.name(token, after)

    def other(self, token: _Token) -> None:
        if token.text.startswith("\\"):
            raise self.fail(
                f"The LaTeX command {token.text} is not understood; write it in plain text (for example sqrt(w), w^2, |w|).",
                token.span,
            )
        char = token.text
        if char in "′″‴":
            raise self.fail(
                "A prime (′) is only understood in a label such as L′(w) = …; write the derivative itself.", token.span
            )
        if char in _LOOKALIKES:
            plain = _LOOKALIKES[char]
            raise self.fail(
                f"'{char}' looks like {plain} but is {_char_description(char)}; type a plain {plain}.", token.span
            )
        raise self.fail(
            f"The character '{char}' ({_char_description(char)}) cannot be used; "
            "write the answer with letters, numbers, + − * / ^, brackets and |…|.",
            token.span,
        )

    def operator(self, token: _Token, before: _Token | None, after: _Token | None) -> None:
        text = token.text
        if text == "=":
            equals = self.reading.text.count("=")
            first = self.tokens[0]
            if equals == 1 and before is first and first.kind == "name":
                left = self.reading.source[first.span[0] : first.span[1]]
                raise self.fail(f"Write only the expression, without '{left} ='.", token.span)
            raise self.fail("Write only the expression, without '='.", token.span)
        if (
            text == ","
            and before is not None
            and after is not None
            and before.kind == "number"
            and after.kind == "number"
            and not after.spaced
        ):
            raise self.fail(
                f"Use a decimal point, not a comma: write {before.text}.{after.text}, not {before.text},{after.text}.",
                token.span,
            )
        if text == "." and before is not None and after is not None and _ends_operand(before):
            raise self.fail(
                "Use * or · to multiply, not '.' (write 2*w or 2·w).",
                token.span,
            )
        if text == ".":
            raise self.fail("This '.' is out of place; a decimal point needs digits after it (0.5).", token.span)
        if text in "{}":
            raise self.fail("Use parentheses ( ) to group, not braces { }.", token.span)
        if text in "[]":
            raise self.fail("Use parentheses ( ) to group, not square brackets [ ].", token.span)
        if text in _OPERATOR_ADVICE:
            advice = _OPERATOR_ADVICE[text]
            raise self.fail(advice[0].upper() + advice[1:] + ".", token.span)

    def name(self, token: _Token, after: _Token | None) -> None:
        identifier = token.text
        if identifier in self.declared or identifier in _CONSTANTS:
            return
        if not self.declared:
            raise self.fail(_NUMBERS_ONLY, token.span)
        source = self.reading.source[token.span[0] : token.span[1]]
        if len(source) == 1 and source in _LOOKALIKES:
            plain = _LOOKALIKES[source]
            raise self.fail(
                f"'{source}' looks like {plain} but is {_char_description(source)}; type a plain {plain}.", token.span
            )
        derivative_like = identifier.startswith("d") and (
            identifier == "d" or identifier[1:] in self.declared or (after is not None and after.text == "/")
        )
        if derivative_like:
            raise self.fail(
                "Write the derivative itself, not the d/dw notation (a label before '=' such as dL/dw = … is fine).",
                token.span,
            )
        spelled_greek = identifier in _GREEK_DISPLAY or identifier in _NAME_ALIASES.values()
        if (
            after is not None
            and after.text == "("
            and identifier.isascii()
            and len(identifier) > 1
            and not spelled_greek
        ):
            raise self.fail(
                f"Unsupported function {source}; supported: {_SUPPORTED}. Write the answer with these.", token.span
            )
        if identifier in _FUNCTIONS:  # pragma: no cover - functions are tokenized as such
            return
        same_but_case = [name for name in self.declared if name.lower() == identifier.lower()]
        hint = f" (names are case-sensitive: {display_name(same_but_case[0])})" if same_but_case else ""
        raise self.fail(f"'{source}' is not a symbol of this question; use only {self.uses()}{hint}.", token.span)


def _snippet(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _max_bracket_depth(text: str) -> int:
    depth = deepest = 0
    for char in text:
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
    return deepest


def _syntax_error(error: SyntaxError, reading: _Reading) -> ParseError:
    """Advice for text that is still not an expression after the checks above (Python's own
    wording never reaches the learner)."""
    offset = (error.offset or 1) - 1
    if error.lineno not in (None, 1) or offset >= len(reading.text) or not reading.text[offset:].strip():
        return ParseError(
            "The answer ends too early: add what is missing at the end (a number, a variable or a ')').",
            reading.text,
            reading.span(len(reading.text), len(reading.text) + 1),
        )
    return ParseError(
        "Something is missing or out of place here; check for a missing operator, number or bracket.",
        reading.text,
        reading.span(offset, offset + 1),
    )


class _Builder:
    """Turns an allow-listed ``ast`` expression into a SymPy expression, checking limits as it goes."""

    def __init__(self, sympy_module: Any, symbols: dict[str, Any], reading: _Reading) -> None:
        self.sp = sympy_module
        self.symbols = symbols
        self.reading = reading
        self.source = reading.text

    def span(self, node: ast.AST) -> Span:
        start = getattr(node, "col_offset", 0)
        end = getattr(node, "end_col_offset", None) or start + 1
        return self.reading.span(start, end)

    def fail(self, message: str, node: ast.AST) -> ParseError:
        return ParseError(message, self.source, self.span(node))

    def typed(self, node: ast.AST) -> str:
        """The learner's own text for ``node``."""
        start, end = self.span(node)
        return _snippet(self.reading.source[start:end])

    def build(self, node: ast.expr) -> sympy.Expr:
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node)
        if isinstance(node, ast.BinOp):
            return self.checked(self.binary(node), node)
        if isinstance(node, ast.Call):
            return self.checked(self.call(node), node)
        advice = _NODE_ADVICE.get(type(node), "This cannot be used in an answer; write one expression with + − * / ^.")
        raise self.fail(advice, node)

    def number(self, node: ast.Constant) -> sympy.Expr:
        value = node.value
        if not isinstance(value, (int, float)) or isinstance(
            value, bool
        ):  # pragma: no cover - tokens allow only numbers
            raise self.fail("Only numbers and the question's variables can be used.", node)
        literal = ast.get_source_segment(self.source, node) or repr(value)
        exact = _exact_literal(literal)
        if exact is None:
            raise self.fail(
                f"The number {self.typed(node)} is too large or too small; use at most e±{MAX_DECIMAL_EXPONENT}.", node
            )
        return self.sp.Rational(exact.numerator, exact.denominator)

    def name(self, node: ast.Name) -> sympy.Expr:
        identifier = node.id
        if identifier in self.symbols:
            return self.symbols[identifier]
        if identifier in _CONSTANTS:
            return getattr(self.sp, _CONSTANTS[identifier])
        raise self.fail(f"'{self.typed(node)}' cannot be used here.", node)  # pragma: no cover - diagnosed before

    def unary(self, node: ast.UnaryOp) -> sympy.Expr:
        if isinstance(node.op, ast.USub):
            return -self.build(node.operand)
        if isinstance(node.op, ast.UAdd):
            return self.build(node.operand)
        symbol = _OPERATOR_SYMBOLS.get(type(node.op), "this operator")
        raise self.fail(f"The operator '{symbol}' cannot be used; use + − * / ^.", node)

    def binary(self, node: ast.BinOp) -> sympy.Expr:
        if not isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
            symbol = _OPERATOR_SYMBOLS.get(type(node.op), "this operator")
            advice = "use / to divide" if symbol == "//" else "use + − * / ^"
            raise self.fail(f"The operator '{symbol}' cannot be used; {advice}.", node)
        left = self.build(node.left)
        right = self.build(node.right)
        arithmetic = _ARITHMETIC.get(type(node.op))
        if arithmetic is not None:
            return arithmetic(left, right)
        self.check_power(left, right, node)
        return left**right

    def check_power(self, base: sympy.Expr, exponent: sympy.Expr, node: ast.BinOp) -> None:
        """Refuse powers whose exact value or expansion would be enormous, before SymPy builds them."""
        if not exponent.is_Rational:
            return
        if abs(exponent) > MAX_EXPONENT:
            raise self.fail(f"The exponent in {self.typed(node)} is too large to check (at most {MAX_EXPONENT}).", node)
        if base.is_Rational:
            size = max(abs(base.p), base.q)
            if not exponent.is_Integer and size >= 10**MAX_ROOT_DIGITS:
                raise self.fail(f"The number in {self.typed(node)} is too large to take a root of.", node)
            # Digits the exact result would have; math.log10 takes big ints directly.
            if size > 1 and abs(float(exponent)) * math.log10(size) > MAX_DIGITS:
                raise self.fail(f"The number {self.typed(node)} is too large to check; simplify it.", node)

    def checked(self, built: sympy.Expr, node: ast.AST) -> sympy.Expr:
        """Refuse a result whose powers SymPy merged past the limit: (w^1000)^1000 is w^1000000."""
        for power in built.atoms(self.sp.Pow):
            exponent = power.exp
            if exponent.is_Rational and abs(exponent) > MAX_EXPONENT:
                raise self.fail(
                    f"The power in {self.typed(node)} is too large to check (exponents up to {MAX_EXPONENT}).", node
                )
        return built

    def call(self, node: ast.Call) -> sympy.Expr:
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:  # pragma: no cover - diagnosed before
            raise self.fail(f"Unsupported function; supported: {_SUPPORTED}.", node)
        name = node.func.id
        if node.keywords:
            raise self.fail(f"Give {name}(...) only its argument(s), without names or '='.", node)
        attribute, fewest, most = _FUNCTIONS[name]
        if any(isinstance(argument, ast.Starred) for argument in node.args):
            raise self.fail(f"Give {name}(...) its argument(s) as plain expressions.", node)
        if not fewest <= len(node.args) <= most:
            wanted = "exactly 1 argument" if fewest == most == 1 else f"{fewest} to {most} arguments"
            example = ", ".join(["w", "0", "1"][:fewest])
            raise self.fail(f"Give {name} {wanted}, as in {name}({example}).", node)
        arguments = [self.build(argument) for argument in node.args]
        return getattr(self.sp, attribute)(*arguments)


def _exact_literal(literal: str) -> Fraction | None:
    """A decimal literal as an exact fraction (0.3 is 3/10), or None if its exponent is absurd."""
    _, _, exponent = literal.lower().partition("e")
    if exponent and abs(int(exponent)) > MAX_DECIMAL_EXPONENT:
        return None
    return Fraction(literal)


def _symbols(sympy_module: Any, declared: Mapping[str, str]) -> dict[str, Any]:
    return {name: sympy_module.Symbol(name, **{a: True}) for name, a in declared.items()}


def symbols(variables: Mapping[str, str]) -> dict[str, sympy.Symbol]:
    """The SymPy symbols :func:`parse` uses for ``variables``, by canonical name, in order."""
    import sympy

    return _symbols(sympy, _declare(variables))


def _checked_tree(text: str, declared: Mapping[str, str]) -> tuple[_Reading, ast.expr]:
    """Read ``text`` up to an allow-list-ready ``ast`` tree; every refusal is a ParseError with advice."""
    precheck(text)
    reading = _read(text, declared)
    if not reading.tokens:
        raise ParseError("The answer is empty; type an expression.", reading.text)
    if _max_bracket_depth(reading.text) > MAX_DEPTH:
        raise ParseError(
            f"The answer is nested too deeply (more than {MAX_DEPTH} levels of brackets); simplify it.", reading.text
        )
    _Diagnosis(reading, declared).run()
    try:
        tree = ast.parse(reading.text, mode="eval")
    except SyntaxError as error:
        raise _syntax_error(error, reading) from None
    nodes = sum(isinstance(node, ast.expr) for node in ast.walk(tree))
    if nodes > MAX_NODES:
        raise ParseError(
            f"The answer has too many parts to check ({nodes}; at most {MAX_NODES}); simplify it.", reading.text
        )
    return reading, tree.body


def parse(text: str, variables: Mapping[str, str]) -> sympy.Expr:
    """Read untrusted ``text`` as a SymPy expression in the declared ``variables``.

    ``variables`` maps each name (any spelling: ``lam``, ``λ``, ``lambda``) to an assumption from
    :func:`known_assumptions`. Raises :class:`ParseError` (with advice for the learner and the
    span to mark) when the text cannot be read and :class:`~quizkit.errors.DeclarationError`
    when the declarations themselves are broken.
    """
    declared = _declare(variables)
    reading, body = _checked_tree(text, declared)

    import sympy

    builder = _Builder(sympy, _symbols(sympy, declared), reading)
    try:
        expression = builder.build(body)
    except (TypeError, ValueError, ArithmeticError, NotImplementedError):
        # SymPy refused to combine two allowed pieces; that is an unreadable answer, not a crash.
        raise ParseError("This expression cannot be computed; check it and simplify it.", reading.text) from None
    undefined = (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)
    if any(expression.has(value) for value in undefined):
        raise ParseError("The answer divides by zero, so it is undefined; check the denominators.", reading.text)
    return expression


# --------------------------------------------------------------------------------------------
# Plain numbers (no SymPy): 0.9^10, 3/10, 0.5 - 0.08
# --------------------------------------------------------------------------------------------


def evaluate_number(text: str) -> float:
    """The value of arithmetic on numbers: ``0.9^10``, ``3/10``, ``0.5-0.08``, ``2*0.15``, ``−.5``.

    Same reading and allow-list as :func:`parse` (so the same advice on mistakes), but only
    numbers, ``+ - * / ^ **`` and brackets, computed exactly with fractions where possible and
    never with SymPy, so numeric questions stay fast. Raises :class:`ParseError`.
    """
    reading, body = _checked_tree(text, {})
    return float(_NumberEvaluator(reading).value(body))


def expression_tree(text: str, names: Iterable[str]) -> tuple[str, ast.expr]:
    """The allow-listed syntax tree of ``text`` over the real-valued ``names``, with the text it was
    read from (for exact literals): the same reading and refusals as :func:`parse`, for evaluators
    that compute numbers without SymPy (:mod:`quizkit.formula`). Raises :class:`ParseError`, or
    :class:`~quizkit.errors.DeclarationError` when ``names`` are not usable variable names."""
    reading, body = _checked_tree(text, _declare({name: "real" for name in names}))
    return reading.text, body


def exact_literal(literal: str) -> Fraction | None:
    """A decimal literal as an exact fraction, or None if its exponent is absurd."""
    return _exact_literal(literal)


FUNCTION_NAMES = frozenset(_FUNCTIONS)
CONSTANT_NAMES = frozenset(_CONSTANTS)


class _NumberEvaluator:
    def __init__(self, reading: _Reading) -> None:
        self.reading = reading

    def fail(self, message: str, node: ast.AST) -> ParseError:
        start = getattr(node, "col_offset", 0)
        end = getattr(node, "end_col_offset", None) or start + 1
        return ParseError(message, self.reading.text, self.reading.span(start, end))

    def value(self, node: ast.expr) -> Fraction | float:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            exact = _exact_literal(ast.get_source_segment(self.reading.text, node) or repr(node.value))
            if exact is None:
                raise self.fail(f"This number is too large or too small; use at most e±{MAX_DECIMAL_EXPONENT}.", node)
            return exact
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.value(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
            left, right = self.value(node.left), self.value(node.right)
            try:
                result = self.combine(node, left, right)
            except ZeroDivisionError:
                raise self.fail("This divides by zero.", node) from None
            except OverflowError:
                raise self.fail("This number is too large.", node) from None
            if isinstance(result, float) and not math.isfinite(result):
                raise self.fail("This number is too large.", node)
            return result
        advice = None if isinstance(node, (ast.Name, ast.Call)) else _NODE_ADVICE.get(type(node))
        raise self.fail(advice or _NUMBERS_ONLY, node)

    def combine(self, node: ast.BinOp, left: Fraction | float, right: Fraction | float) -> Fraction | float:
        arithmetic = _ARITHMETIC.get(type(node.op))
        if arithmetic is not None:
            return arithmetic(left, right)
        if isinstance(right, Fraction) and right.denominator == 1 and isinstance(left, Fraction):
            if abs(right) > MAX_EXPONENT:
                raise self.fail(f"The exponent is too large (at most {MAX_EXPONENT}).", node)
            size = max(abs(left.numerator), left.denominator)
            if size > 1 and abs(right) * math.log10(size) > MAX_DIGITS:
                raise self.fail("This number is too large.", node)
            return left ** int(right)
        if left < 0:
            raise self.fail("A negative number to a fractional power is not a real number.", node)
        return float(left) ** float(right)


# --------------------------------------------------------------------------------------------
# Display
# --------------------------------------------------------------------------------------------

_printer: Any = None


def _make_printer() -> Any:
    from sympy.printing.str import StrPrinter  # type: ignore[import-untyped]

    class DisplayPrinter(StrPrinter):
        """SymPy's str form with Greek letters, |x| and e/π, for one-line feedback."""

        def _print_Symbol(self, expr: Any) -> str:
            return display_name(expr.name)

        def _print_Abs(self, expr: Any) -> str:
            return "|" + self._print(expr.args[0]) + "|"

        def _print_Exp1(self, expr: Any) -> str:
            return "e"

        def _print_Pi(self, expr: Any) -> str:
            return "π"

    return DisplayPrinter()


def display(expression: sympy.Expr) -> str:
    """One-line form for learners: ``λ·sign(w)``, ``2·λ·w``, ``λ·|w|/w``, ``w^2``."""
    global _printer
    if _printer is None:
        _printer = _make_printer()
    text: str = _printer.doprint(expression)
    # SymPy's str output never contains '*' other than as an operator.
    text = text.replace("**", "^").replace("*", "·")
    return text if len(text) <= MAX_DISPLAY else text[: MAX_DISPLAY - 1] + "…"
