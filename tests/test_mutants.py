"""The mutation check: typical small bugs in a reference, and which of them the cases catch."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from quizkit.mutants import Fate, Mutant, check_mutants, generate_mutants, yaml_args
from quizkit.sandbox import InProcessRunner, SubprocessRunner


def _mutants(source: str) -> list[Mutant]:
    return generate_mutants(textwrap.dedent(source))


def _changes(source: str) -> set[tuple[str, str]]:
    return {(m.original, m.mutated) for m in _mutants(source)}


def test_comparisons_are_loosened_tightened_and_flipped() -> None:
    changes = _changes(
        """
        def f(w, t):
            return abs(w) <= t
        """
    )
    assert ("abs(w) <= t", "abs(w) < t") in changes
    assert ("abs(w) <= t", "abs(w) >= t") in changes


def test_equality_is_negated() -> None:
    assert ("w == 0", "w != 0") in _changes("def f(w):\n    return w == 0\n")


def test_numeric_constants_become_zero_one_and_almost_zero() -> None:
    changes = _changes("def f(x):\n    return max(x, 0.0)\n")
    assert ("max(x, 0.0)", "max(x, 1)") in changes
    assert ("max(x, 0.0)", "max(x, 1e-12)") in changes
    assert ("max(x, 0.0)", "max(x, 0)") not in changes  # 0 == 0.0: not a change


def test_np_where_is_replaced_by_each_branch() -> None:
    changes = _changes("import numpy as np\ndef f(c, x):\n    return np.where(c, 0.0, x)\n")
    assert ("np.where(c, 0.0, x)", "0.0") in changes
    assert ("np.where(c, 0.0, x)", "x") in changes


def test_maximum_and_minimum_are_swapped() -> None:
    changes = _changes("import numpy as np\ndef f(a, b):\n    return np.maximum(a, b)\n")
    assert ("np.maximum(a, b)", "np.minimum(a, b)") in changes


def test_sign_becomes_abs() -> None:
    assert ("np.sign(w)", "np.abs(w)") in _changes("import numpy as np\ndef f(w):\n    return 2 * np.sign(w)\n")


def test_a_term_of_a_sum_or_difference_is_dropped() -> None:
    changes = _changes("def f(a, b):\n    return a - b\n")
    assert ("a - b", "a") in changes
    assert ("a - b", "a + b") in changes


def test_the_returned_value_is_negated_and_unary_minus_removed() -> None:
    changes = _changes("def f(a):\n    y = -a\n    return y\n")
    assert ("return y", "return -y") in changes
    assert ("-a", "a") in changes


def test_an_in_place_update_is_removed() -> None:
    changes = _changes("def f(w):\n    out = w.copy()\n    out[w < 0] = 0.0\n    return out\n")
    assert ("out[w < 0] = 0.0", "pass") in changes
    assert not any(original == "out = w.copy()" for original, _ in changes)  # removing it breaks the name


def test_mutants_carry_the_line_and_column_of_the_change() -> None:
    source = 'def f(w, t):\n    """Doc."""\n    y = w\n    return y <= t\n'
    boundary = next(m for m in _mutants(source) if m.mutated == "y < t")
    assert (boundary.line, boundary.column) == (4, 12)
    assert "y <= t" in source.splitlines()[boundary.line - 1][boundary.column - 1 :]


def test_docstrings_defaults_and_configuration_keywords_are_left_alone() -> None:
    source = 'import numpy as np\ndef f(w, k=2):\n    """Uses 3 things."""\n    return np.sum(w, axis=0)\n'
    mutants = _mutants(source)
    assert all('"""Uses 3 things."""' in m.source for m in mutants)
    assert all("k=2" in m.source and "axis=0" in m.source for m in mutants)


def test_every_mutant_is_distinct_and_compiles() -> None:
    source = "import numpy as np\ndef f(w, t):\n    return np.sign(w) * np.maximum(np.abs(w) - t, 0.0)\n"
    mutants = _mutants(source)
    assert len({m.source for m in mutants}) == len(mutants)
    for mutant in mutants:
        compile(mutant.source, "<mutant>", "exec")


def test_module_level_code_is_not_mutated() -> None:
    mutants = _mutants("LIMIT = 3\n\ndef f(x):\n    return x + LIMIT\n")
    assert mutants and all(m.source.startswith("LIMIT = 3\n") for m in mutants)


def test_a_syntax_error_in_the_reference_is_raised() -> None:
    with pytest.raises(SyntaxError):
        generate_mutants("def f(:\n")


# --- judging mutants against a lesson's cases ---------------------------------------------------
# The references here are the tests' own code, and none of their mutants can loop, so they run in
# process; a mutant that never returns, and the lesson 3 references, go through the real sandbox.

# The small clamp exercise these tests build their course around.
CLAMP = (Path(__file__).parent / "data" / "clamp_reference.py").read_text(encoding="utf-8")
# Mutants run in this process here, and some divide by zero on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")
ONE_FLIP = "      - name: one flip\n        args: {before: [0.5, -0.3, 0.2], after: [-0.1, -0.2, 0.1]}\n"


def plan_for(
    tmp_path: Path,
    reference: str,
    cases: str,
    parameters: str = "[before, after]",
    name: str = "clamp",
    time_limit: float = 1,
):
    """The grading plan of a one-exercise lesson written to ``tmp_path``."""
    from quizkit.exercises import plan_exercise
    from quizkit.lesson import load_lesson

    lesson_dir = tmp_path / "exercises" / "demo"
    lesson_dir.mkdir(parents=True, exist_ok=True)
    (tmp_path / "solutions" / "demo").mkdir(parents=True, exist_ok=True)
    (tmp_path / "solutions" / "demo" / f"{name}.py").write_text(reference, encoding="utf-8")
    (lesson_dir / f"{name}.py").write_text(f"def {name}(*args):\n    raise NotImplementedError\n", encoding="utf-8")
    text = (
        f"id: demo\ntitle: Demo\nexercises:\n  - id: {name}\n    title: T\n    prompt: P\n"
        f"    parameters: {parameters}\n    time_limit: {time_limit}\n    cases:\n{cases}"
    )
    (lesson_dir / "lesson.yaml").write_text(text, encoding="utf-8")
    return plan_exercise(load_lesson(lesson_dir / "lesson.yaml").exercises[0])


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SubprocessRunner]:
    with SubprocessRunner() as shared:
        yield shared


@pytest.fixture
def runner() -> Iterator[InProcessRunner]:
    with InProcessRunner() as in_process:
        yield in_process


def test_a_missing_edge_case_leaves_a_survivor_and_its_example_case_catches_it(
    tmp_path: Path, runner: InProcessRunner
) -> None:
    report = check_mutants(plan_for(tmp_path / "before", CLAMP, ONE_FLIP), runner)
    boundary = next(v for v in report.verdicts if v.mutant.mutated == "before * after <= 0")
    assert boundary.fate is Fate.SURVIVED
    assert boundary.example.startswith("{before: [")
    # The suggested case, added to the lesson, catches the mutant.
    extended = ONE_FLIP + f"      - name: suggested\n        args: {boundary.example}\n"
    again = check_mutants(plan_for(tmp_path / "after", CLAMP, extended), runner)
    assert next(v for v in again.verdicts if v.mutant.mutated == "before * after <= 0").fate is Fate.KILLED


def test_a_survivor_is_described_with_the_reference_position_and_a_hint(
    tmp_path: Path, runner: InProcessRunner
) -> None:
    report = check_mutants(plan_for(tmp_path, CLAMP, ONE_FLIP), runner)
    [boundary] = [v for v in report.survivors if v.mutant.mutated == "before * after <= 0"]
    text = report.describe(boundary)
    assert text.startswith(f"{report.reference}:7:21: surviving mutant `before * after < 0` → `before * after <= 0`: ")
    assert "no case has `before * after` equal to `0` exactly" in text


def test_a_mutant_that_changes_nothing_is_marked_equivalent_not_surviving(
    tmp_path: Path, runner: InProcessRunner
) -> None:
    reference = "import numpy as np\n\ndef relu(x):\n    return np.maximum(np.asarray(x, dtype=float), 0.0) + 0.0\n"
    cases = "      - name: mixed\n        args: {x: [-1.0, 0.0, 2.5]}\n      - name: scalar\n        args: {x: -3.0}\n"
    report = check_mutants(plan_for(tmp_path, reference, cases, parameters="[x]", name="relu"), runner)
    dropped = next(
        v for v in report.verdicts if v.mutant.original.endswith("+ 0.0") and v.mutant.mutated.endswith(", 0.0)")
    )
    assert dropped.fate is Fate.EQUIVALENT
    assert report.survivors == ()


@pytest.mark.slow
def test_a_mutant_that_never_returns_is_killed_by_the_time_limit(tmp_path: Path, sandbox: SubprocessRunner) -> None:
    reference = textwrap.dedent(
        """\
        def triple(x):
            total = 0.0
            count = 0
            while count < 3:
                total += x
                count += 1
            return total
        """
    )
    # Only the endless mutants come near the limit, and ending them is what this test is about: a
    # short limit ends them sooner (a mutant that returns but is too slow would be killed just the same).
    plan = plan_for(tmp_path, reference, "      - name: two\n        args: {x: 2.0}\n", "[x]", "triple", time_limit=0.3)
    report = check_mutants(plan, sandbox)
    endless = next(v for v in report.verdicts if v.mutant.original == "count += 1")
    assert endless.fate is Fate.KILLED


@pytest.mark.slow
def test_lesson3_references_leave_no_surviving_mutant(sandbox: SubprocessRunner) -> None:
    from quizkit.exercises import plan_exercise
    from quizkit.lesson import load_lesson

    lesson = load_lesson(Path(__file__).resolve().parent.parent / "exercises" / "lesson3" / "lesson.yaml")
    for exercise in lesson.exercises:
        report = check_mutants(plan_exercise(exercise), sandbox)
        assert report.killed, exercise.id
        assert report.survivors == (), [report.describe(v) for v in report.survivors]


def test_yaml_args_can_be_pasted_into_a_lesson() -> None:
    import numpy as np

    inputs = (("w", np.array([0.5, -0.0, np.inf])), ("t", 0.5), ("z", np.array(2.0)), ("e", np.zeros((0, 3))))
    assert yaml_args(inputs) == "{w: [0.5, -0.0, .inf], t: 0.5, z: {array: 2.0}, e: {array: [], shape: [0, 3]}}"
