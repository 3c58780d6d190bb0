"""Run a learner's file in an isolated child process and report what happened, as plain data.

The sandbox only runs untrusted code and describes the outcome: values returned, exceptions, how the
run ended. It never sees expected values or the reference solution (:mod:`quizkit.exercises` loads
those in the grader and judges), so nothing the learner's code sends back can fake a pass; the worst
it can do is send garbage, which is reported as :attr:`RunStatus.PROTOCOL_ERROR`.

Two implementations of one :class:`Runner` interface:

* :class:`SubprocessRunner`, the real one, for learner code.
* :class:`InProcessRunner`, for trusted code (reference solutions, fast tests of judging logic): it
  runs the same runner code in this process and decodes the same frames, without isolation.

Process model of :class:`SubprocessRunner`::

    grader ──socketpair──▶ bwrap ─▶ fork server (python -I, numpy imported once, child subreaper)
       ▲  ▲  ▲                       │ fork() per job
       │  │  └─ inputs memfd ────────┤ learner child: setsid, Landlock, rlimits, own job dir,
       │  └──── output pipe ─────────┤ scrubbed env, fds 0-3 only, nobody when root;
       └─────── result pipe ─────────┘ imports the file, runs the calls

* **OS isolation** (:mod:`quizkit.isolation`). Each fork server runs inside bubblewrap's namespaces:
  a private root with read-only binds of only the system libraries, the interpreter's standard
  library and numpy, private tmpfs mounts for ``/tmp`` and ``/dev/shm``, no network, its own pid
  and ipc namespaces. Each learner child then applies a Landlock ruleset (read-only everywhere,
  writes only in the server's job folder, no TCP, no signals outside its own domain). The layers
  work alone too: ``isolation="required"`` (``quizkit grade``) refuses to run where neither is
  available, ``"preferred"`` runs with a warning, ``"off"`` uses the process limits only.
* **Fork server.** Each worker has one server, started from ``python -I`` (no PYTHON* variables, no
  cwd or script dir on ``sys.path``) with a scrubbed environment and ``PR_SET_DUMPABLE 0`` (as has
  the grader: no ptrace, no ``/proc/PID/mem``). It imports numpy and nothing of quizkit or of a
  course; ``import quizkit``/``import solutions`` are refused. Per job it forks a child, which is why
  a job costs a few milliseconds rather than a Python start-up.
* **Limits.** The child calls ``setsid()`` and sets RLIMIT_CPU, RLIMIT_AS (memory), RLIMIT_FSIZE
  (files on disk), RLIMIT_CORE=0 and RLIMIT_NPROC. The wall-clock limit is the grader's: when it
  passes, the grader asks the server to SIGKILL the child's process group (and, should the server not
  answer within :data:`KILL_GRACE_SECONDS`, kills the server itself). Learner output goes to a pipe
  the grader drains continuously, keeping :attr:`Limits.output_bytes` and stopping the run after
  :attr:`Limits.output_abort_bytes`, so it can neither block nor fill a disk.
* **No survivors, no residue.** The server is a child subreaper (``PR_SET_CHILD_SUBREAPER``): any
  process the learner forks, even after a double fork and its own ``setsid()``, is reparented to the
  server when its parent dies. After every job the server kills the child's process group, then
  repeatedly kills its remaining children and reaps them until it has none; then it removes the job
  folder (iteratively: a tree deeper than PATH_MAX or the recursion limit is no problem) and, inside
  the namespaces, everything else in its private ``/tmp`` and ``/dev/shm`` and every System V IPC
  object. Only then does it report the job as ended.
* **Privileges.** Running as root, the child drops to uid/gid 65534 (nobody) after setup, with
  ``PR_SET_NO_NEW_PRIVS``, so RLIMIT_NPROC (which root ignores) bounds fork bombs. Not root: the
  child keeps the user's uid inside a user namespace, and RLIMIT_NPROC counts the user's processes
  as the grader saw them. Without namespaces, as root, where the interpreter is private to root
  (``/root/.pyenv``), the child keeps CAP_DAC_READ_SEARCH to import it; Landlock still confines what
  it may read.
* **Channel.** Results travel on a dedicated pipe (fd 3 in the child), never on stdout: frames of
  length-prefixed JSON plus ``.npy`` bytes (``numpy.load(allow_pickle=False)``, never pickle). The
  grader checks every frame strictly (sizes, key sets, types, order, counts, dtype kinds, shapes
  against the announced size) before using it. The child captures what its runner needs (os.write,
  a JSON encoder, numpy functions, builtins) before importing the learner's file, so monkeypatching
  those cannot change what is sent; at worst it breaks the runner, which is PROTOCOL_ERROR.
* **The parent measures.** Array arguments live in a sealed memfd that the child maps; after the
  run the grader compares it with what it wrote, so "inputs not modified" is never the child's word.

Speed: a server starts once per runner (about 0.1 s, mostly importing numpy; the constructor starts
one in the background so that this overlaps the caller's own work) and each job then costs a fork,
a few milliseconds.
``benchmarks/bench_sandbox.py`` measures single-run latency and batch throughput.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import math
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from quizkit import _sandbox_child as wire
from quizkit.errors import QuizkitError

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "CallOutcome",
    "ISOLATION_MODES",
    "InProcessRunner",
    "IsolationUnavailable",
    "Job",
    "Limits",
    "RunResult",
    "RunStatus",
    "Runner",
    "SandboxError",
    "Source",
    "SubprocessRunner",
]

MAX_SOURCE_BYTES = 1 << 20
SERVER_START_TIMEOUT_SECONDS = 60.0
# After asking the server to kill a job, how long to wait before killing the server itself.
KILL_GRACE_SECONDS = 2.0
# After a job's processes are gone, how long its pipes may take to report end of file. Only a pipe
# end smuggled to another process (another job's) can delay it; that process is killed soon anyway.
DRAIN_GRACE_SECONDS = 0.5


class SandboxError(QuizkitError):
    """The sandbox itself cannot work here (e.g. the fork server fails to start)."""

    exit_code = 2


class IsolationUnavailable(SandboxError):
    """OS isolation was required (``isolation="required"``) but this machine cannot provide it."""


# How much OS isolation a SubprocessRunner insists on:
#   "required":  refuse to run (IsolationUnavailable) where namespaces and Landlock are missing (grade);
#   "preferred": isolate where possible, else run with the process limits only (submit, take);
#   "off":       process limits only (``grade --no-isolation``).
ISOLATION_MODES = ("required", "preferred", "off")


@dataclass(frozen=True)
class Limits:
    """Resource limits for one run of a learner file."""

    wall_seconds: float = 2.0  # the whole run: import and all calls
    cpu_seconds: float = 2.0  # enforced by RLIMIT_CPU in whole seconds (rounded up)
    memory_bytes: int = 1 << 30  # address space, including ~100 MB for Python and numpy
    output_bytes: int = 64 * 1024  # learner stdout+stderr kept; the rest is dropped
    output_abort_bytes: int = 8 << 20  # total output after which the run is stopped (OUTPUT_LIMIT)
    file_bytes: int = 16 << 20  # largest file the learner's code may write
    processes: int = 32  # processes/threads the learner's code may add (RLIMIT_NPROC)

    def __post_init__(self) -> None:
        for name in ("wall_seconds", "cpu_seconds", "memory_bytes", "output_bytes", "output_abort_bytes", "file_bytes"):
            value = getattr(self, name)
            if not value > 0 or (isinstance(value, float) and not math.isfinite(value)):
                raise ValueError(f"Limits.{name} must be a positive number, not {value!r}")
        if self.processes < 0:
            raise ValueError(f"Limits.processes must be >= 0, not {self.processes!r}")


class RunStatus(str, Enum):
    """How a run ended. Only OK means every call ran; per-call exceptions live in the outcomes."""

    OK = "ok"
    EMPTY_FILE = "empty_file"
    UNREADABLE = "unreadable"  # missing, not a file, or larger than MAX_SOURCE_BYTES
    SYNTAX_ERROR = "syntax_error"
    IMPORT_ERROR = "import_error"  # an exception while the file was being imported
    MISSING_FUNCTION = "missing_function"
    NOT_CALLABLE = "not_callable"
    TIMEOUT = "timeout"  # wall-clock or CPU limit
    MEMORY_LIMIT = "memory_limit"
    OUTPUT_LIMIT = "output_limit"
    EXITED = "exited"  # sys.exit, os._exit, SystemExit, KeyboardInterrupt or another BaseException
    CRASHED = "crashed"  # killed by a signal (segfault, ...)
    PROTOCOL_ERROR = "protocol_error"  # the result channel carried data the runner did not send


@dataclass(frozen=True, eq=False)
class CallOutcome:
    """What one call of the learner's function did."""

    value: np.ndarray | None  # the return value as an array; None if it raised or was not numeric
    return_type: str  # type name of the returned object ("float", "ndarray", "NoneType"); "" if it raised
    error: str | None  # "ZeroDivisionError: division by zero" + traceback lines from the learner's file
    inputs_modified: tuple[bool, ...]  # per argument: changed in place by the call, as the parent measured
    seconds: float
    note: str | None = None  # why a returned array is not usable (ndarray subclass, object dtype)


