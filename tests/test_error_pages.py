"""Unexpected failures answer with a sentence that never misleads a donor who has just paid."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import stripe
from flask import Flask

from donate import create_app
from tests.conftest import app_config


@pytest.fixture
def sandbox_url() -> Iterator[str]:
    from sandbox import start_in_thread

    handle = start_in_thread(port=0, async_delay=None)
    try:
        yield handle.url
    finally:
        handle.stop()


def _app_without_its_database(tmp_path: Path, stripe_url: str) -> Flask:
    """A real app whose SQLite file lies in a folder that does not exist: every query fails."""
    missing = tmp_path / "no-such-folder" / "donate.sqlite3"
    return create_app(
        app_config(
            f"sqlite:///{missing}",
            STRIPE_API_BASE=stripe_url,
            STRIPE_SECRET_KEY="sk_test_error_pages",
            PROPAGATE_EXCEPTIONS=False,
            TESTING=False,
        )
    )


def test_an_unreachable_database_is_a_503_sentence_not_a_traceback(tmp_path, sandbox_url):
    client = _app_without_its_database(tmp_path, sandbox_url).test_client()
    api = client.get("/api/v1/goals")
    assert api.status_code == 503
    assert api.get_json()["message"] == (
        "We cannot reach our database just now. Please try again in a minute."
    )
    page = client.get("/g/local-news", headers={"Accept": "text/html"})
    assert page.status_code == 503
    assert "We cannot reach our database just now." in page.get_data(as_text=True)


def test_a_failure_after_payment_says_it_is_being_confirmed(tmp_path, sandbox_url):
    session = (
        stripe.StripeClient("sk_test_error_pages", base_addresses={"api": sandbox_url})
        .v1.checkout.sessions.create(
            {
                "mode": "payment",
                "metadata": {"donate_donation_id": "1"},
                "client_reference_id": "1",
                "success_url": "http://127.0.0.1:5000/give/return?session_id={CHECKOUT_SESSION_ID}",
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": "usd",
                            "unit_amount": 2_500,
                            "product_data": {"name": "A gift"},
                        },
                    }
                ],
            }
        )
        .to_dict()
    )
    client = _app_without_its_database(tmp_path, sandbox_url).test_client()
    response = client.get(f"/give/return?session_id={session['id']}")
    text = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Your payment is being confirmed; there is no need to give again." in text
    assert "Nothing was charged" not in text
