"""The site owner's dashboard: goals, embed codes, donations, refunds, exports and charts."""

# Importing these modules adds their routes and template helpers to the blueprint.
from donate.admin import display, donation_views, goal_views, receipt_views, views  # noqa: F401
from donate.admin.blueprint import admin

__all__ = ["admin"]
