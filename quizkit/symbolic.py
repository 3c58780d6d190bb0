"""Checking symbolic answers against a SymPy answer key, with a hard time limit.

The parent process never imports SymPy. All SymPy work happens in a persistent worker process
that speaks JSON lines on stdin/stdout; the parent kills and restarts it when a check overruns
its time limit, because neither ``signal.alarm`` nor a thread can interrupt SymPy while it is
deep in big-integer arithmetic. Only plain strings and numbers cross the process boundary.

Equivalence under the declared assumptions combines a numeric check with SymPy. Both expressions
are evaluated at 48 points drawn afresh for every check, so no answer can be tuned to them: a few
with one decimal (readable counterexamples), most unrounded, some near zero (1e-4 to 1e-2 in size)
and some large (1e2 to 1e4), as the variables' assumptions allow; an instructor's ``domain``
replaces these ranges. Where floating point sees a difference, the point is re-evaluated exactly
(rational point, 30 digits, ``evalf(strict=True)``, time-bounded): a point without accurate digits
is dropped rather than used, so a confirmed difference is a true counterexample. Agreement at
every usable point counts as equal: ``simplify`` often cannot finish such proofs (it leaves
``λ·sign(w) - λ·w/|w|`` as a Piecewise). ``sympy.simplify(a - b) == 0`` decides, within a time
budget, when too few points are usable because the expressions are not real there.

An answer that is wrong but whose derivative is the key (the penalty instead of its gradient)
gets feedback saying so, after the question's own listed wrong answers.
"""

from __future__ import annotations

import atexit
import itertools
import json
import logging
import math
import os
import queue
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from quizkit import mathparse

if TYPE_CHECKING:
    from quizkit.lesson import ExpressionWrong
from quizkit.mathparse import ParseError

__all__ = [
    "FrozenMap",
    "SymbolicChecker",
    "SymbolicResult",
    "SymbolicSpec",
    "SymbolicWorkerError",
    "WrongAnswer",  # noqa: F822 (provided by the module's __getattr__)
    "check_answer",
    "spec_problems",
]

log = logging.getLogger(__name__)

CORRECT = "correct"
INCORRECT = "incorrect"
INVALID = "invalid"

STARTUP_TIMEOUT = 30.0  # seconds for a worker to import SymPy; generous for slow CI machines
TOO_COMPLEX = "This expression is too complex to check; please simplify it."

TOO_LARGE = "The values of this expression are too large to check; please simplify it."

# Sample points, drawn fresh for every check: (kind, count). See _draw for what each kind is.
_POINT_KINDS = (("nice", 6), ("plain", 22), ("small", 12), ("large", 8))
_MIN_AGREEING_POINTS = 8
_CLEARLY_APART = 1e-6  # relative difference that floating point cannot fake in these expressions
_MAX_UNDEFINED_POINTS = 1  # answer undefined where the key is defined, at more points: wrong
_EXACT_DIGITS = 30
_EXACT_MAX_DIGITS = 2000  # working precision evalf may raise to (cancellation in cosh² − sinh²)
_EXACT_POINT_BUDGET = 0.2  # seconds for one exact evaluation; the whole check gets exact_budget
_DERIVATIVE_BUDGET = 0.2  # seconds to differentiate an answer when looking for a slip
_SPEC_CACHE_SIZE = 64


# ============================================================================================
# Model
# ============================================================================================


