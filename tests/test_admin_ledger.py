"""Correcting an offline gift's amount: the one ledger change the dashboard adds."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from donate import ledger
from donate.extensions import db
from donate.models import Donation, DonationKind, LedgerEntry
from tests.factories import make_goal, make_offline_gift, reload


def totals(goal) -> tuple[int, int, int, int]:
    goal = reload(goal)
    return goal.raised_minor, goal.donation_count, goal.donor_count, goal.totals_version


def test_a_correction_moves_the_total_by_the_difference_and_records_its_cause(db_session):
    goal = make_goal()
    gift = make_offline_gift(goal, 5_000, note="Cash")
    raised, count, donors, version = totals(goal)
    assert ledger.correct_offline_gift(
        gift.id, amount_minor=4_200, reason="Counted twice", cause="user:7"
    )
    assert totals(goal) == (raised - 800, count, donors, version + 1)
    entry = db.session.execute(
        sa.select(LedgerEntry).where(LedgerEntry.action == "correct")
    ).scalar_one()
    assert (entry.raised_delta, entry.cause, entry.donation_id) == (-800, "user:7", gift.id)
    gift = db.session.get(Donation, gift.id)
    assert gift.amount_minor == 4_200
    assert gift.note == "Cash\nCorrected: Counted twice"
    assert not ledger.recount(goal, cause="check", repair=False).found


def test_repeating_a_correction_changes_nothing(db_session):
    goal = make_goal()
    gift = make_offline_gift(goal, 5_000)
    ledger.correct_offline_gift(gift.id, amount_minor=6_000, reason="Late cheque", cause="u:1")
    after_first = totals(goal)
    assert not ledger.correct_offline_gift(
        gift.id, amount_minor=6_000, reason="Late cheque", cause="u:1"
    )
    assert totals(goal) == after_first
    assert reload(goal).raised_minor == 6_000


def test_a_voided_gift_after_a_correction_leaves_nothing(db_session):
    goal = make_goal()
    gift = make_offline_gift(goal, 5_000)
    ledger.correct_offline_gift(gift.id, amount_minor=2_000, reason="Typo", cause="u:1")
    ledger.void_donation(gift.id, reason="Never received", cause="u:1")
    assert totals(goal)[:3] == (0, 0, 0)


@pytest.mark.parametrize(
    ("setup", "amount", "reason", "message"),
    [
        ("offline", 0, "x", "more than zero"),
        ("offline", 100, "  ", "Say why"),
        ("demo", 100, "x", "Only offline gifts can be corrected"),
        ("voided", 100, "x", "Only a counted gift can be corrected"),
    ],
)
def test_corrections_the_ledger_refuses(db_session, setup, amount, reason, message):
    goal = make_goal()
    kind = DonationKind.DEMO if setup == "demo" else DonationKind.OFFLINE
    gift = make_offline_gift(goal, 5_000, kind=kind)
    if setup == "voided":
        ledger.void_donation(gift.id, reason="mistake", cause="u:1")
    before = totals(goal)
    with pytest.raises(ledger.LedgerError, match=message):
        ledger.correct_offline_gift(gift.id, amount_minor=amount, reason=reason, cause="u:1")
    assert totals(goal) == before
