"""Specification of symbolic answer checking, on the five derivative questions of lesson 3.

One worker process serves the whole module; tests that need their own checker say so.
"""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from quizkit.symbolic import (
    SymbolicChecker,
    SymbolicSpec,
    WrongAnswer,
    check_answer,
)


def sign(value: float) -> float:
    return (value > 0) - (value < 0)


L1 = SymbolicSpec(
    "lam*sign(w)",
    {"w": "real", "lam": "positive"},
    (
        WrongAnswer("lam*Abs(w)", "That is the penalty itself; its derivative is asked for."),
        WrongAnswer("2*lam*w", "That is the L2 gradient; the L1 slope does not grow with w."),
    ),
)
L2 = SymbolicSpec(
    "2*lam*w",
    {"w": "real", "lam": "positive"},
    (
        WrongAnswer("lam*w", "The derivative of w^2 is 2w: a factor 2 is missing."),
        WrongAnswer("lam*sign(w)", "That is the L1 gradient."),
    ),
)
RUBBER = SymbolicSpec(
    "2*(w - 3/10) + lam",
    {"w": "positive", "lam": "positive"},
    (WrongAnswer("2*(w - 3/10) - lam", "For w > 0 the penalty adds +λ to the slope."),),
)
ELASTIC = SymbolicSpec(
    "lam1*sign(w) + 2*lam2*w",
    {"w": "real", "lam1": "positive", "lam2": "positive"},
    (WrongAnswer("lam2*sign(w) + 2*lam1*w", "λ₁ belongs to the L1 part and λ₂ to the L2 part."),),
)
UPDATE = SymbolicSpec(
    "w - alpha*lam*sign(w)",
    {"w": "real", "alpha": "positive", "lam": "positive"},
    (WrongAnswer("w + alpha*lam*sign(w)", "Gradient descent steps against the gradient."),),
)

SPECS = {"l1": L1, "l2": L2, "rubber": RUBBER, "elastic": ELASTIC, "update": UPDATE}

# The key as plain Python, to confirm that a reported counterexample is genuine.
KEYS: dict[str, Callable[..., float]] = {
    "l1": lambda w, lam: lam * sign(w),
    "l2": lambda w, lam: 2 * lam * w,
    "rubber": lambda w, lam: 2 * (w - 0.3) + lam,
    "elastic": lambda w, lam1, lam2: lam1 * sign(w) + 2 * lam2 * w,
    "update": lambda w, alpha, lam: w - alpha * lam * sign(w),
}

EQUIVALENT = {
    "l1": [
        "lam*sign(w)", "λ·sign(w)", "λ sign(w)", "λsign(w)", "lambda*sgn(w)", "λ sgn(w)",
        "lam*w/|w|", "λ|w|/w", "lam*w/abs(w)", "lam*Abs(w)/w", "sign(w)λ", "sign(w)*lambda",
        "λ*w/sqrt(w^2)", "λ w / √(w²)", "-λ·sign(-w)", "λ(2Heaviside(w) - 1)", "λ × sign(w)",
        "λ⋅sgn(w)", "λ*(w/|w|)", "λ w|w|/w^2", "2λ sign(w) - λ sign(w)", "0.5*2*lam*sign(w)",
        "λ*w*|w|^(-1)", "λ*w*|w|⁻¹", "lamsign(w)", "SIGN(w)*lam", "Sgn(w)*λ",
    ],
    "l2": [
        "2*lam*w", "2λw", "2 λ w", "2*lambda*w", "λ·2·w", "2wλ", "(2λ)w", "2(λw)", "λw+λw",
        "w*λ*2", "4λw/2", "((w+1)^2 - (w-1)^2)λ/2", "2lamw", "2 * λ * w", "2λw·sign(w)^2",
        "λ(w + w)", "2λ|w|sign(w)",
    ],
    "rubber": [
        "2*(w - 3/10) + lam", "2(w-0.3)+λ", "2w - 0.6 + λ", "λ + 2w - 0.6", "2(w−0.3)+λ",
        "2*(w-.3)+lambda", "2(w - 0.3) + λ sign(w)", "2(w-0.3)+λ|w|/w", "2w+λ-3/5",
        "(w-0.3)*2+λ", "2w - 6/10 + λ", "2·(w − 0.3) + λ", "2(w-0.30)+λ", "2*(w - 3e-1) + lam",
        "2(w - 0.3) + λ·1", "2(w-0.3+λ/2)",
    ],
    "elastic": [
        "lam1*sign(w) + 2*lam2*w", "λ₁sign(w) + 2λ₂w", "λ₁ sign(w) + 2λ₂w",
        "lambda1*sgn(w) + 2*lambda2*w", "λ1·sign(w)+2·λ2·w", "lam1*w/|w| + 2 lam2 w",
        "2λ₂w + λ₁ sgn(w)", "λ_1 sign(w) + 2 λ_2 w", "λ₁|w|/w + 2λ₂w", "lambda_1*sign(w)+2*lambda_2*w",
    ],
    "update": [
        "w - alpha*lam*sign(w)", "w - αλ sgn(w)", "w − α·λ·sign(w)", "w - alpha*lambda*sign(w)",
        "w - αλ w/|w|", "-αλsign(w) + w", "w - alpha lam sign(w)", "w(1 - αλ/|w|)",
        "w - α(λ sign(w))", "w - αλ|w|/w", "w - α·(λ·sgn(w))",
    ],
}  # fmt: skip