class FrozenMap(Mapping[str, Any]):
    """A read-only, hashable mapping, so specs can be frozen dataclasses and cache keys."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()) -> None:
        # dict() takes either form: a mapping, or (key, value) pairs as the lesson model stores.
        self._items: dict[str, Any] = dict(items)

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(tuple(self._items.items()))

    def __repr__(self) -> str:
        return f"FrozenMap({self._items!r})"


def __getattr__(name: str) -> Any:
    # WrongAnswer, a known wrong answer (SymPy syntax) and the feedback for anything equivalent to
    # it, is the lesson model's ExpressionWrong, so a question's wrong answers pass straight
    # through. It is looked up on first use: the worker process imports this module and must not
    # pay for loading the lesson model (YAML, schema) before its first answer.
    if name == "WrongAnswer":
        from quizkit.lesson import ExpressionWrong

        return ExpressionWrong
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class SymbolicSpec:
    """What a symbolic question expects.

    ``variables`` maps each name to an assumption (see ``mathparse.known_assumptions()``);
    ``domain`` optionally narrows where a variable is sampled, e.g. ``{"w": (0.0, 0.3)}``.
    Both accept a mapping or a sequence of (name, value) pairs and are stored as
    :class:`FrozenMap`, so specs are hashable.
    """

    key: str
    variables: Mapping[str, str]
    wrong_answers: tuple[ExpressionWrong, ...] = ()
    tolerance: float = 1e-9
    domain: Mapping[str, tuple[float, float]] = field(default_factory=FrozenMap)

    def __post_init__(self) -> None:
        # Frozen dataclass: normalising the containers has to go through object.__setattr__.
        object.__setattr__(self, "variables", FrozenMap(self.variables))
        object.__setattr__(self, "wrong_answers", tuple(self.wrong_answers))
        pairs = FrozenMap(self.domain).items()
        domain = {name: (float(low), float(high)) for name, (low, high) in pairs}
        object.__setattr__(self, "domain", FrozenMap(domain))


@dataclass(frozen=True)
class SymbolicResult:
    """The verdict on one answer.

    ``status`` is ``"correct"``, ``"incorrect"`` or ``"invalid"`` (could not be read; not an
    attempt). ``interpreted_as`` is the one-line reading of the answer (``λ·sign(w)``), ``None``
    when it could not be read. For incorrect answers ``counterexample`` holds a point where the
    answer and the key differ: the declared variable names, plus ``"answer"`` and ``"expected"``
    (``answer`` is NaN where the answer is not a real number). For invalid answers ``span`` is
    the (start, end) of the part of the answer the message is about, for a caret under it.
    """

    status: str
    feedback: tuple[str, ...]
    interpreted_as: str | None
    counterexample: dict[str, float] | None = None
    span: tuple[int, int] | None = None


class SymbolicWorkerError(RuntimeError):
    """The checking process could not be started (for example SymPy is not installed)."""


def spec_problems(
    variables: Mapping[str, str],
    domain: Mapping[str, Sequence[float]],
    tolerance: float,
) -> list[str]:
    """Problems in a spec that need no SymPy to find: declarations, domains, tolerance."""
    problems = mathparse.variable_problems(variables)
    if not (isinstance(tolerance, (int, float)) and 0 < tolerance < 1):
        problems.append(f"tolerance must be a number between 0 and 1, not {tolerance!r}")
    for name, bounds in domain.items():
        if name not in variables:
            problems.append(f"domain given for {name!r}, which is not a declared variable")
            continue
        low, high = (float(bound) for bound in bounds)
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            problems.append(f"domain of {name!r} must be two finite numbers, low < high")
            continue
        assumption = variables[name]
        if assumption in ("positive", "nonnegative") and low < 0:
            problems.append(f"domain of {name!r} ({low:g}, {high:g}) goes below 0, but {name!r} is {assumption}")
        if assumption in ("negative", "nonpositive") and high > 0:
            problems.append(f"domain of {name!r} ({low:g}, {high:g}) goes above 0, but {name!r} is {assumption}")
        if assumption == "integer" and math.floor(high) < math.ceil(low):
            problems.append(f"domain of {name!r} ({low:g}, {high:g}) contains no integer")
    return problems


def _spec_payload(spec: SymbolicSpec) -> dict[str, Any]:
    return {
        "key": spec.key,
        "variables": [[name, assumption] for name, assumption in spec.variables.items()],
        "wrong_answers": [[wrong.answer, wrong.feedback] for wrong in spec.wrong_answers],
        "tolerance": spec.tolerance,
        "domain": [[name, low, high] for name, (low, high) in spec.domain.items()],
    }


def _invalid(error: ParseError) -> SymbolicResult:
    return SymbolicResult(INVALID, (error.message,), None, None, error.span)


def _result_from_payload(payload: Mapping[str, Any]) -> SymbolicResult:
    counterexample = payload.get("counterexample")
    return SymbolicResult(
        status=str(payload["status"]),
        feedback=tuple(str(line) for line in payload["feedback"]),
        interpreted_as=payload.get("interpreted_as"),
        counterexample=None if counterexample is None else {str(k): float(v) for k, v in counterexample.items()},
        span=None if payload.get("span") is None else (int(payload["span"][0]), int(payload["span"][1])),
    )


# ============================================================================================
# Parent side: the worker process and the checker that drives it
# ============================================================================================


class _WorkerTimeout(Exception):
    """The worker did not answer within the time limit."""


class _WorkerDied(Exception):
    """The worker exited (crashed, or was killed for memory) before answering."""


def _worker_command(warm_up: bool) -> list[str]:
    # -I: ignore PYTHON* variables, user site-packages and the current directory. The package's
    # parent directory is put on sys.path explicitly so this works from a checkout or an install.
    # When SymPy and mpmath are found here, -S also skips the site module (and every .pth file
    # in site-packages): their directories are passed instead, which shortens each cold start.
    package_parent = str(Path(__file__).resolve().parent.parent)
    library_dirs = _library_dirs(("sympy", "mpmath"))
    flags = ["-I", "-S"] if library_dirs else ["-I"]
    bootstrap = (
        "import sys; sys.path[:0] = sys.argv[3:]; sys.path.insert(0, sys.argv[1]); "
        "from quizkit.symbolic import serve; serve(warm_up=sys.argv[2] == 'warm')"
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
            raise SymbolicWorkerError(f"the symbolic checker failed to start:\n{self.stderr_tail()}") from None
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


class SymbolicChecker:
    """Checks symbolic answers in a warm worker process, each check bounded by ``timeout`` s.

    Use as a context manager, or call :meth:`close`. Thread-safe: checks are serialised.

    With ``spare`` (the default), a second worker is kept warm once the first is ready, so the
    check after a killed one does not wait for SymPy to load again. ``warm_up=False`` skips the
    worker's warm-up checks: right for a single check (``quizkit check``), where the warm-up
    would only delay the answer.
    """

    def __init__(self, timeout: float = 1.5, *, spare: bool = True, warm_up: bool = True) -> None:
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
            return _invalid(error)
        request = {
            "op": "check",
            "answer": answer,
            "spec": _spec_payload(spec),
            "simplify_budget": self.timeout / 2,
            # Exact evaluation at the points where floating point is not enough (0.4 s of 1.5).
            "exact_budget": self.timeout * 0.27,
            # What the worker may spend before answering on its own, short of the hard kill.
            "check_budget": self.timeout * 0.8,
        }
        reply = self._ask(request, self.timeout)
        if reply is None:
            return SymbolicResult(INVALID, (TOO_COMPLEX,), None, None)
        if "error" in reply:
            log.error("symbolic worker failed on %r: %s", answer, reply["error"])
            message = "This answer could not be checked because of an internal error; please report it."
            return SymbolicResult(INVALID, (message,), None, None)
        return _result_from_payload(reply["result"])

    def key_problems(self, spec: SymbolicSpec) -> list[str]:
        """Problems an instructor must fix: the key or a listed wrong answer does not parse,
        a listed wrong answer is equivalent to the key, or the declarations are broken."""
        problems = spec_problems(spec.variables, spec.domain, spec.tolerance)
        if problems:
            return problems
        timeout = self.timeout * (2 + len(spec.wrong_answers))
        request = {"op": "key_problems", "spec": _spec_payload(spec), "simplify_budget": self.timeout / 2}
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


# ============================================================================================
# Worker side: runs in the child process, the only place SymPy is imported
# ============================================================================================


class _BudgetExceeded(BaseException):
    """A soft time budget inside the worker ran out.

    A BaseException, like KeyboardInterrupt, so that ``except Exception`` blocks inside SymPy
    cannot absorb it."""


@contextmanager
def _time_budget(seconds: float) -> Iterator[None]:
    """Interrupt pure-Python work after ``seconds`` (SIGALRM). The parent's kill is the backstop
    for work that signals cannot interrupt."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise _BudgetExceeded

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


