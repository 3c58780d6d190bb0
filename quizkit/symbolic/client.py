"""The parent side: a warm worker process, driven over JSON lines, killed when a check overruns.

Neither ``signal.alarm`` nor a thread can interrupt SymPy deep in big-integer arithmetic, so the
time limit is the parent's: it kills the worker and starts another (a spare is kept warm). This
module never imports SymPy.
"""

from __future__ import annotations

import atexit
import functools
import itertools
import json
import logging
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from quizkit import mathparse
from quizkit.errors import SymbolicWorkerError
from quizkit.mathparse import ParseError
from quizkit.symbolic.spec import (
    DEFAULT_TIMEOUT,
    TOO_COMPLEX,
    SymbolicResult,
    SymbolicSpec,
    invalid_result,
    result_from_payload,
    spec_payload,
    spec_problems,
    time_budgets,
)
from quizkit.verdict import Status

log = logging.getLogger(__name__)

STARTUP_TIMEOUT = 30.0  # seconds for a worker to import SymPy; generous for slow CI machines


class _WorkerTimeout(Exception):
    """The worker did not answer within the time limit."""


class _WorkerDied(Exception):
    """The worker exited (crashed, or was killed for memory) before answering."""


def _worker_command(warm_up: bool) -> list[str]:
    # -I: ignore PYTHON* variables, user site-packages and the current directory. The package's
    # parent directory is put on sys.path explicitly so this works from a checkout or an install.
    # When SymPy and mpmath are found here, -S also skips the site module (and every .pth file
    # in site-packages): their directories are passed instead, which shortens each cold start.
    package_parent = str(Path(__file__).resolve().parents[2])
    library_dirs = _library_dirs(("sympy", "mpmath"))
    flags = ["-I", "-S"] if library_dirs else ["-I"]
    bootstrap = (
        "import sys; sys.path[:0] = sys.argv[3:]; sys.path.insert(0, sys.argv[1]); "
        "from quizkit.symbolic.worker import serve; serve(warm_up=sys.argv[2] == 'warm')"
    )
    return [sys.executable, *flags, "-c", bootstrap, package_parent, "warm" if warm_up else "cold", *library_dirs]


def _library_dirs(names: Sequence[str]) -> list[str]:
    """The sys.path entries the packages ``names`` are imported from (without importing them), or
    an empty list if one cannot be located that way."""
    import importlib.util

    found: list[str] = []
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None or spec.submodule_search_locations is None:
            return []
        directory = str(Path(spec.origin).parent.parent)
        if directory not in found:
            found.append(directory)
    return found


