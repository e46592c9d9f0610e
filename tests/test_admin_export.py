"""The donations CSV: its content, its filters, and spreadsheet formulas made harmless."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from donate import ledger
from donate.admin.export import COLUMNS, FORMULA_STARTS, neutralise
from donate.models import DonationKind
from tests.admin_support import sign_in_as
from tests.factories import make_goal, make_offline_gift

pytest_plugins = ["tests.admin_fixtures"]  # the dashboard and outbox fixtures


def read_csv(response) -> list[dict[str, str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+1", "'+1+1"),
        ("-12.50", "'-12.50"),  # text that looks like a number is still text from a donor
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        (' =HYPERLINK("http://evil")', '\' =HYPERLINK("http://evil")'),
        ("\n=1+1", "'\n=1+1"),
        ("\u00a0\u3000+1", "'\u00a0\u3000+1"),
        ("\x00\u200b@SUM(A1)", "'\x00\u200b@SUM(A1)"),
        ("\uff1d1+1", "'\uff1d1+1"),
        ("\uff0b1", "'\uff0b1"),
        ("  \uff0d1", "'  \uff0d1"),
        ("\uff20SUM(A1)", "'\uff20SUM(A1)"),
        ("Plain name", "Plain name"),
        ("  Plain name", "  Plain name"),
        ("", ""),
        (Decimal("-12.50"), Decimal("-12.50")),
        (42, 42),
    ],
)
def test_only_text_that_a_spreadsheet_would_run_is_defused(cell, expected):
    assert neutralise(cell) == expected


@settings(deadline=None, max_examples=200)
@given(st.text())
def test_no_text_cell_ever_starts_a_formula(text):
    cell = neutralise(text)
    assert not cell.startswith(FORMULA_STARTS)
    assert not text.strip().startswith(FORMULA_STARTS) or cell.startswith("'")
    assert cell.endswith(text)


def test_the_export_streams_every_column_with_amounts_as_numbers(client, dashboard):
    d = dashboard
    make_offline_gift(
        d.goal_a,
        1_250,
        public_name='=HYPERLINK("http://evil.example","click")',
        public_message="+1 from me",
        note="@accountant",
        donor_email="-x@example.org",
        source_url="https://news.example.org/a",
        article_id="-42",
        created_at=datetime(2026, 3, 14, 23, 30, tzinfo=UTC),
    )
    d.site_a.time_zone = "Europe/Berlin"
    sign_in_as(client, d.viewer)
    response = client.get(f"/admin/sites/{d.site_a.id}/donations.csv")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    rows = read_csv(response)
    assert list(rows[0]) == list(COLUMNS)
    assert len(rows) == 2  # only site A's gifts
    row = next(r for r in rows if r["amount"] == "12.50")
    assert row["public_name"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["public_message"] == "'+1 from me"
    assert row["note"] == "'@accountant"
    assert row["donor_email"] == "'-x@example.org"
    assert row["article_id"] == "'-42"
    assert (row["refunded"], row["net"], row["currency"]) == ("0.00", "12.50", "USD")
    assert row["created"] == "2026-03-15T00:30:00+01:00"  # the site's time zone
    raw = response.get_data(as_text=True)
    assert ",12.50," in raw  # unquoted: a spreadsheet reads a number


def test_the_export_says_how_each_gift_was_received_also_after_a_void(client, dashboard):
    d = dashboard
    cash = make_offline_gift(d.goal_a, 1_000, offline_method="cash", note="=cash box")
    transfer = make_offline_gift(d.goal_a, 2_000, offline_method="bank_transfer")
    ledger.void_donation(transfer.id, reason="-Bounced", cause="test")
    card = make_goal(d.site_a, slug="card-goal")
    paid = ledger.create_pending_donation(
        card, amount_minor=3_000, kind=DonationKind.ONE_TIME, cause="test"
    )
    sign_in_as(client, d.viewer)
    rows = {
        row["id"]: row for row in read_csv(client.get(f"/admin/sites/{d.site_a.id}/donations.csv"))
    }
    assert "method" in COLUMNS
    assert (rows[str(cash.id)]["method"], rows[str(cash.id)]["note"]) == ("cash", "'=cash box")
    assert rows[str(transfer.id)]["method"] == "bank_transfer"
    assert rows[str(transfer.id)]["state"] == "voided"
    assert rows[str(transfer.id)]["note"] == "Voided: -Bounced"
    assert rows[str(paid.id)]["method"] == "stripe"


def test_the_export_follows_the_lists_filters(client, dashboard):
    d = dashboard
    other = make_goal(d.site_a, slug="other-goal")
    make_offline_gift(other, 999, created_at=datetime(2026, 1, 10, tzinfo=UTC))
    make_offline_gift(other, 777, created_at=datetime(2026, 2, 10, tzinfo=UTC))
    sign_in_as(client, d.viewer)
    response = client.get(
        f"/admin/sites/{d.site_a.id}/donations.csv?goal={other.id}&start=2026-02-01"
    )
    assert [row["amount"] for row in read_csv(response)] == ["7.77"]
    assert "other-goal-from-2026-02-01" in response.headers["Content-Disposition"]
