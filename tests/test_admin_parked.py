"""The overview warns about events parked past Stripe's retry window, on the right site."""

from __future__ import annotations

import json
from datetime import timedelta

from donate.extensions import db
from donate.models import EventStatus, StripeEvent, utcnow
from tests.admin_support import sign_in_as

pytest_plugins = ["tests.admin_fixtures"]  # the dashboard and outbox fixtures

WAITED = "waited more than 3 days for a payment we have not seen"


def _parked(event_id: str, *, days: float, donation_id: int | None = None) -> None:
    metadata = {"donate_donation_id": str(donation_id)} if donation_id else {}
    payload = {
        "id": event_id,
        "type": "charge.succeeded",
        "data": {
            "object": {"id": f"ch_{event_id}", "payment_intent": "pi_x", "metadata": metadata}
        },
    }
    db.session.add(
        StripeEvent(
            event_id=event_id,
            type="charge.succeeded",
            payload=json.dumps(payload),
            status=EventStatus.PARKED,
            parked_on="pi_x",
            received_at=utcnow() - timedelta(days=days),
        )
    )
    db.session.flush()


def _overview(client, user, site) -> str:
    sign_in_as(client, user)
    page = client.get(f"/admin/sites/{site.id}/")
    assert page.status_code == 200
    return page.text


def test_an_event_parked_within_stripes_retry_window_raises_no_warning(client, dashboard):
    _parked("evt_recent", days=2)
    assert WAITED not in _overview(client, dashboard.viewer, dashboard.site_a)


def test_an_event_parked_for_days_that_no_site_owns_is_shown_to_the_operator_only(
    client, dashboard
):
    _parked("evt_unplaced", days=4)
    assert "evt_unplaced" not in _overview(client, dashboard.viewer, dashboard.site_a)
    assert "evt_unplaced" not in _overview(client, dashboard.owner_b, dashboard.site_b)
    dashboard.owner_b.is_operator = True
    db.session.flush()
    page = _overview(client, dashboard.owner_b, dashboard.site_b)
    assert "1 Stripe event(s) have " + WAITED + " (evt_unplaced)" in page
    assert "another integration" in page


def test_an_event_parked_for_days_about_a_sites_gift_is_shown_on_that_site_only(client, dashboard):
    _parked("evt_site_a", days=4, donation_id=dashboard.donation_a.id)
    page = _overview(client, dashboard.viewer, dashboard.site_a)
    assert "about gifts to this site have " + WAITED + " (evt_site_a)" in page
    assert "evt_site_a" not in _overview(client, dashboard.owner_b, dashboard.site_b)