@dataclass(frozen=True, eq=False)
class RunResult:
    """What happened when a learner file was run."""

    status: RunStatus
    message: str  # one sentence for a non-OK status; "" for OK
    outcomes: tuple[CallOutcome, ...]  # one per completed call, in order
    output: str  # learner stdout and stderr, at most Limits.output_bytes
    output_truncated: bool
    seconds: float
    detail: str = ""  # syntax error pointer or learner traceback for SYNTAX_ERROR / IMPORT_ERROR

    @property
    def ok(self) -> bool:
        return self.status is RunStatus.OK


@dataclass(frozen=True)
class ActiveLayers:
    """The OS isolation a fork server applies to its children."""

    namespaces: bool  # bubblewrap: private file system, pid, network and ipc namespaces
    landlock: int  # the Landlock ABI applied to each child; 0: none
    privileges: str  # how children run (uid), in words


@dataclass(frozen=True)
class Source:
    """A learner file as bytes already read, with the name it is shown and compiled under.

    Batch grading reads each file of an untrusted folder once, safely, and runs exactly those bytes;
    the sandbox then never touches the path again.
    """

    name: str
    data: bytes


@dataclass(frozen=True, eq=False)
class Job:
    """One learner file, the function to call in it, and the positional arguments of each call.

    ``source`` is a path (read when the job starts) or a :class:`Source` (bytes read by the caller).
    Arguments are Python floats/ints or numpy arrays (any shape, including 0-d and empty) or numpy
    scalars; the function receives values of the same types. ``preload`` holds trusted course code
    (for example a helper function another exercise asks for) run in the learner's module before
    the learner's file, so a definition in the file takes precedence.
    """

    source: Path | Source
    function: str
    calls: tuple[tuple[object, ...], ...]
    limits: Limits = Limits()
    preload: tuple[Source, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.source, Source):
            object.__setattr__(self, "source", Path(self.source))
        object.__setattr__(self, "calls", tuple(tuple(call) for call in self.calls))
        object.__setattr__(self, "preload", tuple(self.preload))

    @property
    def name(self) -> str:
        """The file name learners see in messages."""
        return self.source.name


class Runner(Protocol):
    """Runs jobs; the seam between grading logic and how (and how safely) code is executed."""

    def run(self, job: Job) -> RunResult: ...

    def run_many(self, jobs: Iterable[Job], workers: int = 2) -> Iterator[tuple[Job, RunResult]]: ...


# ---------------------------------------------------------------------------------------------
# Shared by both runners: reading the source, checking frames, concluding a run
# ---------------------------------------------------------------------------------------------


