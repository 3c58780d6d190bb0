"""The sandbox's interface: jobs, limits, results and the Runner protocol (no processes here)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from quizkit.errors import QuizkitError
from quizkit.model import frozen

if TYPE_CHECKING:
    import numpy as np

MAX_SOURCE_BYTES = 1 << 20


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


@frozen(eq=True)
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


@frozen
class CallOutcome:
    """What one call of the learner's function did."""

    value: np.ndarray | None  # the return value as an array; None if it raised or was not numeric
    return_type: str  # type name of the returned object ("float", "ndarray", "NoneType"); "" if it raised
    error: str | None  # "ZeroDivisionError: division by zero" + traceback lines from the learner's file
    inputs_modified: tuple[bool, ...]  # per argument: changed in place by the call, as the parent measured
    seconds: float
    note: str | None = None  # why a returned array is not usable (ndarray subclass, object dtype)


@frozen
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


@frozen(eq=True)
class ActiveLayers:
    """The OS isolation a fork server applies to its children."""

    namespaces: bool  # bubblewrap: private file system, pid, network and ipc namespaces
    landlock: int  # the Landlock ABI applied to each child; 0: none
    privileges: str  # how children run (uid), in words


@frozen(eq=True)
class Source:
    """A learner file as bytes already read, with the name it is shown and compiled under.

    Batch grading reads each file of an untrusted folder once, safely, and runs exactly those bytes;
    the sandbox then never touches the path again.
    """

    name: str
    data: bytes


@frozen
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
        calls = self.calls
        if type(calls) is not tuple or any(type(call) is not tuple for call in calls):
            # (A tuple of tuples is kept as it is: a plan hands every job the same one, which lets
            # the runner lay its arguments out once.)
            object.__setattr__(self, "calls", tuple(tuple(call) for call in calls))
        object.__setattr__(self, "preload", tuple(self.preload))

    @property
    def name(self) -> str:
        """The file name learners see in messages."""
        return self.source.name


class Runner(Protocol):
    """Runs jobs; the seam between grading logic and how (and how safely) code is executed."""

    def run(self, job: Job) -> RunResult: ...

    def run_many(self, jobs: Iterable[Job], workers: int = 2) -> Iterator[tuple[Job, RunResult]]: ...
