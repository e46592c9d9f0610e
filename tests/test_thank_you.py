"""The widget's thank-you: the gift's token, and the no-store endpoint that reads it."""

from __future__ import annotations

import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from donate import ledger
from donate.models import DonationKind, DonationState
from donate.payments.checkout import thanks_url
from donate.widget.thank_you import MAX_AGE_SECONDS, read_gift, sign_gift
from tests.factories import make_goal, make_offline_gift
from tests.widget_support import fresh_widget_cache  # noqa: F401

ARTICLE = "http://localhost:8000/news/council"
# Everything the endpoint may say: this gift and the goal's public figures, no donor's data.
ANSWER_KEYS = {
    "state",
    "monthly",
    "amount",
    "raised",
    "percent_text",
    "bar",
    "gift_bar",
    "value_text",
}


def _pending(goal, amount_minor: int = 2_500, kind: DonationKind = DonationKind.ONE_TIME):
    return ledger.create_pending_donation(
        goal,
        amount_minor=amount_minor,
        kind=kind,
        donor_email="reader@example.org",
        public_name="Marguerite Durand",
        public_message="For the council reporting.",
        source_url=ARTICLE,
        article_id="council-1",
        locale="en",
        cause="test",
    )


def _paid(goal, amount_minor: int = 2_500, kind: DonationKind = DonationKind.ONE_TIME):
    donation = _pending(goal, amount_minor, kind)
    assert ledger.settle_donation(donation.id, cause="test", charge_id=f"ch_{donation.id}")
    return donation


def _ask(client, slug: str, token: str, locale: str = "en"):
    return client.get(f"/w/{slug}/thanks", query_string={"token": token, "locale": locale})


@pytest.fixture
def goal(db_session):
    goal = make_goal(slug="thank-you")
    make_offline_gift(goal, 100_000)
    return goal


# The token ---------------------------------------------------------------------------------


def test_a_token_names_its_gift_for_its_goal_only(goal):
    donation = _paid(goal)
    other = make_goal(slug="thank-you-other")
    token = sign_gift(donation)
    assert read_gift(token, goal.id) == donation.id
    assert read_gift(token, other.id) is None
    # URL-safe, and short enough for a fragment.
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert len(token) < 80


def test_a_token_is_read_for_half_an_hour_and_not_after(goal, monkeypatch):
    donation = _paid(goal)

    def signed_ago(seconds: int) -> str:
        with monkeypatch.context() as patch:
            patch.setattr(
                TimestampSigner, "get_timestamp", lambda _self: int(time.time()) - seconds
            )
            return sign_gift(donation)

    assert MAX_AGE_SECONDS == 30 * 60
    assert read_gift(signed_ago(29 * 60), goal.id) == donation.id
    assert read_gift(signed_ago(31 * 60), goal.id) is None


