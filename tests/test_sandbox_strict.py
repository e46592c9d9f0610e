"""The sandbox refuses what Stripe refuses: unknown parameters, bad enums, amounts, no portal."""

from __future__ import annotations

import pytest
import stripe

from sandbox import api, schema
from sandbox.server import create_app
from tests import test_sandbox as base
from tests.test_sandbox import control, donation_session, paid_session

# The sandbox fixtures of tests/test_sandbox.py, shared by name.
api_key = base.api_key
client = base.client
receiver = base.receiver
sandbox = base.sandbox


def refusal(call) -> stripe.InvalidRequestError:
    """Run a library call that must fail with Stripe's 400 and return the error."""
    with pytest.raises(stripe.InvalidRequestError) as caught:
        call()
    assert caught.value.http_status == 400
    return caught.value


# --- unknown parameters and enum values ----------------------------------------


def test_unknown_top_level_parameter_is_refused(client):
    error = refusal(lambda: donation_session(client, donor_note="thanks"))
    assert error.code == "parameter_unknown"
    assert error.param == "donor_note"
    assert "Received unknown parameter: donor_note" in error.user_message


def test_unknown_nested_parameter_names_its_full_path(client):
    def create():
        return client.v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "success_url": "https://news.example/ok",
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": "eur",
                            "unit_amount": 500,
                            "amount": 500,
                            "product_data": {"name": "Gift"},
                        },
                    }
                ],
            }
        )

    error = refusal(create)
    assert (error.code, error.param) == ("parameter_unknown", "line_items[0][price_data][amount]")


def test_unknown_key_inside_subscription_data_is_refused(client):
    error = refusal(
        lambda: donation_session(
            client, mode="subscription", subscription_data={"metadata": {"a": "1"}, "plan": "x"}
        )
    )
    assert (error.code, error.param) == ("parameter_unknown", "subscription_data[plan]")


def test_metadata_stays_free_form(client):
    session = donation_session(client, metadata={"any_key": "1", "another": "2"})
    assert session.metadata.to_dict() == {"any_key": "1", "another": "2"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("submit_type", "gift"),
        ("locale", "xx"),
        ("ui_mode", "hosted"),
    ],
)
def test_unknown_enum_value_is_refused(client, field, value):
    error = refusal(lambda: donation_session(client, **{field: value}))
    assert error.param == field
    assert error.code == "parameter_invalid_string"
    assert f"Invalid {field}: must be one of" in error.user_message


def test_list_endpoints_refuse_unknown_filters_too(client):
    error = refusal(lambda: client.v1.refunds.list(params={"limit": 3, "amount": 5}))
    assert (error.code, error.param) == ("parameter_unknown", "amount")


def test_refund_reason_outside_stripes_enum_is_refused(client, sandbox):
    session = paid_session(client, sandbox)
    error = refusal(
        lambda: client.v1.refunds.create(
            params={"payment_intent": session.payment_intent, "reason": "changed_mind"}
        )
    )
    assert error.param == "reason"


def test_integer_parameters_must_be_integers(client):
    error = refusal(lambda: donation_session(client, expires_at="tomorrow"))
    assert (error.code, error.param) == ("parameter_invalid_integer", "expires_at")


# --- the Customer Portal needs a configuration -------------------------------------


def subscriber(client, sandbox):
    session = donation_session(client, mode="subscription", amount=1000)
    control(sandbox, f"checkout/sessions/{session.id}/pay")
    return client.v1.checkout.sessions.retrieve(session.id)


def test_portal_session_without_configuration_is_refused(client, sandbox):
    paid = subscriber(client, sandbox)
    client.v1.billing_portal.configurations.create(
        params={"features": {"subscription_cancel": {"enabled": True, "mode": "at_period_end"}}}
    )
    error = refusal(
        lambda: client.v1.billing_portal.sessions.create(
            params={"customer": paid.customer, "return_url": "https://news.example/account"}
        )
    )
    assert "save your customer portal settings in test mode" in error.user_message


def test_api_made_configuration_is_not_the_default(client):
    configuration = client.v1.billing_portal.configurations.create(
        params={"features": {"invoice_history": {"enabled": True}}}
    )
    assert configuration.is_default is False


def test_portal_session_uses_the_configuration_named(client, sandbox):
    paid = subscriber(client, sandbox)
    configuration = client.v1.billing_portal.configurations.create(
        params={"features": {"subscription_cancel": {"enabled": True, "mode": "at_period_end"}}}
    )
    portal = client.v1.billing_portal.sessions.create(
        params={
            "customer": paid.customer,
            "configuration": configuration.id,
            "return_url": "https://news.example/account",
        }
    )
    assert portal.configuration == configuration.id


