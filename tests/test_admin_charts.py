"""Charts: money raised per day in the site's time zone, and per article."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa

from donate import ledger
from donate.admin.charts import daily_chart
from donate.admin.reports import Day, raised_per_article, raised_per_day
from donate.extensions import db
from donate.models import DonationKind, DonationState, LedgerEntry
from tests.admin_support import sign_in_as
from tests.factories import make_goal, make_offline_gift

pytest_plugins = ["tests.admin_fixtures"]  # the dashboard and outbox fixtures


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def card_gift(goal, amount: int, when: datetime, **fields):
    """A paid Stripe gift whose ledger entry is dated `when`."""
    donation = ledger.create_pending_donation(
        goal, amount_minor=amount, kind=DonationKind.ONE_TIME, cause="t", **fields
    )
    ledger.settle_donation(donation.id, cause="evt", payment_intent_id=f"pi_{donation.id}")
    db.session.execute(
        sa.update(LedgerEntry).where(LedgerEntry.donation_id == donation.id).values(created_at=when)
    )
    return donation


def by_day(days) -> dict[date, tuple[int, int]]:
    return {day.day: (day.raised_minor, day.total_minor) for day in days}


def test_a_gift_at_half_past_eleven_utc_counts_on_the_next_day_in_berlin(db_session):
    goal = make_goal()
    card_gift(goal, 1_000, at(2026, 3, 14, 12, 0))
    card_gift(goal, 2_000, at(2026, 3, 14, 23, 30))  # 00:30 on the 15th in Berlin
    make_offline_gift(goal, 500, created_at=at(2026, 3, 16, 22, 0))  # received 23:00 Berlin
    refunded = card_gift(goal, 4_000, at(2026, 3, 17, 9, 0))
    ledger.record_refund(
        refunded, stripe_refund_id="re_1", amount_minor=1_500, status="succeeded", cause="evt_r"
    )
    db.session.execute(
        sa.update(LedgerEntry)
        .where(LedgerEntry.action == "refund")
        .values(created_at=at(2026, 3, 18, 23, 15))
    )  # the 19th in Berlin

    assert by_day(raised_per_day(goal, "UTC")) == {
        date(2026, 3, 14): (3_000, 3_000),
        date(2026, 3, 15): (0, 3_000),
        date(2026, 3, 16): (500, 3_500),
        date(2026, 3, 17): (4_000, 7_500),
        date(2026, 3, 18): (-1_500, 6_000),
    }
    assert by_day(raised_per_day(goal, "Europe/Berlin")) == {
        date(2026, 3, 14): (1_000, 1_000),
        date(2026, 3, 15): (2_000, 3_000),
        date(2026, 3, 16): (500, 3_500),
        date(2026, 3, 17): (4_000, 7_500),
        date(2026, 3, 18): (0, 7_500),
        date(2026, 3, 19): (-1_500, 6_000),
    }


def test_the_chart_draws_a_bar_per_day_the_running_total_and_the_target(db_session):
    goal = make_goal(target_minor=10_000)
    card_gift(goal, 4_000, at(2026, 5, 1, 10))
    card_gift(goal, 2_000, at(2026, 5, 3, 10))
    days = raised_per_day(goal, "UTC")
    chart = daily_chart(days, target_minor=10_000, currency="USD", locale="en")
    assert [bar.label for bar in chart.bars] == [
        "2026-05-01: $40",
        "2026-05-02: $0",
        "2026-05-03: $20",
    ]
    heights = [bar.height for bar in chart.bars]
    assert heights[0] == 2 * heights[2] and heights[1] == 0
    assert chart.target_y == chart.plot_top  # the target is the highest value
    assert chart.target_label == "Target $100"
    assert len(chart.total_points.split()) == 3
    assert chart.summary == "$60 raised of a $100 target over 3 days."


def test_the_goal_page_shows_the_chart_and_its_numbers(client, dashboard):
    d = dashboard
    d.site_a.time_zone = "Europe/Berlin"
    card_gift(d.goal_a, 2_000, at(2026, 3, 14, 23, 30))
    sign_in_as(client, d.viewer)
    page = client.get(f"/admin/sites/{d.site_a.id}/goals/{d.goal_a.id}")
    assert page.status_code == 200
    assert '<svg class="chart"' in page.text
    assert "<title>2026-03-15: $20</title>" in page.text
    assert "<td>2026-03-15</td>" in page.text
    assert "<td>2026-03-14</td>" not in page.text


def test_money_per_article_counts_succeeded_gifts_net_of_refunds(db_session):
    goal = make_goal()
    council = "https://news.example.org/2026/council"
    card_gift(goal, 1_000, at(2026, 3, 1), source_url=council, donor_email="a@x.org")
    card_gift(goal, 3_000, at(2026, 3, 2), source_url=council, donor_email="a@x.org")
    refunded = card_gift(
        goal,
        2_000,
        at(2026, 3, 3),
        source_url=council + "?utm=x",
        article_id="council-budget",
        donor_email="b@x.org",
    )
    card_gift(
        goal,
        2_500,
        at(2026, 3, 3),
        source_url="https://news.example.org/other",
        article_id="council-budget",
        donor_email="c@x.org",
    )
    ledger.record_refund(
        refunded, stripe_refund_id="re_a", amount_minor=500, status="succeeded", cause="e"
    )
    failed = ledger.create_pending_donation(
        goal, amount_minor=9_000, cause="t", kind=DonationKind.ONE_TIME, source_url=council
    )
    ledger.close_pending_donation(failed.id, DonationState.FAILED, cause="t")
    make_offline_gift(goal, 700)
    other_goal = make_goal()
    card_gift(other_goal, 5_000, at(2026, 3, 1), source_url=council)

    found = {
        (a.label, a.raised_minor, a.donations, a.donors) for a in raised_per_article([goal.id])
    }
    assert found == {
        ("council-budget", 4_000, 2, 2),
        (council, 4_000, 2, 1),
        (None, 700, 1, 1),
    }
    ranked = raised_per_article([goal.id, other_goal.id])
    assert (ranked[0].label, ranked[0].raised_minor) == (council, 9_000)


def test_a_long_history_draws_only_the_last_400_days_and_says_so(client, dashboard):
    d = dashboard
    goal = make_goal(d.site_a, target_minor=10_000)
    make_offline_gift(goal, 1_000, created_at=at(2001, 1, 1, 12))
    card_gift(goal, 2_000, at(2026, 5, 3, 10))
    days = raised_per_day(goal, "UTC")
    assert len(days) == 400
    assert days[-1] == Day(day=date(2026, 5, 3), raised_minor=2_000, total_minor=3_000)
    assert (days[0].day, days[0].total_minor) == (date(2025, 3, 30), 1_000)  # carried in
    assert days.left_out == (date(2025, 3, 30) - date(2001, 1, 1)).days
    sign_in_as(client, d.viewer)
    page = client.get(f"/admin/sites/{d.site_a.id}/goals/{goal.id}")
    assert page.status_code == 200
    assert page.text.count("<rect ") == 400
    assert "Only the last 400 days are drawn" in page.text
