"""A public fake runner for tests of grading logic, in the spirit of httpx's ``MockTransport``.

:class:`MockRunner` has the interface of :class:`quizkit.sandbox.SubprocessRunner` (``run``,
``run_many``, ``close``, a context manager, ``warning``) and runs nothing: a handler turns each
:class:`~quizkit.sandbox.Job` into the :class:`~quizkit.sandbox.RunResult` the test wants::

    def handler(job: Job) -> RunResult:
        if b"while True" in job.source.data:
            return run_result([], RunStatus.TIMEOUT, "your code ran longer than 1 s")
        return InProcessRunner().run(job)  # trusted test code only

    with MockRunner(handler) as runner:
        grade_directory(lesson, folder, out, runner=runner)

An exception the handler raises comes out of ``run``/``run_many``, as a broken executor's would.
``run_result`` and ``outcome`` build results by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np

from quizkit.sandbox import CallOutcome, Job, RunResult, RunStatus

__all__ = ["MockRunner", "outcome", "run_result"]


class MockRunner:
    """A :class:`~quizkit.sandbox.Runner` whose results come from ``handler(job)``; runs no code."""

    def __init__(self, handler: Callable[[Job], RunResult], *, warning: str | None = None) -> None:
        self.handler = handler
        self.warning = warning  # what SubprocessRunner.warning would say (a missing isolation layer)
        self.jobs_run = 0
        self.closed = False

    def run(self, job: Job) -> RunResult:
        """The handler's result for ``job``."""
        if self.closed:
            raise RuntimeError("this MockRunner is closed")
        self.jobs_run += 1
        return self.handler(job)

    def run_many(self, jobs: Iterable[Job], workers: int = 2) -> Iterator[tuple[Job, RunResult]]:
        """(job, result) for each job, pulled one at a time like the real runner pulls them."""
        for job in jobs:
            yield job, self.run(job)

    def close(self) -> None:
        self.closed = True

    def abandon(self) -> None:
        """As :meth:`SubprocessRunner.abandon`: let go without waiting (nothing to wait for here)."""
        self.closed = True

    def __enter__(self) -> MockRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def outcome(
    value: object = None,
    *,
    returned: str | None = None,
    error: str | None = None,
    modified: Sequence[bool] = (False, False),
    seconds: float = 0.001,
) -> CallOutcome:
    """What the sandbox reports for one call; ``value`` is decoded to an array as the sandbox does."""
    array = None if value is None else np.asarray(value)
    return_type = returned if returned is not None else ("NoneType" if value is None else type(value).__name__)
    return CallOutcome(
        value=array, return_type=return_type, error=error, inputs_modified=tuple(modified), seconds=seconds
    )


def run_result(
    outcomes: Sequence[CallOutcome] = (),
    status: RunStatus = RunStatus.OK,
    message: str = "",
    *,
    output: str = "",
    detail: str = "",
    seconds: float = 0.01,
) -> RunResult:
    """A sandbox result made by hand."""
    return RunResult(status, message, tuple(outcomes), output, False, seconds, detail)
