"""After grading: the learner's function drawn against the reference over one argument.

An exercise's ``sweep`` (in YAML) names the argument that varies, its range and the values of the
other arguments. The sweep is one more sandbox job with those calls: the learner's file runs only
through the runner that graded it (the sandbox), and the reference through
:class:`~quizkit.sandbox.InProcessRunner`, as for the expected values of the cases. The parent
reads back plain numbers; a call that raised, or returned something that is not one number, leaves
a gap in the learner's curve.
"""

from __future__ import annotations

from pathlib import Path

from quizkit.lesson import Exercise
from quizkit.results import ExerciseResult
from quizkit.rules import REAL_DTYPE_KINDS
from quizkit.sandbox import InProcessRunner, Job, Runner, RunResult, RunStatus


def worth_drawing(exercise: Exercise, result: ExerciseResult) -> bool:
    """Whether to draw the sweep after ``result``: the exercise has one, the learner's code ran to
    the end, and it is not fully right (a right file matches the reference over the whole range)."""
    return exercise.sweep is not None and result.run_status is RunStatus.OK and not result.is_correct


def sweep_job(exercise: Exercise, source: Path) -> Job:
    """The job that calls ``exercise``'s function at every point of its sweep."""
    from quizkit.exercises import _preload_sources, limits_for

    assert exercise.sweep is not None
    sweep = exercise.sweep
    fixed = dict(sweep.args)
    calls = tuple(
        tuple(x if name == sweep.vary else fixed[name] for name in exercise.parameters) for x in sweep_points(exercise)
    )
    return Job(
        source=source,
        function=exercise.id,
        calls=calls,
        limits=limits_for(exercise),
        preload=_preload_sources(exercise),
    )


def sweep_points(exercise: Exercise) -> tuple[float, ...]:
    assert exercise.sweep is not None
    sweep = exercise.sweep
    return tuple(sweep.low + (sweep.high - sweep.low) * k / (sweep.points - 1) for k in range(sweep.points))


def _values(run: RunResult, count: int) -> tuple[float, ...]:
    """One float per call; nan where the call failed or did not return one finite-or-not number."""
    values = []
    for outcome in run.outcomes[:count]:
        value = outcome.value
        if outcome.error is None and value is not None and value.size == 1 and value.dtype.kind in REAL_DTYPE_KINDS:
            values.append(float(value.reshape(-1)[0]))
        else:
            values.append(float("nan"))
    return tuple(values) + (float("nan"),) * (count - len(values))


def render_sweep(exercise: Exercise, source: Path, runner: Runner, *, width: int = 80, color: bool = False) -> str:
    """The learner's function and the reference over the sweep, as text ("" without a sweep)."""
    from quizkit.plots import Series, draw  # the plotter (and the formula reader it needs) only to draw

    if exercise.sweep is None:
        return ""
    xs = sweep_points(exercise)
    learner = _values(runner.run(sweep_job(exercise, source)), len(xs))
    with InProcessRunner() as trusted:
        reference = _values(trusted.run(sweep_job(exercise, exercise.reference)), len(xs))
    fixed = ", ".join(f"{name}={value:g}" for name, value in exercise.sweep.args)
    title = f"{exercise.id}({exercise.sweep.vary}{', ' + fixed if fixed else ''}): yours against the reference"
    text = draw(
        xs,
        [Series("reference", reference), Series("yours", learner)],
        title=title,
        x_label=exercise.sweep.vary,
        width=width,
        color=color,
    )
    differ = [
        x for x, a, b in zip(xs, learner, reference, strict=False) if not (a == b or exercise.tolerance.accepts(a, b))
    ]
    if not differ:
        return text + "\n  Your curve matches the reference at every point drawn."
    return (
        text
        + f"\n  Yours differs from the reference at {len(differ)} of {len(xs)} points, from {exercise.sweep.vary} = {differ[0]:.3g} to {differ[-1]:.3g}."
    )