NEAR_MISSES = {
    "l1": [
        "-λ sign(w)", "λ", "sign(w)", "λ/2 sign(w)", "λw", "λ sign(-w)", "λ^2 sign(w)",
        "lam*sign(w) + 0.0001", "λ·w/|w| + w", "λ|w|/w^2",
    ],
    "l2": ["λw^2", "2λ", "-2λw", "2λ|w|", "2w", "2λw + 1e-6", "λ^2 w", "2λ sign(w)"],
    "rubber": [
        "2(w-0.3001)+λ", "(w-0.3)+λ", "2(w+0.3)+λ", "2(w-0.3)", "2w-0.3+λ",
        "2(w-0.3)+λ sign(w-1)", "2(w-0.3)+2λ",
    ],
    "elastic": [
        "λ₁ sign(w) + λ₂w", "λ₁|w| + λ₂w²", "λ₁ sign(w) - 2λ₂w", "λ₁ sign(w)", "2λ₂w",
        "λ1 sign(w) + 2 λ1 w",
    ],
    "update": [
        "w - αλ", "w - α sign(w)", "w - λ sign(w)", "w - αλw", "w - 2αλw", "αλ sign(w)",
        "-αλ sign(w)", "w - α λ^2 sign(w)",
    ],
}  # fmt: skip

LISTED = [
    ("l1", "λ|w|", "That is the penalty itself"),
    ("l1", "lam*abs(w)", "That is the penalty itself"),
    ("l1", "|w|λ", "That is the penalty itself"),
    ("l1", "2λw", "That is the L2 gradient"),
    ("l1", "2*lambda*w", "That is the L2 gradient"),
    ("l2", "λw", "a factor 2 is missing"),
    ("l2", "λ sgn(w)", "That is the L1 gradient"),
    ("rubber", "2(w-0.3)-λ", "adds +λ"),
    ("rubber", "2w - 0.6 - λ", "adds +λ"),
    ("elastic", "λ₂ sign(w) + 2λ₁w", "λ₁ belongs to the L1 part"),
    ("update", "w + αλ sgn(w)", "against the gradient"),
    ("update", "w + α·λ·w/|w|", "against the gradient"),
]

