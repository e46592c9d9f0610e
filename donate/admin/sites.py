"""Creating and changing sites from the dashboard, with donate.goals' rules and an audit row."""

from __future__ import annotations

from flask_login import current_user

from donate.accounts import grant_role
from donate.admin import audit
from donate.admin.forms import SiteForm
from donate.goals import SettingsError, create_site, update_site
from donate.models import Role, Site

_AUDITED = tuple(
    "name allowed_origins default_currency default_locale time_zone brand_colour home_url "
    "receipts_enabled receipt_organisation receipt_address receipt_tax_note".split()
)


def create_from(form: SiteForm) -> Site | None:
    """A new site owned by the signed-in user; None (errors on the form) when a rule refuses."""
    try:
        site = create_site(form.settings())
    except SettingsError as error:
        form.show_rule_errors(error)
        return None
    grant_role(current_user, site, Role.OWNER)
    audit.record("site.create", f"site:{site.id}", site=site, name=site.name)
    return site


def update_from(site: Site, form: SiteForm) -> bool:
    """Apply the form to the site; False (errors on the form) when a rule refuses."""
    before = {name: getattr(site, name) for name in _AUDITED}
    try:
        update_site(site, form.settings())
    except SettingsError as error:
        form.show_rule_errors(error)
        return False
    changes = {
        name: {"before": before[name], "after": getattr(site, name)}
        for name in _AUDITED
        if before[name] != getattr(site, name)
    }
    if changes:
        audit.record("site.update", f"site:{site.id}", changes=changes)
    return True
