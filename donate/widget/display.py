"""A goal as every variant shows it: numbers turned into words and amounts for one locale.

Call `describe_goal` inside flask_babel.force_locale(locale): the words come from the
catalogues, the amounts, dates and percentages from Babel's data for that locale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date
from babel.numbers import format_decimal, get_currency_symbol
from flask_babel import gettext, ngettext

from donate import money
from donate.goal_view import PublicGoal
from donate.models import utcnow
from donate.widget.amount_input import AmountRules, amount_rules
from donate.widget.fee_offer import FeeOffer, fee_offer


@dataclass(frozen=True)
class Milestone:
    """A point on the bar: where it sits (percent of the bar), its amount, whether it is passed."""

    position: float
    label: str
    reached: bool


@dataclass(frozen=True)
class Preset:
    """One preset amount: the value the form posts and what the donor reads."""

    amount_minor: int
    label: str


@dataclass(frozen=True)
class GoalDisplay:
    """Everything a widget, an image or the goal page shows of a goal, in one locale."""

    slug: str
    title: str
    description: tuple[str, ...]
    locale: str
    language: str
    currency: str
    currency_symbol: str
    raised: str
    target: str
    percent: int
    percent_text: str
    bar_percent: int
    donors_text: str
    summary: str
    value_text: str
    deadline_text: str | None
    phase: str
    phase_message: str | None
    accepting: bool
    monthly_enabled: bool
    presets: tuple[Preset, ...]
    milestones: tuple[Milestone, ...]
    scale: tuple[str, ...]
    amount: AmountRules
    fee_cover: FeeOffer | None = None


def _local_date(moment: datetime, time_zone: str, locale: str) -> str:
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return format_date(moment.astimezone(zone), format="long", locale=locale)


def _phase_message(phase: str, opens_on: str | None) -> str | None:
    """One sentence saying why a goal is not simply open; reached goals still take gifts."""
    messages = {
        "reached": gettext("Goal reached! Gifts are still welcome."),
        "paused": gettext("Giving to this fundraiser is paused for now."),
        "closed": gettext("This fundraiser is closed. Thank you to everyone who gave."),
        "ended": gettext("This fundraiser has ended. Thank you to everyone who gave."),
        "upcoming": gettext("Giving opens on %(date)s.", date=opens_on or ""),
    }
    return messages.get(phase)


def _deadline_text(public_goal: PublicGoal, phase: str, locale: str, time_zone: str) -> str | None:
    ends_at = public_goal.goal.ends_at
    if ends_at is None:
        return None
    date = _local_date(ends_at, time_zone, locale)
    if phase == "ended":
        return gettext("Ended on %(date)s", date=date)
    return gettext("Ends on %(date)s", date=date)


def describe_goal(public_goal: PublicGoal, locale: str, now: datetime | None = None) -> GoalDisplay:
    """Turn one goal row into the words and amounts a reader of `locale` sees."""
    now = now or utcnow()
    goal = public_goal.goal
    code = goal.currency
    time_zone = goal.site.time_zone

    def amount(value: int) -> str:
        return money.format_amount(value, code, locale, compact=True)

    phase = public_goal.phase(now)
    raised, target = amount(goal.raised_minor), amount(goal.target_minor)
    percent = goal.percent
    percent_text = money.format_progress(goal.raised_minor, goal.target_minor, locale)
    summary = gettext("%(raised)s raised of %(target)s", raised=raised, target=target)
    donors_text = ngettext(
        "%(count)s donor",
        "%(count)s donors",
        goal.donor_count,
        count=format_decimal(goal.donor_count, locale=locale),
    )
    opens_on = _local_date(goal.starts_at, time_zone, locale) if goal.starts_at else None
    milestones = tuple(
        Milestone(
            position=round(min(value, goal.target_minor) * 100 / goal.target_minor, 2),
            label=amount(value),
            reached=goal.raised_minor >= value,
        )
        for value in sorted(goal.milestones_minor or [])
        if 0 < value < goal.target_minor
    )
    return GoalDisplay(
        slug=goal.slug,
        title=goal.title,
        description=tuple(
            part.strip()
            for part in (goal.description or "").replace("\r\n", "\n").split("\n\n")
            if part.strip()
        ),
        locale=locale,
        language=locale.split("_")[0],
        currency=code,
        currency_symbol=get_currency_symbol(code, locale=locale),
        raised=raised,
        target=target,
        percent=percent,
        percent_text=percent_text,
        bar_percent=max(0, min(percent, 100)),
        donors_text=donors_text,
        summary=summary,
        value_text=gettext("%(summary)s, %(percent)s", summary=summary, percent=percent_text),
        deadline_text=_deadline_text(public_goal, phase, locale, time_zone),
        phase=phase,
        phase_message=_phase_message(phase, opens_on),
        accepting=public_goal.accepting_gifts(now),
        monthly_enabled=goal.monthly_enabled,
        presets=tuple(Preset(value, amount(value)) for value in goal.presets_minor or []),
        milestones=milestones,
        scale=(amount(0), *(m.label for m in milestones), target),
        amount=amount_rules(public_goal, locale),
        fee_cover=fee_offer(goal, locale, goal.minimum_minor),
    )
