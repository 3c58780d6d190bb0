"""Judging answers to choice, multi and numeric questions (symbolic ones have their own tests)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from quizkit.lesson import (
    ChoiceQuestion,
    MultiQuestion,
    NumericQuestion,
    Option,
    Tolerance,
    load_lesson,
)
from quizkit.questions import (
    LETTERS,
    correct_answer_text,
    judge,
    option_order,
    parse_number,
)
from quizkit.verdict import Status

DEMO = Path(__file__).resolve().parent / "data" / "course" / "exercises" / "demo" / "lesson.yaml"


@pytest.fixture(scope="module")
def questions() -> dict[str, object]:
    return {q.id: q for q in load_lesson(DEMO).questions}


@pytest.fixture
def choice(questions: dict[str, object]) -> ChoiceQuestion:
    """a) L2, b) L1 (correct), c) neither; not shuffled."""
    question = questions["pick-one"]
    assert isinstance(question, ChoiceQuestion)
    return question


@pytest.fixture
def multi(questions: dict[str, object]) -> MultiQuestion:
    """a) and c) are correct, b) and d) are not; not shuffled."""
    question = questions["pick-many"]
    assert isinstance(question, MultiQuestion)
    return question


@pytest.fixture
def numeric(questions: dict[str, object]) -> NumericQuestion:
    """Key 0.3 with abs tolerance 1e-3; 0.7 is a known wrong answer."""
    question = questions["step-size"]
    assert isinstance(question, NumericQuestion)
    return question


def numeric_question(answer: float) -> NumericQuestion:
    return NumericQuestion(
        id="n", prompt="?", points=1, hints=(), explanation="", line=1, answer=answer, tolerance=Tolerance(abs=1e-9)
    )


# --- choice -----------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["b", "B", "(b)", " b ", "b)"])
def test_choice_accepts_the_letter_in_common_spellings(choice: ChoiceQuestion, answer: str) -> None:
    verdict = judge(choice, answer)
    assert verdict.status is Status.CORRECT
    assert verdict.score == verdict.max_score == 1


def test_choice_correct_verdict_says_how_the_answer_was_read(choice: ChoiceQuestion) -> None:
    assert judge(choice, "b").interpreted_as == "b) The L1 penalty"


def test_choice_wrong_option_is_incorrect_with_its_feedback(choice: ChoiceQuestion) -> None:
    verdict = judge(choice, "a")
    assert verdict.status is Status.INCORRECT
    assert verdict.score == 0
    assert verdict.feedback == ("The L2 push fades near zero.",)


def test_choice_wrong_option_without_feedback_still_says_it_is_wrong(choice: ChoiceQuestion) -> None:
    verdict = judge(choice, "c")
    assert verdict.status is Status.INCORRECT
    assert verdict.feedback


def test_choice_letter_that_is_not_an_option_is_invalid_not_incorrect(choice: ChoiceQuestion) -> None:
    verdict = judge(choice, "e")
    assert verdict.status is Status.INVALID
    assert not verdict.counts_as_attempt
    assert "no option e" in verdict.feedback[0]


def test_choice_with_two_letters_is_invalid(choice: ChoiceQuestion) -> None:
    verdict = judge(choice, "a,b")
    assert verdict.status is Status.INVALID
    assert "exactly one" in verdict.feedback[0]


def test_choice_answered_with_a_number_is_invalid(choice: ChoiceQuestion) -> None:
    assert judge(choice, "2").status is Status.INVALID


# --- multi ------------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["a,c", "c,a", "a c", "ac", "A, C"])
def test_multi_all_correct_options_earn_full_marks(multi: MultiQuestion, answer: str) -> None:
    verdict = judge(multi, answer)
    assert verdict.status is Status.CORRECT
    assert verdict.score == 1


def test_multi_one_correct_option_missing_earns_partial_credit(multi: MultiQuestion) -> None:
    verdict = judge(multi, "a")
    assert verdict.status is Status.PARTIAL
    assert verdict.score == pytest.approx(0.5)
    assert any("missed 1 correct option" in line for line in verdict.feedback)


def test_multi_selecting_everything_earns_nothing(multi: MultiQuestion) -> None:
    verdict = judge(multi, "a,b,c,d")
    assert verdict.status is Status.INCORRECT
    assert verdict.score == 0


def test_multi_selecting_everything_earns_nothing_when_most_options_are_correct() -> None:
    options = (Option("A", True), Option("B", True), Option("C", True), Option("D", False))
    question = MultiQuestion(id="m", prompt="?", points=1, hints=(), explanation="", line=1, options=options)
    assert judge(question, "a,b,c,d").score == 0


def test_multi_wrong_pick_is_named_with_its_feedback(multi: MultiQuestion) -> None:
    verdict = judge(multi, "a,b,c")
    assert verdict.status is Status.PARTIAL
    assert "b) should not be selected: That is a step size, not a penalty." in verdict.feedback


def test_multi_unknown_letter_is_invalid(multi: MultiQuestion) -> None:
    verdict = judge(multi, "a,z")
    assert verdict.status is Status.INVALID
    assert "no option z" in verdict.feedback[0]


# --- numeric ----------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["0.3", "0.3005", ".3", "3e-1", "3/10", "3 / 10", "+0.3"])
def test_numeric_within_tolerance_is_correct(numeric: NumericQuestion, answer: str) -> None:
    assert judge(numeric, answer).status is Status.CORRECT


def test_numeric_outside_tolerance_is_incorrect(numeric: NumericQuestion) -> None:
    verdict = judge(numeric, "0.31")
    assert verdict.status is Status.INCORRECT
    assert verdict.interpreted_as == "0.31"


def test_numeric_fraction_is_read_exactly(numeric: NumericQuestion) -> None:
    assert judge(numeric, "3/10").interpreted_as == "0.3"


def test_numeric_accepts_unicode_minus() -> None:
    verdict = judge(numeric_question(-0.3), "\u22120.3")
    assert verdict.status is Status.CORRECT
    assert verdict.interpreted_as == "-0.3"


def test_numeric_known_wrong_answer_gets_its_feedback(numeric: NumericQuestion) -> None:
    verdict = judge(numeric, "0.7")
    assert verdict.status is Status.INCORRECT
    assert verdict.feedback == ("You added the step instead of subtracting it.",)


def test_numeric_known_wrong_answer_matches_within_tolerance(numeric: NumericQuestion) -> None:
    assert judge(numeric, "0.7004").feedback == ("You added the step instead of subtracting it.",)


@pytest.mark.parametrize("answer", ["abc", "0,3", "1/0", "three tenths", "0.3.1", "nan", "inf"])
def test_numeric_non_number_is_invalid(numeric: NumericQuestion, answer: str) -> None:
    verdict = judge(numeric, answer)
    assert verdict.status is Status.INVALID
    assert not verdict.counts_as_attempt


@pytest.mark.parametrize(
    "answer", ["__import__('os')", "__import__('os').system('true')", "(lambda: 0.3)()", "0.1+w", "abs(-0.3)"]
)
def test_numeric_answer_is_never_evaluated_as_code(numeric: NumericQuestion, answer: str) -> None:
    assert judge(numeric, answer).status is Status.INVALID


def test_parse_number_computes_arithmetic_on_numbers_only() -> None:
    assert parse_number("2*0.15") == pytest.approx(0.3)
    assert parse_number("2*w") is None


@pytest.mark.parametrize("answer", ["", "   ", "\n"])
def test_empty_answer_is_invalid_for_every_type(
    choice: ChoiceQuestion, multi: MultiQuestion, numeric: NumericQuestion, answer: str
) -> None:
    for question in (choice, multi, numeric):
        verdict = judge(question, answer)
        assert verdict.status is Status.INVALID
        assert "empty" in verdict.feedback[0]


def test_overlong_answer_is_invalid(numeric: NumericQuestion) -> None:
    assert judge(numeric, "1" * 10_000).status is Status.INVALID


# --- option order -----------------------------------------------------------------------------


def test_unshuffled_question_keeps_file_order(choice: ChoiceQuestion) -> None:
    assert option_order(choice, seed=12345) == (0, 1, 2)


def test_option_order_is_deterministic_per_seed(multi: MultiQuestion) -> None:
    shuffled = dataclasses.replace(multi, shuffle=True)
    assert option_order(shuffled, seed=7) == option_order(shuffled, seed=7)


def test_option_order_is_a_permutation(multi: MultiQuestion) -> None:
    shuffled = dataclasses.replace(multi, shuffle=True)
    assert sorted(option_order(shuffled, seed=7)) == [0, 1, 2, 3]


def test_option_order_differs_between_seeds(multi: MultiQuestion) -> None:
    shuffled = dataclasses.replace(multi, shuffle=True)
    assert len({option_order(shuffled, seed) for seed in range(20)}) > 1


def test_letters_follow_the_shuffled_order(choice: ChoiceQuestion) -> None:
    shuffled = dataclasses.replace(choice, shuffle=True)
    order = next(o for o in (option_order(shuffled, seed) for seed in range(50)) if o[1] != 1)
    correct_letter = LETTERS[order.index(1)]
    assert judge(shuffled, correct_letter, order=order).status is Status.CORRECT
    assert judge(shuffled, "b", order=order).status is Status.INCORRECT


def test_correct_answer_text_uses_the_shuffled_letters(choice: ChoiceQuestion) -> None:
    order = (1, 2, 0)
    assert correct_answer_text(choice, order) == "a) The L1 penalty"


def test_correct_answer_text_lists_every_correct_multi_option(multi: MultiQuestion) -> None:
    assert correct_answer_text(multi) == "a) The L1 norm of the weights; c) The squared L2 norm of the weights"


# --- numeric answers with arithmetic, percentages and precision --------------------------------


@pytest.mark.parametrize("answer", ["0.3", "3/10", "0.5-0.2", "2*0.15", "0.6/2", "(0.9^10)^0 - 0.7", "0.1+0.2"])
def test_numeric_arithmetic_on_numbers_is_computed(numeric: NumericQuestion, answer: str) -> None:
    assert judge(numeric, answer).status is Status.CORRECT


def test_numeric_power_is_computed_exactly() -> None:
    assert parse_number("0.9^10") == pytest.approx(0.3486784401, rel=1e-15)


def test_numeric_percentage_is_explained_not_accepted(numeric: NumericQuestion) -> None:
    verdict = judge(numeric, "30%")
    assert verdict.status is Status.INVALID
    assert verdict.feedback == ("Write the answer as a number, not a percentage: 30% is 0.3 (or 30/100).",)
    assert verdict.details["position"] == {"answer": "30%", "start": 2, "end": 3}


def test_numeric_invalid_answer_carries_the_position_of_the_problem(numeric: NumericQuestion) -> None:
    verdict = judge(numeric, "0,3")
    assert verdict.feedback == ("Use a decimal point, not a comma: write 0.3, not 0,3.",)
    assert verdict.details["position"] == {"answer": "0,3", "start": 1, "end": 2}


def _tight(key: float, tolerance: float) -> NumericQuestion:
    return NumericQuestion(
        id="q", prompt="?", points=1.0, hints=(), explanation="", line=1, answer=key, tolerance=Tolerance(abs=tolerance)
    )


@pytest.mark.parametrize("answer", ["0.348", "0.349", "0.35", "0.3"])
def test_numeric_rounded_or_cut_key_gets_a_precision_hint(answer: str) -> None:
    verdict = judge(_tight(0.3486784401, 1e-6), answer)
    assert verdict.status is Status.INCORRECT
    assert "Give more digits (at least 6 decimal places)" in verdict.feedback[0]


def test_numeric_plain_wrong_answer_gets_no_precision_hint() -> None:
    assert judge(_tight(0.3486784401, 1e-6), "0.42").feedback == ("0.42 is not correct.",)
