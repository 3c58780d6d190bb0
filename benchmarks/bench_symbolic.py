"""Speed of symbolic answer checking against the budget in PRODUCT.md.

Budget: warm check median ≤ 20 ms; any input answered within 2 s, including the check right after
a check that was killed for overrunning; a cold ``quizkit check`` (symbolic) at most 1.3 times
``python -c "import sympy"``, the floor, measured in the same run with the runs interleaved so
that machine load affects both alike.

Run: ``python benchmarks/bench_symbolic.py [--rounds N] [--cold-runs N]``. Prints figures only; no asserts.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial

from quizkit.symbolic import SymbolicChecker, SymbolicSpec, WrongAnswer

WARM_BUDGET = 0.020
WORST_BUDGET = 2.0
COLD_RATIO_BUDGET = 1.3

L1 = SymbolicSpec(
    "lam*sign(w)",
    {"w": "real", "lam": "positive"},
    (WrongAnswer("lam*Abs(w)", "penalty itself"), WrongAnswer("2*lam*w", "L2 gradient")),
)
L2 = SymbolicSpec("2*lam*w", {"w": "real", "lam": "positive"}, (WrongAnswer("lam*w", "factor 2"),))
RUBBER = SymbolicSpec("2*(w - 3/10) + lam", {"w": "positive", "lam": "positive"}, domain={"w": (0.0, 1.0)})
ELASTIC = SymbolicSpec("lam1*sign(w) + 2*lam2*w", {"w": "real", "lam1": "positive", "lam2": "positive"})
UPDATE = SymbolicSpec("w - alpha*lam*sign(w)", {"w": "real", "alpha": "positive", "lam": "positive"})

TYPICAL = [
    (L1, "λ·sign(w)"),
    (L1, "lam*w/|w|"),
    (L1, "λ|w|"),
    (L1, "-λ sign(w)"),
    (L1, "2λw"),
    (L1, "dL/dw = λ sign(w)."),
    (L1, r"\lambda \operatorname{sign}(w)"),
    (L2, "2λw"),
    (L2, "λw"),
    (L2, "λw²"),
    (L2, "2 lambda w"),
    (RUBBER, "2(w-0.3)+λ"),
    (RUBBER, "2(w-0.3001)+λ"),
    (RUBBER, "2w - 0.6 + λ"),
    (ELASTIC, "λ₁ sign(w) + 2λ₂w"),
    (ELASTIC, "λ₂ sign(w) + 2λ₁w"),
    (UPDATE, "w - αλ sgn(w)"),
    (UPDATE, "w + αλ sign(w)"),
    (UPDATE, "w(1 - αλ/|w|)"),
    (L1, "2λ.w"),
]

HOSTILE = [
    "__import__('os').system('true')",
    "().__class__.__bases__[0].__subclasses__()",
    "9**9**9**9",
    "(w+1)**100000000",
    "(w^1000)^1000",
    "10^(10^6·w)",
    "exp(exp(exp(exp(10))))",
    "exp(exp(exp(w)))",
    "λ·sign(w)·(cosh(400)² − sinh(400)²)",
    "10**10**10",
    "(" * 1000 + "w" + ")" * 1000,
    "w" * 10_000,
    "\x00",
    "lambda: 0",
    "d/dw(lam|w|)",
    "sqrt(10**99+1)",
    "(w+1)**1000*(w+2)**1000*(w+3)**1000",
    "Min(" + ",".join(f"Max(w+{i},lam-{i},w*lam+{i},w-lam*{i})" for i in range(8)) + ")",
    "sign(sin(pi/7)*sin(2*pi/7)*sin(3*pi/7)-sqrt(7)/8)",
    "Abs(" * 20 + "w" + ")" * 20,
    "λ sign(w) + sin(1000πw)",
    "λ tanh(1000w)",
]

SLOW = "Min(" + ",".join(f"Max(w+{i},lam-{i},w*lam+{i},w-lam*{i})" for i in range(8)) + ")"


def seconds(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def ms(value: float) -> str:
    return f"{value * 1000:8.1f} ms"


def run_process(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="passes over the typical answers (20 per pass)")
    parser.add_argument("--cold-runs", type=int, default=7, help="interleaved cold runs of each command")
    options = parser.parse_args()

    checker = SymbolicChecker()
    start_call = seconds(checker.start)
    first_check = seconds(partial(checker.check, "λ sign(w)", L1))
    print("cold start (in-process checker)")
    print(f"  start() returns after       {ms(start_call)}")
    print(f"  first answer checked after  {ms(start_call + first_check)}  (worker imports SymPy and warms up)")
    checker.wait_ready()  # the spare too: a learner takes longer than that to answer

    warm = [seconds(partial(checker.check, answer, spec)) for _ in range(options.rounds) for spec, answer in TYPICAL]
    median, p95 = statistics.median(warm), percentile(warm, 0.95)
    print(f"warm checks ({len(warm)} typical correct, wrong and unreadable answers)")
    print(f"  median {ms(median)}   {median / WARM_BUDGET:6.1%} of the 20 ms budget")
    print(f"  p95    {ms(p95)}   max {ms(max(warm))}")

    hostile = []
    for answer in HOSTILE:
        hostile.append((seconds(partial(checker.check, answer, L1)), answer))
        checker.wait_ready()  # a kill promotes the spare; let the next spare load, as a learner would
    worst, worst_answer = max(hostile)
    print(f"hostile inputs ({len(hostile)})")
    print(f"  worst  {ms(worst)}   {worst / WORST_BUDGET:6.1%} of the 2 s budget   ({worst_answer[:40]!r})")
    checker.close()

    # The hard limit itself: a check that overruns is killed; the next one is served by the spare.
    with SymbolicChecker(timeout=0.05) as limited:
        limited.check("λ", L1)
        limited.wait_ready()
        killed = seconds(partial(limited.check, SLOW, L1))
        limited.timeout = 1.5
        after = seconds(partial(limited.check, "λ sign(w)", L1))
    print("hard time limit (timeout set to 50 ms for the overrunning check)")
    print(f"  overrunning check answered after     {ms(killed)}")
    print(f"  next check (served by the spare)     {ms(after)}   {after / WORST_BUDGET:6.1%} of the 2 s budget")
    print(f"  worst input including the check after a kill: {ms(max(worst, killed, after))}")

    floor_command = [sys.executable, "-c", "import sympy"]
    check_command = [sys.executable, "-m", "quizkit", "check", "lesson3", "l1-gradient", "λ sign(w)"]
    floors, checks = [], []
    for _ in range(options.cold_runs):
        floors.append(run_process(floor_command))
        checks.append(run_process(check_command))
    if not options.cold_runs:
        return
    floor, cold = statistics.median(floors), statistics.median(checks)
    ratios = [check / floor for check, floor in zip(checks, floors, strict=True)]
    print(f"cold `quizkit check` (symbolic), {options.cold_runs} interleaved runs each")
    print(f"  python -c 'import sympy'  median {ms(floor)}")
    print(f"  quizkit check             median {ms(cold)}")
    print(
        f"  ratio of medians {cold / floor:5.2f}   median of per-pair ratios {statistics.median(ratios):5.2f}"
        f"   (budget {COLD_RATIO_BUDGET})"
    )


if __name__ == "__main__":
    main()