HOSTILE = [
    "__import__('os').system('touch /tmp/quizkit-should-not-exist')",
    "w.__class__",
    "().__class__.__bases__",
    "().__class__.__bases__[0].__subclasses__()",
    "9**9**9**9",
    "(w+1)**100000000",
    "10**10**10",
    "2**2**2**2**2**2",
    "(" * 1000 + "w" + ")" * 1000,
    "(" * 100 + "w" + ")" * 100,
    "w" * 10_000,
    "w+" * 5000 + "w",
    "-" * 400 + "w",
    "9" * 400 + "**" + "9" * 50,
    "1e99999",
    "(10**300+1)**(1/2)",
    "",
    "   ",
    "w\x00",
    "\x00",
    "lambda: 0",
    "lambda w: w",
    "(lambda: 1)()",
    "d/dw(lam|w|)",
    "dw",
    "x",
    "lam*x",
    "[w for w in (1, 2)]",
    "{'a': 1}",
    "w if w else 1",
    "w < 0",
    "'text'",
    "f'{w}'",
    "w; import os",
    "import os",
    "exec('1')",
    "eval('w')",
    "open('/etc/passwd').read()",
    "getattr(w, 'x')",
    "sign(w, evaluate=False)",
    "sign(*[w])",
    "w[0]",
    "w @ w",
    "w % 2",
    "w // 2",
    "~w",
    "not w",
    "w and lam",
    "(w := 1)",
    "...",
    "None",
    "True",
    "1/0",
    "|w",
    "sign w",
    "sympify('w')",
    "Symbol('x')",
    "w.evalf()",
    "w)",
    "(w",
    "λ·",
]


@pytest.fixture(scope="module")
def checker() -> Iterator[SymbolicChecker]:
    # No spare: these checks need one worker, and a spare costs a second SymPy start (the spare's
    # part is test_the_check_after_a_kill_is_served_by_the_warm_spare).
    with SymbolicChecker(spare=False) as shared:
        yield shared


# --------------------------------------------------------------------------------------------
# correct, incorrect, listed wrong answers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "answer"), [(question, answer) for question, answers in EQUIVALENT.items() for answer in answers]
)
def test_equivalent_notation_is_correct(checker: SymbolicChecker, question: str, answer: str) -> None:
    result = checker.check(answer, SPECS[question])
    assert result.status == "correct", result.feedback


@pytest.mark.parametrize(
    ("question", "answer"), [(question, answer) for question, answers in NEAR_MISSES.items() for answer in answers]
)
def test_near_miss_is_incorrect_at_a_genuine_counterexample(
    checker: SymbolicChecker, question: str, answer: str
) -> None:
    result = checker.check(answer, SPECS[question])
    assert result.status == "incorrect"
    assert result.counterexample is not None
    point = {name: value for name, value in result.counterexample.items() if name not in ("answer", "expected")}
    expected = KEYS[question](**point)
    assert math.isclose(result.counterexample["expected"], expected, rel_tol=1e-9)
    assert not math.isclose(result.counterexample["answer"], expected, rel_tol=1e-9)


@pytest.mark.parametrize(("question", "answer", "feedback"), LISTED)
def test_listed_wrong_answer_gets_its_targeted_feedback(
    checker: SymbolicChecker, question: str, answer: str, feedback: str
) -> None:
    result = checker.check(answer, SPECS[question])
    assert result.status == "incorrect"
    assert any(feedback in line for line in result.feedback)


def test_unlisted_wrong_answer_feedback_names_a_point_and_both_values(checker: SymbolicChecker) -> None:
    result = checker.check("-λ sign(w)", L1)
    assert result.counterexample is not None
    w, lam = result.counterexample["w"], result.counterexample["lam"]
    assert result.feedback == (
        f"At w = {w:g}, λ = {lam:g} your expression gives {-lam * sign(w):g}; "
        f"the expected one gives {lam * sign(w):g}.",
    )


def test_counterexample_uses_one_decimal_values(checker: SymbolicChecker) -> None:
    result = checker.check("-λ sign(w)", L1)
    assert result.counterexample is not None
    assert all(round(result.counterexample[name], 1) == result.counterexample[name] for name in ("w", "lam"))


def test_small_difference_beyond_tolerance_is_incorrect(checker: SymbolicChecker) -> None:
    assert checker.check("2(w-0.3001)+λ", RUBBER).status == "incorrect"


