"""Accuracy of the symbolic checker on a corpus of answers as learners and attackers write them.

Each case in tests/data/symbolic_corpus.yaml is (question, answer, expected verdict[, feedback
text]). The checker must give the expected verdict on every one, and every message for an
unreadable answer must read as advice: no Python or SymPy error text, and something to do.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from quizkit.symbolic import SymbolicChecker, SymbolicResult, SymbolicSpec, WrongAnswer

# libyaml's loader where PyYAML has it: read by every worker while it collects, ten times faster.
CORPUS = yaml.load(
    (Path(__file__).parent / "data" / "symbolic_corpus.yaml").read_text(encoding="utf-8"),
    Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader),
)

# Words that only a programmer (or a crash) would write.
PYTHON_VOCABULARY = (
    "SyntaxError", "invalid syntax", "line continuation", "unterminated", "Traceback", "sympify",
    "Error", "exception", "internal error", "EOF", "Abs(", "lam*", "Could not read your answer",
    "could not read the answer",
)  # fmt: skip
ADVICE_WORDS = ("write", "use", "give", "type", "remove", "add", "simplify", "check", "put", "retype")


def _spec(question: dict[str, Any]) -> SymbolicSpec:
    wrongs = tuple(WrongAnswer(item["answer"], item["feedback"]) for item in question.get("wrong_answers", ()))
    domain = {name: tuple(bounds) for name, bounds in question.get("domain", {}).items()}
    return SymbolicSpec(question["key"], question["variables"], wrongs, domain=domain)


SPECS = {name: _spec(question) for name, question in CORPUS["questions"].items()}
CASES = [pytest.param(*case, id=f"{number}-{case[0]}-{case[2]}") for number, case in enumerate(CORPUS["cases"])]
INVALID_CASES = [case for case in CASES if case.values[2] == "invalid"]


@pytest.fixture(scope="module")
def results() -> Iterator[dict[tuple[str, str], SymbolicResult]]:
    """Every answer checked once, by one checker, on first request."""
    cache: dict[tuple[str, str], SymbolicResult] = {}
    # Every time budget inside a check scales with the limit. A test machine may be loaded, so
    # give the corpus room; the verdicts do not depend on the limit, only on finishing in time.
    # No spare worker: a check that runs out of time (none should) gets a new worker on demand.
    with SymbolicChecker(timeout=6.0, spare=False) as checker:

        class Results(dict):  # type: ignore[type-arg]
            def __missing__(self, key: tuple[str, str]) -> SymbolicResult:
                question, answer = key
                self[key] = checker.check(answer, SPECS[question])
                return self[key]

        yield Results(cache)


def test_corpus_is_large_and_varied() -> None:
    verdicts = [case[2] for case in CORPUS["cases"]]
    assert len(verdicts) >= 200
    assert {verdict: verdicts.count(verdict) >= 50 for verdict in ("correct", "incorrect", "invalid")} == {
        "correct": True, "incorrect": True, "invalid": True,
    }  # fmt: skip


@pytest.mark.parametrize(("question", "answer", "verdict", "feedback"), [
    pytest.param(*(case.values + (None,) * (4 - len(case.values))), id=case.id) for case in CASES
])  # fmt: skip
def test_corpus_answer_gets_the_expected_verdict(
    results: dict[tuple[str, str], SymbolicResult], question: str, answer: str, verdict: str, feedback: str | None
) -> None:
    result = results[(question, answer)]
    assert (result.status, result.feedback) == (verdict, result.feedback)
    if feedback is not None:
        assert feedback in result.feedback[0]


@pytest.mark.parametrize(("question", "answer"), [pytest.param(*case.values[:2], id=case.id) for case in INVALID_CASES])
def test_corpus_invalid_message_reads_as_advice(
    results: dict[tuple[str, str], SymbolicResult], question: str, answer: str
) -> None:
    (message,) = results[(question, answer)].feedback
    # The learner's own words may be quoted back (Unsupported function sympify); nothing else.
    assert not [word for word in PYTHON_VOCABULARY if word in message and word not in answer]
    assert any(word in message.lower() for word in ADVICE_WORDS), message
    assert message[0].isupper() or message[0] in "'\"", message
