"""The floors of batch grading: a fork per file from a warm numpy process, 2 at a time.

Bare (the default): each "file" is one fork of a process that has imported numpy; the child makes
one trivial numpy call, writes the result to a pipe and exits; the parent reads it and reaps the
child. No isolation, no limits, no judging: what the machine can do at best. ``quizkit grade``'s
budget is a share of these files per second, measured in the same run (benchmarks/all.py).

``--minimal``: the same, inside bubblewrap's namespaces as quizkit starts its fork servers, and each
child isolated as quizkit isolates a learner's process, in a few system calls and nothing else: a
session of its own, no new privileges, quizkit's Landlock ruleset (from its wire module: read
everywhere, write in the jobs folder),
rlimits, a fresh folder (made and removed by the parent), the user nobody when run as root. What
isolation itself costs.

``--isolated``: each "file" is a job of quizkit's own fork servers, isolated as ``grade`` isolates,
whose function makes the same one trivial call: no judging, no feedback. Between the minimal floor
and this one lies what quizkit's servers and runner cost per file; between this one and ``grade``,
what grading a file costs.

    python benchmarks/floor_fork.py [--files 1000] [--jobs 2] [--minimal | --isolated]
"""

from __future__ import annotations

import argparse
import os
import selectors
import time
from collections.abc import Callable


def files_per_second(files: int, jobs: int, isolate: Callable[[str], None] | None = None) -> float:
    """Forks ``files`` children, ``jobs`` at a time; returns children completed per second.

    ``isolate``: run in each child first, given a fresh folder of its own (removed after it).
    """
    import numpy as np

    folders: dict[int, str] = {}
    selector = selectors.DefaultSelector()
    started = time.perf_counter()
    launched = done = 0
    while done < files:
        while launched < files and len(selector.get_map()) < jobs:
            read_end, write_end = os.pipe()
            folder = _new_folder() if isolate else ""
            pid = os.fork()
            if pid == 0:
                os.close(read_end)
                if isolate:
                    isolate(folder)
                os.write(write_end, np.sign(np.arange(-1.0, 2.0)).tobytes())
                os._exit(0)
            os.close(write_end)
            folders[pid] = folder
            selector.register(read_end, selectors.EVENT_READ, pid)
            launched += 1
        for key, _ in selector.select():
            data = os.read(key.fd, 1 << 16)
            if not data:
                selector.unregister(key.fd)
                os.close(key.fd)
                os.waitpid(key.data, 0)
                if isolate:
                    os.rmdir(folders.pop(key.data))
                done += 1
    return files / (time.perf_counter() - started)


NOBODY = 65534
_JOBS = ""  # the folder the children may write in (made by minimal_files_per_second)


def _new_folder() -> str:
    import tempfile

    folder = tempfile.mkdtemp(dir=_JOBS)
    if os.geteuid() == 0:
        os.chown(folder, NOBODY, NOBODY)
    return folder


def minimal_files_per_second(files: int, jobs: int, numpy_dir: str, wire_dir: str) -> float:
    """:func:`files_per_second` with each child isolated in a few system calls (run inside bubblewrap),
    with the Landlock ruleset and system calls of quizkit's own wire module, bound in ``wire_dir``."""
    import resource
    import signal
    import sys
    import tempfile

    global _JOBS
    sys.path.append(numpy_dir)
    sys.path.insert(0, wire_dir)
    import wire  # quizkit.sandbox.wire, as bound inside the namespaces (source or bytecode)

    libc = wire.Libc()
    _JOBS = tempfile.mkdtemp(prefix="jobs-")
    if os.geteuid() == 0:
        os.chown(_JOBS, NOBODY, NOBODY)
    ruleset, _abi = libc.landlock_ruleset(["/"], [_JOBS])

    def isolate(folder: str) -> None:
        os.setsid()
        libc.prctl(wire.PR_SET_NO_NEW_PRIVS, 1)
        if ruleset >= 0:
            libc.syscall(wire.LANDLOCK_RESTRICT_SELF, ruleset, 0)
        for which, value in (
            (resource.RLIMIT_CPU, 2),
            (resource.RLIMIT_CORE, 0),
            (resource.RLIMIT_FSIZE, 16 << 20),
            (resource.RLIMIT_NPROC, 4096),
            (resource.RLIMIT_AS, 1 << 30),
        ):
            resource.setrlimit(which, (value, value))
        os.chdir(folder)
        if os.geteuid() == 0:
            os.setgroups([])
            os.setresgid(NOBODY, NOBODY, NOBODY)
            os.setresuid(NOBODY, NOBODY, NOBODY)
        libc.prctl(wire.PR_SET_PDEATHSIG, int(signal.SIGKILL))

    return files_per_second(files, jobs, isolate)


def _in_bubblewrap(files: int, jobs: int) -> float:
    """Run this script's minimal floor inside the namespaces quizkit starts its fork servers in.

    The servers' own launch is used, with quizkit's wire module bound where they find it; this
    script's text is handed to the interpreter in place of the wire script.
    """
    import subprocess
    import sys
    from pathlib import Path

    from quizkit import isolation
    from quizkit.sandbox import wire

    launch = isolation.launch(sys.executable, wire.__file__, namespaces=True)
    *command, inside = launch.argv  # the interpreter's last word: the wire script, as bound inside
    command += ["-c", Path(__file__).read_text(), "--inside", launch.numpy_dir, os.path.dirname(inside)]
    command += ["--files", str(files), "--jobs", str(jobs)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return float(output.split()[0])


def isolated_files_per_second(files: int, jobs: int) -> float:
    """``files`` trivial jobs through quizkit's fork servers, ``jobs`` at a time; jobs per second."""
    import numpy as np

    from quizkit.sandbox import Job, Source, SubprocessRunner

    source = Source("floor.py", b"import numpy as np\n\n\ndef floor(w):\n    return np.sign(w)\n")
    job = Job(source=source, function="floor", calls=((np.arange(-1.0, 2.0),),))
    runner = SubprocessRunner(isolation="required", servers=jobs)
    try:
        for _, result in runner.run_many([job] * jobs, workers=jobs):  # the servers are up and warm
            assert result.ok, result.message
        started = time.perf_counter()
        for _, result in runner.run_many((job for _ in range(files)), workers=jobs):
            assert result.ok, result.message
        return files / (time.perf_counter() - started)
    finally:
        runner.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    floor = parser.add_mutually_exclusive_group()
    floor.add_argument("--minimal", action="store_true", help="each child isolated in a few system calls")
    floor.add_argument("--isolated", action="store_true", help="through quizkit's isolated fork servers")
    floor.add_argument("--inside", nargs=2, metavar=("NUMPY_DIR", "WIRE_DIR"), help=argparse.SUPPRESS)  # in bwrap
    args = parser.parse_args()
    if args.inside:
        rate = minimal_files_per_second(args.files, args.jobs, *args.inside)
    elif args.minimal:
        rate = _in_bubblewrap(args.files, args.jobs)
    elif args.isolated:
        rate = isolated_files_per_second(args.files, args.jobs)
    else:
        rate = files_per_second(args.files, args.jobs)
    print(f"{rate:.1f} files/s")


if __name__ == "__main__":
    main()