class _Worker:
    """One worker process, with a thread that turns its stdout into a queue of lines."""

    def __init__(self, warm_up: bool = True) -> None:
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (kept open for the worker's life)
        self.process = subprocess.Popen(
            _worker_command(warm_up),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            encoding="utf-8",
            # Its own session: Ctrl-C in the learner's terminal must not kill it mid-check.
            start_new_session=os.name == "posix",
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, name="quizkit-symbolic-reader", daemon=True)
        self._reader.start()
        self.ready = False

    def _read(self) -> None:
        # Only this thread touches stdout, and it closes it: closing it from another thread
        # while a read is under way would race with that read.
        assert self.process.stdout is not None
        with self.process.stdout:
            for line in self.process.stdout:
                self._lines.put(line)
        self._lines.put(None)  # end of output: the process is gone

    def _next_line(self, deadline: float) -> str:
        remaining = deadline - time.monotonic()
        try:
            line = self._lines.get(timeout=max(remaining, 0.0))
        except queue.Empty:
            raise _WorkerTimeout from None
        if line is None:
            self._lines.put(None)  # keep reporting the end to later readers
            raise _WorkerDied
        return line

    def wait_ready(self, timeout: float) -> None:
        """Block until the worker has imported SymPy; raise SymbolicWorkerError if it cannot."""
        if self.ready:
            return
        try:
            message = json.loads(self._next_line(time.monotonic() + timeout))
        except _WorkerTimeout:
            self.kill()
            raise SymbolicWorkerError(f"the symbolic checker did not start within {timeout:g} s") from None
        except _WorkerDied:
            tail = self.stderr_tail()
            last_line = tail.strip().splitlines()[-1] if tail.strip() else "no output"
            log.error("the symbolic checker failed to start:\n%s", tail)
            raise SymbolicWorkerError(f"the symbolic checker failed to start ({last_line})", tail) from None
        if not message.get("ready"):
            raise SymbolicWorkerError(f"the symbolic checker sent {message!r} instead of a ready signal")
        self.ready = True

    def ask(self, request: Mapping[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request and return the reply; raises _WorkerTimeout or _WorkerDied."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(request, ensure_ascii=True) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise _WorkerDied from None
        deadline = time.monotonic() + timeout
        while True:
            reply: dict[str, Any] = json.loads(self._next_line(deadline))
            if reply.get("id") == request["id"]:
                return reply
            log.warning("symbolic worker sent a reply to another request: %r", reply)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stderr_tail(self, limit: int = 2000) -> str:
        self._stderr.seek(0, os.SEEK_END)
        size = self._stderr.tell()
        self._stderr.seek(max(0, size - limit))
        return self._stderr.read().decode("utf-8", "replace")

    def kill(self) -> None:
        self.process.kill()
        self._finish()

    def release(self) -> None:
        """Ask the worker to exit (end of input) without waiting for it: it exits on its own."""
        self._close_stdin()

    def stop(self, grace: float = 1.0) -> None:
        """Ask the worker to exit (end of input); kill it if it does not within ``grace`` s."""
        self._close_stdin()
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._finish()

    def _finish(self) -> None:
        # stdout is closed by the reader thread when it sees the end of output.
        self.process.wait()
        self._close_stdin()
        self._stderr.close()

    def _close_stdin(self) -> None:
        stdin = self.process.stdin
        if stdin is not None and not stdin.closed:
            try:
                stdin.close()
            except (BrokenPipeError, OSError) as error:
                log.debug("closing the symbolic worker's stdin: %s", error)


@functools.lru_cache(maxsize=256)
def _spec_problems(spec: SymbolicSpec) -> tuple[str, ...]:
    # Checked here, once per spec, and never in the worker: the worker trusts the specs it is sent.
    return tuple(spec_problems(spec.variables, spec.domain, spec.tolerance))


class SymbolicChecker:
    """Checks symbolic answers in a warm worker process, each check bounded by ``timeout`` s.

    Use as a context manager, or call :meth:`close`. Thread-safe: checks are serialised.

    With ``spare`` (the default), a second worker is kept warm once the first is ready, so the
    check after a killed one does not wait for SymPy to load again. ``warm_up=False`` skips the
    worker's warm-up checks: right for a single check (``quizkit check``), where the warm-up
    would only delay the answer.
    """

    def __init__(self, timeout: float = DEFAULT_TIMEOUT, *, spare: bool = True, warm_up: bool = True) -> None:
        if not timeout > 0:
            raise ValueError(f"timeout must be positive, not {timeout!r}")
        self.timeout = timeout
        self.keep_spare = spare
        self.warm_up = warm_up
        self._worker: _Worker | None = None
        self._spare: _Worker | None = None
        self._lock = threading.Lock()
        self._request_ids = itertools.count(1)

    def __enter__(self) -> SymbolicChecker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def worker_pid(self) -> int | None:
        """Process id of the current worker (for diagnostics and tests), or None."""
        worker = self._worker
        return worker.process.pid if worker is not None else None

    def start(self) -> None:
        """Start the worker in the background and return at once; SymPy loads meanwhile."""
        with self._lock:
            self._spawn_if_needed()

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Block until the worker, and the spare if one is kept, have loaded SymPy.

        Checks do this themselves; call it to have the checker fully warm beforehand.
        """
        with self._lock:
            self._spawn_if_needed().wait_ready(timeout)
            self._ensure_spare()
            if self._spare is not None:
                self._spare.wait_ready(timeout)

    def _spawn_if_needed(self) -> _Worker:
        if self._worker is None or not self._worker.alive():
            if self._worker is not None:
                log.warning("symbolic worker exited; restarting. Its last output:\n%s", self._worker.stderr_tail())
                self._worker.kill()
            self._worker = self._take_spare() or _Worker(self.warm_up)
        return self._worker

    def _take_spare(self) -> _Worker | None:
        spare, self._spare = self._spare, None
        if spare is not None and not spare.alive():
            spare.kill()
            return None
        return spare

    def _ensure_spare(self) -> None:
        # Started only once the current worker is ready, so the two never load SymPy at the same
        # time on a learner's first answer.
        if self.keep_spare and (self._spare is None or not self._spare.alive()):
            if self._spare is not None:
                self._spare.kill()
            self._spare = _Worker(self.warm_up)

    def _restart(self) -> None:
        if self._worker is not None:
            self._worker.kill()
        # The spare is usually warm already; otherwise a new worker starts now, so it is
        # usually warm again by the time the learner answers.
        self._worker = self._take_spare() or _Worker(self.warm_up)

    def _ask(self, request: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """The worker's reply, or None when it ran out of time or died on this request."""
        with self._lock:
            worker = self._spawn_if_needed()
            worker.wait_ready(STARTUP_TIMEOUT)
            self._ensure_spare()
            try:
                return worker.ask({**request, "id": next(self._request_ids)}, timeout)
            except _WorkerTimeout:
                log.info("symbolic check exceeded %.2f s; restarting the worker", timeout)
            except _WorkerDied:
                # Most likely the memory cap ended it while expanding this very answer.
                log.warning("symbolic worker died during a request:\n%s", worker.stderr_tail())
            self._restart()
            return None

    def check(self, answer: str, spec: SymbolicSpec) -> SymbolicResult:
        """Judge ``answer`` against ``spec``.

        Once the worker is running, every answer gets a result within about ``timeout`` s; the
        very first check may also wait for the worker to start (see :meth:`start`).
        """
        try:
            mathparse.precheck(answer)
        except ParseError as error:
            return invalid_result(error)
        problems = _spec_problems(spec)
        if problems:
            reason = "; ".join(problems)
            message = f"This question's answer key is broken ({reason}); please tell the instructor."
            return SymbolicResult(Status.INVALID, (message,), None, None)
        request = {"op": "check", "answer": answer, "spec": spec_payload(spec), **time_budgets(self.timeout)}
        reply = self._ask(request, self.timeout)
        if reply is None:
            return SymbolicResult(Status.INVALID, (TOO_COMPLEX,), None, None)
        if "error" in reply:
            log.error("symbolic worker failed on %r: %s", answer, reply["error"])
            message = "This answer could not be checked because of an internal error; please report it."
            return SymbolicResult(Status.INVALID, (message,), None, None)
        return result_from_payload(reply["result"])

    def key_problems(self, spec: SymbolicSpec) -> list[str]:
        """Problems an instructor must fix: the key or a listed wrong answer does not parse,
        a listed wrong answer is equivalent to the key, or the declarations are broken."""
        problems = _spec_problems(spec)
        if problems:
            return list(problems)
        timeout = self.timeout * (2 + len(spec.wrong_answers))
        request = {"op": "key_problems", "spec": spec_payload(spec), **time_budgets(self.timeout)}
        reply = self._ask(request, timeout)
        if reply is None:
            return [f"checking the answer key took longer than {timeout:g} s; simplify the key"]
        if "error" in reply:
            return [f"the answer key could not be checked: {reply['error']}"]
        return [str(problem) for problem in reply["result"]["problems"]]

    def close(self, grace: float = 1.0, *, wait: bool = True) -> None:
        """Stop the workers (killed after ``grace`` s). The checker may be used again; it then starts a new one.

        With ``wait=False`` the workers are only told to exit (end of input) and nobody waits for
        them: for a process that is about to exit, such as ``quizkit check`` after printing.
        """
        with self._lock:
            for worker in (self._worker, self._spare):
                if worker is None:
                    continue
                if wait:
                    worker.stop(grace)
                else:
                    worker.release()
            self._worker = self._spare = None


_shared_checker: SymbolicChecker | None = None
_shared_lock = threading.Lock()


def check_answer(answer: str, spec: SymbolicSpec) -> SymbolicResult:
    """Check one answer with a checker shared by the whole process (started on first use)."""
    global _shared_checker
    with _shared_lock:
        if _shared_checker is None:
            _shared_checker = SymbolicChecker()
            # At exit nobody needs to wait: the workers exit when their input closes.
            atexit.register(_shared_checker.close, wait=False)
    return _shared_checker.check(answer, spec)
