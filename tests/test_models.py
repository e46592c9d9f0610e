"""The database itself enforces the money rules, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, StatementError

from donate.extensions import db
from donate.models import Donation, DonationKind, DonationState, Goal
from tests.factories import make_goal


def _insert_donation(goal: Goal, **values: object) -> None:
    row = {
        "goal_id": goal.id,
        "amount_minor": 1_000,
        "currency": goal.currency,
        "kind": "one_time",
        "state": "pending",
        "refunded_minor": 0,
        "disputed_minor": 0,
        "anonymous": False,
        "message_hidden": False,
        "created_at": sa.func.now(),
    }
    row.update(values)
    columns = ", ".join(row)
    params = {k: v for k, v in row.items() if not isinstance(v, sa.sql.ClauseElement)}
    placeholders = ", ".join(
        "CURRENT_TIMESTAMP" if isinstance(v, sa.sql.ClauseElement) else f":{k}"
        for k, v in row.items()
    )
    with db.session.begin_nested():
        db.session.execute(
            sa.text(f"INSERT INTO donations ({columns}) VALUES ({placeholders})"), params
        )


def test_database_rejects_a_negative_amount(db_session):
    goal = make_goal()
    with pytest.raises(IntegrityError):
        _insert_donation(goal, amount_minor=-500)


def test_database_rejects_a_zero_amount(db_session):
    goal = make_goal()
    with pytest.raises(IntegrityError):
        _insert_donation(goal, amount_minor=0)


def test_database_rejects_an_unknown_state(db_session):
    goal = make_goal()
    with pytest.raises(IntegrityError):
        _insert_donation(goal, state="refunded-ish")


def test_orm_refuses_an_unknown_state_before_the_database_sees_it(db_session):
    goal = make_goal()
    donation = Donation(
        goal_id=goal.id, amount_minor=100, currency="USD", kind=DonationKind.ONE_TIME
    )
    donation.state = "teleported"  # type: ignore[assignment]
    db.session.add(donation)
    with pytest.raises(StatementError):
        db.session.flush()
    db.session.rollback()


def test_database_rejects_a_duplicate_stripe_payment_intent(db_session):
    goal = make_goal()
    _insert_donation(goal, stripe_payment_intent_id="pi_same")
    with pytest.raises(IntegrityError):
        _insert_donation(goal, stripe_payment_intent_id="pi_same")


def test_database_rejects_a_duplicate_checkout_session(db_session):
    goal = make_goal()
    _insert_donation(goal, stripe_checkout_session_id="cs_test_same")
    with pytest.raises(IntegrityError):
        _insert_donation(goal, stripe_checkout_session_id="cs_test_same")


def test_database_rejects_refunds_above_the_amount(db_session):
    goal = make_goal()
    with pytest.raises(IntegrityError):
        _insert_donation(goal, amount_minor=1_000, refunded_minor=600, disputed_minor=500)


def test_database_rejects_a_duplicate_goal_slug(db_session):
    goal = make_goal()
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(
            sa.insert(Goal).values(
                site_id=goal.site_id,
                slug=goal.slug,
                title="Twin",
                currency="USD",
                target_minor=100,
                presets_minor=[],
                minimum_minor=50,
                monthly_enabled=False,
                milestones_minor=[],
                status="active",
                raised_minor=0,
                donation_count=0,
                donor_count=0,
                totals_version=0,
                description="",
                created_at=sa.func.now(),
                updated_at=sa.func.now(),
            )
        )


def test_database_rejects_a_goal_on_a_missing_site(db_session):
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(
            sa.text(
                "INSERT INTO goals (site_id, slug, title, description, currency, target_minor,"
                " presets_minor, minimum_minor, monthly_enabled, milestones_minor, status,"
                " raised_minor, donation_count, donor_count, totals_version, created_at,"
                " updated_at) VALUES (987654, 'orphan', 'x', '', 'USD', 100, '[]', 50, false,"
                " '[]', 'active', 0, 0, 0, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )


def test_money_columns_hold_64_bit_amounts(db_session):
    goal = make_goal(target_minor=9_000_000_000_000)
    _insert_donation(goal, amount_minor=8_000_000_000_000, stripe_charge_id="ch_big")
    stored = db.session.execute(
        sa.select(Donation.amount_minor).where(Donation.stripe_charge_id == "ch_big")
    ).scalar_one()
    assert stored == 8_000_000_000_000
    assert db.session.get(Goal, goal.id).target_minor == 9_000_000_000_000


def test_a_donation_reads_back_with_its_enum_state(db_session):
    goal = make_goal()
    _insert_donation(goal, stripe_charge_id="ch_enum")
    donation = db.session.execute(
        sa.select(Donation).where(Donation.stripe_charge_id == "ch_enum")
    ).scalar_one()
    assert donation.state is DonationState.PENDING
    assert donation.created_at.tzinfo is not None