Point = tuple[float, ...]
FloatFunction = Callable[[Point], float]


def _sign(value: float) -> float:
    return (value > 0) - (value < 0)


def _power(base: float, exponent: float) -> float:
    result = base**exponent
    # A negative base with a fractional exponent gives a complex number: not a real point.
    return math.nan if isinstance(result, complex) else result


def _compile(
    expression: Any, sp: Any, index: Mapping[Any, int], fold: Callable[[Any], float | None]
) -> FloatFunction | None:
    """A fast float evaluator for ``expression``, or None if it uses something unsupported.

    Constant parts (``cosh(400)² − sinh(400)²``) are evaluated once by ``fold``, exactly, so
    floating point never meets their huge intermediate values; None from it means "no usable
    value", which makes the whole expression go the exact way.
    """
    unary: dict[Any, Callable[[float], float]] = {
        sp.sign: _sign, sp.Abs: abs, sp.exp: math.exp, sp.log: math.log,
        sp.sin: math.sin, sp.cos: math.cos, sp.tan: math.tan,
        sp.sinh: math.sinh, sp.cosh: math.cosh, sp.tanh: math.tanh,
        sp.asin: math.asin, sp.acos: math.acos, sp.atan: math.atan,
    }  # fmt: skip

    def build(node: Any) -> FloatFunction | None:
        if node.is_Symbol:
            position = index[node]
            return lambda point: point[position]
        if not node.free_symbols and not (node.is_Number or node.is_NumberSymbol):
            value = fold(node)
            return None if value is None else (lambda point: value)
        if node.is_Number or node.is_NumberSymbol:
            constant = float(node)  # enormous rationals become inf and make the point unusable
            return lambda point: constant
        parts = [build(argument) for argument in node.args]
        functions = [part for part in parts if part is not None]
        if len(functions) != len(parts):
            return None
        if node.is_Add:
            return lambda point: sum(function(point) for function in functions)
        if node.is_Mul:
            return lambda point: math.prod(function(point) for function in functions)
        if node.is_Pow:
            base, exponent = functions
            return lambda point: _power(base(point), exponent(point))
        if node.func in unary and len(functions) == 1:
            (function,) = functions
            outer = unary[node.func]
            return lambda point: outer(function(point))
        if node.func is sp.Heaviside:
            argument = functions[0]
            at_zero = functions[1] if len(functions) > 1 else (lambda point: 0.5)
            return lambda point: _heaviside(argument(point), at_zero(point))
        if node.func is sp.Max:
            return lambda point: max(function(point) for function in functions)
        if node.func is sp.Min:
            return lambda point: min(function(point) for function in functions)
        return None

    return build(expression)


def _heaviside(value: float, at_zero: float) -> float:
    if value == 0:
        return at_zero
    return 1.0 if value > 0 else 0.0


def _evaluate(function: FloatFunction, point: Point) -> float | None:
    """The real value at ``point``, or None where it is undefined, infinite or not real."""
    try:
        value = function(point)
    except (ValueError, OverflowError, ZeroDivisionError):
        return None  # math domain errors and overflow: this point says nothing
    if isinstance(value, complex) or not math.isfinite(value):
        return None
    return float(value)


