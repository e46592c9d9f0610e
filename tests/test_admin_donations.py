"""Donations in the dashboard: the list and its filters, the detail page, offline gifts with their
corrections and voids, hidden messages and erasing a donor."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from donate import ledger
from donate.extensions import db
from donate.models import (
    AuditLog,
    Donation,
    DonationKind,
    DonationState,
    EventStatus,
    StripeEvent,
)
from tests.admin_support import post_form, sign_in_as
from tests.factories import make_goal, make_offline_gift, reload

pytest_plugins = ["tests.admin_fixtures"]  # the dashboard and outbox fixtures


def totals(goal) -> tuple[int, int, int]:
    goal = reload(goal)
    return goal.raised_minor, goal.donation_count, goal.donor_count


def listed_ids(response) -> list[int]:
    import re

    return [int(n) for n in re.findall(r"/donations/(\d+)\"", response.text)]


@pytest.fixture
def gifts(dashboard):
    """Gifts of several kinds, states, days and donors on site A."""
    d = dashboard
    second_goal = make_goal(d.site_a, slug="second-goal")
    made = {
        "ana": make_offline_gift(
            d.goal_a,
            1_000,
            public_name="Ana Lima",
            donor_email="ana@example.org",
            created_at=datetime(2026, 3, 1, 10, tzinfo=UTC),
        ),
        "ben": make_offline_gift(
            second_goal,
            2_000,
            public_name="Ben Okafor",
            donor_email="ben@example.org",
            created_at=datetime(2026, 3, 5, 10, tzinfo=UTC),
        ),
        "pending": ledger.create_pending_donation(
            d.goal_a,
            amount_minor=3_000,
            kind=DonationKind.ONE_TIME,
            donor_email="cleo_100%@example.org",
            cause="test",
        ),
    }
    made["pending"].created_at = datetime(2026, 3, 9, 10, tzinfo=UTC)
    db.session.flush()
    return d, second_goal, made


def test_the_list_shows_the_sites_donations_newest_first(client, gifts):
    d, _second, made = gifts
    sign_in_as(client, d.viewer)
    page = client.get(f"/admin/sites/{d.site_a.id}/donations")
    assert page.status_code == 200
    assert listed_ids(page) == [d.donation_a.id, made["pending"].id, made["ben"].id, made["ana"].id]
    assert "4 donations" in page.text
    assert "Hilltop" not in page.text and "b@donor.example" not in page.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("goal={second}", ["ben"]),
        ("state=pending", ["pending"]),
        ("kind=offline&start=2026-03-01&end=2026-03-04", ["ana"]),
        ("start=2026-03-05&end=2026-03-09", ["pending", "ben"]),
        ("q=OKAFOR", ["ben"]),
        ("q=ana%40example", ["ana"]),
        ("q=_100%25", ["pending"]),
        ("q=%25", ["pending"]),  # a literal percent sign, not a wildcard
        ("goal=999999", ["donation_a", "pending", "ben", "ana"]),  # not a goal of this site
    ],
)
def test_filters_narrow_the_list(client, gifts, query, expected):
    d, second, made = gifts
    made["donation_a"] = d.donation_a
    sign_in_as(client, d.viewer)
    page = client.get(f"/admin/sites/{d.site_a.id}/donations?" + query.format(second=second.id))
    assert listed_ids(page) == [made[name].id for name in expected]


def test_dates_are_the_sites_days(client, gifts):
    d, _second, made = gifts
    d.site_a.time_zone = "Pacific/Auckland"  # 10:00 UTC on 1 March is 23:00 there
    sign_in_as(client, d.viewer)
    page = client.get(f"/admin/sites/{d.site_a.id}/donations?start=2026-03-01&end=2026-03-01")
    assert listed_ids(page) == [made["ana"].id]
    assert "2026-03-01 23:00" in page.text


def test_the_list_is_paginated(client, gifts, monkeypatch):
    d, _second, made = gifts
    monkeypatch.setattr("donate.admin.donations.PAGE_SIZE", 3)
    sign_in_as(client, d.viewer)
    offline = client.get(f"/admin/sites/{d.site_a.id}/donations?kind=offline")
    assert len(listed_ids(offline)) == 3
    assert 'rel="next"' not in offline.text  # three offline gifts fill one page
    first = client.get(f"/admin/sites/{d.site_a.id}/donations")
    assert "page 1 of 2" in first.text
    assert 'rel="next" href="/admin/sites/' in first.text
    second = client.get(f"/admin/sites/{d.site_a.id}/donations?page=2")
    assert listed_ids(second) == [made["ana"].id]
    assert "page 2 of 2" in second.text
    beyond = client.get(f"/admin/sites/{d.site_a.id}/donations?page=99")
    assert listed_ids(beyond) == [made["ana"].id]


def test_page_and_export_links_carry_only_the_filters(client, gifts, monkeypatch):
    import html

    d, _second, _made = gifts
    monkeypatch.setattr("donate.admin.donations.PAGE_SIZE", 1)
    sign_in_as(client, d.viewer)
    page = client.get(
        f"/admin/sites/{d.site_a.id}/donations?_method=POST&_external=1&_scheme=javascript"
        f"&_anchor=x&site_id={d.site_b.id}&q=example.org&kind=&state=succeeded"
    )
    assert page.status_code == 200
    links = re.findall(r'href="([^"]*donations(?:\.csv)?\?[^"]*)"', html.unescape(page.text))
    assert len(links) == 2  # the export and the next page
    for link in links:
        path, query = link.split("?", 1)
        assert path in (
            f"/admin/sites/{d.site_a.id}/donations",
            f"/admin/sites/{d.site_a.id}/donations.csv",
        )
        assert sorted(query.split("&")) in (
            ["q=example.org", "state=succeeded"],
            ["page=2", "q=example.org", "state=succeeded"],
        )


def test_the_detail_page_shows_the_history_from_the_inbox_and_the_audit_log(client, gifts):
    d, _second, made = gifts
    gift = made["pending"]
    gift.stripe_checkout_session_id = "cs_test_history"
    db.session.add(
        StripeEvent(
            event_id="evt_history",
            type="checkout.session.expired",
            payload=json.dumps({"data": {"object": {"id": "cs_test_history"}}}),
            status=EventStatus.PROCESSED,
        )
    )
    db.session.add(
        StripeEvent(
            event_id="evt_other",
            type="checkout.session.expired",
            payload=json.dumps({"data": {"object": {"id": "cs_test_other"}}}),
            status=EventStatus.PROCESSED,
        )
    )
    sign_in_as(client, d.viewer)
    page = client.get(f"/admin/sites/{d.site_a.id}/donations/{gift.id}")
    assert page.status_code == 200
    assert "evt_history" in page.text
    assert "evt_other" not in page.text
    assert "cleo_100%@example.org" in page.text
    assert "Refund" not in page.text  # a viewer changes nothing


# --- offline gifts ----------------------------------------------------------------------------


def offline_form(goal_row, **overrides: str) -> dict[str, str]:
    values = {
        "goal": str(goal_row.id),
        "amount": "150.50",
        "method": "cheque",
        "received_on": "2026-02-14",
        "donor_name": "Dana Fisher",
        "donor_email": "Dana@Example.org",
        "public_message": "For the flood coverage.",
        "note": "Cheque no. 4711",
    }
    values.update(overrides)
    return values


def test_an_offline_gift_moves_the_totals_and_its_void_moves_them_back(client, dashboard):
    d = dashboard
    before = totals(d.goal_a)
    sign_in_as(client, d.editor)
    response = post_form(
        client, f"/admin/sites/{d.site_a.id}/donations/offline", offline_form(d.goal_a)
    )
    assert response.status_code == 302
    gift = db.session.execute(
        sa.select(Donation).where(Donation.public_name == "Dana Fisher")
    ).scalar_one()
    assert response.headers["Location"].endswith(f"/donations/{gift.id}")
    assert (gift.kind, gift.state) == (DonationKind.OFFLINE, DonationState.SUCCEEDED)
    assert gift.amount_minor == 15_050
    assert gift.donor_email == "dana@example.org"
    assert (gift.offline_method, gift.note) == ("cheque", "Cheque no. 4711")
    assert gift.created_at == datetime(2026, 2, 14, tzinfo=UTC)  # the site's midnight (UTC)
    assert totals(d.goal_a) == (before[0] + 15_050, before[1] + 1, before[2] + 1)
    page = client.get(f"/admin/sites/{d.site_a.id}/donations/{gift.id}")
    assert "offline" in page.text and "Void this gift" in page.text
    assert "<dt>Received as</dt><dd>Cheque</dd>" in page.text

    refused = post_form(
        client, f"/admin/sites/{d.site_a.id}/donations/{gift.id}/void", {"reason": ""}
    )
    assert refused.status_code == 422
    assert "Say why the gift is voided." in refused.text
    assert totals(d.goal_a)[0] == before[0] + 15_050

    voided = post_form(
        client, f"/admin/sites/{d.site_a.id}/donations/{gift.id}/void", {"reason": "Entered twice"}
    )
    assert voided.status_code == 302
    assert totals(d.goal_a) == before
    db.session.expire(gift)
    assert gift.state == DonationState.VOIDED
    # The void reason joins the note; the method and the editor's note are kept.
    assert gift.offline_method == "cheque"
    assert gift.note == "Cheque no. 4711\nVoided: Entered twice"
    page = client.get(f"/admin/sites/{d.site_a.id}/donations/{gift.id}")
    assert "<dt>Received as</dt><dd>Cheque</dd>" in page.text
    logged = (
        db.session.execute(
            sa.select(AuditLog)
            .where(AuditLog.subject == f"donation:{gift.id}")
            .order_by(AuditLog.id)
        )
        .scalars()
        .all()
    )
    assert [entry.action for entry in logged] == ["gift.offline", "gift.void"]
    assert logged[1].detail["reason"] == "Entered twice"
    assert logged[1].actor == f"user:{d.editor.id}"


def test_an_offline_gift_amount_is_corrected_with_a_reason(client, dashboard):
    d = dashboard
    gift = d.donation_a
    before = totals(d.goal_a)
    sign_in_as(client, d.editor)
    url = f"/admin/sites/{d.site_a.id}/donations/{gift.id}/correct"
    no_reason = post_form(client, url, {"amount": "20", "reason": ""})
    assert no_reason.status_code == 422
    assert "Say why the amount changes." in no_reason.text
    response = post_form(client, url, {"amount": "20", "reason": "The cheque was for 20"})
    assert response.status_code == 302
    assert totals(d.goal_a) == (before[0] - 500, before[1], before[2])
    db.session.expire(gift)
    assert gift.amount_minor == 2_000
    entry = db.session.execute(
        sa.select(AuditLog).where(AuditLog.action == "gift.correct")
    ).scalar_one()
    assert entry.detail == {
        "before_minor": 2_500,
        "after_minor": 2_000,
        "currency": "USD",
        "reason": "The cheque was for 20",
    }


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"amount": "lots"}, "amount", "Please enter the amount in digits"),
        ({"amount": ""}, "amount", "Enter the amount received."),
        ({"donor_email": "dana at example"}, "donor_email", "is not an e-mail address"),
        ({"received_on": "2999-01-01"}, "received_on", "The date cannot be in the future."),
        (
            {"received_on": "1000-03-01"},
            "received_on",
            "The date cannot be before 1 January 2000; check the year.",
        ),
        ({"goal": "999999"}, "goal", "Not a valid choice"),
    ],
)
def test_offline_gift_problems_are_named_beside_the_field(
    client, dashboard, overrides, field, message
):
    d = dashboard
    before = totals(d.goal_a)
    sign_in_as(client, d.editor)
    response = post_form(
        client, f"/admin/sites/{d.site_a.id}/donations/offline", offline_form(d.goal_a, **overrides)
    )
    assert response.status_code == 422
    error_line = response.text.split(f'id="{field}-error">', 1)[1].split("</p>", 1)[0]
    assert message in error_line
    assert totals(d.goal_a) == before


def test_a_card_payment_can_be_neither_corrected_nor_voided(client, gifts):
    d, _second, made = gifts
    gift = made["pending"]
    sign_in_as(client, d.editor)
    void = post_form(
        client, f"/admin/sites/{d.site_a.id}/donations/{gift.id}/void", {"reason": "no"}
    )
    assert void.status_code == 422
    assert "Only offline gifts can be voided" in void.text
    correct = post_form(
        client,
        f"/admin/sites/{d.site_a.id}/donations/{gift.id}/correct",
        {"amount": "1", "reason": "no"},
    )
    assert correct.status_code == 422
    assert "Only offline gifts can be corrected" in correct.text


def test_a_public_message_is_hidden_and_shown_again(client, dashboard):
    d = dashboard
    gift = d.donation_a
    sign_in_as(client, d.editor)
    url = f"/admin/sites/{d.site_a.id}/donations/{gift.id}/message"
    assert post_form(client, url, {"visibility": "hidden"}).status_code == 302
    db.session.expire(gift)
    assert gift.message_hidden is True
    assert "For the river." not in client.get(f"/g/{d.goal_a.slug}").text
    assert post_form(client, url, {"visibility": "shown"}).status_code == 302
    db.session.expire(gift)
    assert gift.message_hidden is False
    assert post_form(client, url, {"visibility": "sideways"}).status_code == 422
    actions = (
        db.session.execute(
            sa.select(AuditLog.action).where(AuditLog.subject == f"donation:{gift.id}")
        )
        .scalars()
        .all()
    )
    assert actions == ["gift.message_hidden", "gift.message_shown"]


# --- erasure ----------------------------------------------------------------------------------


def test_erasing_a_donor_keeps_the_amounts_and_totals(client, dashboard):
    d = dashboard
    second = make_offline_gift(
        d.goal_a,
        700,
        donor_email="A@Donor.example",
        public_name="Avery Quinn",
        public_message="Again!",
    )
    second.stripe_checkout_session_id = "cs_test_erase"
    elsewhere = d.donation_b  # another site's gift stays as it is
    elsewhere.donor_email = "a@donor.example"
    db.session.add(
        StripeEvent(
            event_id="evt_erase",
            type="checkout.session.completed",
            status=EventStatus.PROCESSED,
            payload=json.dumps(
                {
                    "data": {
                        "object": {
                            "id": "cs_test_erase",
                            "amount_total": 700,
                            "customer_details": {
                                "email": "a@donor.example",
                                "name": "Avery Quinn",
                                "address": {"city": "Riverside"},
                            },
                        }
                    }
                },
                indent=2,
            ),
        )
    )
    before = totals(d.goal_a)
    sign_in_as(client, d.editor)
    url = f"/admin/sites/{d.site_a.id}/donations/{d.donation_a.id}/erase"
    unconfirmed = post_form(client, url, {})
    assert unconfirmed.status_code == 422
    assert "Tick the box to confirm the erasure." in unconfirmed.text
    response = post_form(client, url, {"confirm": "y"})
    assert response.status_code == 302

    db.session.expire_all()
    for gift in (db.session.get(Donation, d.donation_a.id), db.session.get(Donation, second.id)):
        assert (gift.donor_email, gift.public_name, gift.public_message, gift.note) == (
            None,
            None,
            None,
            None,
        )
        assert gift.anonymous is True
        assert gift.state == DonationState.SUCCEEDED
    assert db.session.get(Donation, second.id).amount_minor == 700
    assert totals(d.goal_a) == before
    assert db.session.get(Donation, elsewhere.id).donor_email == "a@donor.example"
    payload = db.session.execute(
        sa.select(StripeEvent.payload).where(StripeEvent.event_id == "evt_erase")
    ).scalar_one()
    assert "a@donor.example" not in payload and "Avery Quinn" not in payload
    session = json.loads(payload)["data"]["object"]
    assert session["customer_details"] == {"email": "erased", "name": "erased", "address": None}
    assert (session["id"], session["amount_total"]) == ("cs_test_erase", 700)
    entry = db.session.execute(
        sa.select(AuditLog).where(AuditLog.action == "donor.erase")
    ).scalar_one()
    assert sorted(entry.detail["donations"]) == sorted([d.donation_a.id, second.id])
    assert "donor.example" not in json.dumps(entry.detail)
    listing = client.get(f"/admin/sites/{d.site_a.id}/donations?q=donor.example")
    assert listed_ids(listing) == []


def stored_event(event_id: str, payload: dict) -> None:
    db.session.add(
        StripeEvent(
            event_id=event_id,
            type=payload.get("type", "charge.refunded"),
            status=EventStatus.PARKED if "parked" in event_id else EventStatus.PROCESSED,
            payload=json.dumps(payload),
        )
    )


def test_erasing_a_donor_clears_personal_fields_only_in_their_own_events(client, dashboard):
    d = dashboard
    gift = d.donation_a
    gift.public_name = "succeeded"  # a name that is also a word Stripe uses
    gift.stripe_payment_intent_id = "pi_test_mine"
    gift.stripe_charge_id = "ch_test_mine"
    d.donation_b.public_name = "succeeded"
    d.donation_b.donor_email = "a@donor.example"
    mine = {
        "type": "charge.refunded",
        "data": {
            "object": {
                "id": "ch_test_mine",
                "payment_intent": "pi_test_mine",
                "amount": 2_500,
                "status": "succeeded",
                "receipt_email": "a@donor.example",
                "billing_details": {"email": "a@donor.example", "name": "succeeded", "phone": "1"},
                "shipping": {"name": "succeeded", "address": {"line1": "1 River Road"}},
            }
        },
    }
    theirs = {
        "type": "charge.refund.updated",
        "data": {
            "object": {
                "id": "re_test_theirs",
                "charge": "ch_test_theirs",
                "amount": 4_000,
                "status": "succeeded",
                "receipt_email": "a@donor.example",
            }
        },
    }
    stored_event("evt_mine", mine)
    stored_event("evt_parked_theirs", theirs)
    sign_in_as(client, d.editor)
    response = post_form(
        client, f"/admin/sites/{d.site_a.id}/donations/{gift.id}/erase", {"confirm": "y"}
    )
    assert response.status_code == 302

    def payload(event_id: str) -> dict:
        return json.loads(
            db.session.execute(
                sa.select(StripeEvent.payload).where(StripeEvent.event_id == event_id)
            ).scalar_one()
        )

    charge = payload("evt_mine")["data"]["object"]
    assert (charge["id"], charge["amount"], charge["status"]) == (
        "ch_test_mine",
        2_500,
        "succeeded",
    )
    assert charge["receipt_email"] == "erased"
    assert charge["billing_details"] == {"email": "erased", "name": "erased", "phone": "erased"}
    assert charge["shipping"] is None
    assert payload("evt_parked_theirs") == theirs  # another site's parked refund, untouched
    entry = db.session.execute(
        sa.select(AuditLog).where(AuditLog.action == "donor.erase")
    ).scalar_one()
    assert entry.detail["stripe_events_scrubbed"] == 1


@pytest.mark.parametrize("query", ["end=9999-12-31", "start=0001-01-01", "start=1999-12-31"])
def test_dates_out_of_range_are_named_and_ignored(client, gifts, query):
    d, _second, _made = gifts
    d.site_a.time_zone = "Europe/Berlin"
    sign_in_as(client, d.viewer)
    page = client.get(f"/admin/sites/{d.site_a.id}/donations?{query}")
    assert page.status_code == 200
    assert "Choose a date from 1 January 2000 to" in page.text
    assert len(listed_ids(page)) == 4
    assert client.get(f"/admin/sites/{d.site_a.id}/donations.csv?{query}").status_code == 200


def test_the_first_and_last_days_of_the_calendar_do_not_overflow():
    from datetime import date

    from donate.admin.local_time import day_end, day_start

    assert day_start(date(1, 1, 1), "Europe/Berlin") == datetime.min.replace(tzinfo=UTC)
    assert day_end(date(9999, 12, 31), "Europe/Berlin") == datetime.max.replace(tzinfo=UTC)
    assert day_start(date(2026, 3, 29), "Europe/Berlin") == datetime(2026, 3, 28, 23, tzinfo=UTC)


def test_a_filter_that_does_not_parse_is_named_and_ignored(client, gifts):
    d, _second, made = gifts
    sign_in_as(client, d.viewer)
    page = client.get(f"/admin/sites/{d.site_a.id}/donations?start=yesterday&state=lost")
    assert len(listed_ids(page)) == 4
    assert 'id="start-error"' in page.text and 'id="state-error"' in page.text
    backwards = client.get(f"/admin/sites/{d.site_a.id}/donations?start=2026-03-09&end=2026-03-01")
    assert "The end date comes before the start date." in backwards.text
    # The start still applies: the pending gift of 9 March and the one made today.
    assert listed_ids(backwards) == [d.donation_a.id, made["pending"].id]
