"""The in-process runner, for trusted code only (reference solutions, fast tests of judging logic)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from quizkit.sandbox import wire
from quizkit.sandbox.api import Job, RunResult
from quizkit.sandbox.transcript import (
    _conclude,
    _Exit,
    _Observed,
    _read_source,
    _Transcript,
)


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
        with contextlib.redirect_stdout(capture), contextlib.redirect_stderr(capture):
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

    def abandon(self) -> None:
        """Nothing to let go of; present so both runners can be used the same way."""

    def __enter__(self) -> InProcessRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
