"""The outbox in one process: receipts and their numbers, refund notices, resets, erasure, retries.

Mail goes to a real SMTP server (aiosmtpd) in the test process; the worker runs in-process with
`once`, so each test sends exactly what was due. tests/test_outbox_processes.py runs workers as
processes, two at once and killed at named points.
"""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import sqlalchemy as sa

from donate import ledger
from donate.extensions import db
from donate.models import (
    AuditLog,
    Donation,
    DonationKind,
    Goal,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    ReceiptCounter,
    RefundStatus,
    Site,
    User,
    utcnow,
)
from donate.outbox import queue
from donate.outbox.worker import Worker, WorkerOptions
from tests.admin_support import post_form, sign_in_as
from tests.factories import make_goal, make_offline_gift, make_site
from tests.smtp_support import html_of, text_of

pytest_plugins = ["tests.admin_fixtures", "tests.smtp_fixtures"]


def send_due() -> int:
    """Run one worker until nothing is due; how many it sent."""
    db.session.commit()
    return Worker(WorkerOptions(once=True)).run()


def receipts_on(site: Site, **settings: object) -> Site:
    site.receipts_enabled = True
    site.receipt_organisation = settings.get("organisation", "Riverside Gazette Trust")
    site.receipt_address = settings.get("address", "4 Mill Lane\nRiverside RV1 2AB")
    site.receipt_tax_note = settings.get("tax_note", "Registered charity 123456.")
    db.session.flush()
    return site


def rows(kind: OutboxKind | None = None) -> list[OutboxMessage]:
    db.session.expire_all()
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.execute(query).scalars())


def settled_gift(goal, amount_minor: int, *, email: str, locale: str | None = None) -> Donation:
    """A card gift as the webhook settles it."""
    donation = ledger.create_pending_donation(
        goal,
        amount_minor=amount_minor,
        kind=DonationKind.ONE_TIME,
        donor_email=email,
        locale=locale,
        cause="test:give",
    )
    ledger.settle_donation(donation.id, cause="evt_test", payment_intent_id=f"pi_{donation.id}")
    db.session.expire_all()
    return db.session.get(Donation, donation.id)


def test_every_counted_gift_takes_the_sites_next_number_and_one_receipt(db_session, smtp_server):
    inbox, _port = smtp_server
    site = receipts_on(make_site(name="Riverside Gazette"))
    goal = make_goal(site, title="Keep the river clean")
    first = make_offline_gift(goal, 2_500, donor_email="ana@donor.example")
    second = settled_gift(goal, 4_000, email="ben@donor.example")
    other_site = make_goal(receipts_on(make_site()))
    elsewhere = make_offline_gift(other_site, 1_000, donor_email="cy@donor.example")
    assert (first.receipt_number, second.receipt_number, elsewhere.receipt_number) == (1, 2, 1)
    second_id = second.id

    assert send_due() == 3
    by_address = {str(m["To"]): m for m in inbox.received()}
    assert set(by_address) == {"ana@donor.example", "ben@donor.example", "cy@donor.example"}
    ben = by_address["ben@donor.example"]
    assert ben["Subject"] == "Thank you: receipt 2 from Riverside Gazette Trust"
    text = text_of(ben)
    for fragment in (
        "Thank you for your gift to Keep the river clean.",
        "Receipt number: 2",
        "Amount: $40.00",
        "For: Keep the river clean",
        "Riverside Gazette Trust\n4 Mill Lane\nRiverside RV1 2AB",
        "Registered charity 123456.",
    ):
        assert fragment in text, text
    assert "$40.00" in html_of(ben) and "Registered charity 123456." in html_of(ben)
    stored = {row.donation_id: row for row in rows(OutboxKind.RECEIPT)}
    assert ben["Message-ID"] == stored[second_id].message_id
    assert all(row.status == OutboxStatus.SENT and row.sent_at for row in stored.values())
    assert send_due() == 0  # sent once, never again


def test_numbers_are_given_when_receipts_are_off_but_nothing_is_queued(db_session, smtp_server):
    inbox, _port = smtp_server
    goal = make_goal(make_site())
    gifts = [make_offline_gift(goal, 1_000 * n, donor_email=f"d{n}@x.example") for n in (1, 2, 3)]
    assert [gift.receipt_number for gift in gifts] == [1, 2, 3]
    assert rows() == []
    assert send_due() == 0 and inbox.received() == []


def test_a_monthly_instalment_gets_its_own_number_and_receipt(db_session, smtp_server):
    inbox, _port = smtp_server
    goal = make_goal(receipts_on(make_site()))
    make_offline_gift(goal, 1_000, donor_email="first@x.example")
    instalment = ledger.record_instalment(
        goal,
        subscription_id=None,
        invoice_id="in_test_1",
        amount_minor=1_500,
        cause="evt_invoice_paid",
        donor_email="monthly@x.example",
    )
    assert instalment is not None and instalment.receipt_number == 2
    send_due()
    monthly = next(m for m in inbox.received() if m["To"] == "monthly@x.example")
    assert "Gift: Monthly gift (one instalment)" in text_of(monthly)
    assert "Amount: $15.00" in text_of(monthly)


