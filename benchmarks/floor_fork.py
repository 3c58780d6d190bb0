"""The floors of batch grading: a fork per file from a warm numpy process, 2 at a time.

Bare (the default): each "file" is one fork of a process that has imported numpy; the child makes
one trivial numpy call, writes the result to a pipe and exits; the parent reads it and reaps the
child. No isolation, no limits, no judging: what the machine can do at best. ``quizkit grade``'s
budget is a share of these files per second, measured in the same run (benchmarks/all.py).

``--minimal``: the same, inside bubblewrap's namespaces as quizkit starts its fork servers, and each
child isolated as quizkit isolates a learner's process, in a few system calls and nothing else: a
session of its own, no new privileges, the Landlock ruleset (read everywhere, write in its folder),
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
from typing import Any


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


def minimal_files_per_second(files: int, jobs: int, numpy_dir: str) -> float:
    """:func:`files_per_second` with each child isolated in a few system calls (run inside bubblewrap)."""
    import ctypes
    import resource
    import sys
    import tempfile

    global _JOBS
    sys.path.append(numpy_dir)
    libc = ctypes.CDLL(None, use_errno=True)
    _JOBS = tempfile.mkdtemp(prefix="jobs-")
    if os.geteuid() == 0:
        os.chown(_JOBS, NOBODY, NOBODY)
    ruleset = _landlock_ruleset(libc, _JOBS)

    def isolate(folder: str) -> None:
        os.setsid()
        libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
        if ruleset >= 0:
            libc.syscall(446, ruleset, 0)  # landlock_restrict_self
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
        libc.prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL

    return files_per_second(files, jobs, isolate)


def _landlock_ruleset(libc: Any, writable: str) -> int:
    """A Landlock ruleset: read and execute everywhere, everything in ``writable``; -1 without Landlock."""
    import ctypes

    class RulesetAttr(ctypes.Structure):
        _fields_ = [("handled_access_fs", ctypes.c_uint64)]

    class PathBeneath(ctypes.Structure):
        _pack_ = 1
        _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]

    if libc.syscall(444, None, 0, 1) < 1:  # landlock_create_ruleset(VERSION): no Landlock
        return -1
    every_access = (1 << 13) - 1  # ABI 1 to 3's file-system rights
    read = 1 | 4 | 8  # execute, read_file, read_dir
    ruleset = libc.syscall(444, ctypes.byref(RulesetAttr(every_access)), ctypes.sizeof(RulesetAttr), 0)
    for path, access in (("/", read), (writable, every_access)):
        fd = os.open(path, os.O_PATH)
        libc.syscall(445, ruleset, 1, ctypes.byref(PathBeneath(access, fd)), 0)  # landlock_add_rule
        os.close(fd)
    return int(ruleset)


def _in_bubblewrap(files: int, jobs: int) -> float:
    """Run this script's minimal floor inside the namespaces quizkit starts its fork servers in."""
    import subprocess
    import sys

    from quizkit import isolation

    launch = isolation.launch(sys.executable, __file__, namespaces=True)
    command = [*launch.argv, "--inside", launch.numpy_dir, "--files", str(files), "--jobs", str(jobs)]
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
    floor.add_argument("--inside", metavar="NUMPY_DIR", help=argparse.SUPPRESS)  # the minimal floor, in bwrap
    args = parser.parse_args()
    if args.inside:
        rate = minimal_files_per_second(args.files, args.jobs, args.inside)
    elif args.minimal:
        rate = _in_bubblewrap(args.files, args.jobs)
    elif args.isolated:
        rate = isolated_files_per_second(args.files, args.jobs)
    else:
        rate = files_per_second(args.files, args.jobs)
    print(f"{rate:.1f} files/s")


if __name__ == "__main__":
    main()