def test_unknown_portal_configuration_is_a_404(client, sandbox):
    paid = subscriber(client, sandbox)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.billing_portal.sessions.create(
            params={"customer": paid.customer, "configuration": "bpc_missing"}
        )
    assert caught.value.http_status == 404
    assert caught.value.code == "resource_missing"


def test_default_saved_in_the_dashboard_serves_sessions_without_configuration(
    client, sandbox, api_key
):
    paid = subscriber(client, sandbox)
    saved = control(sandbox, "portal/default", api_key=api_key)
    portal = client.v1.billing_portal.sessions.create(params={"customer": paid.customer})
    assert saved["is_default"] is True
    assert portal.configuration == saved["id"]


# --- amount limits -----------------------------------------------------------------


def priced(client, currency: str, *units: int, quantity: int = 1):
    """Create a payment-mode session with one line per unit amount."""
    return client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "success_url": "https://news.example/ok",
            "line_items": [
                {
                    "quantity": quantity,
                    "price_data": {
                        "currency": currency,
                        "unit_amount": unit,
                        "product_data": {"name": "Gift"},
                    },
                }
                for unit in units
            ],
        }
    )


def test_amount_over_eight_digits_is_too_large(client):
    error = refusal(lambda: priced(client, "usd", 100_000_000))
    assert error.code == "amount_too_large"


def test_unit_amount_times_quantity_over_the_limit_is_too_large(client):
    error = refusal(lambda: priced(client, "eur", 50_000_000, quantity=2))
    assert (error.code, error.param) == ("amount_too_large", "line_items[0]")


def test_session_total_over_the_limit_is_too_large(client):
    error = refusal(lambda: priced(client, "eur", 60_000_000, 60_000_000))
    assert (error.code, error.param) == ("amount_too_large", "line_items")


def test_largest_allowed_amount_is_accepted(client):
    assert priced(client, "usd", 99_999_999).amount_total == 99_999_999


@pytest.mark.parametrize(
    ("currency", "too_small", "smallest"),
    [
        ("usd", 49, 50),
        ("eur", 49, 50),
        ("gbp", 29, 30),
        ("jpy", 49, 50),
    ],
)
def test_amount_below_the_currency_minimum_is_too_small(client, currency, too_small, smallest):
    assert refusal(lambda: priced(client, currency, too_small)).code == "amount_too_small"
    assert priced(client, currency, smallest).amount_total == smallest


def test_refund_over_what_remains_is_too_large(client, sandbox):
    session = paid_session(client, sandbox)
    client.v1.refunds.create(params={"payment_intent": session.payment_intent, "amount": 2000})
    error = refusal(
        lambda: client.v1.refunds.create(
            params={"payment_intent": session.payment_intent, "amount": 501}
        )
    )
    assert (error.code, error.param) == ("amount_too_large", "amount")
    rest = client.v1.refunds.create(params={"payment_intent": session.payment_intent})
    assert rest.amount == 500


# --- customer_creation ---------------------------------------------------------------


def test_guest_payment_makes_no_customer(client, sandbox):
    session = paid_session(client, sandbox, customer_creation="if_required")
    intent = client.v1.payment_intents.retrieve(session.payment_intent)
    assert session.customer is None
    assert session.customer_details.email == "donor@example.com"
    assert intent.customer is None
    assert client.v1.customers.list().data == []


def test_customer_creation_always_makes_one(client, sandbox):
    session = paid_session(client, sandbox, customer_creation="always")
    assert session.customer.startswith("cus_")
    assert client.v1.customers.retrieve(session.customer).email == "donor@example.com"


def test_subscription_mode_always_makes_a_customer(client, sandbox):
    assert subscriber(client, sandbox).customer.startswith("cus_")


def test_customer_creation_is_refused_in_subscription_mode(client):
    error = refusal(
        lambda: donation_session(client, mode="subscription", customer_creation="always")
    )
    assert error.param == "customer_creation"


def test_every_api_endpoint_checks_its_parameters(sandbox):
    app = create_app(sandbox.sandbox)
    views = {
        rule.endpoint.rpartition(".")[2]
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(f"{api.bp.name}.")
    }
    assert views - {"unrecognized"} == set(schema.ENDPOINT_PARAMS)
    assert all(schema.params_class(view) for view in schema.ENDPOINT_PARAMS)


def test_rupiah_allows_twelve_digits(client):
    assert priced(client, "idr", 999_999_999_999).amount_total == 999_999_999_999
    assert refusal(lambda: priced(client, "idr", 1_000_000_000_000)).code == "amount_too_large"
