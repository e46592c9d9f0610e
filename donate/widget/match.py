"""What readers see of a goal's matching funds: the sponsor's offer and how much of it is left."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext

from donate import money
from donate.goal_view import PublicGoal


@dataclass(frozen=True)
class MatchNote:
    """The match's sentences in one locale; `left` is None once the pool is used up."""

    offer: str
    left: str | None


def describe_match(public_goal: PublicGoal, locale: str) -> MatchNote | None:
    """The goal's open match in the reader's words, or None; call inside force_locale."""
    match = public_goal.match
    if match is None or match.currency != public_goal.goal.currency:
        return None

    def amount(value: int) -> str:
        return money.format_amount(value, match.currency, locale, compact=True)

    pool = amount(match.pool_minor)
    if match.left_minor <= 0:
        return MatchNote(
            offer=gettext(
                "The match of %(pool)s by %(sponsor)s is used up: gifts are no longer doubled.",
                pool=pool,
                sponsor=match.sponsor,
            ),
            left=None,
        )
    return MatchNote(
        offer=gettext(
            "Every gift doubled, up to %(pool)s, by %(sponsor)s, while the match lasts.",
            pool=pool,
            sponsor=match.sponsor,
        ),
        left=gettext("%(amount)s of the match left", amount=amount(match.left_minor)),
    )