def test_forged_and_foreign_tokens_are_refused(app, goal):
    donation = _paid(goal)
    token = sign_gift(donation)
    secret = app.config["SECRET_KEY"]
    payload, _, signature = token.rpartition(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert read_gift(payload + "." + flipped, goal.id) is None
    # Signed by someone without our key, or by our key under another purpose's salt.
    assert read_gift(URLSafeTimedSerializer("guess").dumps([donation.id, goal.id]), goal.id) is None
    other_salt = URLSafeTimedSerializer(secret, salt="cookie-session")
    assert read_gift(other_salt.dumps([donation.id, goal.id]), goal.id) is None
    # Our key and salt, but not the shape we sign.
    ours = URLSafeTimedSerializer(secret, salt="donate.widget.thank-you")
    assert read_gift(ours.dumps({"d": donation.id, "g": goal.id}), goal.id) is None
    assert read_gift(ours.dumps([str(donation.id), goal.id]), goal.id) is None
    assert read_gift("", goal.id) is None
    assert read_gift("x" * 300, goal.id) is None


def test_the_return_to_the_article_carries_the_token_in_its_fragment(app, goal):
    donation = _paid(goal)
    url = thanks_url(donation, "https://give.example.org", goal.slug)
    assert url.startswith(f"{ARTICLE}#donate-thanks=thank-you&t=")
    assert read_gift(url.split("&t=", 1)[1], goal.id) == donation.id
    # Without an article, the goal page's own thank-you, which needs no script.
    donation.source_url = None
    assert thanks_url(donation, "https://give.example.org", goal.slug) == (
        "https://give.example.org/g/thank-you?thanks=1"
    )


# The endpoint --------------------------------------------------------------------------------


def test_a_counted_gift_says_its_amount_and_its_share_of_the_bar(client, goal):
    donation = _paid(goal, 25_000)
    response = _ask(client, goal.slug, sign_gift(donation))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "ETag" not in response.headers
    assert "Set-Cookie" not in response.headers
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.get_json() == {
        "state": "counted",
        "monthly": False,
        "amount": "$250.00",
        "raised": "$1,250",
        "percent_text": "25%",
        "bar": 25.0,
        "gift_bar": 5.0,
        "value_text": "$1,250 raised of $5,000, 25%",
    }


def test_the_answer_reveals_nothing_about_the_donor(client, goal):
    donation = _paid(goal)
    body = _ask(client, goal.slug, sign_gift(donation)).get_data(as_text=True)
    assert set(_ask(client, goal.slug, sign_gift(donation)).get_json()) == ANSWER_KEYS
    for private in ("reader@example.org", "Marguerite", "council reporting", "council-1", "ch_"):
        assert private not in body
    assert ARTICLE not in body


def test_amounts_follow_the_frames_language(client, db_session):
    goal = make_goal(slug="merci", currency="EUR", target_minor=500_000)
    donation = _paid(goal, 2_500)
    answer = _ask(client, goal.slug, sign_gift(donation), locale="fr").get_json()
    assert answer["amount"] == "25,00\u00a0€"
    assert answer["raised"] == "25\u00a0€"
    assert answer["percent_text"] == "<1\u00a0%"


def test_a_bank_debit_still_processing_is_being_confirmed_not_counted(client, goal):
    donation = _pending(goal, 5_000)  # the session completed unpaid: the debit is on its way
    answer = _ask(client, goal.slug, sign_gift(donation)).get_json()
    assert answer["state"] == "confirming"
    assert answer["amount"] == "$50.00"
    assert (answer["raised"], answer["bar"], answer["gift_bar"]) == ("$1,000", 20.0, 0.0)


def test_a_first_monthly_instalment_not_yet_paid_is_being_confirmed(client, goal):
    donation = _pending(goal, 1_000, DonationKind.MONTHLY)
    answer = _ask(client, goal.slug, sign_gift(donation)).get_json()
    assert (answer["state"], answer["monthly"], answer["amount"]) == ("confirming", True, "$10.00")
    assert answer["gift_bar"] == 0.0
    # Its invoice is paid: now it counts, as a monthly gift.
    assert ledger.settle_donation(donation.id, cause="test", invoice_id="in_first")
    answer = _ask(client, goal.slug, sign_gift(donation)).get_json()
    assert (answer["state"], answer["monthly"], answer["gift_bar"]) == ("counted", True, 0.2)


def test_a_payment_that_failed_says_only_that(client, goal):
    donation = _pending(goal)
    assert ledger.close_pending_donation(donation.id, DonationState.FAILED, cause="test")
    answer = _ask(client, goal.slug, sign_gift(donation)).get_json()
    assert answer["state"] == "failed"
    assert answer["amount"] is None and answer["gift_bar"] == 0.0


def test_a_gift_past_the_target_fills_the_bar_and_no_further(client, db_session):
    goal = make_goal(slug="full-bar", target_minor=10_000)
    make_offline_gift(goal, 9_000)
    answer = _ask(client, goal.slug, sign_gift(_paid(goal, 5_000))).get_json()
    assert (answer["bar"], answer["gift_bar"], answer["percent_text"]) == (100.0, 10.0, "140%")


def test_bad_tokens_all_get_the_same_private_404(client, goal, monkeypatch):
    donation = _paid(goal)
    other = make_goal(slug="thank-you-other")
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda _self: int(time.time()) - 3_600)
        expired = sign_gift(donation)
    forged = URLSafeTimedSerializer("guess", salt="donate.widget.thank-you").dumps(
        [donation.id, goal.id]
    )
    answers = [
        _ask(client, goal.slug, expired),
        _ask(client, goal.slug, forged),
        _ask(client, goal.slug, "not-a-token"),
        _ask(client, goal.slug, ""),
        _ask(client, other.slug, sign_gift(donation)),  # another goal's widget
        _ask(client, "no-such-goal", sign_gift(donation)),
    ]
    for answer in answers:
        assert answer.status_code == 404
        assert answer.get_json() == {"state": "unknown"}
        assert answer.headers["Cache-Control"] == "no-store"


def test_the_frame_stays_public_and_carries_the_hidden_thank_you(client, goal):
    response = client.get(f"/w/{goal.slug}")
    assert response.headers["Cache-Control"].startswith("public")
    body = response.get_data(as_text=True)
    assert f'data-url="/w/{goal.slug}/thanks"' in body
    assert '<section id="thank-you" class="ty"' in body and "hidden>" in body
    assert "mailto:?subject=Keep%20the%20newsroom%20going&amp;body=" in body
    assert "https://www.facebook.com/sharer/sharer.php?u=http%3A//" in body
    # Plain links only: no third party's script or frame comes with them.
    assert "<script src" not in body and "<iframe" not in body
    assert 'class="again"' in body
    # The bar and the button thank too; with no form to return to, they offer no "give again".
    for variant in ("bar", "button"):
        other = client.get(f"/w/{goal.slug}?variant={variant}").data.decode()
        assert 'id="thank-you"' in other and 'class="again"' not in other


@pytest.mark.parametrize(
    "hidden", [{"show_percent": False}, {"hide_figures_below_percent": 50}], ids=["off", "small"]
)
def test_a_percentage_the_owner_hides_is_not_said_in_the_thank_you(client, goal, hidden):
    for name, value in hidden.items():
        setattr(goal, name, value)
    donation = _paid(goal, 25_000)
    answer = _ask(client, goal.slug, sign_gift(donation)).get_json()
    assert answer["percent_text"] is None
    assert answer["value_text"] == "$1,250 raised of $5,000"
    # The frame has a sentence for that: thanks with the amount, no percentage.
    body = client.get(f"/w/{goal.slug}").get_data(as_text=True)
    assert (
        '<p data-when="plain" hidden>Thank you for your gift of <strong class="ty-amount">' in body
    )