def _read_source(job: Job) -> bytes | RunResult:
    """The learner file's bytes, or the RunResult that ends the job before any process starts."""
    name = job.name
    if isinstance(job.source, Source):
        source = job.source.data
        if len(source) > MAX_SOURCE_BYTES:
            return _early(RunStatus.UNREADABLE, f"{name} is {_size(len(source))}; the limit is {_size(MAX_SOURCE_BYTES)}")
        if not source.strip():
            return _early(RunStatus.EMPTY_FILE, f"{name} is empty: write the function {job.function} in it")
        return source
    try:
        size = job.source.stat().st_size
        if size > MAX_SOURCE_BYTES:
            return _early(RunStatus.UNREADABLE, f"{name} is {_size(size)}; the limit is {_size(MAX_SOURCE_BYTES)}")
        source = job.source.read_bytes()
    except OSError as exc:
        return _early(RunStatus.UNREADABLE, f"could not read {name}: {exc.strerror or exc}")
    if not source.strip():
        return _early(RunStatus.EMPTY_FILE, f"{name} is empty: write the function {job.function} in it")
    return source


def _early(status: RunStatus, message: str) -> RunResult:
    return RunResult(status, message, (), "", False, 0.0)


class _Transcript:
    """Validates the frames of one run, in order, and keeps the outcomes they carry."""

    def __init__(self, calls: tuple[tuple[object, ...], ...]) -> None:
        self._arities = [len(call) for call in calls]
        self.loaded = False
        self.outcomes: list[CallOutcome] = []
        self.end: wire.Header | None = None

    def accept(self, header: wire.Header, payload: bytes) -> None:
        """Take one frame; raises ProtocolError if it is not exactly what the runner sends."""
        if self.end is not None:
            raise wire.ProtocolError("data followed the final frame")
        kind = header["t"]
        if kind == "loaded":
            _expect_keys(header, {"t", "payload"})
            if self.loaded or payload:
                raise wire.ProtocolError("an unexpected 'loaded' frame")
            self.loaded = True
        elif kind == "call":
            self.outcomes.append(self._outcome(header, payload))
        elif kind == "end":
            self._accept_end(header, payload)
        else:
            raise wire.ProtocolError(f"a frame of unknown type {kind[:40]!r}")

    def _outcome(self, header: wire.Header, payload: bytes) -> CallOutcome:
        _expect_keys(header, {"t", "i", "type", "error", "note", "reshaped", "seconds", "array", "payload"})
        index = header["i"]
        if not self.loaded or type(index) is not int or index != len(self.outcomes) or index >= len(self._arities):
            raise wire.ProtocolError(f"a result for call {index!r} out of order")
        return_type = _checked_text(header["type"], wire.MAX_TYPE_NAME_CHARS, "type")
        error = _checked_optional_text(header["error"], wire.MAX_REASON_CHARS + wire.MAX_DETAIL_CHARS + 1, "error")
        note = _checked_optional_text(header["note"], wire.MAX_REASON_CHARS, "note")
        seconds = header["seconds"]
        if type(seconds) not in (int, float) or not 0 <= seconds <= 1e6:
            raise wire.ProtocolError("a malformed call duration")
        if header["array"] is None and payload:
            raise wire.ProtocolError("array data without a description")
        value = None if header["array"] is None else wire.decode_result_array(header["array"], payload)
        if value is not None and error is not None:
            raise wire.ProtocolError("a call that both raised and returned")
        reshaped = header["reshaped"]
        if (
            type(reshaped) is not list
            or len(reshaped) != self._arities[index]
            or any(type(flag) is not bool for flag in reshaped)
        ):
            raise wire.ProtocolError("a malformed list of reshaped inputs")
        # The parent ORs in what it measures in the shared memory (see _conclude).
        return CallOutcome(value, return_type, error, tuple(reshaped), float(seconds), note)

    def _accept_end(self, header: wire.Header, payload: bytes) -> None:
        _expect_keys(header, {"t", "status", "reason", "detail", "defined", "payload"})
        status = header["status"]
        if status not in wire.CHILD_STATUSES or payload:
            raise wire.ProtocolError("a malformed final frame")
        _checked_text(header["reason"], wire.MAX_REASON_CHARS, "reason")
        _checked_text(header["detail"], wire.MAX_DETAIL_CHARS, "detail")
        defined = header["defined"]
        if type(defined) is not list or len(defined) > 50 or any(type(n) is not str or len(n) > 200 for n in defined):
            raise wire.ProtocolError("a malformed list of defined names")
        if status in wire.IMPORT_STATUSES and self.loaded:
            raise wire.ProtocolError(f"an import failure ({status}) after a successful import")
        if status == "ok" and (not self.loaded or len(self.outcomes) != len(self._arities)):
            raise wire.ProtocolError(f"success claimed after {len(self.outcomes)} of {len(self._arities)} calls")
        self.end = header


def _expect_keys(header: wire.Header, keys: set[str]) -> None:
    if set(header) != keys:
        raise wire.ProtocolError(f"a '{header['t'][:40]}' frame with unexpected fields")


def _checked_text(value: object, limit: int, what: str) -> str:
    if type(value) is not str or len(value) > limit:
        raise wire.ProtocolError(f"a malformed {what}")
    return value


def _checked_optional_text(value: object, limit: int, what: str) -> str | None:
    return None if value is None else _checked_text(value, limit, what)


@dataclass(frozen=True)
class _Exit:
    """How the learner's process ended, as the fork server saw it."""

    code: int | None = None
    signal: int | None = None
    cpu_seconds: float = 0.0
    supervisor_lost: bool = False  # the fork server died or stopped answering

    @property
    def clean(self) -> bool:
        return self.code == 0 and not self.supervisor_lost


@dataclass
class _Observed:
    """Everything the grader saw of one run, from which the RunResult is concluded."""

    job: Job
    transcript: _Transcript
    exit: _Exit
    output: bytes
    output_total: int
    seconds: float
    stop: str | None = None  # why the grader stopped the run: "timeout", "output" or "protocol"
    protocol_error: str | None = None
    modified: Sequence[tuple[bool, ...]] = ()  # per call, per argument, as measured by the parent