def test_the_receipt_speaks_the_donors_language(db_session, smtp_server):
    inbox, _port = smtp_server
    goal = make_goal(receipts_on(make_site(default_currency="EUR")), title="Freie Presse")
    settled_gift(goal, 2_550, email="de@x.example", locale="de")
    settled_gift(goal, 2_550, email="fr@x.example", locale="fr")
    send_due()
    by_address = {str(m["To"]): m for m in inbox.received()}
    german = text_of(by_address["de@x.example"])
    assert "Vielen Dank für Ihre Spende für Freie Presse." in german
    assert "Quittungsnummer: 1" in german and "Betrag: 25,50\xa0€" in german
    assert by_address["fr@x.example"]["Subject"].startswith("Merci : reçu 2 de")
    assert "Montant : 25,50\xa0€" in text_of(by_address["fr@x.example"]) or "Montant: 25,50" in (
        text_of(by_address["fr@x.example"])
    )


def test_the_html_loads_nothing_from_elsewhere(db_session, smtp_server):
    inbox, _port = smtp_server
    goal = make_goal(receipts_on(make_site()))
    make_offline_gift(goal, 2_000, donor_email="ana@x.example")
    send_due()
    html = html_of(inbox.received()[0])
    assert not re.search(r"<img|<link|<script|src=|url\(", html, re.IGNORECASE)
    assert "http" not in html


def test_a_refund_sends_a_notice_naming_the_receipt(db_session, smtp_server):
    inbox, _port = smtp_server
    goal = make_goal(receipts_on(make_site()))
    gift_id = settled_gift(goal, 5_000, email="ana@x.example").id
    send_due()
    gift = db.session.get(Donation, gift_id)
    ledger.record_refund(
        gift, stripe_refund_id="re_1", amount_minor=2_000, status=RefundStatus.SUCCEEDED, cause="e"
    )
    ledger.record_refund(  # the same refund reported again adds no second notice
        gift, stripe_refund_id="re_1", amount_minor=2_000, status=RefundStatus.SUCCEEDED, cause="e"
    )
    assert len(rows(OutboxKind.REFUND_NOTICE)) == 1
    send_due()
    notice = inbox.received()[-1]
    assert notice["Subject"].startswith("Refund of your gift, receipt 1,")
    assert "$20.00 of your gift to" in text_of(notice)
    assert "Your gift now comes to $30.00" in text_of(notice)


def test_a_refused_message_waits_longer_each_time_and_is_never_marked_sent(db_session, smtp_server):
    inbox, _port = smtp_server
    inbox.refusing = True
    goal = make_goal(receipts_on(make_site()))
    make_offline_gift(goal, 2_000, donor_email="ana@x.example")
    before = utcnow()
    assert send_due() == 0
    (row,) = rows()
    assert row.status == OutboxStatus.PENDING and row.attempts == 1
    assert row.available_at >= before + timedelta(seconds=29)
    assert "451" in (row.last_error or "")
    assert queue.retry_delay(2) == 2 * queue.retry_delay(1)
    assert queue.retry_delay(30) == timedelta(hours=1)

    inbox.refusing = False
    db.session.execute(sa.update(OutboxMessage).values(available_at=utcnow()))
    assert send_due() == 1
    assert rows()[0].status == OutboxStatus.SENT and rows()[0].attempts == 2
    assert len(inbox.received()) == 1


def test_reset_requests_queue_alike_for_known_and_unknown_addresses(client, dashboard, smtp_server):
    inbox, _port = smtp_server
    for typed in ("OWNER@riverside.example", "stranger@example.org"):
        page = post_form(client, "/admin/reset-password", {"email": typed})
        assert page.status_code == 200 and "Check your e-mail" in page.text
    assert inbox.received() == []  # the requests sent nothing themselves
    queued = rows(OutboxKind.RESET_REQUESTED)
    assert [row.recipient for row in queued] == ["OWNER@riverside.example", "stranger@example.org"]
    assert all(row.donation_id is None and row.site_id is None for row in queued)
    queued_ids = [row.id for row in queued]

    assert send_due() == 1
    (message,) = inbox.received()
    assert message["To"] == "owner@riverside.example"
    link = re.search(r"https?://\S+/admin/reset-password/(\S+)", text_of(message))
    assert link is not None
    token = link.group(1)
    finished = {row.id: row for row in rows(OutboxKind.RESET_REQUESTED)}
    known, unknown = (finished[row_id] for row_id in queued_ids)
    assert known.status == OutboxStatus.SENT and unknown.status == OutboxStatus.SKIPPED
    assert unknown.recipient == ""  # a stranger's typing is not kept
    for row in finished.values():  # no token anywhere in the outbox
        assert token not in " ".join(str(value) for value in row.__dict__.values())


