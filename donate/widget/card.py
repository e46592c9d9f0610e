"""The donation box every variant shows: call to action, amount raised, scale, figures, amounts.

Call `describe_card` inside flask_babel.force_locale(locale), after describe_goal: it adds to
that display what the owner's WidgetSettings choose (what to hide, the default amount, impact
lines) and what the give form's script needs to preview a gift without asking the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext

from donate import money
from donate.goal_view import PublicGoal
from donate.models import utcnow
from donate.widget.display import GoalDisplay
from donate.widget.money_pattern import MoneyPattern, money_pattern
from donate.widget.settings import WidgetSettings
from donate.widget.site_day import days_left, days_left_text

# Placeholders the script fills in; the server renders the same sentences with real values.
AMOUNT, PERCENT, MILESTONE = "{a}", "{p}", "{m}"
# Farther off than this, a deadline reads better as its date than as a count of days.
DAYS_LEFT_SHOWN = 60
# Percent of the bar between two labels, so "€2,500" and "€5,000" never overlap at 320 px.
MIN_LABEL_GAP = 30


@dataclass(frozen=True)
class ScaleMark:
    """A label under the bar: its position (percent of the bar) and how it aligns there."""

    position: float
    label: str
    edge: str  # "start", "end" or "" (centred under a milestone's tick)
    css_class: str


@dataclass(frozen=True)
class PresetChoice:
    """One preset radio: the amount posted, its label, its impact line, whether it is chosen."""

    amount_minor: int
    label: str
    impact: str | None
    checked: bool


@dataclass(frozen=True)
class Card:
    """What the box shows beyond GoalDisplay, with the sentences its script reuses."""

    heading: str
    of_target: str
    percent_text: str | None
    donors_text: str | None
    days_left: str | None
    scale: tuple[ScaleMark, ...]
    frequency: str
    once: tuple[PresetChoice, ...]
    # None when monthly gifts use the one-off presets.
    monthly: tuple[PresetChoice, ...] | None
    once_default: int | None
    monthly_default: int | None
    button_text: str
    preview_text: str
    gift_percent: float
    show_percent: bool
    # The preset checked when the form is drawn (None: none, or an amount was typed).
    chosen_minor: int | None
    raised_minor: int
    target_minor: int
    milestones_minor: tuple[int, ...]
    money: MoneyPattern
    texts: dict[str, str]


def _days_left(public_goal: PublicGoal, phase: str, now: datetime) -> str | None:
    """Days left by the site's calendar, while near enough to read better than the date."""
    goal = public_goal.goal
    if phase in ("ended", "closed", "upcoming"):
        return None
    count = days_left(goal.ends_at, now, goal.site.time_zone)
    if count is None or count > DAYS_LEFT_SHOWN:
        return None
    return days_left_text(count)


def _scale(display: GoalDisplay) -> tuple[ScaleMark, ...]:
    """Start, each milestone under its tick, and the target at the end.

    A milestone's label is left out where it would run into its neighbour's (its tick stays).
    """
    marks = [ScaleMark(0, display.scale[0], "start", "s0")]
    last = 0.0
    for index, milestone in enumerate(display.milestones, start=1):
        if milestone.position - last >= MIN_LABEL_GAP and 100 - milestone.position >= MIN_LABEL_GAP:
            marks.append(ScaleMark(milestone.position, milestone.label, "", f"m{index}"))
            last = milestone.position
    marks.append(ScaleMark(100, display.scale[-1], "end", "s1"))
    return tuple(marks)


def _choices(
    amounts: tuple[int, ...],
    frequency: str,
    chosen: int | None,
    settings: WidgetSettings,
    code: str,
    locale: str,
) -> tuple[PresetChoice, ...]:
    """One frequency's preset radios, with the chosen one checked and its impact line."""
    return tuple(
        PresetChoice(
            amount_minor=value,
            label=money.format_amount(value, code, locale, compact=True),
            impact=settings.impact(frequency, value),
            checked=value == chosen,
        )
        for value in amounts
    )


