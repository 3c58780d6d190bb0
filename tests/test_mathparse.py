"""Specification of the safe reader for learners' math: normalisation, allow-list, limits."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sympy

from quizkit import mathparse
from quizkit.mathparse import (
    ParseError,
    canonical_name,
    caret_lines,
    display,
    evaluate_number,
    normalize,
    parse,
    reading,
)

L1_VARIABLES = {"w": "real", "lam": "positive"}
ELASTIC_VARIABLES = {"w": "real", "lam1": "positive", "lam2": "positive"}
UPDATE_VARIABLES = {"w": "real", "alpha": "positive", "lam": "positive"}

w = sympy.Symbol("w", real=True)
lam = sympy.Symbol("lam", positive=True)
lam1 = sympy.Symbol("lam1", positive=True)
alpha = sympy.Symbol("alpha", positive=True)


def parse_error(text: str, variables: dict[str, str] = L1_VARIABLES) -> ParseError:
    with pytest.raises(ParseError) as caught:
        parse(text, variables)
    return caught.value


# --------------------------------------------------------------------------------------------
# normalize
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("λ·sign(w)", "lam*sign(w)"),
        ("2λw", "2*lam*w"),
        ("2(w-0.3)+λ", "2*(w-0.3)+lam"),
        ("λ sign(w)", "lam*sign(w)"),
        ("w - αλ sgn(w)", "w - alpha*lam*sign(w)"),
        ("lam*w/|w|", "lam*w/Abs(w)"),
        ("λ|w|/w", "lam*Abs(w)/w"),
        ("(w+1)(w-1)", "(w+1)*(w-1)"),
        ("w(1-2)", "w*(1-2)"),
        ("λ₁ sign(w)", "lam1*sign(w)"),
        ("lambda1*w", "lam1*w"),
        ("λ_1", "lam1"),
        ("lambda", "lam"),
        ("w^2", "w**2"),
        ("w²", "w**2"),
        ("w⁻¹", "w**(-1)"),
        ("−λ×w÷2", "-lam*w/2"),
        ("2exp(w)", "2*exp(w)"),
        ("SGN(w)", "sign(w)"),
        ("ln(w)", "log(w)"),
        ("abs(w)", "Abs(w)"),
        ("||w| - 1|", "Abs(Abs(w) - 1)"),
        ("|w||w|", "Abs(w)*Abs(w)"),
        ("√(w)", "sqrt(w)"),
        ("sin w", "sin*w"),
        ("2e-3w", "2e-3*w"),
    ],
)
def test_normalize_rewrites_learner_notation(text: str, normalized: str) -> None:
    assert normalize(text) == normalized


def test_normalize_splits_glued_variable_names_when_variables_are_known() -> None:
    assert normalize("2lamw", variables=["w", "lam"]) == "2*lam*w"


def test_normalize_splits_a_glued_function_call() -> None:
    assert normalize("lamsign(w)", variables=["w", "lam"]) == "lam*sign(w)"


def test_normalize_leaves_glued_names_alone_without_variables() -> None:
    assert normalize("lamw") == "lamw"


def test_normalize_leaves_an_unmatched_bar_in_place() -> None:
    assert normalize("|w") == "|w"


def test_normalize_keeps_quoted_text_whole() -> None:
    assert normalize("open('/tmp/a b')") == "open*('/tmp/a b')"


def test_normalize_does_not_join_two_numbers() -> None:
    assert normalize("1.2.3") == "1.2.3"


# --------------------------------------------------------------------------------------------
# aliases and names
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["lam", "λ", "lambda", "lamda", "lmbda"])
def test_lambda_spellings_name_the_same_variable(spelling: str) -> None:
    assert parse(spelling, L1_VARIABLES) == lam


@pytest.mark.parametrize("spelling", ["lam1", "λ1", "λ₁", "lambda1", "lambda_1", "lam_1", "λ_1"])
def test_indexed_lambda_spellings_name_the_same_variable(spelling: str) -> None:
    assert parse(spelling, ELASTIC_VARIABLES) == lam1


@pytest.mark.parametrize("spelling", ["alpha", "α"])
def test_greek_letters_work_as_unicode_or_names(spelling: str) -> None:
    assert parse(spelling, UPDATE_VARIABLES) == alpha


def test_declared_greek_spelling_matches_ascii_answer() -> None:
    assert parse("lambda*w", {"w": "real", "λ": "positive"}) == lam * w


def test_canonical_name_of_subscripted_greek() -> None:
    assert canonical_name("λ₂") == "lam2"


def test_variables_carry_their_assumptions() -> None:
    symbol = parse("lam", L1_VARIABLES)
    assert symbol.is_positive is True


def test_pi_and_e_are_constants() -> None:
    assert parse("π + e", L1_VARIABLES) == sympy.pi + sympy.E


def test_declared_variable_named_e_wins_over_the_constant() -> None:
    assert parse("e", {"e": "real"}) == sympy.Symbol("e", real=True)


# --------------------------------------------------------------------------------------------
# reading expressions
# --------------------------------------------------------------------------------------------


def test_decimals_become_exact_rationals() -> None:
    assert parse("0.3", L1_VARIABLES) == sympy.Rational(3, 10)


def test_scientific_notation_is_exact() -> None:
    assert parse("3e-1", L1_VARIABLES) == sympy.Rational(3, 10)


def test_implicit_multiplication_with_greek() -> None:
    assert parse("2λw", L1_VARIABLES) == 2 * lam * w


def test_absolute_value_bars_read_as_abs() -> None:
    assert parse("λ|w|/w", L1_VARIABLES) == lam * sympy.Abs(w) / w


def test_caret_is_power() -> None:
    assert parse("w^3", L1_VARIABLES) == w**3


def test_sgn_is_sign() -> None:
    assert parse("sgn(w)", L1_VARIABLES) == sympy.sign(w)


def test_heaviside_max_and_min_are_allowed() -> None:
    assert parse("Max(w, 0) + Min(w, 0) + Heaviside(w)", L1_VARIABLES) == (
        sympy.Max(w, 0) + sympy.Min(w, 0) + sympy.Heaviside(w)
    )


# --------------------------------------------------------------------------------------------
# what is refused, and how it is explained
# --------------------------------------------------------------------------------------------


def test_undeclared_symbol_is_named_with_the_question_variables() -> None:
    error = parse_error("w - η λ sign(w)")
    assert error.message == "'η' is not a symbol of this question; use only w, λ."
    assert error.span == (4, 5)


def test_derivative_notation_gets_a_hint() -> None:
    error = parse_error("d/dw(lam|w|)")
    assert "not the d/dw notation" in error.message


def test_parse_error_shows_the_normalized_reading() -> None:
    assert parse_error("d/dw(lam|w|)").normalized == "d/dw*(lam*Abs(w))"


def test_attribute_access_is_refused_by_name() -> None:
    error = parse_error("w.__class__")
    assert "not '.'" in error.message
    assert error.span == (1, 2)


def test_unknown_function_is_refused() -> None:
    assert parse_error("__import__('os')").message.startswith("Unsupported function __import__; supported: abs, sign")


def test_function_without_parentheses_is_explained() -> None:
    assert "sin(w)" in parse_error("sin w").message


def test_keyword_arguments_are_refused() -> None:
    assert parse_error("sign(w, evaluate=False)").message == "Write only the expression, without '='."


def test_comparisons_are_refused() -> None:
    assert "Comparisons" in parse_error("w < 0").message


def test_quoted_text_is_refused() -> None:
    assert "Quotes cannot be used" in parse_error("'w'").message


def test_brackets_are_refused() -> None:
    assert "square brackets" in parse_error("w[0]").message


def test_wrong_number_of_arguments_is_refused() -> None:
    assert "Give sign exactly 1 argument" in parse_error("sign(w, w)").message


def test_division_by_zero_is_refused() -> None:
    assert "undefined" in parse_error("w/0").message


def test_unmatched_bar_is_refused() -> None:
    error = parse_error("λ|w")
    assert "bars come in pairs" in error.message
    assert error.span == (1, 2)


def test_syntax_error_points_near_the_problem() -> None:
    error = parse_error("w)")
    assert "no matching opening bracket" in error.message
    assert error.span == (1, 2)


def test_lambda_expression_is_refused_at_its_colon() -> None:
    # With x and λ declared, "lambda x" reads as λ·x: the colon is what cannot be an expression.
    error = parse_error("lambda x: x", {"x": "real", "lam": "positive"})
    assert error.message == "':' cannot be used; give only the expression."
    assert error.span == (8, 9)


@pytest.mark.parametrize("text", ["9**9**9**9", "(w+1)**100000000", "10**10**10", "w**1001"])
def test_huge_exponents_are_refused(text: str) -> None:
    assert "exponent" in parse_error(text).message


def test_powers_that_make_enormous_numbers_are_refused() -> None:
    assert "too large" in parse_error("999**999").message


def test_roots_of_enormous_numbers_are_refused() -> None:
    assert "root" in parse_error("(10**200+1)**(1/3)").message


def test_huge_decimal_exponent_is_refused() -> None:
    assert "too large or too small" in parse_error("1e999999").message


def test_long_input_is_refused_before_normalisation() -> None:
    error = parse_error("w+" * 5000 + "w")
    assert "too long" in error.message
    assert error.normalized is None


def test_deep_nesting_is_refused() -> None:
    assert "nested too deeply" in parse_error("(" * 100 + "w" + ")" * 100).message


def test_too_many_parts_are_refused() -> None:
    assert "too many parts" in parse_error("+".join(["w"] * 240)).message


@pytest.mark.parametrize("text", ["w\x00", "\x07w", "w\x1b[2J"])
def test_control_characters_are_refused(text: str) -> None:
    assert "invisible or unassigned character" in parse_error(text).message


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_empty_answers_are_refused(text: str) -> None:
    assert parse_error(text).message == "The answer is empty; type an expression."


def test_broken_declarations_raise_value_error() -> None:
    with pytest.raises(ValueError, match="unknown assumption"):
        parse("w", {"w": "rael"})


# --------------------------------------------------------------------------------------------
# declarations, display, import cost
# --------------------------------------------------------------------------------------------


def test_known_assumptions_include_the_documented_ones() -> None:
    assert {"real", "positive", "nonnegative", "negative", "nonzero", "integer"} <= mathparse.known_assumptions()


def test_variable_problems_reports_unknown_assumption() -> None:
    assert "unknown assumption 'rael'" in mathparse.variable_problems({"w": "rael"})[0]


def test_variable_problems_reports_aliases_declared_twice() -> None:
    assert "same name" in mathparse.variable_problems({"lam": "positive", "lambda": "positive"})[0]


def test_variable_problems_reports_function_names() -> None:
    assert "function" in mathparse.variable_problems({"sgn": "real"})[0]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("lam*sign(w)", "λ·sign(w)"),
        ("lam*w/|w|", "λ·w/|w|"),
        ("2λw", "2·λ·w"),
        ("w^2", "w^2"),
        ("pi*e", "e·π"),
    ],
)
def test_display_uses_greek_bars_and_middle_dots(text: str, shown: str) -> None:
    assert display(parse(text, L1_VARIABLES)) == shown


def test_display_shows_indices_as_subscripts() -> None:
    assert display(parse("lam1*sign(w)", ELASTIC_VARIABLES)) == "λ₁·sign(w)"


def test_importing_mathparse_and_normalizing_does_not_import_sympy() -> None:
    code = "import sys, quizkit.mathparse as m; m.normalize('2λw'); m.precheck('w'); print('sympy' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "False"


# --------------------------------------------------------------------------------------------
# common notation (issue: correct answers refused as invalid)
# --------------------------------------------------------------------------------------------

L1_KEY = lam * sympy.sign(w)


@pytest.mark.parametrize(
    "text",
    [
        "dL/dw = λ·sign(w)",
        "d/dw(λ|w|) = λ sign(w)",
        "d(λ|w|)/dw = λ sign(w)",
        "∂L/∂w = λ sign(w)",
        "L'(w) = λ sign(w)",
        "L′(w) = λ sign(w)",
        "f(w) = λ sign(w)",
        "g(w, λ) = λ sign(w)",
    ],
)
def test_a_derivative_or_function_label_before_equals_is_dropped(text: str) -> None:
    assert parse(text, L1_VARIABLES) == L1_KEY


def test_an_update_label_before_equals_is_dropped() -> None:
    assert parse("w_new = w - αλ sign(w)", UPDATE_VARIABLES) == w - alpha * lam * sympy.sign(w)


@pytest.mark.parametrize("text", ["λ·sign(w).", "λ sign(w),", "λ sign(w);", "λ sign(w) . "])
def test_sentence_punctuation_at_the_end_is_dropped(text: str) -> None:
    assert parse(text, L1_VARIABLES) == L1_KEY


@pytest.mark.parametrize(
    ("text", "value"), [("½w", w / 2), ("1⁄2 w", w / 2), ("¾w", 3 * w / 4), ("³⁄₁₀ + w", w + sympy.Rational(3, 10))]
)
def test_vulgar_fractions_and_the_fraction_slash_are_division(text: str, value: sympy.Expr) -> None:
    assert parse(text, L1_VARIABLES) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (r"\lambda \operatorname{sign}(w)", L1_KEY),
        (r"\lambda\,\mathrm{sgn}(w)", L1_KEY),
        (r"\frac{\lambda w}{|w|}", lam * w / sympy.Abs(w)),
        (r"2\lambda w", 2 * lam * w),
        (r"3λw^{2}", 3 * lam * w**2),
        (r"\lambda \cdot \text{sign}(w)", L1_KEY),
        (r"\lambda \times w", lam * w),
        (r"\left|w\right|", sympy.Abs(w)),
        (r"\sqrt{w^{2}}", sympy.Abs(w)),
        (r"$\lambda w$", lam * w),
    ],
)
def test_common_latex_is_read(text: str, value: sympy.Expr) -> None:
    assert parse(text, L1_VARIABLES) == value


def test_latex_subscripts_name_indexed_variables() -> None:
    assert parse(r"\lambda_{1} sign(w) + 2\lambda_{2} w", ELASTIC_VARIABLES) == parse(
        "λ₁ sign(w) + 2λ₂w", ELASTIC_VARIABLES
    )


@pytest.mark.parametrize("text", ["sgn w", "λ·sgn w"])
def test_a_function_without_parentheses_stays_invalid_and_shows_how(text: str) -> None:
    assert parse_error(text).message == "Write sign with parentheses around its argument: sign(w)."


def test_an_undeclared_greek_letter_stays_invalid_and_lists_the_declared_ones() -> None:
    assert (
        parse_error("w - η λ sign(w)", UPDATE_VARIABLES).message
        == "'η' is not a symbol of this question; use only w, α, λ."
    )


# --------------------------------------------------------------------------------------------
# advice and positions (issue: messages that do not say how to fix the input)
# --------------------------------------------------------------------------------------------


def test_unsupported_function_is_named_with_the_supported_ones() -> None:
    error = parse_error("floor(w)")
    assert error.message.startswith("Unsupported function floor; supported: abs, sign, exp, log, sqrt, sin, cos")
    assert error.span == (0, 5)


def test_decimal_comma_gets_the_decimal_point_hint() -> None:
    error = parse_error("2(w-0,3)+λ")
    assert error.message == "Use a decimal point, not a comma: write 0.3, not 0,3."
    assert error.span == (5, 6)


def test_dot_between_factors_gets_the_multiplication_hint() -> None:
    error = parse_error("2λ.w")
    assert "Use * or · to multiply, not '.'" in error.message
    assert error.span == (2, 3)


def test_braces_get_the_parentheses_hint() -> None:
    assert parse_error("{w}").message == "Use parentheses ( ) to group, not braces { }."


@pytest.mark.parametrize(("text", "plain", "code"), [("λ sign(ԝ)", "w", "U+051D"), ("λ sign(w)·ο", "o", "U+03BF")])
def test_look_alike_letters_are_named(text: str, plain: str, code: str) -> None:
    message = parse_error(text).message
    assert f"looks like {plain} but is {code}" in message


def test_an_equation_gets_the_only_the_expression_hint() -> None:
    error = parse_error("w = λ sign(w)")
    assert error.message == "Write only the expression, without 'w ='."
    assert error.span == (2, 3)


def test_messages_never_repeat_a_prefix_or_quote_python() -> None:
    for text in ("w +", "λ*/w", "if w", "λ sign(w) \\", "2λ'"):
        message = parse_error(text).message
        assert "could not read" not in message.lower()
        assert "syntax" not in message.lower()


def test_caret_lines_mark_the_span_in_the_typed_text() -> None:
    error = parse_error("2(w−0,3) + λ")
    assert caret_lines("2(w−0,3) + λ", error.span) == ("2(w−0,3) + λ", "     ^")


def test_caret_covers_a_whole_name() -> None:
    assert caret_lines("floor(w)", parse_error("floor(w)").span) == ("floor(w)", "^~~~~")


def test_reading_keeps_the_learners_order_and_decimals() -> None:
    assert reading("2(w-0.3)+λ", L1_VARIABLES) == "2(w − 0.3) + λ"


def test_reading_shows_the_split_of_glued_names_and_bars() -> None:
    assert reading("2lamw/|w|", L1_VARIABLES) == "2λ·w/|w|"


# --------------------------------------------------------------------------------------------
# limits after SymPy merges powers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["(w^1000)^1000", "w^1000·w^1000", "((w^10)^10)^11"])
def test_powers_are_checked_after_merging(text: str) -> None:
    assert "too large" in parse_error(text).message


# --------------------------------------------------------------------------------------------
# numbers without SymPy
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("0.9^10", 0.9**10), ("0.5-0.08", 0.42), ("3/10", 0.3), ("2*0.15", 0.3), ("2^0.5", 2**0.5), ("−(1/4)", -0.25)],
)
def test_evaluate_number_computes_arithmetic(text: str, value: float) -> None:
    assert evaluate_number(text) == pytest.approx(value, rel=1e-15)


@pytest.mark.parametrize("text", ["w", "sqrt(4)", "1/0", "(-8)^(1/3)", "10^10^10", "__import__('os')"])
def test_evaluate_number_refuses_everything_but_arithmetic(text: str) -> None:
    with pytest.raises(ParseError):
        evaluate_number(text)


def test_evaluating_numbers_does_not_import_sympy() -> None:
    code = "import sys, quizkit.mathparse as m; m.evaluate_number('0.9^10'); print('sympy' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "False"


def test_the_assumption_words_belong_to_the_reader_and_the_lesson_declarations_use_them() -> None:
    from quizkit import lesson_schema

    assert lesson_schema.ASSUMPTIONS is mathparse.ASSUMPTIONS


@pytest.mark.parametrize("text", ["λ sign(w) for w ≠ 0", "λ·sign(w) (for w ≠ 0)", "λ sign(w), if w != 0."])
def test_the_prompts_condition_repeated_after_the_answer_is_dropped(text: str) -> None:
    assert parse(text, L1_VARIABLES) == L1_KEY


def test_a_python_conditional_expression_is_not_taken_for_a_condition() -> None:
    parse_error("λ sign(w) if w != 0 else 0")  # refused, not cut down to λ sign(w)
