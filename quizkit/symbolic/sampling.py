"""Where expressions are compared: fresh sample points for every check, so no answer can be tuned to them."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from quizkit.rules import assumption_sign

Point = tuple[float, ...]

# Sample points, drawn fresh for every check: (kind, count). See _draw for what each kind is.
_POINT_KINDS = (("nice", 6), ("plain", 22), ("small", 12), ("large", 8))


def _log_uniform(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _draw(rng: random.Random, assumption: str, domain: tuple[float, float] | None, kind: str) -> float:
    """One coordinate of a sample point; ``kind`` is "nice", "plain", "small" or "large".

    With an author's domain, every kind is drawn inside it (the author knows where the answer
    must hold): "small" and "large" ones crowd its lower and upper ends (within a tenth of its
    width, log-uniformly closer), where answers that differ only near a boundary or a kink are
    caught. Otherwise "small" values are 1e-4..1e-2 in size and "large" ones 1e2..1e4, signed as
    the assumption allows; "nice" ones have one decimal so counterexamples are easy to read.
    """
    if domain is not None:
        low, high = domain
        if kind in ("small", "large") and assumption != "integer":
            offset = (high - low) * _log_uniform(rng, 1e-4, 0.1)
            value = low + offset if kind == "small" else high - offset
            if value != 0 and low < value < high:
                return value
        if kind == "nice":
            nice = [n / 10 for n in range(math.ceil(low * 10), math.floor(high * 10) + 1) if low < n / 10 < high and n]
            if nice:
                return rng.choice(nice)
        if assumption == "integer":
            whole = [n for n in range(math.ceil(low), math.floor(high) + 1) if n]
            return float(rng.choice(whole)) if whole else float(math.ceil(low))
        while True:
            value = rng.uniform(low, high)
            if value != 0 and low < value < high:
                return value
    sign = rng.choice((-1.0, 1.0))  # drawn whatever the assumption, so the stream of draws stays the same
    sign = float(assumption_sign(assumption)) or sign
    if assumption == "integer":
        if kind == "large":
            return sign * rng.randint(100, 10_000)
        return sign * rng.randint(1, 5)
    if kind == "nice":
        return sign * rng.randint(1, 30) / 10
    if kind == "small":
        return sign * _log_uniform(rng, 1e-4, 1e-2)
    if kind == "large":
        return sign * _log_uniform(rng, 1e2, 1e4)
    return sign * rng.uniform(1e-3, 3.0)


_EXTREMES = {"small": (1e-4, 1e-2), "large": (1e2, 1e4)}


def _extreme(rng: random.Random, assumption: str, kind: str, rotation: int) -> float:
    """A near-zero or large value for a variable's ``rotation``-th turn: the sign alternates and
    the lower and upper decade of the range take turns, so four turns cover both signs in both."""
    low, high = _EXTREMES[kind]
    middle = math.sqrt(low * high)
    magnitude = _log_uniform(rng, *((low, middle) if rotation // 2 % 2 == 0 else (middle, high)))
    sign = assumption_sign(assumption)
    if sign:
        return sign * magnitude
    return magnitude if rotation % 2 == 0 else -magnitude


def sample_points(
    assumptions: Sequence[str], domains: Sequence[tuple[float, float] | None], rng: random.Random
) -> list[Point]:
    """Fresh sample points for one check: a few nice ones first (readable counterexamples), then
    unrounded ones, some near zero and some large.

    In the near-zero and large blocks the variables take turns: at each point one of them is
    surely extreme (see :func:`_extreme`: every variable is seen near 0 and far out, on both sides
    its assumption allows and in both decades), and each other one is extreme by chance.
    """
    points: list[Point] = []
    count_variables = max(1, len(assumptions))
    for kind, count in _POINT_KINDS:
        for number in range(count):
            turn, rotation = number % count_variables, number // count_variables
            point = []
            for position, (assumption, domain) in enumerate(zip(assumptions, domains, strict=True)):
                if kind in ("nice", "plain"):
                    point.append(_draw(rng, assumption, domain, kind))
                elif position == turn and domain is None and assumption != "integer":
                    point.append(_extreme(rng, assumption, kind, rotation))
                else:
                    point.append(_draw(rng, assumption, domain, kind if rng.random() < 0.5 else "plain"))
            points.append(tuple(point))
    return points
