"""The floors of batch grading: a fork per file from a warm numpy process, 2 at a time.

Bare (the default): each "file" is one fork of a process that has imported numpy; the child makes
one trivial numpy call, writes the result to a pipe and exits; the parent reads it and reaps the
child. No isolation, no limits, no judging: what the machine can do at best. ``quizkit grade``'s
budget is a share of these files per second, measured in the same run (benchmarks/all.py).

``--isolated``: each "file" is a job of quizkit's own fork servers, isolated as ``grade`` isolates
(namespaces, Landlock, limits, another user where it can), whose function makes the same one
trivial call: no judging, no feedback. Between the two floors lies what isolation costs; between
this one and ``grade``, what grading a file costs.

    python benchmarks/floor_fork.py [--files 1000] [--jobs 2] [--isolated]
"""

from __future__ import annotations

import argparse
import os
import selectors
import time


def files_per_second(files: int, jobs: int) -> float:
    """Forks ``files`` children, ``jobs`` at a time; returns children completed per second."""
    import numpy as np

    selector = selectors.DefaultSelector()
    started = time.perf_counter()
    launched = done = 0
    while done < files:
        while launched < files and len(selector.get_map()) < jobs:
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read_end)
                os.write(write_end, np.sign(np.arange(-1.0, 2.0)).tobytes())
                os._exit(0)
            os.close(write_end)
            selector.register(read_end, selectors.EVENT_READ, pid)
            launched += 1
        for key, _ in selector.select():
            data = os.read(key.fd, 1 << 16)
            if not data:
                selector.unregister(key.fd)
                os.close(key.fd)
                os.waitpid(key.data, 0)
                done += 1
    return files / (time.perf_counter() - started)


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
    parser.add_argument("--isolated", action="store_true", help="through quizkit's isolated fork servers")
    args = parser.parse_args()
    rate = (isolated_files_per_second if args.isolated else files_per_second)(args.files, args.jobs)
    print(f"{rate:.1f} files/s")


if __name__ == "__main__":
    main()
