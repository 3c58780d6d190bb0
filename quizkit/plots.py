"""Plots in the terminal: curves of lesson formulas, and a learner's function against the reference.

Points are computed here (formulas with :class:`quizkit.formula.Formula`, one float at a time, so
no numpy), and drawn with plotext, imported only when a plot is drawn so that ``--help``, ``list``
and the first question stay fast. Without colour (not a terminal, or a test) every curve gets its
own marker character, so the picture still tells the curves apart; a fixed ``width`` (80 by
default) keeps it readable in a narrow terminal and makes the output deterministic.
"""

from __future__ import annotations

import itertools
import math
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from quizkit.formula import Formula, FormulaError

WIDTH = 80
HEIGHT = 20
# Plain markers, one per curve, when there is no colour to tell curves apart.
_MARKERS = ("*", "+", "o", "=", "#", "%", "~", "&")
_MINIMUM = "X"
_COLORS = ("blue", "green", "magenta", "cyan", "red", "yellow", "orange", "white")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class Series:
    """One curve: y values over the plot's x values (nan where undefined, so the line breaks)."""

    label: str
    ys: tuple[float, ...]


def plot_series(plot: Any, values: Mapping[str, float] | None = None) -> tuple[tuple[float, ...], list[Series]]:
    """The x values and one :class:`Series` per curve (and per ``each`` combination) of ``plot``
    (a :class:`quizkit.lesson.Plot`); ``values`` are a question variant's parameters."""
    from quizkit.templates import fill

    values = dict(values or {})
    count = plot.points
    xs = tuple(plot.low + (plot.high - plot.low) * k / (count - 1) for k in range(count))
    series = []
    for curve in plot.curves:
        each_names = [name for name, _ in curve.each]
        names = (plot.x, *each_names, *values)
        formula = Formula(curve.formula, names)
        for combination in itertools.product(*(choices for _, choices in curve.each)):
            fixed = {**values, **dict(zip(each_names, combination, strict=False))}
            ys = tuple(_point(formula, {**fixed, plot.x: x}) for x in xs)
            label = fill(curve.label, fixed) if fixed else curve.label
            series.append(Series(label, ys))
    return xs, series


def _point(formula: Formula, values: Mapping[str, float]) -> float:
    try:
        return formula.number(values)
    except (FormulaError, ArithmeticError, ValueError):
        return math.nan


def minima(xs: Sequence[float], series: Series) -> tuple[float, float] | None:
    """The sampled point where ``series`` is lowest (the first, on a flat bottom), or None."""
    finite = [(y, x) for x, y in zip(xs, series.ys, strict=False) if math.isfinite(y)]
    if not finite:
        return None
    y, x = min(finite, key=lambda pair: pair[0])
    return x, y


def render_plot(
    plot: Any, values: Mapping[str, float] | None = None, *, width: int = WIDTH, color: bool = False
) -> str:
    """``plot`` drawn as text, ``width`` columns wide, with the minima marked if it asks for them."""
    xs, series = plot_series(plot, values)
    marks = []
    if plot.mark_minima:
        for item in series:
            point = minima(xs, item)
            if point is not None:
                marks.append(point)
    text = draw(xs, series, title=plot.title, x_label=plot.x, marks=marks, width=width, color=color)
    if marks:
        # Each entry is kept on one line (no-break spaces while wrapping), so "w = 0" never splits.
        entries = [
            f"{item.label} at {plot.x} = {_short(x)}".replace(" ", "\u00a0")
            for item, (x, _) in zip(series, marks, strict=False)
        ]
        wrapped = textwrap.fill(
            "lowest points (X): " + "; ".join(entries), width, initial_indent="  ", subsequent_indent="    "
        )
        text += "\n" + wrapped.replace("\u00a0", " ")
    return text


def draw(
    xs: Sequence[float],
    series: Sequence[Series],
    *,
    title: str = "",
    x_label: str = "",
    marks: Sequence[tuple[float, float]] = (),
    width: int = WIDTH,
    height: int = HEIGHT,
    color: bool = False,
) -> str:
    """Curves over ``xs`` as text; deterministic for the same input, no ANSI codes unless ``color``."""
    import plotext as plt

    plt.clear_figure()
    plt.plotsize(width, height)
    plt.theme("clear")
    for index, item in enumerate(series):
        points = [(x, y) for x, y in zip(xs, item.ys, strict=False) if math.isfinite(y)]
        if not points:
            continue
        if color:
            plt.plot(
                *zip(*points, strict=False), label=item.label, marker="braille", color=_COLORS[index % len(_COLORS)]
            )
        else:
            plt.plot(*zip(*points, strict=False), label=item.label, marker=_MARKERS[index % len(_MARKERS)])
    if marks:
        plt.scatter([x for x, _ in marks], [y for _, y in marks], marker=_MINIMUM, color="red" if color else "default")
    if title:
        plt.title(title)
    if x_label:
        plt.xlabel(x_label)
    text = plt.build()
    plt.clear_figure()
    if not color:
        text = _ANSI.sub("", text)
    return "\n".join(line.rstrip() for line in text.splitlines())


def _short(value: float) -> str:
    return f"{value:.3g}" if abs(value) > 1e-12 else "0"
