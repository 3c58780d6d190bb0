"""Speed of symbolic answer checking against the budget in PRODUCT.md.

Budget: warm check median under 20 ms; any input answered within 2 s; ``start()`` must not block.

Run: ``python benchmarks/bench_symbolic.py [--rounds N]``. Prints figures only; no asserts.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial

from quizkit.symbolic import SymbolicChecker, SymbolicSpec, WrongAnswer

WARM_BUDGET = 0.020
WORST_BUDGET = 2.0

L1 = SymbolicSpec(
    "lam*sign(w)",
    {"w": "real", "lam": "positive"},
    (WrongAnswer("lam*Abs(w)", "penalty itself"), WrongAnswer("2*lam*w", "L2 gradient")),
)
L2 = SymbolicSpec("2*lam*w", {"w": "real", "lam": "positive"}, (WrongAnswer("lam*w", "factor 2"),))
RUBBER = SymbolicSpec("2*(w - 3/10) + lam", {"w": "positive", "lam": "positive"})
ELASTIC = SymbolicSpec("lam1*sign(w) + 2*lam2*w", {"w": "real", "lam1": "positive", "lam2": "positive"})
UPDATE = SymbolicSpec("w - alpha*lam*sign(w)", {"w": "real", "alpha": "positive", "lam": "positive"})

TYPICAL = [
    (L1, "λ·sign(w)"),
    (L1, "lam*w/|w|"),
    (L1, "λ|w|"),
    (L1, "-λ sign(w)"),
    (L1, "2λw"),
    (L2, "2λw"),
    (L2, "λw"),
    (L2, "2 lambda w"),
    (RUBBER, "2(w-0.3)+λ"),
    (RUBBER, "2(w-0.3001)+λ"),
    (RUBBER, "2w - 0.6 + λ"),
    (ELASTIC, "λ₁ sign(w) + 2λ₂w"),
    (ELASTIC, "λ₂ sign(w) + 2λ₁w"),
    (UPDATE, "w - αλ sgn(w)"),
    (UPDATE, "w + αλ sign(w)"),
    (UPDATE, "w(1 - αλ/|w|)"),
]

HOSTILE = [
    "__import__('os').system('true')",
    "().__class__.__bases__[0].__subclasses__()",
    "9**9**9**9",
    "(w+1)**100000000",
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=13, help="passes over the typical answers (16 per pass)")
    rounds = parser.parse_args().rounds

    checker = SymbolicChecker()
    start_call = seconds(checker.start)
    first_check = seconds(partial(checker.check, "λ sign(w)", L1))
    print("cold start")
    print(f"  start() returns after       {ms(start_call)}")
    print(f"  first answer checked after  {ms(start_call + first_check)}  (worker imports SymPy and warms up)")

    warm = [seconds(partial(checker.check, answer, spec)) for _ in range(rounds) for spec, answer in TYPICAL]
    median, p95 = statistics.median(warm), percentile(warm, 0.95)
    print(f"warm checks ({len(warm)} typical correct and wrong answers)")
    print(f"  median {ms(median)}   {median / WARM_BUDGET:6.1%} of the 20 ms budget")
    print(f"  p95    {ms(p95)}   max {ms(max(warm))}")

    hostile = [(seconds(partial(checker.check, answer, L1)), answer) for answer in HOSTILE]
    worst, worst_answer = max(hostile)
    print(f"hostile inputs ({len(hostile)})")
    print(f"  worst  {ms(worst)}   {worst / WORST_BUDGET:6.1%} of the 2 s budget   ({worst_answer[:40]!r})")
    checker.close()

    # The hard limit itself: a check that overruns is killed; the next one waits for a new worker.
    with SymbolicChecker(timeout=0.05) as limited:
        limited.check("λ", L1)
        killed = seconds(partial(limited.check, SLOW, L1))
        limited.timeout = 1.5
        after = seconds(partial(limited.check, "λ sign(w)", L1))
    print("hard time limit (timeout set to 50 ms for this measurement)")
    print(f"  overrunning check answered after {ms(killed)}")
    print(f"  next check (waits for the new worker) {ms(after)}   {after / WORST_BUDGET:6.1%} of the 2 s budget")


if __name__ == "__main__":
    main()