def _conclude(seen: _Observed) -> RunResult:
    status, message, detail = _verdict(seen)
    limit = seen.job.limits.output_bytes
    outcomes = tuple(
        dataclasses.replace(
            outcome,
            inputs_modified=tuple(a or b for a, b in zip(outcome.inputs_modified, seen.modified[index])),
        )
        if index < len(seen.modified)
        else outcome
        for index, outcome in enumerate(seen.transcript.outcomes)
    )
    return RunResult(
        status=status,
        message=message,
        outcomes=outcomes,
        output=seen.output[:limit].decode("utf-8", errors="replace"),
        output_truncated=seen.output_total > limit,
        seconds=seen.seconds,
        detail=detail,
    )


def _verdict(seen: _Observed) -> tuple[RunStatus, str, str]:
    """(status, one-sentence message, detail) of a run; the order of the tests is the priority."""
    job, transcript, ended = seen.job, seen.transcript, seen.exit
    limits = job.limits
    phase = _phase(transcript, len(job.calls))
    if seen.protocol_error is not None:
        return (
            RunStatus.PROTOCOL_ERROR,
            (
                f"the sandbox's private result channel received data its runner did not send {phase} "
                f"({seen.protocol_error}); writing to it cannot fake a result"
            ),
            "",
        )
    if seen.stop == "timeout":
        return RunStatus.TIMEOUT, f"your code ran longer than {limits.wall_seconds:g} s {phase} (an infinite loop?)", ""
    if seen.stop == "output":
        return (
            RunStatus.OUTPUT_LIMIT,
            (
                f"your code printed more than {_size(limits.output_abort_bytes)} {phase}, so it was stopped "
                "(a print inside a long loop?)"
            ),
            "",
        )
    end = transcript.end
    if end is not None and (end["status"] != "ok" or ended.clean):
        return _end_verdict(job, end, phase)
    return _exit_verdict(ended, limits, phase)


def _end_verdict(job: Job, end: wire.Header, phase: str) -> tuple[RunStatus, str, str]:
    name, function = job.name, job.function
    status, reason, detail = RunStatus(end["status"]), end["reason"], end["detail"]
    if status is RunStatus.OK:
        return status, "", ""
    if status is RunStatus.SYNTAX_ERROR:
        return status, f"{name} is not valid Python: {reason}", detail
    if status is RunStatus.IMPORT_ERROR:
        return status, f"{name} raised {reason} while being imported", detail
    if status is RunStatus.MISSING_FUNCTION:
        defined = end["defined"]
        close = difflib.get_close_matches(function, defined, n=1)
        hint = (
            f" (did you mean {close[0]}?)" if close else f" (it defines: {', '.join(defined[:5])})" if defined else ""
        )
        return status, f"{name} does not define a function named {function}{hint}", ""
    if status is RunStatus.NOT_CALLABLE:
        return status, f"{name} defines {function} as a {reason}, not as a function", ""
    if status is RunStatus.MEMORY_LIMIT:
        return status, f"your code ran out of memory {phase} (the limit is {_size(job.limits.memory_bytes)})", ""
    if reason.startswith("sys.exit("):
        return status, f"your code called {reason} {phase}", ""
    return status, f"your code raised {reason} {phase}; it is not an Exception, so it ends the program", ""


def _exit_verdict(ended: _Exit, limits: Limits, phase: str) -> tuple[RunStatus, str, str]:
    if ended.supervisor_lost:
        return RunStatus.CRASHED, f"the sandbox's supervisor process stopped unexpectedly {phase}", ""
    cpu_limit = max(1, math.ceil(limits.cpu_seconds))
    if ended.signal == signal.SIGXCPU or (ended.signal == signal.SIGKILL and ended.cpu_seconds >= cpu_limit - 0.05):
        return (
            RunStatus.TIMEOUT,
            f"your code used more than {limits.cpu_seconds:g} s of CPU time {phase} (an infinite loop?)",
            "",
        )
    if ended.signal == signal.SIGKILL:
        return RunStatus.CRASHED, f"your code was killed (SIGKILL) {phase}, most likely for using too much memory", ""
    if ended.signal == signal.SIGSEGV:
        return RunStatus.CRASHED, f"your code crashed with a segmentation fault {phase} (very deep recursion?)", ""
    if ended.signal is not None:
        return RunStatus.CRASHED, f"your code was stopped by signal {_signal_name(ended.signal)} {phase}", ""
    if ended.code == wire.EXIT_CHANNEL_LOST:
        return RunStatus.PROTOCOL_ERROR, f"your code closed or replaced the sandbox's result channel {phase}", ""
    if ended.code == wire.EXIT_RUNNER_FAILED:
        return (
            RunStatus.PROTOCOL_ERROR,
            (f"your code disrupted the sandbox's runner {phase} (did it change numpy, json, os or builtins?)"),
            "",
        )
    return RunStatus.EXITED, f"your code ended the process with exit code {ended.code} {phase} (os._exit?)", ""


def _phase(transcript: _Transcript, total: int) -> str:
    if not transcript.loaded:
        return "while being imported"
    done = len(transcript.outcomes)
    return f"in call {done + 1} of {total}" if done < total else "after its last call"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _size(count: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:g} {unit}"
    return f"{count} bytes"


# ---------------------------------------------------------------------------------------------
# In-process runner (trusted code only)
# ---------------------------------------------------------------------------------------------