def test_difference_far_below_tolerance_is_correct(checker: SymbolicChecker) -> None:
    assert checker.check("2(w-0.30000000000001)+λ", RUBBER).status == "correct"


def test_looser_tolerance_accepts_a_rounded_constant(checker: SymbolicChecker) -> None:
    # The tolerance is relative: 2.0001 for 2 is off by 5e-5 of the value at every point.
    loose = SymbolicSpec(L2.key, L2.variables, tolerance=1e-3)
    assert checker.check("2.0001λw", loose).status == "correct"


def test_cancellation_in_floating_point_does_not_mark_a_right_answer_wrong(checker: SymbolicChecker) -> None:
    spec = SymbolicSpec("w**2", {"w": "real"})
    assert checker.check("(w + 10^8)^2 - 2·10^8·w - 10^16", spec).status == "correct"


def test_assumptions_are_used(checker: SymbolicChecker) -> None:
    assert checker.check("λ", SymbolicSpec("lam*sign(w)", {"w": "positive", "lam": "positive"})).status == "correct"


def test_domain_restricts_where_answers_are_compared(checker: SymbolicChecker) -> None:
    spec = SymbolicSpec("w", {"w": "real"}, domain={"w": (0.1, 2.0)})
    assert checker.check("|w|", spec).status == "correct"


def test_without_a_domain_the_declared_assumption_decides(checker: SymbolicChecker) -> None:
    assert checker.check("|w|", SymbolicSpec("w", {"w": "real"})).status == "incorrect"


def test_answer_not_real_where_the_key_is_is_incorrect(checker: SymbolicChecker) -> None:
    result = checker.check("log(w)", SymbolicSpec("log(|w|)", {"w": "real"}))
    assert result.status == "incorrect"
    assert "cannot be evaluated to a real number" in result.feedback[0]


def test_integer_variables_are_sampled_at_integers(checker: SymbolicChecker) -> None:
    assert checker.check("cos(π n)", SymbolicSpec("(-1)**n", {"n": "integer"})).status == "correct"


def test_simplification_decides_when_no_sample_point_is_real(checker: SymbolicChecker) -> None:
    spec = SymbolicSpec("sqrt(-w**2 - 1)", {"w": "real"})
    assert checker.check("(-1 - w^2)^(1/2)", spec).status == "correct"


# --------------------------------------------------------------------------------------------
# interpretation and invalid answers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "shown"),
    [("lam*w/|w|", "λ·w/|w|"), ("λ sgn(w)", "λ·sign(w)"), ("2λw", "2λ·w"), ("2(w-0.3)+λ", "2(w − 0.3) + λ")],
)
def test_interpretation_is_shown_with_greek_letters(checker: SymbolicChecker, answer: str, shown: str) -> None:
    assert checker.check(answer, L1).interpreted_as == shown


def test_interpretation_of_elastic_net_shows_subscripts(checker: SymbolicChecker) -> None:
    assert checker.check("lambda1*sgn(w) + 2*lambda2*w", ELASTIC).interpreted_as == "λ₁·sign(w) + 2·λ₂·w"


def test_invalid_answer_gives_advice_and_the_position_in_the_typed_text(checker: SymbolicChecker) -> None:
    result = checker.check("d/dw(lam|w|)", L1)
    assert result.status == "invalid"
    assert result.interpreted_as is None
    assert result.feedback == (
        "Write the derivative itself, not the d/dw notation (a label before '=' such as dL/dw = … is fine).",
    )
    assert result.span == (0, 1)


def test_undeclared_variable_is_invalid_not_wrong(checker: SymbolicChecker) -> None:
    result = checker.check("λ sign(x)", L1)
    assert result.status == "invalid"
    assert result.feedback == ("'x' is not a symbol of this question; use only w, λ.",)


@pytest.mark.parametrize("answer", HOSTILE)
def test_hostile_input_is_invalid(checker: SymbolicChecker, answer: str) -> None:
    # "Quickly" is the checker's hard time limit, tested on its own below.
    result = checker.check(answer, L1)
    assert result.status == "invalid"
    assert result.feedback


