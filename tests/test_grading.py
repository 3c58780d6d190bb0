"""The one grading core: streaming (plan, source) tasks through any runner, one file's failure costing one file.

Everything here runs through :class:`quizkit.testing.MockRunner`: no learner code runs at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from quizkit.errors import InputError
from quizkit.exercises import plan_exercise
from quizkit.grading import Task, grade_tasks
from quizkit.lesson import Case, Exercise, Tolerance
from quizkit.results import CaseStatus, GraderStatus
from quizkit.sandbox import IsolationUnavailable, Job, RunResult, RunStatus, Source
from quizkit.testing import MockRunner, outcome, run_result

DOUBLE = "import numpy as np\n\ndef double(x):\n    return 2 * np.asarray(x, dtype=float)\n"


@pytest.fixture
def exercise(tmp_path: Path) -> Exercise:
    reference = tmp_path / "double.py"
    reference.write_text(DOUBLE, encoding="utf-8")
    return Exercise(
        id="double",
        title="Double",
        prompt="Return 2 * x.",
        points=1.0,
        parameters=("x",),
        starter=tmp_path / "starter.py",
        reference=reference,
        hints=(),
        time_limit=1.0,
        memory_mb=256,
        tolerance=Tolerance(abs=1e-9, rel=1e-9),
        cases=(Case("two", (("x", 2.0),), 1), Case("secret", (("x", 5.0),), 2, hidden=True)),
        random=(),
        line=1,
    )


def right(job: Job) -> RunResult:
    """Every call answered correctly (the calls' inputs doubled)."""
    return run_result([outcome(2 * np.asarray(call[0], dtype=float), modified=(False,)) for call in job.calls])


def tasks_for(exercise: Exercise, names: list[str]) -> list[Task]:
    plan = plan_exercise(exercise)
    return [Task(plan, Source(f"{name}.py", name.encode()), key=name) for name in names]


def test_each_task_gets_its_judged_result(exercise: Exercise) -> None:
    with MockRunner(right) as runner:
        results = dict((task.key, result) for task, result in grade_tasks(tasks_for(exercise, ["a", "b"]), runner))
    assert set(results) == {"a", "b"} and all(result.is_correct for result in results.values())


def test_results_name_the_file_as_the_task_shows_it(exercise: Exercise) -> None:
    plan = plan_exercise(exercise)
    task = Task(plan, Source("double.py", b""), shown_as=Path("alice/double.py"))
    [(_, result)] = grade_tasks([task], MockRunner(right))
    assert result.source == Path("alice/double.py")


def test_tasks_are_pulled_only_as_the_runner_asks_for_them(exercise: Exercise) -> None:
    pulled: list[str] = []
    plan = plan_exercise(exercise)

    def lazily() -> Iterator[Task]:
        for name in ("a", "b", "c"):
            pulled.append(name)
            yield Task(plan, Source("x.py", b""), key=name)

    stream = grade_tasks(lazily(), MockRunner(right))
    next(stream)
    assert pulled == ["a"]


def test_a_job_that_raises_in_the_runner_is_a_grader_error_and_the_rest_go_on(exercise: Exercise) -> None:
    def handler(job: Job) -> RunResult:
        if job.source.data == b"b":  # type: ignore[union-attr]
            raise RecursionError("maximum recursion depth exceeded in cleanup")
        return right(job)

    results = {
        task.key: result for task, result in grade_tasks(tasks_for(exercise, ["a", "b", "c"]), MockRunner(handler))
    }
    assert results["a"].is_correct and results["c"].is_correct
    assert results["b"].run_status is GraderStatus.GRADER_ERROR and results["b"].score == 0
    assert "RecursionError" in results["b"].run_message
    assert all(case.status is CaseStatus.NOT_RUN for case in results["b"].cases)


def test_jobs_in_flight_when_the_runner_fails_are_run_again_alone(exercise: Exercise) -> None:
    """A runner that breaks while running several jobs charges only the job that breaks it again."""

    class Batching(MockRunner):
        def run_many(self, jobs, workers=2):  # type: ignore[no-untyped-def]
            pending = iter(jobs)
            batch = [job for _, job in zip(range(3), pending, strict=False)]  # three jobs in flight at once
            if any(job.source.data == b"bad" for job in batch):
                raise OSError("a worker died")
            for job in [*batch, *pending]:
                yield job, self.run(job)

    def handler(job: Job) -> RunResult:
        if job.source.data == b"bad":  # type: ignore[union-attr]
            raise OSError("a worker died")
        return right(job)

    results = {
        task.key: result for task, result in grade_tasks(tasks_for(exercise, ["ok1", "bad", "ok2"]), Batching(handler))
    }
    assert results["ok1"].is_correct and results["ok2"].is_correct
    assert results["bad"].run_status is GraderStatus.GRADER_ERROR


def test_a_failure_in_judging_is_a_grader_error_for_that_file(exercise: Exercise) -> None:
    def handler(job: Job) -> RunResult:
        if job.source.data == b"odd":  # type: ignore[union-attr]
            return run_result([object()] * 2)  # type: ignore[list-item]  # nothing judging can read
        return right(job)

    results = {
        task.key: result for task, result in grade_tasks(tasks_for(exercise, ["odd", "fine"]), MockRunner(handler))
    }
    assert results["odd"].run_status is GraderStatus.GRADER_ERROR and results["fine"].is_correct


def test_a_runner_that_fails_with_nothing_in_flight_stops_the_stream(exercise: Exercise) -> None:
    class Broken(MockRunner):
        def run_many(self, jobs, workers=2):  # type: ignore[no-untyped-def]
            raise OSError("no workers can start")
            yield  # a generator, like every runner's run_many

    with pytest.raises(OSError, match="no workers"):
        list(grade_tasks(tasks_for(exercise, ["a"]), Broken(right)))


def test_an_error_that_is_not_about_one_file_stops_the_stream(exercise: Exercise) -> None:
    def handler(job: Job) -> RunResult:
        raise IsolationUnavailable("no namespaces here")

    with pytest.raises(IsolationUnavailable):
        list(grade_tasks(tasks_for(exercise, ["a"]), MockRunner(handler)))


def test_an_error_in_the_callers_tasks_is_not_blamed_on_a_file(exercise: Exercise) -> None:
    def broken() -> Iterator[Task]:
        yield from tasks_for(exercise, ["a"])
        raise InputError("the class folder vanished")

    with pytest.raises(InputError, match="vanished"):
        list(grade_tasks(broken(), MockRunner(right)))


def test_a_hidden_case_counts_like_any_other(exercise: Exercise) -> None:
    def wrong_on_the_secret(job: Job) -> RunResult:
        return run_result([outcome(4.0, modified=(False,)), outcome(0.0, modified=(False,))])

    [(_, result)] = grade_tasks(tasks_for(exercise, ["a"]), MockRunner(wrong_on_the_secret))
    assert result.score == 0.5 and [g.hidden for g in result.groups] == [False, True]


def test_the_mock_runner_has_the_runner_interface() -> None:
    runner = MockRunner(lambda job: run_result([], RunStatus.EMPTY_FILE, "empty"), warning="no Landlock here")
    job = Job(Source("x.py", b""), "f", ())
    with runner:
        assert runner.run(job).status is RunStatus.EMPTY_FILE
        assert [result.status for _, result in runner.run_many([job, job])] == [RunStatus.EMPTY_FILE] * 2
    assert runner.closed and runner.jobs_run == 3 and runner.warning == "no Landlock here"
