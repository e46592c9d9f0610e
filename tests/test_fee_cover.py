"""Cover the fees: the gross-up, the owner's rule, the settle checks, the ledger and the reports."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from donate import fee_cover, ledger, money
from donate.admin import reports
from donate.extensions import db
from donate.goals import SettingsError
from donate.ledger.errors import LedgerError
from donate.models import (
    Donation,
    DonationKind,
    DonationState,
    EventStatus,
    Goal,
    Role,
    StripeEvent,
    Subscription,
)
from tests.admin_support import make_user, post_form, sign_in_as
from tests.factories import make_goal, make_site, reload
from tests.stripe_events import checkout_session, event, invoice, post_event, refund

pytest_plugins = ["tests.admin_fixtures"]

# --- the gross-up -------------------------------------------------------------------------------


def test_the_issues_example_and_a_few_by_hand():
    # 2.9 % + €0.30 on €20: (2000 + 30) / 0.971 = 2090.63.. -> 2091, less the gift: 91.
    assert fee_cover.gross_up(2_000, 290, 30) == 91
    assert fee_cover.gross_up(1_000, 0, 0) == 0
    assert fee_cover.gross_up(1_000, 0, 25) == 25
    assert fee_cover.gross_up(1_000, 5_000, 0) == 1_000  # half of the whole is the fee
    assert fee_cover.gross_up(100, 1, 0) == 1  # any fraction rounds up


gifts = st.integers(min_value=1, max_value=10**13)
rates = st.integers(min_value=0, max_value=fee_cover.MAX_BASIS_POINTS)
fixed_parts = st.integers(min_value=0, max_value=10**9)


@given(gift=gifts, bp=rates, fixed=fixed_parts)
def test_the_gross_up_is_the_smallest_fee_that_leaves_the_gift_whole(gift, bp, fixed):
    fee = fee_cover.gross_up(gift, bp, fixed)
    total = gift + fee

    def kept(charged: int) -> int:
        # What a fee of the rule, taken exactly (not rounded), leaves of a charge: scaled by 10^4.
        return charged * (10_000 - bp) - fixed * 10_000

    assert fee >= fixed
    assert kept(total) >= gift * 10_000  # the gift arrives whole
    assert kept(total - 1) < gift * 10_000  # one unit less would not
    # The issue's formula, in exact fractions: ceil((gift + fixed) / (1 - pct)) - gift.
    from fractions import Fraction
    from math import ceil

    assert fee == ceil(Fraction(gift + fixed) / (1 - Fraction(bp, 10_000))) - gift


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    code=st.sampled_from(sorted(money.CURRENCIES)),
    data=st.data(),
    bp=rates,
    fixed=fixed_parts,
)
def test_the_offer_stays_on_the_step_and_within_one_charge(code, data, bp, fixed):
    unit = money.get_currency(code)
    floor = unit.minimum_minor or unit.step
    gift = data.draw(st.integers(min_value=floor, max_value=unit.maximum_minor // unit.step))
    gift -= gift % unit.step
    gift = max(gift, floor)
    fixed -= fixed % unit.step
    fee = fee_cover.offer(gift, code, bp, fixed)
    total = gift + fee
    assert 0 <= fee
    assert fee % unit.step == 0
    assert total <= unit.maximum_minor  # Stripe's digit limit for one charge
    assert total >= floor  # never under Stripe's minimum: the gift alone is above it
    money.to_stripe_amount(total, code)  # expressible in Stripe's units (ISK, UGX, HUF...)
    exact = fee_cover.gross_up(gift, bp, fixed)
    if gift + exact + unit.step <= unit.maximum_minor:
        assert exact <= fee < exact + unit.step  # rounded up to the step, no more
    else:
        assert fee <= exact  # shrunk to what still fits in one charge


def test_a_gift_at_the_charge_limit_gets_no_fee_line():
    unit = money.get_currency("EUR")
    assert fee_cover.offer(unit.maximum_minor, "EUR", 290, 30) == 0
    assert fee_cover.offer(unit.maximum_minor - 50, "EUR", 290, 30) == 50
    # HUF is charged in whole forints (steps of 100 of our minor units).
    assert fee_cover.offer(100_000, "HUF", 150, 0) == 1_600


@pytest.mark.parametrize(
    ("typed", "basis_points"),
    [("2.9", 290), ("2,9 %", 290), ("0.25", 25), ("3", 300), ("50", 5_000), (" 1.5% ", 150)],
)
def test_percentages_are_read_as_basis_points(typed, basis_points):
    assert fee_cover.parse_percent(typed) == basis_points
    assert fee_cover.parse_percent(fee_cover.percent_text(basis_points)) == basis_points


@pytest.mark.parametrize("typed", ["50.01", "2.999", "-1", "abc", "1e2", "100"])
def test_bad_percentages_say_why(typed):
    with pytest.raises(ValueError, match="percentage"):
        fee_cover.parse_percent(typed)


# --- the owner's rule -----------------------------------------------------------------------


@pytest.fixture
def german_editor(db_session):
    site = make_site(
        name="Stadtanzeiger", default_currency="EUR", default_locale="de", time_zone="Europe/Berlin"
    )
    return site, make_user("chefin@stadtanzeiger.example", site=site, role=Role.EDITOR)


def _goal_form(**overrides: str) -> dict[str, str]:
    values = {
        "title": "Winter appeal",
        "slug": "winter-appeal",
        "currency": "EUR",
        "target": "5.000",
        "presets": "10\n25",
        "minimum": "5",
        "status": "active",
        "cover_fees": "y",
        "fee_percent": "2,9",
        "fee_fixed": "0,30",
    }
    values.update(overrides)
    return values


def test_an_editor_sets_the_fee_rule_and_a_status_change_keeps_it(client, german_editor):
    site, editor = german_editor
    sign_in_as(client, editor)
    response = post_form(client, f"/admin/sites/{site.id}/goals/new", _goal_form())
    assert response.status_code == 302, response.text
    goal = db.session.execute(sa.select(Goal).where(Goal.slug == "winter-appeal")).scalar_one()
    assert (goal.fee_cover_enabled, goal.fee_cover_basis_points, goal.fee_cover_fixed_minor) == (
        True,
        290,
        30,
    )
    page = client.get(f"/admin/sites/{site.id}/goals/{goal.id}/edit")
    assert 'value="2.9"' in page.text and 'value="0,3"' in page.text
    post_form(client, f"/admin/sites/{site.id}/goals/{goal.id}/status", {"status": "paused"})
    goal = reload(goal)
    assert (goal.fee_cover_enabled, goal.fee_cover_basis_points) == (True, 290)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"fee_percent": "60"}, "The percentage can be at most 50."),
        ({"fee_percent": "zwei"}, "Enter the percentage as a number"),
        ({"fee_fixed": "-1"}, "greater than zero"),
        ({"fee_percent": "", "fee_fixed": ""}, "covering the fees adds nothing"),
    ],
)
def test_a_bad_rule_is_refused_beside_its_field(client, german_editor, overrides, message):
    site, editor = german_editor
    sign_in_as(client, editor)
    response = post_form(client, f"/admin/sites/{site.id}/goals/new", _goal_form(**overrides))
    assert response.status_code == 422
    assert message in response.text
    assert db.session.execute(sa.select(Goal)).first() is None


def test_the_shared_rules_refuse_an_off_step_fixed_part(db_session):
    site = make_site(default_currency="HUF")
    with pytest.raises(SettingsError) as refused:
        make_goal(
            site,
            currency="HUF",
            presets_minor=[100_000],
            minimum_minor=17_500,
            fee_cover_enabled=True,
            fee_cover_basis_points=150,
            fee_cover_fixed_minor=50,
        )
    assert "multiple of" in refused.value.errors["fee_cover_fixed_minor"]


# --- giving, settling, the ledger --------------------------------------------------------------


def _fee_goal(**overrides: object) -> Goal:
    values: dict[str, object] = {
        "fee_cover_enabled": True,
        "fee_cover_basis_points": 290,
        "fee_cover_fixed_minor": 30,
        "maximum_minor": None,
    }
    values.update(overrides)
    goal = make_goal(make_site(), **values)  # USD, as the Stripe shapes of tests.stripe_events
    db.session.commit()
    return goal


def _pending_with_fee(goal: Goal, gift: int, kind=DonationKind.ONE_TIME) -> Donation:
    fee = fee_cover.fee_for(goal, gift)
    donation = ledger.create_pending_donation(
        goal, amount_minor=gift + fee, fee_cover_minor=fee, kind=kind, cause="test"
    )
    db.session.commit()
    return donation


def _status(event_id: str) -> EventStatus:
    db.session.expire_all()
    return db.session.execute(
        sa.select(StripeEvent.status).where(StripeEvent.event_id == event_id)
    ).scalar_one()


def test_a_session_for_gift_plus_fee_settles_and_counts_both(client):
    goal = _fee_goal()
    donation = _pending_with_fee(goal, 2_000)
    assert (donation.amount_minor, donation.fee_cover_minor) == (2_091, 91)
    session = checkout_session(donation)
    assert post_event(client, event("checkout.session.completed", session)).status_code == 200
    goal = reload(goal)
    assert (goal.raised_minor, goal.donation_count) == (2_091, 1)


def test_a_session_whose_total_leaves_out_the_fee_settles_nothing(client):
    goal = _fee_goal()
    donation = _pending_with_fee(goal, 2_000)
    short = event("checkout.session.completed", checkout_session(donation, amount_total=2_000))
    assert post_event(client, short).status_code == 200
    assert _status(short["id"]) is EventStatus.IGNORED
    assert reload(goal).raised_minor == 0
    db.session.refresh(donation)
    assert donation.state is DonationState.PENDING


def test_monthly_fee_cover_follows_the_subscription_into_each_instalment(client):
    goal = _fee_goal()
    donation = _pending_with_fee(goal, 1_500, DonationKind.MONTHLY)
    total, fee = donation.amount_minor, donation.fee_cover_minor
    session = checkout_session(donation, mode="subscription", amount_total=total)
    subscription_id = session["subscription"]
    wrong_first = event(
        "invoice.paid",
        invoice(subscription_id, donation, 1_500, billing_reason="subscription_create"),
    )
    post_event(client, wrong_first)
    assert _status(wrong_first["id"]) is EventStatus.IGNORED  # the first month lacks the fee
    assert reload(goal).raised_minor == 0
    post_event(client, event("checkout.session.completed", session))
    first = invoice(subscription_id, donation, total, billing_reason="subscription_create")
    second = invoice(subscription_id, donation, total)
    changed = invoice(subscription_id, donation, 2_000)
    for paid in (first, second, changed):
        assert post_event(client, event("invoice.paid", paid)).status_code == 200
    subscription = db.session.execute(sa.select(Subscription)).scalar_one()
    assert (subscription.amount_minor, subscription.fee_cover_minor) == (total, fee)
    rows = db.session.execute(
        sa.select(Donation.amount_minor, Donation.fee_cover_minor).order_by(Donation.id)
    ).all()
    assert [tuple(row) for row in rows] == [(total, fee), (total, fee), (2_000, 0)]
    assert reload(goal).raised_minor == 2 * total + 2_000


def test_a_refund_reduces_what_is_kept_and_recount_agrees(client):
    goal = _fee_goal()
    donation = _pending_with_fee(goal, 2_000)
    session = checkout_session(donation)
    post_event(client, event("checkout.session.completed", session))
    post_event(client, event("refund.created", refund(session["payment_intent"], 1_000)))
    db.session.refresh(donation)
    assert (donation.kept_minor, donation.fee_cover_minor) == (1_091, 91)
    assert reload(goal).raised_minor == 1_091
    drift = ledger.recount(reload(goal), cause="test", repair=False)
    assert not drift.found


def test_the_fee_cover_must_be_part_of_the_gift(db_session):
    goal = _fee_goal()
    with pytest.raises(LedgerError):
        ledger.create_pending_donation(
            goal, amount_minor=100, fee_cover_minor=100, kind=DonationKind.ONE_TIME, cause="t"
        )
    with pytest.raises(sa.exc.IntegrityError):
        db.session.add(
            Donation(
                goal_id=goal.id,
                amount_minor=100,
                fee_cover_minor=101,
                currency="USD",
                kind=DonationKind.ONE_TIME,
            )
        )
        db.session.flush()
    db.session.rollback()


# --- reports ----------------------------------------------------------------------------------


def test_the_csv_and_the_article_report_show_the_fee_cover_apart(client):
    goal = _fee_goal()
    site = goal.site
    donation = _pending_with_fee(goal, 2_000)
    donation.article_id = "council-budget"
    db.session.commit()
    post_event(client, event("checkout.session.completed", checkout_session(donation)))
    [article] = reports.raised_per_article([goal.id])
    assert (article.label, article.raised_minor, article.fee_cover_minor) == (
        "council-budget",
        2_091,
        91,
    )
    viewer = make_user("viewer@example.org", site=site, role=Role.VIEWER)
    sign_in_as(client, viewer)
    csv_text = client.get(f"/admin/sites/{site.id}/donations.csv").get_data(as_text=True)
    header, row = csv_text.lstrip("\ufeff").splitlines()[:2]
    cells = dict(zip(header.split(","), row.split(","), strict=False))
    assert (cells["amount"], cells["fee_cover"], cells["net"]) == ("20.91", "0.91", "20.91")
    page = client.get(f"/admin/sites/{site.id}/goals/{goal.id}")
    assert "Of which fee cover" in page.text and "$0.91" in page.text
    detail = client.get(f"/admin/sites/{site.id}/donations/{donation.id}")
    assert "Added to cover fees" in detail.text


# --- the widget -----------------------------------------------------------------------------


def test_the_frame_offers_the_fee_cover_within_its_budget(client):
    import gzip

    from tests.test_widget_caching import WIDGET_BUDGET

    goal = _fee_goal(
        slug="budget-fees",
        title="A long fundraiser title that takes up most of the line in a sidebar " * 2,
        presets_minor=[500, 1_000, 2_500, 5_000, 10_000, 25_000],
        milestones_minor=[100_000, 200_000, 300_000, 400_000],
        description="Words " * 300,
    )
    for locale, label in (("en", "Add about $0.46 to help cover fees"), ("de", "Etwa 0,46")):
        body = client.get(f"/w/{goal.slug}?locale={locale}").get_data(as_text=True)
        assert 'name="cover_fees"' in body
        assert label in body.replace('<span class="fee-amt">', "").replace("</span>", "")
        assert len(gzip.compress(body.encode(), 9)) <= WIDGET_BUDGET
    goal.fee_cover_enabled = False
    db.session.commit()
    assert 'name="cover_fees"' not in client.get(f"/w/{goal.slug}?locale=fr").text


def test_the_server_ignores_a_fee_cover_when_the_goal_offers_none(client, db_session):
    from donate.goal_view import find_public_goal
    from donate.payments.checkout import read_gift

    goal = _fee_goal(fee_cover_enabled=False, fee_cover_basis_points=0, fee_cover_fixed_minor=0)
    public_goal = find_public_goal(goal.slug)
    assert public_goal is not None
    gift = read_gift(public_goal, {"amount_minor": "2500", "cover_fees": "1"}, "en")
    assert (gift.amount_minor, gift.fee_cover_minor) == (2_500, 0)
    goal.fee_cover_enabled, goal.fee_cover_basis_points = True, 290
    gift = read_gift(public_goal, {"amount_minor": "2500", "cover_fees": "1"}, "en")
    assert (gift.amount_minor, gift.fee_cover_minor) == (2_500, 75)  # ceil(2500 / 0.971) - 2500


@pytest.mark.parametrize("fixed", ["", "0", "0,00"])
def test_a_zero_or_empty_fixed_part_is_none(client, german_editor, fixed):
    site, editor = german_editor
    sign_in_as(client, editor)
    response = post_form(client, f"/admin/sites/{site.id}/goals/new", _goal_form(fee_fixed=fixed))
    assert response.status_code == 302, response.text
    goal = db.session.execute(sa.select(Goal)).scalar_one()
    assert (goal.fee_cover_basis_points, goal.fee_cover_fixed_minor) == (290, 0)
    page = client.get(f"/admin/sites/{site.id}/goals/{goal.id}/edit")
    assert 'name="fee_fixed" type="text" value=""' in page.text


def test_the_label_is_drawn_for_the_preset_the_card_checks(client):
    goal = _fee_goal(presets_minor=[1_000, 2_500, 5_000], monthly_enabled=True)
    goal.default_preset_minor = 2_500
    goal.monthly_presets_minor, goal.monthly_default_minor = [700], 700
    db.session.commit()

    def label(query: str) -> str:
        body = client.get(f"/w/{goal.slug}{query}").get_data(as_text=True)
        return body.split('<span class="fee-amt">', 1)[1].split("</span>", 1)[0]

    def fee(gift: int) -> str:
        return money.format_amount(fee_cover.fee_for(goal, gift), goal.currency, "en")

    # Not the smallest preset's fee: the default's, which the card checks.
    assert label("?locale=en") == fee(2_500) != fee(1_000)