@pytest.mark.parametrize(
    "template",
    [
        "__import__('os').system('touch {path}')",
        "open('{path}', 'w')",
        "__import__('pathlib').Path('{path}').touch()",
        "exec(\"open('{path}', 'w')\")",
        "().__class__.__base__.__subclasses__()[0]('{path}')",
    ],
)
def test_answers_never_run_code(checker: SymbolicChecker, tmp_path: Path, template: str) -> None:
    target = tmp_path / "pwned"
    result = checker.check(template.format(path=target), L1)
    assert result.status == "invalid"
    assert not target.exists()


# --------------------------------------------------------------------------------------------
# instructors' validation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("question", sorted(SPECS))
def test_lesson_keys_have_no_problems(checker: SymbolicChecker, question: str) -> None:
    assert checker.key_problems(SPECS[question]) == []


def test_key_problems_reports_an_unreadable_key(checker: SymbolicChecker) -> None:
    problems = checker.key_problems(SymbolicSpec("lam*sign(x)", {"w": "real", "lam": "positive"}))
    assert problems == [
        "the answer key 'lam*sign(x)' cannot be read: 'x' is not a symbol of this question; use only w, λ."
    ]


def test_key_problems_reports_an_unreadable_wrong_answer(checker: SymbolicChecker) -> None:
    spec = SymbolicSpec("lam*sign(w)", L1.variables, (WrongAnswer("lam*(w", "?"),))
    assert "the wrong answer 'lam*(w' cannot be read" in checker.key_problems(spec)[0]


def test_key_problems_reports_a_wrong_answer_equal_to_the_key(checker: SymbolicChecker) -> None:
    spec = SymbolicSpec("lam*sign(w)", L1.variables, (WrongAnswer("lam*w/Abs(w)", "?"),))
    assert checker.key_problems(spec) == ["the wrong answer 'lam*w/Abs(w)' is equivalent to the answer key"]


def test_key_problems_reports_an_unknown_assumption(checker: SymbolicChecker) -> None:
    assert "unknown assumption 'rael'" in checker.key_problems(SymbolicSpec("w", {"w": "rael"}))[0]


def test_key_problems_reports_a_domain_for_an_undeclared_variable(checker: SymbolicChecker) -> None:
    spec = SymbolicSpec("w", {"w": "real"}, domain={"v": (0.0, 1.0)})
    assert "not a declared variable" in checker.key_problems(spec)[0]


def test_key_problems_reports_a_key_that_is_nowhere_real(checker: SymbolicChecker) -> None:
    spec = SymbolicSpec("sqrt(-w**2 - 1)", {"w": "real"})
    assert "undefined or not real" in checker.key_problems(spec)[0]


def test_broken_key_makes_checks_invalid_with_a_message_for_the_instructor(checker: SymbolicChecker) -> None:
    result = checker.check("w", SymbolicSpec("w +", {"w": "real"}))
    assert result.status == "invalid"
    assert "answer key is broken" in result.feedback[0]


# --------------------------------------------------------------------------------------------
# the spec model
# --------------------------------------------------------------------------------------------


def test_equal_specs_hash_equal() -> None:
    assert hash(L1) == hash(SymbolicSpec(L1.key, dict(L1.variables), L1.wrong_answers))


def test_spec_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        L1.key = "w"  # type: ignore[misc]


def test_spec_accepts_pairs_as_the_lesson_model_stores_them() -> None:
    # The lesson model keeps declarations as (name, value) pairs; the spec stores them as mappings.
    pairs = SymbolicSpec("w", (("w", "real"),), domain=(("w", (0, 1)),))  # type: ignore[arg-type]
    assert pairs == SymbolicSpec("w", {"w": "real"}, domain={"w": (0.0, 1.0)})


# --------------------------------------------------------------------------------------------
# the worker process
# --------------------------------------------------------------------------------------------