class _CappedText:
    """A text sink for redirect_stdout/redirect_stderr that keeps the first ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self.kept = bytearray()
        self.total = 0

    def write(self, text: str) -> int:
        data = text.encode("utf-8", errors="backslashreplace")
        self.total += len(data)
        room = self._limit - len(self.kept)
        if room > 0:
            self.kept += data[:room]
        return len(text)

    def flush(self) -> None:
        return None


class InProcessRunner:
    """Runs *trusted* code (reference solutions) in this process, with the sandbox's encoding.

    Arguments and results go through the same .npy encoding and the same frame checks as in
    :class:`SubprocessRunner`, so outcomes compare like for like. There is no isolation and no
    time, memory or process limit. Tracebacks name the file by its full path, and the module is not
    added to ``sys.modules``.
    """

    def run(self, job: Job) -> RunResult:
        started = time.monotonic()
        source = _read_source(job)
        if isinstance(source, RunResult):
            return source
        transcript = _Transcript(job.calls)
        reader = wire.FrameReader(wire.MAX_RESULT_PAYLOAD)

        def emit(header: wire.Header, payload: bytes) -> None:
            for frame_header, frame_payload in reader.feed(wire.encode_frame(header, payload)):
                transcript.accept(frame_header, frame_payload)

        layout = wire.layout_arguments(job.calls)
        shared = bytearray(layout.shared)  # the calls' arrays are writable views of this buffer
        calls = wire.arguments_from_layout(layout.descriptors, memoryview(layout.inline), shared)
        filename = str(job.source) if isinstance(job.source, Path) else job.name
        preload = [(item.name, item.data) for item in job.preload]
        program = wire.Program(source, filename, wire.module_name(job.name), filename, job.function, calls, preload)
        capture = _CappedText(job.limits.output_bytes)
        protocol_error = None
        with contextlib.redirect_stdout(capture), contextlib.redirect_stderr(capture):  # type: ignore[type-var]
            try:
                wire.execute(program, emit, contain_interrupts=False, register_module=False)
            except wire.ProtocolError as exc:
                protocol_error = str(exc)
        seen = _Observed(
            job,
            transcript,
            _Exit(code=0),
            bytes(capture.kept),
            capture.total,
            time.monotonic() - started,
            protocol_error=protocol_error,
            modified=layout.modified(shared),
        )
        return _conclude(seen)

    def run_many(self, jobs: Iterable[Job], workers: int = 1) -> Iterator[tuple[Job, RunResult]]:
        """Run jobs one after another (``workers`` is accepted for interface parity)."""
        for job in jobs:
            yield job, self.run(job)

    def close(self) -> None:
        """Nothing to release; present so both runners can be used the same way."""

    def __enter__(self) -> InProcessRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# ---------------------------------------------------------------------------------------------
# Subprocess runner: fork servers and the event loop that drives them
# ---------------------------------------------------------------------------------------------


class _ServerGone(Exception):
    """A fork server's control socket closed."""


