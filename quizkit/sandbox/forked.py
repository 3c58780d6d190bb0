"""The real runner: warm fork servers (in bubblewrap's namespaces where possible) and their event loop."""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
import weakref
from collections.abc import Callable, Generator, Iterable, Iterator

from quizkit.sandbox import wire
from quizkit.sandbox.api import (
    ISOLATION_MODES,
    ActiveLayers,
    IsolationUnavailable,
    Job,
    RunResult,
    RunStatus,
    SandboxError,
)
from quizkit.sandbox.transcript import (
    _conclude,
    _Exit,
    _Observed,
    _read_source,
    _Transcript,
)

SERVER_START_TIMEOUT_SECONDS = 60.0
# After asking the server to kill a job, how long to wait before killing the server itself.
KILL_GRACE_SECONDS = 2.0
# After a job's processes are gone, how long its pipes may take to report end of file. Only a pipe
# end smuggled to another process (another job's) can delay it; that process is killed soon anyway.
DRAIN_GRACE_SECONDS = 0.5
# Argument layouts a runner keeps (one per exercise plan in use).
MAX_KEPT_LAYOUTS = 32
# Jobs sent to one fork server at a time: the one it runs and the next, which it starts as soon as
# the first has ended and been cleaned up, without waiting for the grader. Still one learner process
# per server at a time.
QUEUE_DEPTH = 2


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
        command += ["--base-tasks", str(wire.count_tasks(wire.NOBODY if os.geteuid() == 0 else os.getuid()))]
        environment = {
            **wire.CHILD_ENV,
            "HOME": "/nonexistent",
            "TMPDIR": "/tmp" if namespaces else tempfile.gettempdir(),
        }
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
                why = self.startup_errors()  # read before kill() closes the file it is in
                self.kill()
                why = why or f"exit code {self.process.returncode}"
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
        jobs_root = self.info.get("jobs_root") if self.info is not None else None
        if (
            not self.namespaces
            and isinstance(jobs_root, str)
            and os.path.basename(jobs_root).startswith("quizkit-jobs-")
        ):
            wire.remove_tree(jobs_root)  # a killed server could not remove its jobs folder itself
        self.sock.close()
        self._errors.close()
        self.alive = False

    def shutdown(self) -> None:
        """Ask the server to exit (end of stream on its socket); kill it if it does not."""
        self.sock.close()
        if not _wait_for_exit(self.process, KILL_GRACE_SECONDS):
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


class _ServerEvents:
    """One server's control socket during a run_many: hands each message to the flight it names.

    A server runs its jobs one after another, each in a fresh child, and the next job may already
    wait in its queue (:data:`QUEUE_DEPTH`), so that it never idles while the grader is busy.
    """

    def __init__(self, server: _Server, selector: selectors.BaseSelector) -> None:
        self.server = server
        self.flights: dict[int, _Flight] = {}  # by job id: the jobs this server has not ended yet
        self._selector = selector
        selector.register(server.sock, selectors.EVENT_READ, self._on_readable)
        self._registered = True

    def add(self, flight: _Flight) -> None:
        self.flights[flight.job_id] = flight
        for message in self.server.backlog:
            self._dispatch(message)
        self.server.backlog.clear()

    def _on_readable(self) -> None:
        try:
            messages = self.server.receive()
        except (_ServerGone, wire.ProtocolError):
            self.lose()
            return
        for message in messages:
            self._dispatch(message)

    def _dispatch(self, message: wire.Header) -> None:
        ident = message.get("id")
        flight = self.flights.get(ident) if type(ident) is int else None
        if flight is None:
            return  # about a job that was abandoned, or a kill that came too late: nothing to do
        if not flight.on_message(message):  # a server that sends nonsense cannot be trusted further
            self.lose()
        elif flight.exit is not None:
            del self.flights[flight.job_id]

    def lose(self) -> None:
        """The server died or stopped answering: kill it; every job it had is lost."""
        self.close()
        lost = list(self.flights.values())
        self.flights.clear()
        for flight in lost:
            flight.lose_server()
        self.server.kill()

    def close(self) -> None:
        """Stop watching the socket (before it is closed, so that its number can be reused)."""
        if self._registered:
            self._selector.unregister(self.server.sock)
            self._registered = False