def preview_sentence(
    raised: int,
    gift: int,
    target: int,
    milestones: tuple[int, ...],
    *,
    show_percent: bool,
    code: str,
    locale: str,
) -> str:
    """Where a gift takes the goal: its new percentage, past a milestone or the target."""
    after = raised + gift
    if not show_percent:
        return gettext(
            "Your gift takes us to %(amount)s of %(target)s.",
            amount=money.format_amount(after, code, locale, compact=True),
            target=money.format_amount(target, code, locale, compact=True),
        )
    percent = money.format_progress(after, target, locale)
    if raised < target <= after:
        return gettext("Your gift takes us past our goal, to %(percent)s.", percent=percent)
    passed = [m for m in milestones if raised < m <= after]
    if passed:
        return gettext(
            "Your gift takes us past the %(milestone)s milestone, to %(percent)s.",
            milestone=money.format_amount(passed[-1], code, locale, compact=True),
            percent=percent,
        )
    return gettext("Your gift takes us to %(percent)s.", percent=percent)


def button_text(amount: str | None, frequency: str) -> str:
    """What the give button says will happen."""
    if amount is None:
        return gettext("Give")
    if frequency == "monthly":
        return gettext("Give %(amount)s monthly", amount=amount)
    return gettext("Give %(amount)s", amount=amount)


def describe_card(
    public_goal: PublicGoal,
    display: GoalDisplay,
    settings: WidgetSettings,
    *,
    frequency: str = "once",
    chosen_minor: int | None = None,
    typed: bool = False,
    now: datetime | None = None,
) -> Card:
    """The box for this goal, settings and form state, in the current locale."""
    now = now or utcnow()
    goal = public_goal.goal
    code, locale = goal.currency, display.locale
    shown = settings.figures_shown(display.percent)
    show_percent = settings.show_percent and shown
    once_amounts = tuple(goal.presets_minor or ())
    own_monthly = tuple(settings.monthly_presets_minor) if goal.monthly_enabled else ()
    frequency = frequency if frequency == "monthly" and goal.monthly_enabled else "once"
    offered = own_monthly if frequency == "monthly" and own_monthly else once_amounts
    if chosen_minor is None and not typed:
        chosen_minor = settings.default_for(frequency)
    if chosen_minor not in offered:
        chosen_minor = None
    # One radio group: only the set the frequency shows may be checked.
    once_chosen = chosen_minor if frequency == "once" or not own_monthly else None
    monthly_chosen = chosen_minor if frequency == "monthly" else None
    milestones = tuple(
        value for value in sorted(goal.milestones_minor or []) if 0 < value < goal.target_minor
    )
    gift_label = (
        money.format_amount(chosen_minor, code, locale, compact=True) if chosen_minor else None
    )
    fills = min(goal.raised_minor + (chosen_minor or 0), goal.target_minor)
    return Card(
        heading=settings.call_to_action_for(display.language)
        or gettext("Support %(title)s", title=display.title),
        of_target=gettext("of %(target)s", target=display.target),
        percent_text=display.percent_text if show_percent else None,
        donors_text=display.donors_text if settings.show_donor_count and shown else None,
        days_left=_days_left(public_goal, display.phase, now),
        scale=_scale(display),
        frequency=frequency,
        once=_choices(once_amounts, "once", once_chosen, settings, code, locale),
        monthly=_choices(own_monthly, "monthly", monthly_chosen, settings, code, locale)
        if own_monthly
        else None,
        once_default=settings.default_preset_minor,
        monthly_default=settings.monthly_default_minor,
        button_text=button_text(gift_label, frequency),
        preview_text=preview_sentence(
            goal.raised_minor,
            chosen_minor,
            goal.target_minor,
            milestones,
            show_percent=show_percent,
            code=code,
            locale=locale,
        )
        if chosen_minor
        else "",
        gift_percent=round(max(0, fills * 100 / goal.target_minor - display.bar_percent), 2)
        if chosen_minor
        else 0,
        show_percent=show_percent,
        chosen_minor=chosen_minor,
        raised_minor=goal.raised_minor,
        target_minor=goal.target_minor,
        milestones_minor=milestones,
        money=money_pattern(code, locale),
        texts={
            "give": gettext("Give"),
            "once": gettext("Give %(amount)s", amount=AMOUNT),
            "monthly": gettext("Give %(amount)s monthly", amount=AMOUNT),
            "to": gettext("Your gift takes us to %(percent)s.", percent=PERCENT),
            "goal": gettext("Your gift takes us past our goal, to %(percent)s.", percent=PERCENT),
            "past": gettext(
                "Your gift takes us past the %(milestone)s milestone, to %(percent)s.",
                milestone=MILESTONE,
                percent=PERCENT,
            ),
            "sum": gettext(
                "Your gift takes us to %(amount)s of %(target)s.",
                amount=AMOUNT,
                target=display.target,
            ),
        },
    )
