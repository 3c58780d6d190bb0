"""Sandbox speed: single-run latency (cold and warm) and batch throughput, against the budgets.

Budgets (docs: PRODUCT.md, "Speed budget"): ``quizkit submit`` of one file under 0.5 s wall in
total, Python start-up included; batch grading at least 50 files/s on 2 cores with every file still
isolated, and memory flat in the number of files.

Each measurement that needs a clean process (cold start, peak RSS) runs in a fresh interpreter, so
``ru_maxrss`` of one batch size is not inflated by another. Prints figures and ratios; asserts
nothing.

    python benchmarks/bench_sandbox.py [--calls 8] [--warm-runs 50]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

SUBMIT_BUDGET_SECONDS = 0.5
BATCH_BUDGET_FILES_PER_SECOND = 50.0
BATCH_SIZES = (200, 1000)

LEARNER_FILE = textwrap.dedent(
    """
    import numpy as np


    def soft_threshold(w, threshold):
        return np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)
    """
)

# Shared by the child interpreters this script starts: builds a job for one learner file.
JOB_CODE = textwrap.dedent(
    """
    import numpy as np
    from quizkit.sandbox import Job, Limits

    def make_job(path, calls):
        rng = np.random.default_rng(0)
        args = tuple((rng.normal(size=(5,) if i % 2 else (3, 4)), 0.5) for i in range(calls - 1)) + ((1.5, 0.5),)
        return Job(source=path, function="soft_threshold", calls=args, limits=Limits())
    """
)

# As `quizkit submit` does: create the runner first, so the fork server boots while the grader
# imports numpy and prepares the job.
COLD_CODE = textwrap.dedent(
    """
    import sys, time
    started = time.perf_counter()
    from pathlib import Path
    from quizkit.sandbox import SubprocessRunner

    with SubprocessRunner() as runner:
        exec(JOB_CODE)
        result = runner.run(make_job(Path(sys.argv[1]), int(sys.argv[2])))
        finished = time.perf_counter()
    assert result.ok, result.message
    print(finished - started)
    """
).replace("exec(JOB_CODE)", "exec(" + repr(JOB_CODE) + ")")

BATCH_CODE = JOB_CODE + textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    from quizkit.sandbox import SubprocessRunner

    directory, count, calls = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    paths = sorted(directory.glob("*.py"))[:count]
    jobs = (make_job(path, calls) for path in paths)  # lazy, as `quizkit grade` feeds them
    started = time.perf_counter()
    failures = 0
    with SubprocessRunner() as runner:
        for _job, result in runner.run_many(jobs, workers=2):
            failures += not result.ok
        finished = time.perf_counter()
    print(json.dumps({
        "files": len(paths), "seconds": finished - started, "failures": failures,
        "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }))
    """
)


def run_python(code: str, *args: object) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, check=True
    )
    return completed.stdout.strip()


def measure_cold(path: Path, calls: int, repeats: int = 5) -> tuple[float, float]:
    """(median seconds inside the process, median total wall including interpreter start-up)."""
    inside, total = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        inside.append(float(run_python(COLD_CODE, path, calls)))
        total.append(time.perf_counter() - started)
    return statistics.median(inside), statistics.median(total)


def measure_warm(path: Path, calls: int, runs: int) -> tuple[float, float]:
    """(median, 95th percentile) seconds of one run on an already started runner."""
    namespace: dict[str, object] = {}
    exec(JOB_CODE, namespace)
    make_job = namespace["make_job"]
    from quizkit.sandbox import SubprocessRunner

    times = []
    with SubprocessRunner() as runner:
        runner.run(make_job(path, calls))  # starts the server
        for _ in range(runs):
            started = time.perf_counter()
            result = runner.run(make_job(path, calls))
            times.append(time.perf_counter() - started)
            assert result.ok, result.message
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def measure_batch(directory: Path, count: int, calls: int) -> dict[str, float]:
    return json.loads(run_python(BATCH_CODE, directory, count, calls))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=8, help="calls per learner file (default 8)")
    parser.add_argument("--warm-runs", type=int, default=50)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="quizkit-bench-") as scratch:
        directory = Path(scratch)
        for index in range(max(BATCH_SIZES)):
            (directory / f"learner{index:05d}.py").write_text(LEARNER_FILE)
        single = directory / "learner00000.py"

        cold_inside, cold_total = measure_cold(single, options.calls)
        warm_median, warm_p95 = measure_warm(single, options.calls, options.warm_runs)
        batches = {count: measure_batch(directory, count, options.calls) for count in BATCH_SIZES}

    print(f"sandbox benchmark ({options.calls} calls per file, workers=2)")
    print(f"  single run, cold (runner created, numpy imported, run), in process : {cold_inside * 1000:7.1f} ms")
    print(
        f"  single run, cold, incl. Python start-up and exit                    : {cold_total * 1000:7.1f} ms"
        f"   budget {SUBMIT_BUDGET_SECONDS * 1000:.0f} ms for all of `quizkit submit`"
        f" -> uses {cold_total / SUBMIT_BUDGET_SECONDS:.0%}"
    )
    print(f"  single run, warm: median {warm_median * 1000:.1f} ms, p95 {warm_p95 * 1000:.1f} ms")
    for count, batch in batches.items():
        rate = batch["files"] / batch["seconds"]
        print(
            f"  batch {count:5d} files: {batch['seconds']:6.2f} s = {rate:6.1f} files/s"
            f"   budget {BATCH_BUDGET_FILES_PER_SECOND:.0f} files/s -> x{rate / BATCH_BUDGET_FILES_PER_SECOND:.1f}"
            f"   failures {batch['failures']:.0f}   parent peak RSS {batch['max_rss_kib'] / 1024:.1f} MiB"
        )
    small, large = (batches[count]["max_rss_kib"] for count in BATCH_SIZES)
    print(f"  peak RSS {BATCH_SIZES[1]} vs {BATCH_SIZES[0]} files: x{large / small:.2f} (flat is x1.00)")


if __name__ == "__main__":
    main()
