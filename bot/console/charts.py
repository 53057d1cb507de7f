"""Charts as geometry: numbers and labels in, shapes out, which _charts.html draws as SVG.

Server-side and without a script library, because the console loads nothing from elsewhere
and runs no inline script or style (the CSP forbids them): colours are SVG `fill`/`stroke`
attributes. Every shape carries a <title> with its figure, and each page shows the same
figures as text too, so nothing is only readable from a bar's length. Pure: no I/O."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

TOP, RIGHT, LEFT_AXIS, BOTTOM_AXIS = 10, 10, 40, 22
LEFT_UNIT_AXIS = 64  # room for a value with its unit ("12 h") left of the plot
LEGEND_ROW = 20
LABEL_WIDTH = 170  # the labels column of a horizontal bar chart
ROW = 22
BAR = 14
CHARACTER = 6.5  # the average width of an 11px character, to space legend items
LABEL_LIMIT = 26
X_LABELS = 8  # at most this many labels under the columns


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    anchor: str = "start"


@dataclass(frozen=True)
class Rule:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class Line:
    points: str
    stroke: str


@dataclass(frozen=True)
class Dot:
    cx: float
    cy: float
    fill: str
    title: str


@dataclass
class Chart:
    title: str
    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    dots: list[Dot] = field(default_factory=list)
    legend: list[Bar] = field(default_factory=list)  # a swatch per series, its name in texts


def nice_ceiling(value: float) -> float:
    """The axis' top: 2, 4, 6, 8, 10, 20, 40… at or above `value`, so that the gridline at
    its half is a whole number too."""
    if value <= 2:
        return 2
    power = 10 ** math.floor(math.log10(value))
    steps = (1, 2, 4, 6, 8, 10) if power >= 10 else (2, 4, 6, 8, 10)
    return next(step * power for step in steps if value <= step * power)


def short(label: str, limit: int = LABEL_LIMIT) -> str:
    return label if len(label) <= limit else label[:limit - 1] + "…"


def figure(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _y_axis(chart: Chart, top: float, plot_height: float, left: float, maximum: float,
            shown: Callable[[float], str] = figure) -> None:
    """Gridlines at 0, half and the top, with their values."""
    for share in (0, 0.5, 1):
        y = round(top + plot_height * (1 - share), 1)
        chart.rules.append(Rule(left, y, chart.width - RIGHT, y))
        value = maximum * share
        chart.texts.append(Text(left - 4, y + 4, shown(value), "end"))


def _legend(chart: Chart, series: list[tuple[str, str]], x: float, y: float) -> None:
    for name, colour in series:
        chart.legend.append(Bar(x, y - 9, 10, 10, colour, name))
        chart.texts.append(Text(x + 14, y, name))
        x += 14 + len(name) * CHARACTER + 14


def _x_labels(count: int) -> set[int]:
    """Which columns get a label under them: evenly spaced, the last always."""
    every = max(1, math.ceil(count / X_LABELS))
    return {i for i in range(count) if (count - 1 - i) % every == 0}


def stacked_columns(title: str, columns: list[tuple[str, list[int]]],
                    series: list[tuple[str, str]], width: int = 1000, height: int = 260) -> Chart:
    """One column per label, stacked by series: `columns` is [(label, [value per series])],
    `series` [(name, colour)] in the same order, the first at the bottom."""
    chart = Chart(title, width, height)
    top, left = TOP, LEFT_AXIS
    plot_height = height - TOP - BOTTOM_AXIS - LEGEND_ROW
    maximum = nice_ceiling(max((sum(values) for _, values in columns), default=0))
    _y_axis(chart, top, plot_height, left, maximum)
    slot = (width - left - RIGHT) / max(len(columns), 1)
    labelled = _x_labels(len(columns))
    for index, (label, values) in enumerate(columns):
        x = left + index * slot
        base = top + plot_height
        for (name, colour), value in zip(series, values):
            if value:
                size = plot_height * value / maximum
                base -= size
                chart.bars.append(Bar(round(x + slot * 0.1, 1), round(base, 1),
                                      round(slot * 0.8, 1), round(size, 1), colour,
                                      f"{label} · {name}: {value}"))
        if index in labelled:
            chart.texts.append(Text(round(x + slot / 2, 1), top + plot_height + 14, label, "middle"))
    _legend(chart, series, left, height - 6)
    return chart


def horizontal_bars(title: str, items: list[tuple[str, int]], colour: str,
                    width: int = 420) -> Chart:
    """One bar per (label, value), in the order given, the value written at its end."""
    height = TOP + ROW * max(len(items), 1) + TOP
    chart = Chart(title, width, height)
    maximum = max((value for _, value in items), default=0) or 1
    room = width - LABEL_WIDTH - RIGHT - 40  # the value's text after the longest bar
    for index, (label, value) in enumerate(items):
        y = TOP + index * ROW
        size = room * value / maximum
        chart.texts.append(Text(LABEL_WIDTH - 6, y + BAR - 3, short(label), "end"))
        if value:
            chart.bars.append(Bar(LABEL_WIDTH, y, round(size, 1), BAR, colour, f"{label}: {value}"))
        chart.texts.append(Text(round(LABEL_WIDTH + size + 4, 1), y + BAR - 3, str(value)))
    return chart


def line_chart(title: str, labels: list[str], series: list[tuple[str, str, list[float | None]]],
               shown: Callable[[float], str] = figure, width: int = 1000,
               height: int = 240) -> Chart:
    """One line per series over the labels, `shown` writing a value with its unit; a missing
    value (None) breaks the line, since joining across it would draw a figure nobody
    measured."""
    chart = Chart(title, width, height)
    top, left = TOP, LEFT_UNIT_AXIS
    plot_height = height - TOP - BOTTOM_AXIS - LEGEND_ROW
    values = [v for _, _, points in series for v in points if v is not None]
    maximum = nice_ceiling(max(values, default=0))
    _y_axis(chart, top, plot_height, left, maximum, shown)
    step = (width - left - RIGHT) / max(len(labels), 1)
    xs = [round(left + step * (i + 0.5), 1) for i in range(len(labels))]
    for index in _x_labels(len(labels)):
        chart.texts.append(Text(xs[index], top + plot_height + 14, labels[index], "middle"))
    for name, colour, points in series:
        run: list[str] = []
        for x, label, value in zip(xs, labels, points):
            if value is None:
                _end_run(chart, run, colour)
                run = []
                continue
            y = round(top + plot_height * (1 - value / maximum), 1)
            run.append(f"{x},{y}")
            chart.dots.append(Dot(x, y, colour, f"{label} · {name}: {shown(value)}"))
        _end_run(chart, run, colour)
    _legend(chart, [(name, colour) for name, colour, _ in series], left, height - 6)
    return chart


def _end_run(chart: Chart, run: list[str], colour: str) -> None:
    if len(run) > 1:
        chart.lines.append(Line(" ".join(run), colour))
