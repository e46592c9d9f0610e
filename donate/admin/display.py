"""What every dashboard template may use: money and times in the site's locale and time zone."""

from __future__ import annotations

from typing import Any

from flask import g

from donate import money
from donate.admin import scoping
from donate.admin.blueprint import admin
from donate.admin.forms import ConfirmForm
from donate.admin.local_time import local
from donate.models import Goal, Role


@admin.context_processor
def _dashboard_helpers() -> dict[str, Any]:
    """Formatting that follows the current site's locale and time zone."""

    def money_text(amount_minor: int | None, currency: str) -> str:
        if amount_minor is None:
            return ""
        site = g.get("site")
        return money.format_amount(amount_minor, currency, site.default_locale if site else "en")

    def progress_text(goal: Goal) -> str:
        site = g.get("site")
        locale = site.default_locale if site else "en"
        return money.format_progress(goal.raised_minor, goal.target_minor, locale)

    def time_text(moment: Any) -> str:
        if moment is None:
            return ""
        site = g.get("site")
        return local(moment, site.time_zone if site else "UTC").strftime("%Y-%m-%d %H:%M")

    return {
        "money_text": money_text,
        "progress_text": progress_text,
        "time_text": time_text,
        "may": scoping.may,
        "Role": Role,
        "sign_out_form": ConfirmForm(),
    }