def test_erasing_a_donor_clears_their_outbox_rows(client, dashboard, smtp_server):
    site_id, goal_id = receipts_on(dashboard.site_a).id, dashboard.goal_a.id
    owner_id = dashboard.owner.id
    gift_id = make_offline_gift(dashboard.goal_a, 1_000, donor_email="a@donor.example").id
    make_offline_gift(dashboard.goal_a, 1_000, donor_email="someone@else.example")
    send_due()  # two sent
    make_offline_gift(db.session.get(Goal, goal_id), 3_000, donor_email="a@donor.example")
    assert len(rows()) == 3  # and one pending
    sign_in_as(client, db.session.get(User, owner_id))
    page = post_form(client, f"/admin/sites/{site_id}/donations/{gift_id}/erase", {"confirm": "y"})
    assert page.status_code == 302
    assert [row.recipient for row in rows()] == ["someone@else.example"]
    audit = db.session.execute(
        sa.select(AuditLog).where(AuditLog.action == "donor.erase")
    ).scalar_one()
    assert audit.detail["outbox_messages_deleted"] == 2


def test_an_owner_resends_a_receipt_as_a_copy(client, dashboard, smtp_server):
    inbox, _port = smtp_server
    site_id = receipts_on(dashboard.site_a).id
    gift_id = make_offline_gift(dashboard.goal_a, 1_000, donor_email="ana@x.example").id
    editor_id, owner_id = dashboard.editor.id, dashboard.owner.id
    send_due()
    path = f"/admin/sites/{site_id}/donations/{gift_id}"
    sign_in_as(client, db.session.get(User, editor_id))
    assert "Resend the receipt" not in client.get(path).text
    assert post_form(client, f"{path}/resend-receipt").status_code == 403
    sign_in_as(client, db.session.get(User, owner_id))
    page = client.get(path)
    assert "Resend the receipt" in page.text
    assert post_form(client, f"{path}/resend-receipt").status_code == 302
    send_due()
    first, copy = [m for m in inbox.received() if m["To"] == "ana@x.example"]
    assert copy["Subject"] == f"{first['Subject']} (copy)"
    assert copy["Message-ID"] != first["Message-ID"]
    assert "This is a copy of a receipt sent before." in text_of(copy)


def test_the_site_form_sets_the_receipt_settings(client, dashboard):
    sign_in_as(client, dashboard.owner)
    site = dashboard.site_a
    assert site.receipts_enabled is False  # off until the owner says so
    page = post_form(
        client,
        f"/admin/sites/{site.id}/settings",
        {
            "name": site.name,
            "allowed_origins": "https://riverside.example",
            "default_currency": "USD",
            "default_locale": "en",
            "time_zone": "UTC",
            "brand_colour": "#1d4ed8",
            "receipts_enabled": "y",
            "receipt_organisation": "Riverside Gazette Trust",
            "receipt_address": "4 Mill Lane\r\nRiverside",
            "receipt_tax_note": "Registered charity 123456.",
        },
    )
    assert page.status_code == 302, page.text
    db.session.expire_all()
    site = db.session.get(Site, site.id)
    assert site.receipts_enabled is True
    assert site.receipt_address == "4 Mill Lane\nRiverside"
    assert site.receipt_tax_note == "Registered charity 123456."


def test_the_counter_row_holds_the_last_number(db_session):
    goal = make_goal(make_site())
    make_offline_gift(goal, 1_000)
    make_offline_gift(goal, 1_000)
    counter = db.session.get(ReceiptCounter, goal.site_id)
    assert counter is not None and counter.last_number == 2


def test_numbers_have_no_gap_across_a_rollback(app, committed_db):
    goal = make_goal(make_site())
    goal_id = goal.id
    make_offline_gift(goal, 1_000)
    db.session.commit()
    doomed = make_offline_gift(goal, 2_000)
    assert doomed.receipt_number == 2
    db.session.rollback()  # the gift and its number go together
    make_offline_gift(db.session.get(Goal, goal_id), 3_000)
    db.session.commit()
    numbers = db.session.execute(
        sa.select(Donation.receipt_number).order_by(Donation.receipt_number)
    ).scalars()
    assert list(numbers) == [1, 2]


def test_gifts_counted_at_once_take_distinct_numbers_without_gaps(app, committed_db):
    goal_id = make_goal(make_site()).id
    db.session.commit()
    errors: list[BaseException] = []

    def record_five() -> None:
        with app.app_context():
            try:
                for _ in range(5):
                    make_offline_gift(db.session.get(Goal, goal_id), 1_000)
                    db.session.commit()
            except BaseException as error:  # reported below, in the test's own thread
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=record_five) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    numbers = db.session.execute(
        sa.select(Donation.receipt_number).order_by(Donation.receipt_number)
    ).scalars()
    assert list(numbers) == list(range(1, 11))