SLOW = "Max(Max(w,lam,w**2,lam**2,w**3,lam**3,w+lam,w-lam),Min(w,lam,w**2,lam**2,w**3,lam**3,w+lam,w-lam),Max(w*lam,w/lam,lam/w,w**4,lam**4,sin(w),cos(w),tan(lam)))"


def test_check_over_the_time_limit_is_invalid_and_a_new_worker_answers_the_next() -> None:
    # Without a spare (as `quizkit check` and `validate` run): a new worker replaces the killed one.
    # The spare's part is test_the_check_after_a_kill_is_served_by_the_warm_spare. No warm-up: it
    # is not what is tested, and each worker here would pay for it.
    with SymbolicChecker(spare=False, warm_up=False) as fast:
        fast.wait_ready()
        first_pid = fast.worker_pid
        fast.timeout = 0.02
        result = fast.check(SLOW, L1)
        assert result.status == "invalid"
        assert result.feedback == ("This expression is too complex to check; please simplify it.",)
        second_pid = fast.worker_pid
        assert second_pid not in (None, first_pid)
        fast.timeout = 1.5
        assert fast.check("λ sign(w)", L1).status == "correct"
        assert fast.worker_pid == second_pid  # answered by the new worker, which stays


def test_start_does_not_wait_for_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    from quizkit.symbolic import client

    # A worker that never says it is ready: start() returns all the same (the test would hang if not).
    monkeypatch.setattr(
        client, "_worker_command", lambda warm_up: [sys.executable, "-c", "import time; time.sleep(3600)"]
    )
    checker = SymbolicChecker(spare=False)
    checker.start()
    assert checker.worker_pid is not None
    checker.close(grace=0.0)


@pytest.mark.parametrize(
    "worker",
    [
        "import sys; sys.stdin.read()",  # leaves at the end of its input, as the real worker does
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(3600)",  # never leaves
    ],
    ids=["exits-at-end-of-input", "hangs"],
)
def test_close_stops_the_worker(monkeypatch: pytest.MonkeyPatch, worker: str) -> None:
    from quizkit.symbolic import client

    monkeypatch.setattr(client, "_worker_command", lambda warm_up: [sys.executable, "-c", worker])
    checker = SymbolicChecker()
    checker.start()
    process = checker._worker.process  # type: ignore[union-attr]
    checker.close(grace=0.2)
    assert checker.worker_pid is None
    assert process.poll() is not None  # gone (close waited for it), not left running


def test_check_answer_uses_a_shared_checker() -> None:
    from quizkit.symbolic import client

    assert check_answer("λ|w|/w", L1).status == "correct"
    shared = client._shared_checker
    assert shared is not None
    worker = shared.worker_pid
    assert check_answer("2λw", L1).status == "incorrect"
    assert client._shared_checker is shared
    assert shared.worker_pid == worker  # the same warm worker answered both


def test_importing_the_checker_does_not_import_sympy() -> None:
    code = "import sys, quizkit.symbolic; print('sympy' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "False"