class _Flight:
    """One job in progress on one server: its pipes, its deadline and what has been seen so far."""

    def __init__(
        self,
        events: _ServerEvents,
        job: Job,
        job_id: int,
        selector: selectors.BaseSelector,
        result_fd: int,
        output_fd: int,
        inputs: _SharedInputs,
    ) -> None:
        self.events, self.server, self.job, self.job_id = events, events.server, job, job_id
        self.inputs = inputs
        self._selector = selector
        self.started = time.monotonic()
        # Queued behind another job of its server: the clock starts when the server starts it.
        self.queued = bool(events.flights)
        self.deadline = (
            self.started
            + job.limits.wall_seconds * (1 + self.queued * QUEUE_DEPTH)
            + self.queued * (KILL_GRACE_SECONDS + DRAIN_GRACE_SECONDS)
        )
        self.transcript = _Transcript(job.calls)
        self._reader = wire.FrameReader(wire.MAX_RESULT_PAYLOAD)
        self.output = bytearray()
        self.output_total = 0
        self.pid: int | None = None
        self.workdir: str | None = None  # the job's temporary directory, which its server removes
        self.exit: _Exit | None = None
        self.exited_at = 0.0
        self.stop: RunStatus | None = None  # why the grader stops the run (TIMEOUT, OUTPUT_LIMIT, PROTOCOL_ERROR)
        self.protocol_error: str | None = None
        self.kill_sent_at: float | None = None
        self._open: dict[int, Callable[[], None]] = {}
        for fd, handler in ((result_fd, self._on_result), (output_fd, self._on_output)):
            os.set_blocking(fd, False)
            selector.register(fd, selectors.EVENT_READ, handler)
            self._open[fd] = handler
        self._result_fd, self._output_fd = result_fd, output_fd
        events.add(self)

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
            self.request_kill(RunStatus.PROTOCOL_ERROR)

    def _on_output(self) -> None:
        data = self._read(self._output_fd)
        if not data:
            return
        self.output_total += len(data)
        room = self.job.limits.output_bytes - len(self.output)
        if room > 0:
            self.output += data[:room]
        if self.output_total > self.job.limits.output_abort_bytes:
            self.request_kill(RunStatus.OUTPUT_LIMIT)

    def on_message(self, message: wire.Header) -> bool:
        """Take the server's news of this job; False if the message makes no sense."""
        if self.exit is not None:
            return True
        try:
            if message["t"] == "started":
                self.pid = int(message["pid"])
                self.workdir = str(message["workdir"])
                if self.queued:
                    self.queued = False
                    self.started = time.monotonic()
                    self.deadline = self.started + self.job.limits.wall_seconds
            elif message["t"] == "exited":
                self.exit = _Exit(message["code"], message["signal"], float(message["cpu"]))
                self.exited_at = time.monotonic()
        except (KeyError, TypeError, ValueError):
            return False
        return True

    # -- control --------------------------------------------------------------------------

    def request_kill(self, reason: RunStatus) -> None:
        """Stop the run (first reason wins); the server kills the child's whole process group."""
        if self.stop is None:
            self.stop = reason
        if self.kill_sent_at is None and self.exit is None:
            self.kill_sent_at = time.monotonic()
            try:
                self.server.send({"t": "kill", "id": self.job_id})
            except OSError:
                self.events.lose()

    def lose_server(self) -> None:
        """The server died or stopped answering (see :meth:`_ServerEvents.lose`): this job ends as
        lost, and its learner's group is killed, best effort."""
        if self.exit is None:
            self.exit = _Exit(supervisor_lost=True)
            self.exited_at = time.monotonic()
        self.server.kill()
        if self.pid is not None and not self.server.namespaces:
            # Already gone, or (a uid we cannot signal) no longer ours to kill. Inside namespaces the
            # pid is the server's own pid namespace's, meaningless here (it could name any process
            # group of this machine); the kernel killed every process of that namespace with it.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
        if self.workdir is not None and not self.server.namespaces:
            # The server that would have removed it is gone. (Inside namespaces the directory was on
            # the server's private tmpfs, which vanished with it; its path means nothing here.)
            wire.remove_tree(self.workdir)

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
                self.request_kill(RunStatus.TIMEOUT)
            elif self.kill_sent_at is not None and now >= self.kill_sent_at + KILL_GRACE_SECONDS:
                self.events.lose()
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
            self.events.lose()
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
        # Layouts of read-only call arguments, by the identity of the calls tuple (kept alive here):
        # a batch sends the same plan's arguments with every file.
        self._layouts: dict[int, tuple[tuple[tuple[object, ...], ...], wire.ArgumentLayout]] = {}
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

    def abandon(self) -> None:
        """Let go of every fork server without waiting for it: each ends by itself once its control
        socket closes (and, inside namespaces, with its parent). For a process about to exit."""
        for server in self._servers:
            if server.alive:
                server.sock.close()
                server.alive = False
        self._finalizer.detach()

    def __enter__(self) -> SubprocessRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def hidden_paths(self) -> tuple[str, ...]:
        """The directories kept off the learner's ``sys.path`` (the working directory among them)."""
        return tuple(self._hidden)

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

    def run_many(self, jobs: Iterable[Job], workers: int = 2) -> Generator[tuple[Job, RunResult], None, None]:
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
        flights: dict[int, _Flight] = {}  # by job id
        events: dict[int, _ServerEvents] = {}  # by server index
        pending = iter(jobs)
        exhausted = False
        finished: list[tuple[Job, RunResult]] = []
        try:
            while True:
                # Servers get their next jobs before the finished results go to the consumer, so
                # that judging one file overlaps running the next instead of holding a server up.
                while not exhausted and (index := self._free_server(events, workers)) is not None:
                    job = next(pending, None)
                    if job is None:
                        exhausted = True
                        break
                    source = _read_source(job)
                    if isinstance(source, RunResult):
                        yield from self._yield_pausing(job, source, flights)
                        continue
                    launching = time.monotonic()
                    flight = self._launch(index, job, source, selector, events)
                    # A server still starting up blocked us; the running jobs were not served meanwhile.
                    for other in flights.values():
                        other.postpone(time.monotonic() - launching)
                    flights[flight.job_id] = flight
                while finished:
                    job, result = finished.pop(0)
                    yield from self._yield_pausing(job, result, flights)
                if not flights:
                    return
                self._pump(selector, flights)
                for ident, flight in list(flights.items()):
                    if flight.done:
                        del flights[ident]
                        finished.append((flight.job, flight.result()))
        finally:
            try:
                self._stop_flights(selector, flights)
            finally:
                for watcher in events.values():
                    watcher.close()
                selector.close()
                self._busy = False

    @staticmethod
    def _free_server(events: dict[int, _ServerEvents], workers: int) -> int | None:
        """The index of the server with the fewest unfinished jobs, if it has room for another."""
        index = min(range(workers), key=lambda i: len(events[i].flights) if i in events else 0)
        return index if index not in events or len(events[index].flights) < QUEUE_DEPTH else None

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

    def _launch(
        self, index: int, job: Job, source: bytes, selector: selectors.BaseSelector, events: dict[int, _ServerEvents]
    ) -> _Flight:
        """Send ``job`` to server ``index`` (restarting it if it died) with fresh pipes."""
        header, payload, layout = self._request(job, source)
        for attempt in range(2):
            server = self._ready(index)
            watcher = events.get(index)
            if watcher is None or watcher.server is not server:
                if watcher is not None:
                    watcher.close()
                watcher = events[index] = _ServerEvents(server, selector)
            inputs = _SharedInputs(layout)
            result_read, result_write = os.pipe()
            output_read, output_write = os.pipe()
            try:
                server.send(header, payload, (result_write, output_write, inputs.fd))
            except OSError:
                os.close(result_read)
                os.close(output_read)
                inputs.close()
                watcher.lose()  # a job it was running is lost with it
                if attempt:
                    raise SandboxError("the sandbox's fork server stopped accepting jobs") from None
                continue
            finally:
                os.close(result_write)
                os.close(output_write)
            return _Flight(watcher, job, header["id"], selector, result_read, output_read, inputs)
        raise AssertionError("unreachable")

    def _request(self, job: Job, source: bytes) -> tuple[wire.Header, bytes, wire.ArgumentLayout]:
        self._next_id += 1
        layout = self._layout(job.calls)
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

    def _layout(self, calls: tuple[tuple[object, ...], ...]) -> wire.ArgumentLayout:
        known = self._layouts.get(id(calls))
        if known is not None and known[0] is calls:
            return known[1]
        layout = wire.layout_arguments(calls)
        if wire.frozen_arguments(calls):
            if len(self._layouts) >= MAX_KEPT_LAYOUTS:
                self._layouts.clear()
            self._layouts[id(calls)] = (calls, layout)
        return layout

    def _stop_flights(self, selector: selectors.BaseSelector, flights: dict[int, _Flight]) -> None:
        """Kill the jobs still running (the consumer stopped early) and wait for their cleanup."""
        for flight in flights.values():
            flight.request_kill(RunStatus.TIMEOUT)
        deadline = time.monotonic() + KILL_GRACE_SECONDS + DRAIN_GRACE_SECONDS
        while any(not flight.done for flight in flights.values()) and time.monotonic() < deadline:
            self._pump(selector, flights)
        for flight in flights.values():
            flight.abandon()


def _wait_for_exit(process: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait for ``process`` to end, at most ``timeout`` s; False if it is still running.

    Woken by the kernel the moment it exits (a pidfd), where ``Popen.wait(timeout)`` polls with
    sleeps that double up to 50 ms, which made every close of a runner cost tens of milliseconds.
    """
    import select

    try:
        pidfd = os.pidfd_open(process.pid)
    except (AttributeError, OSError):  # no pidfds (kernel before 5.3), or already reaped
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True
    try:
        if not select.select([pidfd], [], [], timeout)[0]:
            return False
    finally:
        os.close(pidfd)
    process.wait()
    return True


def _shut_down(servers: list[_Server]) -> None:
    """Stop servers: close every socket first so they all exit in parallel, then wait."""
    for server in servers:
        if server.alive:
            server.sock.close()
    for server in servers:
        if server.alive:
            server.shutdown()
    servers.clear()
