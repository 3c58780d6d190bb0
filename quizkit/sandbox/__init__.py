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

    grader ──socketpair──▶ bwrap ─▶ fork server (python -I -S, numpy imported once, child subreaper)
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
* **Fork server.** Each worker has one server, started from ``python -I -S`` (no PYTHON* variables, no
  cwd or script dir on ``sys.path``, no ``site``: no ``.pth`` file of the interpreter's runs in it,
  and numpy is the grader's own) with a scrubbed environment and ``PR_SET_DUMPABLE 0`` (as has
  the grader: no ptrace, no ``/proc/PID/mem``). It imports numpy and nothing of quizkit or of a
  course; ``import quizkit``/``import solutions`` are refused. Per job it forks a child, which is why
  a job costs a few milliseconds rather than a Python start-up. The grader keeps the next job queued
  at each server, so a server starts it as soon as the last one is cleaned up, without a round trip
  through a grader that is busy judging; still one learner process per server at a time.
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
  folder and whatever else the job put in the server's jobs folder, which it may write to
  (iteratively: a tree deeper than PATH_MAX or the recursion limit is no problem) and, inside
  the namespaces, everything else in its private ``/tmp`` and ``/dev/shm`` and every System V IPC
  object. Only then does it report the job as ended.
* **Privileges.** Running as root, the child drops to uid/gid 65534 (nobody) after setup, with
  ``PR_SET_NO_NEW_PRIVS``, so RLIMIT_NPROC (which root ignores) bounds fork bombs. Not root: the
  child keeps the user's uid inside a user namespace, and RLIMIT_NPROC counts the user's processes
  as the grader saw them. Without namespaces, as root, where the interpreter is private to root
  (``/root/.pyenv``), the child keeps CAP_DAC_READ_SEARCH to import it; Landlock still confines what
  it may read.
* **Channel.** Results travel on a dedicated pipe (fd 3 in the child), never on stdout: frames of
  length-prefixed JSON plus raw array bytes whose dtype and shape the JSON states (read with
  ``numpy.frombuffer``; never pickle). The
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

import os as _os

from quizkit.sandbox.api import (
    ISOLATION_MODES,
    MAX_SOURCE_BYTES,
    ActiveLayers,
    CallOutcome,
    IsolationUnavailable,
    Job,
    Limits,
    Runner,
    RunResult,
    RunStatus,
    SandboxError,
    Source,
)
from quizkit.sandbox.forked import (
    DRAIN_GRACE_SECONDS,
    KILL_GRACE_SECONDS,
    SERVER_START_TIMEOUT_SECONDS,
    SubprocessRunner,
)
from quizkit.sandbox.inprocess import InProcessRunner

__all__ = [
    "DRAIN_GRACE_SECONDS",
    "ISOLATION_MODES",
    "KILL_GRACE_SECONDS",
    "MAX_SOURCE_BYTES",
    "SERVER_START_TIMEOUT_SECONDS",
    "ActiveLayers",
    "CallOutcome",
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
    "prestart",
    "prestarted",
]


# ---------------------------------------------------------------------------------------------
# A runner started before the command that uses it (see quizkit.console)
# ---------------------------------------------------------------------------------------------

_prestarted: dict[str, SubprocessRunner] = {}


def prestart(isolation: str) -> None:
    """Start a runner now, for :func:`prestarted` to hand out later in this process. A runner that
    cannot start is forgotten: the command then makes its own and reports why it failed."""
    try:
        _prestarted[isolation] = SubprocessRunner(isolation=isolation)
    except Exception:  # reported again, properly, by the command's own attempt
        _prestarted.pop(isolation, None)


def prestarted(isolation: str) -> SubprocessRunner:
    """The runner :func:`prestart` started with these settings in this working directory, else a new one.

    A runner's servers hide the working directory from the learner's ``sys.path``, so a runner started
    elsewhere (the directory changed in between) is closed and a new one made.
    """
    runner = _prestarted.pop(isolation, None)
    if runner is not None:
        try:
            same_place = _os.getcwd() in runner.hidden_paths
        except FileNotFoundError:
            same_place = False
        if same_place:
            return runner
        runner.close()
    return SubprocessRunner(isolation=isolation)