def test_checking_keeps_sympy_out_of_the_calling_process() -> None:
    code = (
        "import sys\n"
        "from quizkit.symbolic import SymbolicChecker, SymbolicSpec\n"
        "with SymbolicChecker(spare=False) as c:\n"
        "    assert c.check('2λw', SymbolicSpec('2*lam*w', {'w': 'real', 'lam': 'positive'})).status == 'correct'\n"
        "print('sympy' in sys.modules)\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "False"


def test_every_soft_time_budget_of_a_check_scales_with_its_limit() -> None:
    # A loaded machine is given a longer limit (the corpus tests use 6 s): every budget inside the
    # worker must grow with it, or a hostile answer gets another verdict there than here.
    from quizkit.symbolic.spec import DEFAULT_TIMEOUT, time_budgets

    usual, longer = time_budgets(DEFAULT_TIMEOUT), time_budgets(4 * DEFAULT_TIMEOUT)
    assert set(usual) == {"simplify_budget", "exact_budget", "point_budget", "check_budget"}
    assert all(math.isclose(longer[name], 4 * usual[name]) for name in usual)
    assert usual["check_budget"] < DEFAULT_TIMEOUT  # the worker answers before the parent kills it


def test_the_worker_bounds_one_evaluation_by_the_budget_it_is_sent() -> None:
    # exp(exp(exp(exp(10)))) overflows even SymPy's floats: "too large", found by evaluating it
    # once. Given no time for one evaluation, the worker cannot find that out.
    from quizkit.symbolic.engine import Engine
    from quizkit.symbolic.spec import TOO_LARGE, spec_payload, time_budgets

    def feedback(**budgets: float) -> list[str]:
        request = {"op": "check", "answer": "exp(exp(exp(exp(10))))", "spec": spec_payload(L1)}
        return list(Engine().handle({**request, **time_budgets(6.0), **budgets})["feedback"])

    assert feedback() == [TOO_LARGE]
    assert feedback(point_budget=1e-6) != [TOO_LARGE]


# --------------------------------------------------------------------------------------------
# issue: wrong answers accepted, false counterexamples, internal errors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        "λ sign(w) + sin(1000πw)",
        "λ tanh(1000w)",
        "λ·sign(w − 0.01)",
        "λ sign(w) + Max(0, w − 100)",
        "λ sign(w) + sqrt(w) - sqrt(|w|)",
        "λ sign(w)·sqrt(w)/sqrt(|w|)",
    ],
)
def test_answers_built_for_narrow_rounded_points_are_incorrect(checker: SymbolicChecker, answer: str) -> None:
    assert checker.check(answer, L1).status == "incorrect"


def test_exact_evaluation_without_accurate_digits_is_not_a_counterexample(checker: SymbolicChecker) -> None:
    assert checker.check("λ·sign(w)·(cosh(400)² − sinh(400)²)", L1).status == "correct"


def test_overflowing_answer_is_invalid_with_a_clear_message(checker: SymbolicChecker) -> None:
    result = checker.check("exp(exp(exp(exp(10))))", L1)
    assert result.status == "invalid"
    assert result.feedback == ("The values of this expression are too large to check; please simplify it.",)


def test_exploding_symbolic_exponent_is_answered_by_the_worker(checker: SymbolicChecker) -> None:
    first_pid = checker.worker_pid
    assert checker.check("10^(10^6·w)", L1).status == "incorrect"
    assert checker.worker_pid == first_pid  # answered, not killed


def test_merged_power_is_refused_before_it_is_built(checker: SymbolicChecker) -> None:
    result = checker.check("(w^1000)^1000", L1)
    assert result.status == "invalid"
    assert "too large" in result.feedback[0]


def test_penalty_instead_of_its_derivative_is_named(checker: SymbolicChecker) -> None:
    spec = SymbolicSpec(L2.key, L2.variables)
    assert checker.check("λw²", spec).feedback == (
        "This looks like the penalty itself, not its derivative: differentiate your expression with respect to w.",
    )


def test_penalty_plus_a_constant_is_still_named_the_penalty(checker: SymbolicChecker) -> None:
    assert "penalty itself" in checker.check("(w − 0.3)² + λ|w| + 1", RUBBER).feedback[0]


def test_listed_wrong_answer_feedback_comes_before_the_penalty_detector(checker: SymbolicChecker) -> None:
    spec = SymbolicSpec(L1.key, L1.variables, (WrongAnswer("lam*Abs(w)", "The author's own words."),))
    assert checker.check("λ|w|", spec).feedback == ("The author's own words.",)


def test_unrelated_wrong_answer_is_not_called_the_penalty(checker: SymbolicChecker) -> None:
    assert "penalty" not in checker.check("λw³", SymbolicSpec(L2.key, L2.variables)).feedback[0]


def test_invalid_answer_message_has_no_prefix_and_a_span(checker: SymbolicChecker) -> None:
    result = checker.check("λ·sign(w) = dL/dw", L1)
    assert result.feedback == ("Write only the expression, without '='.",)
    assert result.span == (10, 11)