def _close(first: float, second: float, tolerance: float) -> bool:
    # Relative tolerance, with a tiny absolute floor so values at (or near) zero can match.
    return abs(first - second) <= tolerance * max(abs(first), abs(second), 1e-3)


def _log_uniform(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _draw(rng: random.Random, assumption: str, domain: tuple[float, float] | None, kind: str) -> float:
    """One coordinate of a sample point; ``kind`` is "nice", "plain", "small" or "large".

    With an author's domain, every kind is drawn inside it (the author knows where the answer
    must hold). Otherwise "small" values are 1e-4..1e-2 in size and "large" ones 1e2..1e4, signed
    as the assumption allows; "nice" ones have one decimal so counterexamples are easy to read.
    """
    if domain is not None:
        low, high = domain
        if kind == "nice":
            nice = [n / 10 for n in range(math.ceil(low * 10), math.floor(high * 10) + 1) if low < n / 10 < high and n]
            if nice:
                return rng.choice(nice)
        if assumption == "integer":
            whole = [n for n in range(math.ceil(low), math.floor(high) + 1) if n]
            return float(rng.choice(whole)) if whole else float(math.ceil(low))
        while True:
            value = rng.uniform(low, high)
            if value != 0 and low < value < high:
                return value
    sign = rng.choice((-1.0, 1.0))
    if assumption in ("positive", "nonnegative"):
        sign = 1.0
    elif assumption in ("negative", "nonpositive"):
        sign = -1.0
    if assumption == "integer":
        if kind == "large":
            return sign * rng.randint(100, 10_000)
        return sign * rng.randint(1, 5)
    if kind == "nice":
        return sign * rng.randint(1, 30) / 10
    if kind == "small":
        return sign * _log_uniform(rng, 1e-4, 1e-2)
    if kind == "large":
        return sign * _log_uniform(rng, 1e2, 1e4)
    return sign * rng.uniform(1e-3, 3.0)


_EXTREMES = {"small": (1e-4, 1e-2), "large": (1e2, 1e4)}


def _extreme(rng: random.Random, assumption: str, kind: str, rotation: int) -> float:
    """A near-zero or large value for a variable's ``rotation``-th turn: the sign alternates and
    the lower and upper decade of the range take turns, so four turns cover both signs in both."""
    low, high = _EXTREMES[kind]
    middle = math.sqrt(low * high)
    magnitude = _log_uniform(rng, *((low, middle) if rotation // 2 % 2 == 0 else (middle, high)))
    if assumption in ("positive", "nonnegative"):
        return magnitude
    if assumption in ("negative", "nonpositive"):
        return -magnitude
    return magnitude if rotation % 2 == 0 else -magnitude


def _sample_points(
    assumptions: Sequence[str], domains: Sequence[tuple[float, float] | None], rng: random.Random
) -> list[Point]:
    """Fresh sample points for one check: a few nice ones first (readable counterexamples), then
    unrounded ones, some near zero and some large.

    In the near-zero and large blocks the variables take turns: at each point one of them is
    surely extreme (see :func:`_extreme`: every variable is seen near 0 and far out, on both sides
    its assumption allows and in both decades), and each other one is extreme by chance.
    """
    points: list[Point] = []
    count_variables = max(1, len(assumptions))
    for kind, count in _POINT_KINDS:
        for number in range(count):
            turn, rotation = number % count_variables, number // count_variables
            point = []
            for position, (assumption, domain) in enumerate(zip(assumptions, domains, strict=True)):
                if kind in ("nice", "plain"):
                    point.append(_draw(rng, assumption, domain, kind))
                elif position == turn and domain is None and assumption != "integer":
                    point.append(_extreme(rng, assumption, kind, rotation))
                else:
                    point.append(_draw(rng, assumption, domain, kind if rng.random() < 0.5 else "plain"))
            points.append(tuple(point))
    return points


class _Dropped:
    """Marker for a point whose exact value has no accurate digits (or took too long): no evidence."""


DROPPED = _Dropped()
Exact = float | None | _Dropped  # a real value (±inf: finite but beyond floats), undefined, or dropped


@dataclass
class _Reference:
    """An expression that answers are compared with (the key or a listed wrong answer)."""

    expression: Any
    function: FloatFunction | None


@dataclass
class _Listed:
    text: str
    feedback: str
    reference: _Reference | None
    error: str | None


@dataclass
class _Prepared:
    """A spec made ready for checking; cached per spec inside the worker."""

    variables: dict[str, str]  # declared name -> assumption, as the author wrote them
    declared: dict[str, str]  # canonical name -> declared name
    problems: list[str]
    tolerance: float = 1e-9
    symbols: list[Any] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    domains: list[tuple[float, float] | None] = field(default_factory=list)
    key: _Reference | None = None
    key_error: str | None = None
    listed: list[_Listed] = field(default_factory=list)


class _Round:
    """The sample points of one check, and everything computed at them (values are cached per
    expression, exact values per expression and point)."""

    def __init__(self, prepared: _Prepared, sp: Any, exact_budget: float) -> None:
        self.prepared = prepared
        self.sp = sp
        self.points = _sample_points(prepared.assumptions, prepared.domains, random.Random())
        self._exact_points: dict[int, dict[Any, Any]] = {}
        self._values: dict[int, list[float | None]] = {}
        self._exact: dict[tuple[int, int], Exact] = {}
        self.exact_deadline = time.monotonic() + exact_budget
        self.overflowed = 0  # points where an exact value was too large even for SymPy's floats
        self.timed_out = 0  # points whose exact value took too long

    def values(self, reference: _Reference) -> list[float | None]:
        found = self._values.get(id(reference))
        if found is None:
            if reference.function is None:
                # Something the fast evaluator does not know: SymPy evaluates each point.
                found = [None if isinstance(value, _Dropped) else value for value in
                         (self.exact(reference, number) for number in range(len(self.points)))]  # fmt: skip
                found = [value if value is None or math.isfinite(value) else None for value in found]
            else:
                found = [_evaluate(reference.function, point) for point in self.points]
            self._values[id(reference)] = found
        return found

    def exact_point(self, number: int) -> dict[Any, Any]:
        if number not in self._exact_points:
            coordinates = zip(self.prepared.symbols, self.points[number], strict=True)
            self._exact_points[number] = {symbol: self.sp.Rational(repr(value)) for symbol, value in coordinates}
        return self._exact_points[number]

    def exact(self, reference: _Reference, number: int) -> Exact:
        """The value at the exact rational point to 30 correct digits (strict: SymPy raises rather
        than return digits it cannot vouch for), bounded in time."""
        # A constant has one value at every point: evaluate it once.
        cache_key = (id(reference), number if reference.expression.free_symbols else -1)
        if cache_key not in self._exact:
            self._exact[cache_key] = self._compute_exact(reference.expression, number)
        return self._exact[cache_key]

    def _compute_exact(self, expression: Any, number: int) -> Exact:
        remaining = self.exact_deadline - time.monotonic()
        if remaining <= 0:
            self.timed_out += 1
            return DROPPED
        sp = self.sp
        point = self.exact_point(number)
        try:
            with _time_budget(min(remaining, _EXACT_POINT_BUDGET)):
                for jump in expression.atoms(sp.sign, sp.Heaviside):  # see _Engine._constant
                    jump.args[0].evalf(_EXACT_DIGITS, subs=point, strict=True, maxn=_EXACT_MAX_DIGITS)
                value = expression.evalf(_EXACT_DIGITS, subs=point, strict=True, maxn=_EXACT_MAX_DIGITS)
        except _BudgetExceeded:
            self.timed_out += 1
            return DROPPED
        except OverflowError:
            self.overflowed += 1
            return DROPPED
        except (ArithmeticError, ValueError, TypeError, NotImplementedError, AttributeError):
            # PrecisionExhausted (an ArithmeticError) among them: no digits to trust.
            return DROPPED
        if value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            return None
        if not value.is_number:
            return DROPPED
        real, imaginary = value.as_real_imag()
        if not (real.is_Number and imaginary.is_Number):
            return DROPPED
        real_value, imaginary_value = float(real), float(imaginary)
        if math.isnan(real_value):
            return DROPPED
        if abs(imaginary_value) > 1e-20 * max(1.0, abs(real_value)):
            return None  # not a real number here
        return real_value  # ±inf when finite but beyond floating point


@dataclass
class _Comparison:
    outcome: str  # "same" | "different" | "undecided" | "too large" | "too complex"
    point: int | None = None
    answer_value: float = math.nan
    expected_value: float = math.nan


class _Engine:
    """Everything the worker does; holds SymPy and the cache of prepared specs."""

    def __init__(self) -> None:
        import sympy  # type: ignore[import-untyped]  # SymPy ships no type information

        self.sp = sympy
        self._specs: OrderedDict[str, _Prepared] = OrderedDict()
        self.simplify_budget = 0.5
        self.exact_budget = 0.4
        self.check_budget = 1.2
        self.check_deadline = math.inf

    # -- protocol -------------------------------------------------------------------------

    def handle(self, request: Mapping[str, Any]) -> dict[str, Any]:
        self.simplify_budget = float(request.get("simplify_budget", 0.5))
        self.exact_budget = float(request.get("exact_budget", 0.4))
        self.check_budget = float(request.get("check_budget", 1.2))
        self.check_deadline = time.monotonic() + self.check_budget
        operation = request.get("op")
        if operation == "check":
            return self.check(str(request["answer"]), request["spec"])
        if operation == "key_problems":
            return {"problems": self.key_problems(request["spec"])}
        raise ValueError(f"unknown operation {operation!r}")

    def warm_up(self) -> None:
        """Exercise every code path once so the first real check is as fast as later ones."""
        spec = {"key": "lam*sign(w)", "variables": [["w", "real"], ["lam", "positive"]],
                "wrong_answers": [["2*lam*w", "-"]], "tolerance": 1e-9, "domain": []}  # fmt: skip
        for answer in ("λ|w|/w", "2λw", "λ|w|", "w +", "λ sign(w)(cosh(4)^2 - sinh(4)^2)"):
            self.check(answer, spec)
        # simplify() loads much of SymPy on first use; do that now rather than inside a check.
        w = self.sp.Symbol("w", real=True)
        self._simplifies_to_zero(self.sp.sin(w) ** 2 + self.sp.cos(w) ** 2 - self.sp.sqrt(w**2) / self.sp.Abs(w))

    # -- preparing specs ------------------------------------------------------------------

    def prepared(self, spec: Mapping[str, Any]) -> _Prepared:
        cache_key = json.dumps(spec, sort_keys=True)
        found = self._specs.get(cache_key)
        if found is None:
            found = self._prepare(spec)
            self._specs[cache_key] = found
            if len(self._specs) > _SPEC_CACHE_SIZE:
                self._specs.popitem(last=False)
        else:
            self._specs.move_to_end(cache_key)
        return found

    def _prepare(self, spec: Mapping[str, Any]) -> _Prepared:
        variables = {str(name): str(assumption) for name, assumption in spec["variables"]}
        domain = {str(name): (float(low), float(high)) for name, low, high in spec["domain"]}
        tolerance = spec["tolerance"]
        problems = spec_problems(variables, domain, tolerance)
        declared = {mathparse.canonical_name(name): name for name in variables}
        prepared = _Prepared(variables, declared, problems)
        if problems:
            return prepared
        prepared.tolerance = float(tolerance)
        prepared.symbols = list(mathparse.symbols(variables).values())
        prepared.assumptions = [variables[name] for name in declared.values()]
        prepared.domains = [domain.get(name) for name in declared.values()]
        try:
            key = mathparse.parse(str(spec["key"]), variables)
        except ParseError as error:
            prepared.key_error = error.message
            return prepared
        prepared.key = self._reference(key, prepared)
        for text, feedback in spec["wrong_answers"]:
            try:
                wrong = mathparse.parse(str(text), variables)
            except ParseError as error:
                prepared.listed.append(_Listed(str(text), str(feedback), None, error.message))
                continue
            prepared.listed.append(_Listed(str(text), str(feedback), self._reference(wrong, prepared), None))
        return prepared

    def _reference(self, expression: Any, prepared: _Prepared) -> _Reference:
        index = {symbol: position for position, symbol in enumerate(prepared.symbols)}
        return _Reference(expression, _compile(expression, self.sp, index, self._constant))

    def _constant(self, expression: Any) -> float | None:
        """A constant's value, from 30 exact digits (time-bounded); inf when it overflows, None
        when it has no usable value."""
        budget = min(_EXACT_POINT_BUDGET, self.check_deadline - time.monotonic())
        if budget <= 0.01:
            return None
        try:
            with _time_budget(budget):
                # evalf decides sign(x) and Heaviside(x) from a few digits of x, even with
                # strict=True: sign(sin(π/7)·sin(2π/7)·sin(3π/7) − √7/8) comes out 1 although x is
                # exactly 0. Their arguments must show accurate digits themselves first.
                for jump in expression.atoms(self.sp.sign, self.sp.Heaviside):
                    jump.args[0].evalf(_EXACT_DIGITS, strict=True, maxn=_EXACT_MAX_DIGITS)
                value = expression.evalf(_EXACT_DIGITS, strict=True, maxn=_EXACT_MAX_DIGITS)
        except OverflowError:
            return math.inf
        except (_BudgetExceeded, ArithmeticError, ValueError, TypeError, NotImplementedError, AttributeError):
            return None
        if not value.is_Number or value.has(self.sp.zoo, self.sp.nan, self.sp.oo, -self.sp.oo):
            return None
        return float(value)

    def _round(self, prepared: _Prepared) -> _Round:
        return _Round(prepared, self.sp, self.exact_budget)

    # -- comparing ------------------------------------------------------------------------

    def compare(self, round_: _Round, answer: _Reference, reference: _Reference, *, prove: bool = True) -> _Comparison:
        """Whether ``answer`` equals ``reference`` under the declared assumptions.

        Floating point decides where both agree; wherever it sees a difference (or cannot
        evaluate), exact evaluation decides, and only a point where both exact values are known
        can prove a difference: a confirmed difference is a true counterexample. With too few
        usable points, ``simplify`` may prove equality (``prove``; skipped for the secondary
        comparisons that only choose feedback).
        """
        tolerance = round_.prepared.tolerance
        values, expected_values = round_.values(answer), round_.values(reference)
        agreeing = 0
        undefined: list[int] = []
        for number, (value, expected) in enumerate(zip(values, expected_values, strict=True)):
            if value is not None and expected is not None and _close(value, expected, tolerance):
                agreeing += 1
                continue
            if not prove:
                # Only choosing feedback: floating point is evidence enough, and a difference far
                # beyond rounding needs no exact proof; points it cannot evaluate are skipped.
                if value is not None and expected is not None and not _close(value, expected, _CLEARLY_APART):
                    return _Comparison("different", number, value, expected)
                continue
            exact_expected = round_.exact(reference, number)
            if exact_expected is None or isinstance(exact_expected, _Dropped) or math.isinf(exact_expected):
                continue  # the reference is undefined or unknown here: this point says nothing
            exact_value = round_.exact(answer, number)
            if isinstance(exact_value, _Dropped):
                continue
            if exact_value is None:
                undefined.append(number)
                if len(undefined) > _MAX_UNDEFINED_POINTS:
                    return self._undefined_at(undefined[0], round_, reference)
                continue
            if math.isfinite(exact_value) and _close(exact_value, exact_expected, tolerance):
                agreeing += 1
                continue
            return _Comparison("different", number, exact_value, exact_expected)
        if agreeing >= _MIN_AGREEING_POINTS:
            return _Comparison("same")
        if round_.overflowed:
            return _Comparison("too large")  # not enough evidence, and values beyond any float
        # Too few usable points to judge numerically: SymPy decides, within a time budget.
        if prove and self._simplifies_to_zero(answer.expression - reference.expression):
            return _Comparison("same")
        if round_.timed_out and not undefined:
            return _Comparison("too complex")
        if undefined:
            return self._undefined_at(undefined[0], round_, reference)
        return _Comparison("undecided")

    @staticmethod
    def _undefined_at(number: int, round_: _Round, reference: _Reference) -> _Comparison:
        expected = round_.exact(reference, number)
        assert isinstance(expected, float)  # only points where the reference is known are listed
        return _Comparison("different", number, math.nan, expected)

    def _simplifies_to_zero(self, difference: Any) -> bool:
        # Within the simplify budget and what is left of the whole check's time.
        budget = min(self.simplify_budget, self.check_deadline - time.monotonic())
        if budget < 0.05:
            return False
        try:
            with _time_budget(budget):
                return bool(self.sp.simplify(difference) == 0)
        except _BudgetExceeded:
            return False  # could not decide in time; the caller treats that as "not shown equal"
        except (ArithmeticError, ValueError, TypeError, NotImplementedError):
            return False  # OverflowError from mpmath among them: not shown equal

    def _antiderivative_of_key(self, round_: _Round, answer: _Reference) -> str | None:
        """The variable whose derivative of ``answer`` is the key: the learner gave the function
        (the penalty) rather than its derivative. None when no variable does."""
        key = round_.prepared.key
        assert key is not None
        for symbol in round_.prepared.symbols:
            if symbol not in answer.expression.free_symbols:
                continue
            try:
                with _time_budget(_DERIVATIVE_BUDGET):
                    differentiated = self.sp.diff(answer.expression, symbol)
            except (_BudgetExceeded, ArithmeticError, ValueError, TypeError, NotImplementedError):
                continue
            # Outside the budget above: compiling has time budgets of its own, and they do not nest.
            derivative = self._reference(differentiated, round_.prepared)
            if derivative.expression == 0:
                continue
            # d/dw |w| brings DiracDelta(w), which is 0 wherever w is sampled (never at 0).
            if derivative.expression.has(self.sp.DiracDelta):
                without_delta = derivative.expression.replace(self.sp.DiracDelta, lambda *args: self.sp.S.Zero)
                derivative = self._reference(without_delta, round_.prepared)
            if self.compare(round_, derivative, key, prove=False).outcome == "same":
                return mathparse.display_name(symbol.name)
        return None

    # -- operations -----------------------------------------------------------------------

    def check(self, text: str, spec: Mapping[str, Any]) -> dict[str, Any]:
        prepared = self.prepared(spec)
        if prepared.key is None:
            reason = "; ".join(prepared.problems) or prepared.key_error or "unknown problem"
            return _payload(INVALID, [f"This question's answer key is broken ({reason}); please tell the instructor."])
        try:
            answer = self._reference(mathparse.parse(text, prepared.variables), prepared)
        except ParseError as error:
            return _payload(INVALID, [error.message], span=error.span)
        interpreted = mathparse.reading(text, prepared.variables)
        round_ = self._round(prepared)
        comparison = self.compare(round_, answer, prepared.key)
        if comparison.outcome == "same":
            return _payload(CORRECT, [], interpreted)
        if comparison.outcome == "too large":
            return _payload(INVALID, [TOO_LARGE], interpreted)
        if comparison.outcome == "too complex":
            return _payload(INVALID, [TOO_COMPLEX], interpreted)
        if comparison.outcome == "undecided":
            message = (
                "Could not decide: your expression or the expected one is undefined at most test points. "
                "Check where yours is defined, and simplify it."
            )
            return _payload(INVALID, [message], interpreted)
        assert comparison.point is not None
        counterexample = self._counterexample(round_, comparison)
        for listed in prepared.listed:
            reference = listed.reference
            if reference is not None and self.compare(round_, answer, reference, prove=False).outcome == "same":
                return _payload(INCORRECT, [listed.feedback], interpreted, counterexample)
        variable = self._antiderivative_of_key(round_, answer)
        if variable is not None:
            line = (
                f"This looks like the penalty itself, not its derivative: differentiate your expression "
                f"with respect to {variable}."
            )
            return _payload(INCORRECT, [line], interpreted, counterexample)
        used = answer.expression.free_symbols | prepared.key.expression.free_symbols
        line = _difference_line(round_, comparison, used)
        return _payload(INCORRECT, [line], interpreted, counterexample)

    def _counterexample(self, round_: _Round, comparison: _Comparison) -> dict[str, float]:
        assert comparison.point is not None
        point = round_.points[comparison.point]
        result = {name: value for name, value in zip(round_.prepared.declared.values(), point, strict=True)}
        result["answer"] = comparison.answer_value
        result["expected"] = comparison.expected_value
        return result

    def key_problems(self, spec: Mapping[str, Any]) -> list[str]:
        prepared = self.prepared(spec)
        problems = list(prepared.problems)
        if problems:
            return problems
        key = prepared.key
        if key is None:
            problems.append(f"the answer key {spec['key']!r} cannot be read: {prepared.key_error}")
            return problems
        round_ = self._round(prepared)
        if sum(value is not None for value in round_.values(key)) < _MIN_AGREEING_POINTS:
            problems.append(
                f"the answer key {spec['key']!r} is undefined or not real at most sample points; "
                "check the variables' assumptions or give a domain"
            )
        for listed in prepared.listed:
            if listed.error is not None:
                problems.append(f"the wrong answer {listed.text!r} cannot be read: {listed.error}")
            elif listed.reference is not None and self.compare(round_, listed.reference, key).outcome == "same":
                problems.append(f"the wrong answer {listed.text!r} is equivalent to the answer key")
        return problems


def _format_pair(first: float, second: float) -> tuple[str, str]:
    """Both numbers with the fewest significant digits (at least 6) that tell them apart."""
    for digits in range(6, 18):
        shown = (_format_number(first, digits), _format_number(second, digits))
        if shown[0] != shown[1]:
            return shown
    return shown


def _format_number(value: float, digits: int) -> str:
    if math.isnan(value):
        return "undefined"
    if math.isinf(value):
        return "a number too large to show" if value > 0 else "a negative number too large to show"
    return format(value + 0.0, f".{digits}g")  # + 0.0 turns -0.0 into 0.0


def _format_coordinate(value: float) -> str:
    """``0.3``, or ``≈ 0.00345679`` for an unrounded sample point (6 significant digits)."""
    text = repr(value + 0.0)
    text = text[:-2] if text.endswith(".0") else text
    short = format(value + 0.0, ".6g")
    return f"= {text}" if len(text) <= 8 else f"≈ {short}"


def _difference_line(round_: _Round, comparison: _Comparison, used: set[Any]) -> str:
    assert comparison.point is not None
    point = round_.points[comparison.point]
    where = ", ".join(
        f"{mathparse.display_name(symbol.name)} {_format_coordinate(value)}"
        for symbol, value in zip(round_.prepared.symbols, point, strict=True)
        if symbol in used
    )
    answer_text, expected_text = _format_pair(comparison.answer_value, comparison.expected_value)
    yours = "cannot be evaluated to a real number" if math.isnan(comparison.answer_value) else f"gives {answer_text}"
    if not where:
        return f"Your expression {yours}; the expected one gives {expected_text}."
    return f"At {where} your expression {yours}; the expected one gives {expected_text}."


def _payload(
    status: str,
    feedback: list[str],
    interpreted: str | None = None,
    counterexample: dict[str, float] | None = None,
    span: tuple[int, int] | None = None,
) -> dict[str, Any]:
    return {
        "status": status,
        "feedback": feedback,
        "interpreted_as": interpreted,
        "counterexample": counterexample,
        "span": None if span is None else list(span),
    }


def _limit_memory(limit: int = 2 * 1024**3) -> None:
    """Cap the worker's address space so a runaway expansion fails with MemoryError."""
    try:
        import resource
    except ImportError:  # not POSIX: rely on the parent's time limit alone
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    if soft == resource.RLIM_INFINITY or soft > limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def serve(warm_up: bool = True) -> None:
    """Run the worker: one JSON request per line on stdin, one JSON reply per line on stdout."""
    _limit_memory()
    protocol = sys.stdout
    sys.stdout = sys.stderr  # a stray print must not corrupt the protocol stream
    engine = _Engine()
    if warm_up:
        engine.warm_up()

    def send(message: Mapping[str, Any]) -> None:
        protocol.write(json.dumps(message, ensure_ascii=True) + "\n")
        protocol.flush()

    send({"ready": True})
    for line in sys.stdin:
        request_id = None
        try:
            request = json.loads(line)
            request_id = request.get("id")
            send({"id": request_id, "result": engine.handle(request)})
        except (MemoryError, RecursionError):
            send({"id": request_id, "result": _payload(INVALID, [TOO_COMPLEX])})
        except Exception as error:
            # Any other failure is a bug or a SymPy surprise: report it and keep serving, so one
            # odd answer cannot take the checker down. The parent logs it; the traceback is here.
            import traceback

            traceback.print_exc(file=sys.stderr)
            send({"id": request_id, "error": f"{type(error).__name__}: {error}"})
    # End of input: every reply has been flushed. Tearing SymPy's modules down takes a while and
    # serves no one, so leave at once.
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    serve()