class _Server:
    """One fork server process and the grader's end of its control socket."""

    def __init__(self, python: str, hidden: list[str], *, namespaces: bool, landlock: bool) -> None:
        import tempfile

        from quizkit import isolation

        launch = isolation.launch(python, wire.__file__, namespaces=namespaces)
        self.namespaces = namespaces
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        command = [*launch.argv, "--serve", "--control-fd", str(theirs.fileno()), "--numpy-dir", launch.numpy_dir]
        for path in hidden:
            command += ["--hide", path]
        if namespaces:
            command.append("--namespaces")
        if landlock:
            command += [f"--read-root={root}" for root in launch.read_roots]
        command += ["--base-tasks", str(isolation.task_count(wire.NOBODY if os.geteuid() == 0 else os.getuid()))]
        environment = {**wire.CHILD_ENV, "HOME": "/nonexistent", "TMPDIR": "/tmp" if namespaces else tempfile.gettempdir()}
        # bubblewrap says why it cannot start on stderr; a file, so that nothing can block on it.
        self._errors = tempfile.TemporaryFile()
        try:
            self.process = subprocess.Popen(
                command,
                pass_fds=(theirs.fileno(),),
                env=environment,
                cwd="/",
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self._errors,
                start_new_session=True,
            )
        except OSError as exc:
            ours.close()
            self._errors.close()
            raise SandboxError(f"could not start the sandbox with {launch.argv[0]}: {exc}") from exc
        finally:
            theirs.close()
        self.sock = ours
        self._reader = wire.FrameReader(max_payload=1 << 16)
        self.backlog: list[wire.Header] = []
        self.info: wire.Header | None = None
        self.alive = True

    def startup_errors(self) -> str:
        """The first line the server (or bubblewrap) wrote to stderr, for a failed start."""
        self._errors.seek(0)
        text = self._errors.read(4096).decode("utf-8", errors="replace").strip()
        return text.splitlines()[-1] if text else ""

    @property
    def pid(self) -> int:
        return self.process.pid

    def pids(self) -> list[int]:
        """This server's process and, inside namespaces, bubblewrap's two processes it runs under."""
        chain = [self.process.pid]
        if self.namespaces:
            # bwrap -> bwrap as the namespace's init -> the fork server: each the only child of the last.
            for _ in range(2):
                try:
                    with open(f"/proc/{chain[-1]}/task/{chain[-1]}/children") as listing:
                        children = listing.read().split()
                except OSError:
                    break
                if len(children) != 1:
                    break
                chain.append(int(children[0]))
        return chain

    def wait_ready(self) -> None:
        """Block until the server has imported numpy and said so; SandboxError if it cannot."""
        import select

        deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
        while self.info is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.sock], [], [], remaining)[0]:
                self.kill()
                raise SandboxError(f"the sandbox did not start within {SERVER_START_TIMEOUT_SECONDS:g} s")
            try:
                messages = self.receive()
            except _ServerGone:
                self.kill()
                why = self.startup_errors() or f"exit code {self.process.returncode}"
                raise SandboxError(f"the sandbox stopped while starting ({why})") from None
            for message in messages:
                if message["t"] == "fatal":
                    self.kill()
                    raise SandboxError(f"the sandbox could not start: {message.get('reason')}")
                if message["t"] == "ready":
                    self.info = message
                else:
                    self.backlog.append(message)

    def receive(self) -> list[wire.Header]:
        """Messages now available (call when readable); raises _ServerGone at end of stream."""
        try:
            data = self.sock.recv(1 << 16)
        except OSError as exc:
            raise _ServerGone from exc
        if not data:
            raise _ServerGone
        return [header for header, _payload in self._reader.feed(data)]

    def send(self, header: wire.Header, payload: bytes = b"", fds: tuple[int, ...] = ()) -> None:
        frame = wire.encode_frame(header, payload)
        # The descriptors ride on the first bytes of the frame; the server collects them in order.
        sent = socket.send_fds(self.sock, [frame], list(fds)) if fds else 0
        self.sock.sendall(memoryview(frame)[sent:])

    def kill(self) -> None:
        """Kill the server (its own process group) and release everything of it."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):  # it exited on its own: nothing to kill
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.sock.close()
        self._errors.close()
        self.alive = False

    def shutdown(self) -> None:
        """Ask the server to exit (end of stream on its socket); kill it if it does not."""
        self.sock.close()
        try:
            self.process.wait(timeout=KILL_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
        self._errors.close()
        self.alive = False


class _SharedInputs:
    """A job's array arguments in a sealed memfd: the child maps it, the parent reads it back after.

    Sealed against shrinking and growing, so the learner's code can change the bytes (which is what
    the parent looks for) but not the size the parent reads.
    """

    def __init__(self, layout: wire.ArgumentLayout) -> None:
        import fcntl

        self.layout = layout
        self.fd = os.memfd_create("quizkit-inputs", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        data = memoryview(layout.shared)
        while data:
            data = data[os.write(self.fd, data) :]
        fcntl.fcntl(self.fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL)

    def modified(self) -> list[tuple[bool, ...]]:
        """Per call, per argument: changed by the run (read once every process of the job is gone)."""
        return self.layout.modified(os.pread(self.fd, len(self.layout.shared), 0) if self.layout.shared else b"")

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class _Flight:
    """One job in progress on one server: its pipes, its deadline and what has been seen so far."""

    def __init__(
        self,
        server: _Server,
        job: Job,
        job_id: int,
        selector: selectors.BaseSelector,
        result_fd: int,
        output_fd: int,
        inputs: _SharedInputs,
    ) -> None:
        self.server, self.job, self.job_id = server, job, job_id
        self.inputs = inputs
        self._selector = selector
        self.started = time.monotonic()
        self.deadline = self.started + job.limits.wall_seconds
        self.transcript = _Transcript(job.calls)
        self._reader = wire.FrameReader(wire.MAX_RESULT_PAYLOAD)
        self.output = bytearray()
        self.output_total = 0
        self.pid: int | None = None
        self.workdir: str | None = None  # the job's temporary directory, which its server removes
        self.exit: _Exit | None = None
        self.exited_at = 0.0
        self.stop: str | None = None
        self.protocol_error: str | None = None
        self.kill_sent_at: float | None = None
        self._open: dict[int, Callable[[], None]] = {}
        for fd, handler in ((result_fd, self._on_result), (output_fd, self._on_output)):
            os.set_blocking(fd, False)
            selector.register(fd, selectors.EVENT_READ, handler)
            self._open[fd] = handler
        selector.register(server.sock, selectors.EVENT_READ, self._on_server)
        self._result_fd, self._output_fd = result_fd, output_fd
        for message in server.backlog:
            self._on_message(message)
        server.backlog.clear()

    # -- events ---------------------------------------------------------------------------

    def _read(self, fd: int) -> bytes | None:
        try:
            data = os.read(fd, 1 << 20)
        except BlockingIOError:
            return None
        if not data:
            self._close(fd)
        return data

    def _on_result(self) -> None:
        data = self._read(self._result_fd)
        if not data or self.protocol_error is not None:
            return  # after a protocol error the channel is drained and ignored
        try:
            for header, payload in self._reader.feed(data):
                self.transcript.accept(header, payload)
        except wire.ProtocolError as exc:
            self.protocol_error = str(exc)
            self.request_kill("protocol")

    def _on_output(self) -> None:
        data = self._read(self._output_fd)
        if not data:
            return
        self.output_total += len(data)
        room = self.job.limits.output_bytes - len(self.output)
        if room > 0:
            self.output += data[:room]
        if self.output_total > self.job.limits.output_abort_bytes:
            self.request_kill("output")

    def _on_server(self) -> None:
        try:
            messages = self.server.receive()
        except (_ServerGone, wire.ProtocolError):
            self._lose_server()
            return
        for message in messages:
            self._on_message(message)

    def _on_message(self, message: wire.Header) -> None:
        if message.get("id") != self.job_id:
            return
        try:
            if message["t"] == "started":
                self.pid = int(message["pid"])
                self.workdir = str(message["workdir"])
            elif message["t"] == "exited":
                self.exit = _Exit(message["code"], message["signal"], float(message["cpu"]))
                self.exited_at = time.monotonic()
                self._selector.unregister(self.server.sock)
        except (KeyError, TypeError, ValueError):  # a server that sends nonsense cannot be trusted further
            self._lose_server()

    # -- control --------------------------------------------------------------------------

    def request_kill(self, reason: str) -> None:
        """Stop the run (first reason wins); the server kills the child's whole process group."""
        if self.stop is None:
            self.stop = reason
        if self.kill_sent_at is None and self.exit is None:
            self.kill_sent_at = time.monotonic()
            try:
                self.server.send({"t": "kill", "id": self.job_id})
            except OSError:
                self._lose_server()

    def _lose_server(self) -> None:
        """The server died or stopped answering: kill it and, best effort, the learner's group."""
        if self.exit is None:
            self._selector.unregister(self.server.sock)
            self.exit = _Exit(supervisor_lost=True)
            self.exited_at = time.monotonic()
        self.server.kill()
        if self.pid is not None:
            # Already gone, or (a uid we cannot signal) no longer ours to kill.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
        if self.workdir is not None and not self.server.namespaces:
            # The server that would have removed it is gone. (Inside namespaces the directory was on
            # the server's private tmpfs, which vanished with it; its path means nothing here.)
            wire._remove_tree(self.workdir)

    def postpone(self, seconds: float) -> None:
        """Extend the deadline by time the consumer of results kept us from reading the pipes."""
        if self.kill_sent_at is None:
            self.deadline += seconds

    def next_deadline(self) -> float:
        if self.exit is not None:
            return self.exited_at + DRAIN_GRACE_SECONDS
        if self.kill_sent_at is not None:
            return self.kill_sent_at + KILL_GRACE_SECONDS
        return self.deadline

    def tick(self, now: float) -> None:
        """Apply whichever deadline has passed."""
        if self.exit is None:
            if self.kill_sent_at is None and now >= self.deadline:
                self.request_kill("timeout")
            elif self.kill_sent_at is not None and now >= self.kill_sent_at + KILL_GRACE_SECONDS:
                self._lose_server()
        elif self._open and now >= self.exited_at + DRAIN_GRACE_SECONDS:
            for fd in list(self._open):
                self._close(fd)

    @property
    def done(self) -> bool:
        return self.exit is not None and not self._open

    def _close(self, fd: int) -> None:
        if self._open.pop(fd, None) is not None:
            self._selector.unregister(fd)
            os.close(fd)

    def abandon(self) -> None:
        """Release the pipes without waiting (the server was killed)."""
        if self.exit is None:
            self._lose_server()
        for fd in list(self._open):
            self._close(fd)
        self.inputs.close()

    def result(self) -> RunResult:
        assert self.exit is not None
        protocol_error = self.protocol_error
        if protocol_error is None and self.exit.clean and self._reader.pending:
            # The runner writes whole frames before it exits with 0; a process killed mid-write
            # leaves a partial frame legitimately, one that exited normally does not.
            protocol_error = "the channel ended in the middle of a frame"
        seen = _Observed(
            self.job,
            self.transcript,
            self.exit,
            bytes(self.output),
            self.output_total,
            self.exited_at - self.started,
            self.stop,
            protocol_error,
            self.inputs.modified(),
        )
        self.inputs.close()
        return _conclude(seen)