def test_read_as_keeps_the_learners_notation(checker: SymbolicChecker) -> None:
    assert checker.check("2(w-0.3)+λ", RUBBER).interpreted_as == "2(w − 0.3) + λ"


# --------------------------------------------------------------------------------------------
# sample points
# --------------------------------------------------------------------------------------------


def _points(assumptions: list[str], domains: list[tuple[float, float] | None] | None = None) -> list[tuple[float, ...]]:
    import random

    from quizkit.symbolic import sample_points

    return sample_points(assumptions, domains or [None] * len(assumptions), random.Random())


def test_sample_points_are_fresh_for_every_check() -> None:
    assert _points(["real", "positive"]) != _points(["real", "positive"])


def test_sample_points_include_unrounded_values() -> None:
    assert sum(round(point[0], 3) != point[0] for point in _points(["real"])) >= 30


def test_every_variable_is_sampled_near_zero_and_far_out_on_both_sides() -> None:
    for position in range(2):
        values = [point[position] for point in _points(["real", "real"])]
        assert any(1e-4 <= value <= 1e-2 for value in values) and any(-1e-2 <= value <= -1e-4 for value in values)
        assert any(100 <= value <= 1e4 for value in values) and any(-1e4 <= value <= -100 for value in values)


def test_positive_variables_stay_positive_at_every_scale() -> None:
    values = [point[0] for point in _points(["positive"])]
    assert min(values) > 0 and max(values) >= 100 and min(values) <= 1e-2


def test_an_author_domain_holds_for_every_point() -> None:
    assert all(0 < point[0] < 1 for point in _points(["positive"], [(0.0, 1.0)]))


# --------------------------------------------------------------------------------------------
# the spare worker
# --------------------------------------------------------------------------------------------


def test_the_check_after_a_kill_is_served_by_the_warm_spare() -> None:
    with SymbolicChecker(warm_up=False) as fast:  # "warm": SymPy loaded; the warm-up checks are not the subject
        fast.wait_ready()
        spare_pid = fast._spare.process.pid  # type: ignore[union-attr]
        fast.timeout = 0.02
        assert fast.check(SLOW, L1).feedback == ("This expression is too complex to check; please simplify it.",)
        assert fast.worker_pid == spare_pid


def test_a_one_shot_checker_keeps_no_spare() -> None:
    with SymbolicChecker(spare=False, warm_up=False) as single:
        assert single.check("λ sign(w)", L1).status == "correct"
        assert single._spare is None


def test_close_without_waiting_leaves_the_worker_to_exit_on_its_own() -> None:
    checker = SymbolicChecker(spare=False, warm_up=False)
    checker.check("λ", L1)
    process = checker._worker.process  # type: ignore[union-attr]
    checker.close(wait=False)
    assert checker.worker_pid is None
    assert process.wait(timeout=30) == 0


def test_sign_of_an_exact_zero_is_never_taken_for_a_counterexample(checker: SymbolicChecker) -> None:
    # sin(π/7)·sin(2π/7)·sin(3π/7) = √7/8 exactly; evalf alone calls the sign of the difference 1.
    result = checker.check("λ sign(w) + sign(sin(pi/7)*sin(2*pi/7)*sin(3*pi/7) - sqrt(7)/8)", L1)
    assert result.status in ("correct", "invalid")


def test_a_worker_that_cannot_start_is_a_one_line_quizkit_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from quizkit.errors import QuizkitError
    from quizkit.symbolic import SymbolicWorkerError, client

    script = (
        "import sys; sys.stderr.write('Traceback ...\\nModuleNotFoundError: No module named sympy\\n'); sys.exit(1)"
    )
    monkeypatch.setattr(client, "_worker_command", lambda warm_up: [sys.executable, "-c", script])
    with SymbolicChecker(spare=False) as checker, pytest.raises(SymbolicWorkerError) as caught:
        checker.check("w", SymbolicSpec("w", {"w": "real"}))
    assert isinstance(caught.value, QuizkitError)
    assert caught.value.format_message() == (
        "the symbolic checker failed to start (ModuleNotFoundError: No module named sympy)"
    )
