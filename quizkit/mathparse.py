"""Safe reading of untrusted math text into SymPy expressions.

Learners type answers such as ``2λw``, ``λ·sign(w)`` or ``lam*w/|w|``. The text is first
*normalised* into Python-like syntax (Greek letters to names, ``^`` to ``**``, ``|x|`` to
``Abs(x)``, implicit multiplication made explicit), then read with ``ast.parse`` and turned into
a SymPy expression node by node from an allow-list. Nothing is ever evaluated as code, and every
limit (length, nesting, size of numbers) is checked before the work it guards.

SymPy is imported only inside :func:`parse` and :func:`display`, so importing this module (and
calling :func:`normalize` or :func:`precheck`) stays cheap.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from quizkit.lesson import ASSUMPTIONS

if TYPE_CHECKING:
    import sympy

__all__ = [
    "MAX_LENGTH",
    "ParseError",
    "canonical_name",
    "display",
    "display_name",
    "known_assumptions",
    "normalize",
    "parse",
    "precheck",
    "symbols",
    "variable_problems",
]

MAX_LENGTH = 500  # characters of learner input
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

# The assumption words a lesson may declare; each is also the sympy.Symbol keyword it sets.
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


class ParseError(Exception):
    """An answer that cannot be read.

    ``message`` is one line naming the offending piece; ``normalized`` is how the input was read
    after normalisation, or ``None`` when it was rejected before that (too long, bad characters).
    """

    def __init__(self, message: str, normalized: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.normalized = normalized


def known_assumptions() -> frozenset[str]:
    """The assumption words a question may declare for a variable."""
    return _ASSUMPTIONS


# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "number" | "name" | "function" | "string" | "op" | "other"
    text: str
    spaced: bool = False  # whitespace came before it


def precheck(text: str) -> None:
    """Reject input that must not be processed at all: too long, empty, or with control characters.

    Needs no SymPy, so callers can answer such input without starting a worker.
    """
    if not isinstance(text, str):
        raise TypeError(f"an answer must be a string, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ParseError(f"the answer is too long ({len(text)} characters; at most {MAX_LENGTH} are accepted)")
    for char in text:
        if char in _ALLOWED_WHITESPACE:
            continue
        if unicodedata.category(char) in ("Cc", "Cs", "Co", "Cn"):
            raise ParseError(f"the answer contains an unsupported character (U+{ord(char):04X})")
    if not text.strip():
        raise ParseError("the answer is empty")


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


def _prepare(text: str) -> str:
    # Superscripts first: NFKC would turn w² into w2, which reads as a name.
    def as_power(match: re.Match[str]) -> str:
        exponent = match.group(0).translate(_SUPERSCRIPTS)
        return f"^({exponent})" if exponent[0] in "+-" else f"^{exponent}"

    text = _SUPERSCRIPT_RUN.sub(as_power, text)
    # NFKC folds full-width letters, subscript digits (λ₁ -> λ1) and the micro sign into plain ones.
    text = unicodedata.normalize("NFKC", text)
    # Zero-width characters pasted from documents carry no meaning here.
    return "".join(char for char in text if unicodedata.category(char) != "Cf")


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    spaced = False
    index = 0
    while index < len(text):
        char = text[index]
        if char.isspace():
            spaced = True
            index += 1
            continue
        if char in _DIGITS or (char == "." and text[index + 1 : index + 2] in _DIGITS):
            match = _NUMBER.match(text, index)
            assert match is not None  # an ASCII digit or ".digit" always starts a number
            tokens.append(_Token("number", match.group(0), spaced))
            index = match.end()
        elif char in _GREEK:
            suffix = _GREEK_SUFFIX.match(text, index + 1)
            end = suffix.end() if suffix else index + 1
            kind, name = _canonical_spelling(_GREEK[char] + text[index + 1 : end])
            tokens.append(_Token(kind, name, spaced))
            index = end
        elif char.isascii() and (char.isalpha() or char == "_"):
            match = _ASCII_NAME.match(text, index)
            assert match is not None
            kind, name = _canonical_spelling(match.group(0))
            tokens.append(_Token(kind, name, spaced))
            index = match.end()
        elif char == "√":
            tokens.append(_Token("function", "sqrt", spaced))
            index += 1
        elif char in "'\"":
            # Keep quoted text whole so the reading shows it as typed (it is rejected later).
            end = text.find(char, index + 1)
            end = len(text) if end < 0 else end + 1
            tokens.append(_Token("string", text[index:end], spaced))
            index = end
        else:
            kind = "op" if char in _OPERATOR_CHARS or char in "+-*/()[]{},|.=<>!%&~@:;" else "other"
            tokens.append(_Token(kind, _OPERATOR_CHARS.get(char, char), spaced))
            index += 1
        spaced = False
    return tokens


def _split_glued(name: str, known: frozenset[str], before_call: bool) -> list[_Token] | None:
    """Split ``lamw`` into ``lam``, ``w`` when exactly one split into declared names exists.

    The last piece may be a function name when a ``(`` follows (``lamsign(w)``).
    """
    if len(name) > _MAX_GLUED_NAME:
        return None
    # ways[i]: the splits of name[i:], capped at two because only a unique split is used.
    ways: list[list[list[_Token]]] = [[] for _ in range(len(name) + 1)]
    ways[len(name)] = [[]]
    for start in range(len(name) - 1, -1, -1):
        for end in range(start + 1, len(name) + 1):
            if not ways[end]:
                continue
            kind, piece = _canonical_spelling(name[start:end])
            last = end == len(name)
            if (kind == "name" and piece in known) or (kind == "function" and last and before_call):
                for rest in ways[end]:
                    ways[start].append([_Token(kind, piece), *rest])
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
                result.append(_Token(pieces[0].kind, pieces[0].text, token.spaced))
                result.extend(pieces[1:])
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
            result += [_Token("function", "Abs", token.spaced), _Token("op", "(")]
        elif role == "close":
            result.append(_Token("op", ")", token.spaced))
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


def _render(tokens: list[_Token]) -> str:
    parts: list[str] = []
    for index, token in enumerate(tokens):
        if index:
            if _implicit_product(tokens[index - 1], token):
                parts.append("*")
            elif token.spaced:
                parts.append(" ")
        parts.append(token.text)
    return "".join(parts)


def normalize(text: str, *, variables: Iterable[str] | None = None) -> str:
    """Rewrite learner notation into Python/SymPy syntax without interpreting it.

    Greek letters become names (``λ`` -> ``lam``, ``α`` -> ``alpha``), ``lambda`` -> ``lam``,
    subscript digits join the name (``λ₁`` -> ``lam1``), ``·``/``×`` -> ``*``, ``−`` -> ``-``,
    ``^`` and superscripts -> ``**``, ``|x|`` -> ``Abs(x)``, ``sgn`` -> ``sign``, and implicit
    multiplication is made explicit (``2λw`` -> ``2*lam*w``, ``w(1-w)`` -> ``w*(1-w)``).

    With ``variables`` (canonical names), names glued together are split when there is exactly
    one way to do it (``lamw`` -> ``lam*w``). Unmatched ``|`` bars are left in place.
    """
    tokens = _tokenize(_prepare(text))
    if variables is not None:
        tokens = _split_glued_names(tokens, frozenset(variables))
    return _render(_convert_bars(tokens))


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
    """Canonical name -> assumption; raises ValueError for broken declarations (the author's bug)."""
    problems = variable_problems(variables)
    if problems:
        raise ValueError("; ".join(problems))
    return {canonical_name(name): assumption for name, assumption in variables.items()}


def display_name(name: str) -> str:
    """How a canonical name is shown: ``lam`` -> ``λ``, ``lam1`` -> ``λ₁``, ``w2`` -> ``w₂``."""
    match = _STEM_DIGITS.fullmatch(name)
    stem, digits = (match.group(1), match.group(2)) if match else (name, "")
    return _GREEK_DISPLAY.get(stem, stem) + digits.translate(_SUBSCRIPT_DIGITS)


_GREEK_DISPLAY: dict[str, str] = {}
for _letter, _name in _GREEK.items():
    _GREEK_DISPLAY.setdefault(_name, _letter)


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------

_NODE_DESCRIPTIONS: dict[type, str] = {
    ast.Subscript: "square brackets (indexing) are not allowed; use parentheses",
    ast.Lambda: "lambda expressions are not allowed",
    ast.Compare: "comparisons are not allowed",
    ast.BoolOp: "'and'/'or' are not allowed",
    ast.IfExp: "'if ... else' is not allowed",
    ast.Tuple: "several expressions separated by commas are not allowed; give one",
    ast.List: "lists are not allowed",
    ast.Set: "sets are not allowed",
    ast.Dict: "dictionaries are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.NamedExpr: "':=' is not allowed",
    ast.Starred: "'*' unpacking is not allowed",
    ast.JoinedStr: "text in quotes is not allowed",
    ast.Await: "'await' is not allowed",
    ast.Yield: "'yield' is not allowed",
    ast.YieldFrom: "'yield' is not allowed",
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


def _syntax_message(error: SyntaxError, normalized: str) -> str:
    reason = error.msg or "invalid syntax"
    if "Perhaps" in reason:  # Python's comma guess misleads in maths
        reason = "invalid syntax"
    offset = (error.offset or 1) - 1
    if error.lineno not in (None, 1) or offset >= len(normalized):
        return f"could not read the answer ({reason}): it seems to end too early"
    return f"could not read the answer ({reason}) near '{_snippet(normalized[offset:], 15)}'"


class _Builder:
    """Turns an allow-listed ``ast`` expression into a SymPy expression, checking limits as it goes."""

    def __init__(self, sympy_module: Any, symbols: dict[str, Any], source: str) -> None:
        self.sp = sympy_module
        self.symbols = symbols
        self.source = source

    def fail(self, message: str) -> ParseError:
        return ParseError(message, self.source)

    def segment(self, node: ast.AST) -> str:
        return _snippet(ast.get_source_segment(self.source, node) or "?")

    def build(self, node: ast.expr) -> sympy.Expr:
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node)
        if isinstance(node, ast.BinOp):
            return self.binary(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Attribute):
            raise self.fail(f"attribute access '.{node.attr}' is not allowed (in '{self.segment(node)}')")
        description = _NODE_DESCRIPTIONS.get(type(node), "this is not allowed")
        raise self.fail(f"{description}: '{self.segment(node)}'")

    def number(self, node: ast.Constant) -> sympy.Expr:
        value = node.value
        if isinstance(value, bool) or value is None or value is Ellipsis:
            raise self.fail(f"'{self.segment(node)}' is not allowed; use numbers and variables")
        if isinstance(value, (str, bytes)):
            raise self.fail(f"text in quotes is not allowed: {self.segment(node)}")
        if isinstance(value, complex):
            raise self.fail(f"imaginary numbers are not allowed: '{self.segment(node)}'")
        literal = ast.get_source_segment(self.source, node) or repr(value)
        _, _, exponent = literal.lower().partition("e")
        if exponent and abs(int(exponent)) > MAX_DECIMAL_EXPONENT:
            raise self.fail(f"the number '{_snippet(literal)}' is too large or too small")
        # Decimals are exact: 0.3 means 3/10, so 0.3 and 3/10 compare equal symbolically.
        exact = Fraction(literal)
        return self.sp.Rational(exact.numerator, exact.denominator)

    def name(self, node: ast.Name) -> sympy.Expr:
        identifier = node.id
        if identifier in self.symbols:
            return self.symbols[identifier]
        if identifier in _CONSTANTS:
            return getattr(self.sp, _CONSTANTS[identifier])
        if identifier in _FUNCTIONS:
            raise self.fail(f"'{identifier}' is a function: write {identifier}(...) with parentheses")
        uses = ", ".join(display_name(name) for name in self.symbols) or "no variables"
        message = f"unknown name '{identifier}' (this question uses: {uses})"
        if identifier == "d" or (identifier.startswith("d") and identifier[1:] in self.symbols):
            message += "; write the derivative itself, not d/dw"
        raise self.fail(message)

    def unary(self, node: ast.UnaryOp) -> sympy.Expr:
        if isinstance(node.op, ast.USub):
            return -self.build(node.operand)
        if isinstance(node.op, ast.UAdd):
            return self.build(node.operand)
        symbol = _OPERATOR_SYMBOLS.get(type(node.op), type(node.op).__name__)
        raise self.fail(f"the operator '{symbol}' is not allowed: '{self.segment(node)}'")

    def binary(self, node: ast.BinOp) -> sympy.Expr:
        if not isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
            symbol = _OPERATOR_SYMBOLS.get(type(node.op), type(node.op).__name__)
            raise self.fail(f"the operator '{symbol}' is not allowed: '{self.segment(node)}'")
        left = self.build(node.left)
        right = self.build(node.right)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, ast.Div):
            return left / right
        self.check_power(left, right, node)
        return left**right

    def check_power(self, base: sympy.Expr, exponent: sympy.Expr, node: ast.BinOp) -> None:
        """Refuse powers whose exact value or expansion would be enormous, before SymPy builds them."""
        if not exponent.is_Rational:
            return
        if abs(exponent) > MAX_EXPONENT:
            raise self.fail(f"the exponent in '{self.segment(node)}' is too large (at most {MAX_EXPONENT})")
        if base.is_Rational:
            size = max(abs(base.p), base.q)
            if not exponent.is_Integer and size >= 10**MAX_ROOT_DIGITS:
                raise self.fail(f"the number in '{self.segment(node)}' is too large to take a root of")
            # Digits the exact result would have; math.log10 takes big ints directly.
            if size > 1 and abs(float(exponent)) * math.log10(size) > MAX_DIGITS:
                raise self.fail(f"the number '{self.segment(node)}' is too large")

    def call(self, node: ast.Call) -> sympy.Expr:
        if not isinstance(node.func, ast.Name):
            return self.build(node.func)  # reports the attribute/subscript/... that was called
        name = node.func.id
        if name not in _FUNCTIONS:
            known = ", ".join(sorted(_FUNCTIONS, key=str.lower))
            raise self.fail(f"unknown function '{name}' (known: {known})")
        if node.keywords:
            raise self.fail(f"keyword arguments are not allowed: '{self.segment(node)}'")
        attribute, fewest, most = _FUNCTIONS[name]
        if any(isinstance(argument, ast.Starred) for argument in node.args):
            raise self.fail(f"'*' unpacking is not allowed: '{self.segment(node)}'")
        if not fewest <= len(node.args) <= most:
            wanted = str(fewest) if fewest == most else f"{fewest} to {most}"
            raise self.fail(f"{name}(...) takes {wanted} argument(s): '{self.segment(node)}'")
        arguments = [self.build(argument) for argument in node.args]
        return getattr(self.sp, attribute)(*arguments)


def _symbols(sympy_module: Any, declared: Mapping[str, str]) -> dict[str, Any]:
    return {name: sympy_module.Symbol(name, **{a: True}) for name, a in declared.items()}


def symbols(variables: Mapping[str, str]) -> dict[str, sympy.Symbol]:
    """The SymPy symbols :func:`parse` uses for ``variables``, by canonical name, in order."""
    import sympy

    return _symbols(sympy, _declare(variables))


def parse(text: str, variables: Mapping[str, str]) -> sympy.Expr:
    """Read untrusted ``text`` as a SymPy expression in the declared ``variables``.

    ``variables`` maps each name (any spelling: ``lam``, ``λ``, ``lambda``) to an assumption from
    :func:`known_assumptions`. Raises :class:`ParseError` when the text cannot be read and
    ``ValueError`` when the declarations themselves are broken.
    """
    precheck(text)
    declared = _declare(variables)
    normalized = normalize(text, variables=declared)
    if "|" in normalized:
        raise ParseError("unmatched '|' (absolute-value bars come in pairs: |w|)", normalized)
    if _max_bracket_depth(normalized) > MAX_DEPTH:
        raise ParseError(f"nested too deeply (more than {MAX_DEPTH} levels of brackets)", normalized)
    try:
        tree = ast.parse(normalized, mode="eval")
    except SyntaxError as error:
        raise ParseError(_syntax_message(error, normalized), normalized) from None
    nodes = sum(isinstance(node, ast.expr) for node in ast.walk(tree))
    if nodes > MAX_NODES:
        raise ParseError(f"the answer has too many parts to check ({nodes}; at most {MAX_NODES})", normalized)

    import sympy

    builder = _Builder(sympy, _symbols(sympy, declared), normalized)
    try:
        expression = builder.build(tree.body)
    except (TypeError, ValueError, ArithmeticError, NotImplementedError) as error:
        # SymPy refused to combine two allowed pieces; that is an unreadable answer, not a crash.
        raise ParseError(f"could not build the expression: {error}", normalized) from None
    undefined = (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)
    if any(expression.has(value) for value in undefined):
        raise ParseError("the expression is undefined (it divides by zero)", normalized)
    return expression


# --------------------------------------------------------------------------------------------
# Display
# --------------------------------------------------------------------------------------------

_printer: Any = None


def _make_printer() -> Any:
    from sympy.printing.str import StrPrinter

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