class SubprocessRunner:
    """Runs learner files in isolated child processes forked from warm fork servers.

    Use as a context manager (or call :meth:`close`): the servers live as long as the runner. Not
    thread-safe, and one ``run``/``run_many`` at a time.
    """

    def __init__(
        self,
        *,
        python: str | None = None,
        hidden_paths: Iterable[str | os.PathLike[str]] = (),
        servers: int = 1,
        isolation: str = "preferred",
        namespaces: bool | None = None,
        landlock: bool | None = None,
    ) -> None:
        """``python``: interpreter for the servers (default: this one). ``hidden_paths``: directories
        (e.g. a course root) that must not be on the learner's ``sys.path``; the grader's working
        directory always is. ``servers``: fork servers to start right away, in the background, so
        their start-up overlaps the caller's own work (0: start them on the first run). ``isolation``:
        one of :data:`ISOLATION_MODES`. ``namespaces``, ``landlock``: False to leave that layer out
        even where it works (tests of each layer alone); None decides by what the machine offers."""
        if isolation not in ISOLATION_MODES:
            raise ValueError(f"isolation must be one of {ISOLATION_MODES}, not {isolation!r}")
        from quizkit import isolation as layers

        self.isolation = isolation
        # Namespaces are tried where bubblewrap exists; a server that cannot start in them (no user
        # namespaces on this system) is replaced by one without, and the reason kept for the doctor.
        available = sys.platform.startswith("linux") and layers.bwrap_path() is not None
        self._namespaces = isolation != "off" and available and namespaces is not False
        self.namespaces_problem = "" if available else "bubblewrap (bwrap) is not installed"
        if namespaces is False:
            self.namespaces_problem = "not used (asked for)"
        self._landlock = isolation != "off" and landlock is not False and layers.landlock_abi() > 0
        layers.set_not_dumpable()
        self._python = python or sys.executable
        if not self._python:
            raise SandboxError("cannot find the Python interpreter to run the sandbox with")
        hidden = [os.fspath(path) for path in hidden_paths]
        with contextlib.suppress(FileNotFoundError):  # a deleted working directory hides nothing
            hidden.append(os.getcwd())
        self._hidden = hidden
        self._servers: list[_Server] = []
        self._next_id = 0
        self._busy = False
        self._finalizer = weakref.finalize(self, _shut_down, self._servers)
        if servers:
            self.start(servers)

    # -- lifecycle ------------------------------------------------------------------------

    def start(self, servers: int = 1) -> None:
        """Start ``servers`` fork servers now, without waiting for them (overlaps their start-up)."""
        if not self._finalizer.alive:
            raise RuntimeError("this SubprocessRunner is closed")
        for index, server in enumerate(self._servers):
            if not server.alive:
                self._servers[index] = self._new_server()
        while len(self._servers) < servers:
            self._servers.append(self._new_server())

    def _new_server(self) -> _Server:
        return _Server(self._python, self._hidden, namespaces=self._namespaces, landlock=self._landlock)

    def _ready(self, index: int) -> _Server:
        """Server ``index``, started if needed and ready; enforces the isolation mode."""
        server = self._servers[index]
        if not server.alive:
            server = self._servers[index] = self._new_server()
        try:
            server.wait_ready()
        except SandboxError as exc:
            if not server.namespaces:
                raise
            # bubblewrap could not set up the namespaces here: go on without them.
            self._namespaces = False
            self.namespaces_problem = str(exc).removeprefix("the sandbox stopped while starting ").strip("()")
            for other in self._servers:
                if other is not server and other.alive and other.namespaces:
                    other.kill()
            server = self._servers[index] = self._new_server()
            server.wait_ready()
        layers = self.layers()
        if self.isolation == "required" and layers is not None and not (layers.namespaces or layers.landlock):
            raise IsolationUnavailable(
                "refusing to grade: learner code cannot be isolated on this machine "
                f"(namespaces: {self.namespaces_problem or 'unavailable'}; Landlock: not supported by this kernel). "
                "Run 'quizkit doctor' for details, or pass --no-isolation to grade with process limits only."
            )
        return server

    def close(self) -> None:
        """Stop every fork server (idempotent)."""
        self._finalizer()

    def __enter__(self) -> SubprocessRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def supervisor_pids(self) -> tuple[int, ...]:
        """Process ids of the live fork servers, with bubblewrap's processes around them (for monitoring
        and tests): everything of the sandbox that is not a learner's process."""
        return tuple(pid for server in self._servers if server.alive for pid in server.pids())

    def layers(self) -> ActiveLayers | None:
        """The isolation layers the ready servers apply (None before any server is ready)."""
        for server in self._servers:
            if server.info is not None:
                return ActiveLayers(
                    namespaces=bool(server.info.get("namespaces")),
                    landlock=int(server.info.get("landlock") or 0),
                    privileges=str(server.info.get("privileges", "")),
                )
        return None

    def check_isolation(self) -> ActiveLayers:
        """Start a server if needed and return its layers; IsolationUnavailable where required ones are missing."""
        self.start(1)
        self._ready(0)
        layers = self.layers()
        assert layers is not None
        return layers

    @property
    def warning(self) -> str | None:
        """One line for the learner when learner code runs without OS isolation here; else None."""
        layers = self.layers()
        if self.isolation != "preferred" or layers is None or layers.namespaces or layers.landlock:
            return None
        return (
            "warning: your code runs with process limits only (no namespaces, no Landlock on this machine); "
            "'quizkit doctor' says why"
        )

    @property
    def privileges(self) -> str:
        """How learner children run here (uid and why), once a server has started; else ""."""
        for server in self._servers:
            if server.info is not None:
                return str(server.info.get("privileges", ""))
        return ""

    # -- running --------------------------------------------------------------------------

    def run(self, job: Job) -> RunResult:
        """Run one job and return its result."""
        results = self.run_many([job], workers=1)
        try:
            return next(results)[1]
        finally:
            results.close()

    def run_many(self, jobs: Iterable[Job], workers: int = 2) -> Iterator[tuple[Job, RunResult]]:
        """Run jobs, up to ``workers`` at a time, yielding (job, result) as each finishes.

        Results may come out of order. ``jobs`` is consumed lazily and nothing is kept per finished
        job, so memory stays flat however many jobs there are. Closing the iterator early kills
        the jobs still running.
        """
        if self._busy:
            raise RuntimeError("SubprocessRunner.run_many is already running (one at a time)")
        workers = max(1, int(workers))
        self.start(workers)
        self._busy = True
        selector = selectors.DefaultSelector()
        flights: dict[int, _Flight] = {}  # by server index
        idle = list(range(workers))
        pending = iter(jobs)
        exhausted = False
        try:
            while True:
                while idle and not exhausted:
                    job = next(pending, None)
                    if job is None:
                        exhausted = True
                        break
                    source = _read_source(job)
                    if isinstance(source, RunResult):
                        yield from self._yield_pausing(job, source, flights)
                        continue
                    index = idle.pop()
                    launching = time.monotonic()
                    flight = self._launch(index, job, source, selector)
                    # A server still starting up blocked us; the running jobs were not served meanwhile.
                    for other in flights.values():
                        other.postpone(time.monotonic() - launching)
                    flights[index] = flight
                if not flights:
                    return
                self._pump(selector, flights)
                for index, flight in list(flights.items()):
                    if flight.done:
                        del flights[index]
                        idle.append(index)
                        yield from self._yield_pausing(flight.job, flight.result(), flights)
        finally:
            try:
                self._stop_flights(selector, flights)
            finally:
                selector.close()
                self._busy = False

    @staticmethod
    def _yield_pausing(job: Job, result: RunResult, flights: dict[int, _Flight]) -> Iterator[tuple[Job, RunResult]]:
        """Yield one result; time the consumer spends before asking for the next is not charged
        to the jobs still running (their pipes were not being read meanwhile)."""
        paused_at = time.monotonic()
        yield job, result
        paused = time.monotonic() - paused_at
        for flight in flights.values():
            flight.postpone(paused)

    def _pump(self, selector: selectors.BaseSelector, flights: dict[int, _Flight]) -> None:
        """Wait for the next event or deadline and handle it."""
        now = time.monotonic()
        timeout = max(0.0, min(flight.next_deadline() for flight in flights.values()) - now)
        for key, _events in selector.select(timeout):
            key.data()
        now = time.monotonic()
        for flight in flights.values():
            flight.tick(now)

    def _launch(self, index: int, job: Job, source: bytes, selector: selectors.BaseSelector) -> _Flight:
        """Send ``job`` to server ``index`` (restarting it if it died) with fresh pipes."""
        header, payload, layout = self._request(job, source)
        for attempt in range(2):
            server = self._ready(index)
            inputs = _SharedInputs(layout)
            result_read, result_write = os.pipe()
            output_read, output_write = os.pipe()
            try:
                server.send(header, payload, (result_write, output_write, inputs.fd))
            except OSError:
                os.close(result_read)
                os.close(output_read)
                inputs.close()
                server.kill()
                if attempt:
                    raise SandboxError("the sandbox's fork server stopped accepting jobs") from None
                continue
            finally:
                os.close(result_write)
                os.close(output_write)
            return _Flight(server, job, header["id"], selector, result_read, output_read, inputs)
        raise AssertionError("unreachable")

    def _request(self, job: Job, source: bytes) -> tuple[wire.Header, bytes, wire.ArgumentLayout]:
        self._next_id += 1
        layout = wire.layout_arguments(job.calls)
        parts = [source, *(item.data for item in job.preload), layout.inline]
        filename = job.name
        if filename in ("", ".", "..") or "\x00" in filename:
            filename = "learner.py"
        limits = job.limits
        header = {
            "t": "job",
            "id": self._next_id,
            "function": job.function,
            "filename": filename,
            "source": len(source),
            "preload": [[item.name, len(item.data)] for item in job.preload],
            "args": layout.descriptors,
            "shared": len(layout.shared),
            "limits": {
                "cpu_seconds": limits.cpu_seconds,
                "memory_bytes": limits.memory_bytes,
                "file_bytes": limits.file_bytes,
                "processes": limits.processes,
            },
        }
        return header, b"".join(parts), layout

    def _stop_flights(self, selector: selectors.BaseSelector, flights: dict[int, _Flight]) -> None:
        """Kill the jobs still running (the consumer stopped early) and wait for their cleanup."""
        for flight in flights.values():
            flight.request_kill("timeout")
        deadline = time.monotonic() + KILL_GRACE_SECONDS + DRAIN_GRACE_SECONDS
        while any(not flight.done for flight in flights.values()) and time.monotonic() < deadline:
            self._pump(selector, flights)
        for flight in flights.values():
            flight.abandon()


def _shut_down(servers: list[_Server]) -> None:
    """Stop servers: close every socket first so they all exit in parallel, then wait."""
    for server in servers:
        if server.alive:
            server.sock.close()
    for server in servers:
        if server.alive:
            server.shutdown()
    servers.clear()
