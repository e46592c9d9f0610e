"""The site owner's dashboard: goals, embed codes, donations, refunds, exports and charts."""

# Importing these modules adds their routes and template helpers to the blueprint.
from donate.admin import (  # noqa: F401
    cover_views,
    designer_views,
    display,
    donation_views,
    goal_views,
    match_views,
    monthly_views,
    receipt_views,
    views,
)
from donate.admin.blueprint import admin

__all__ = ["admin"]
