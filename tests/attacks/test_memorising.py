"""Memorising: a lookup table of the practice cases' expected values is not an implementation.

Practice feedback shows the expected value of every failing case and the practice cases are the
same every time, so a learner can collect them into a table. ``quizkit grade --seed`` draws the
random cases from a seed the learners do not know: the table then fails them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .conftest import Attack

SEED = ("--seed", "12345")
EXERCISE = "soft_threshold"

LOOKUP = '''"""Memorised: the expected value of every practice case, and no implementation."""

import numpy as np

TABLE = {table!r}


def key(args):
    return tuple((a.dtype.str, a.shape, a.tobytes()) for a in (np.asarray(x, dtype=float) for x in args))


def {function}(*args):
    found = TABLE.get(key(args))
    if found is None:
        return np.zeros_like(np.asarray(args[0], dtype=float))
    dtype, shape, data = found
    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()
'''


def lookup_table_file(lesson_file: str) -> tuple[str, float]:
    """A learner file answering every practice case from a table, and the points explicit cases give."""
    from pathlib import Path

    from quizkit.exercises import plan_exercise
    from quizkit.lesson import load_lesson

    lesson = load_lesson(Path(lesson_file))
    exercise = next(e for e in lesson.exercises if e.id == EXERCISE)
    plan = plan_exercise(exercise)
    table = {}
    for call, expected in zip(plan.calls, plan.expected, strict=False):
        arrays = [np.asarray(x, dtype=float) for x in call.args]
        table[tuple((a.dtype.str, a.shape, a.tobytes()) for a in arrays)] = (
            expected.dtype.str,
            expected.shape,
            expected.tobytes(),
        )
    explicit = sum(1 for group in plan.groups if not group.is_random)
    memorisable = exercise.points * explicit / len(plan.groups)  # the explicit cases are public anyway
    return LOOKUP.format(table=table, function=EXERCISE), memorisable


def test_a_lookup_table_of_practice_values_fails_grade_time_cases(attack: Attack) -> None:
    room = attack.classroom
    text, memorisable = lookup_table_file(str(room.course / "exercises" / "lesson3" / "lesson.yaml"))
    room.add_file(attack.attacker, EXERCISE, text)
    attack.attackers[attack.attacker] = memorisable
    attack.check(*SEED)
