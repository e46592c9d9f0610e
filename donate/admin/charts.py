"""Chart geometry for server-rendered SVG: bars per day, the running total and the target line.

Only arithmetic lives here; templates/admin/_daily_chart.html draws the shapes.
"""

from __future__ import annotations

from dataclasses import dataclass

from donate import money
from donate.admin.reports import Day

WIDTH, HEIGHT = 720, 280
LEFT, RIGHT, TOP, BOTTOM = 88, 16, 16, 36
_X_LABELS = 6


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    negative: bool
    label: str  # the tooltip: day and amount


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class DailyChart:
    """Everything the SVG template needs, in pixels, with labels already formatted."""

    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    baseline: float
    bars: list[Bar]
    total_points: str
    target_y: float
    target_label: str
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    summary: str
    note: str = ""  # said under the chart when older days are left out


def daily_chart(days: list[Day], *, target_minor: int, currency: str, locale: str) -> DailyChart:
    """Lay out a goal's days: one bar per day, the running total as a line, the target across."""

    def shown(amount: int) -> str:
        return money.format_amount(amount, currency, locale, compact=True)

    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    values = [target_minor] + [d.total_minor for d in days] + [d.raised_minor for d in days]
    top_value = max(max(values), 1)
    bottom_value = min(0, *values)
    span = top_value - bottom_value

    def y_of(amount: int) -> float:
        return round(TOP + plot_h * (top_value - amount) / span, 2)

    baseline = y_of(0)
    step = plot_w / max(len(days), 1)
    bars, points = [], []
    for index, day in enumerate(days):
        x = LEFT + index * step
        top, bottom = sorted((y_of(day.raised_minor), baseline))
        bars.append(
            Bar(
                x=round(x + step * 0.1, 2),
                y=top,
                width=round(max(step * 0.8, 1), 2),
                height=round(max(bottom - top, 0), 2),
                negative=day.raised_minor < 0,
                label=f"{day.day.isoformat()}: {shown(day.raised_minor)}",
            )
        )
        points.append(f"{round(x + step / 2, 2)},{y_of(day.total_minor)}")
    y_ticks = [
        Tick(position=y_of(amount), label=shown(amount))
        for amount in sorted({bottom_value, 0, top_value // 2, top_value})
    ]
    every = max(1, -(-len(days) // _X_LABELS))
    x_ticks = [
        Tick(position=round(LEFT + (i + 0.5) * step, 2), label=days[i].day.strftime("%d %b"))
        for i in range(0, len(days), every)
    ]
    reached = days[-1].total_minor if days else 0
    summary = (
        f"{shown(reached)} raised of a {shown(target_minor)} target"
        + (f" over {len(days)} days" if days else "; nothing yet")
        + "."
    )
    left_out = getattr(days, "left_out", 0)
    note = (
        f"Only the last {len(days)} days are drawn; {left_out} earlier days are left out, "
        "their money counted in the running total."
        if left_out
        else ""
    )
    return DailyChart(
        note=note,
        width=WIDTH,
        height=HEIGHT,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        plot_top=TOP,
        plot_bottom=HEIGHT - BOTTOM,
        baseline=baseline,
        bars=bars,
        total_points=" ".join(points),
        target_y=y_of(target_minor),
        target_label=f"Target {shown(target_minor)}",
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        summary=summary,
    )
