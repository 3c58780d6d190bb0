"""Shared by both runners: reading a job's source, checking result frames, concluding a run."""

from __future__ import annotations

import dataclasses
import math
import signal
from collections.abc import Sequence
from dataclasses import dataclass

from quizkit.model import frozen
from quizkit.sandbox import wire
from quizkit.sandbox.api import (
    MAX_SOURCE_BYTES,
    CallOutcome,
    Job,
    Limits,
    RunResult,
    RunStatus,
    Source,
)


def _read_source(job: Job) -> bytes | RunResult:
    """The learner file's bytes, or the RunResult that ends the job before any process starts."""
    name = job.name
    if isinstance(job.source, Source):
        source = job.source.data
        if len(source) > MAX_SOURCE_BYTES:
            return _early(
                RunStatus.UNREADABLE, f"{name} is {_size(len(source))}; the limit is {_size(MAX_SOURCE_BYTES)}"
            )
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
            _expect_keys(header, _LOADED_KEYS)
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
        _expect_keys(header, _CALL_KEYS)
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
        _expect_keys(header, _END_KEYS)
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
        if status == RunStatus.OK and (not self.loaded or len(self.outcomes) != len(self._arities)):
            raise wire.ProtocolError(f"success claimed after {len(self.outcomes)} of {len(self._arities)} calls")
        self.end = header


_LOADED_KEYS = frozenset({"t", "payload"})
_CALL_KEYS = frozenset({"t", "i", "type", "error", "note", "reshaped", "seconds", "array", "payload"})
_END_KEYS = frozenset({"t", "status", "reason", "detail", "defined", "payload"})


def _expect_keys(header: wire.Header, keys: frozenset[str]) -> None:
    if header.keys() != keys:
        raise wire.ProtocolError(f"a '{header['t'][:40]}' frame with unexpected fields")


def _checked_text(value: object, limit: int, what: str) -> str:
    if type(value) is not str or len(value) > limit:
        raise wire.ProtocolError(f"a malformed {what}")
    return value


def _checked_optional_text(value: object, limit: int, what: str) -> str | None:
    return None if value is None else _checked_text(value, limit, what)


@frozen(eq=True)
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
    stop: RunStatus | None = None  # why the grader stopped the run: TIMEOUT, OUTPUT_LIMIT or PROTOCOL_ERROR
    protocol_error: str | None = None
    modified: Sequence[tuple[bool, ...]] = ()  # per call, per argument, as measured by the parent


def _conclude(seen: _Observed) -> RunResult:
    status, message, detail = _verdict(seen)
    limit = seen.job.limits.output_bytes
    outcomes = tuple(
        dataclasses.replace(
            outcome,
            inputs_modified=tuple(a or b for a, b in zip(outcome.inputs_modified, seen.modified[index], strict=False)),
        )
        if index < len(seen.modified) and any(seen.modified[index])
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
    if seen.stop is RunStatus.TIMEOUT:
        return RunStatus.TIMEOUT, f"your code ran longer than {limits.wall_seconds:g} s {phase} (an infinite loop?)", ""
    if seen.stop is RunStatus.OUTPUT_LIMIT:
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
        import difflib  # only for this message: every submission would pay its import

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
