"""The only module that imports stripe: calls to Stripe's API and webhook signature checks.

Everything it returns is a plain dict (Stripe's JSON), read defensively by the callers, and every
failure is a PaymentProviderError, so nothing else in the app depends on the library's types.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import stripe
from flask import Flask, current_app, g, has_request_context

from donate import money
from donate.config import is_live_stripe_key

# Network retries stay on: stripe-python retries connection errors and 409/5xx with idempotency,
# as long as the request's time budget leaves room for another attempt.
MAX_NETWORK_RETRIES = 2
# A retry sleeps 0.5-1 s first; with less time left than this, the attempt would be cut short.
RETRY_NEEDS_SECONDS = 2.0
# Checkout Sessions close themselves after this (Stripe allows 30 minutes to 24 hours), and
# `checkout.session.expired` closes their donation: an abandoned checkout never stays pending.
CHECKOUT_SESSION_LIFETIME_SECONDS = 3600
SIGNATURE_TOLERANCE_SECONDS = 300
API_VERSION = stripe.api_version

# The events the webhook endpoint subscribes to (stripe-setup) and the ledger applies.
WEBHOOK_EVENTS = [
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "charge.succeeded",
    "charge.refunded",
    "refund.created",
    "refund.updated",
    "refund.failed",
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
    "invoice.paid",
    "invoice.payment_failed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
]


class PaymentProviderError(RuntimeError):
    """Stripe refused or could not be reached; `user_message` is safe to show a donor."""

    def __init__(
        self, message: str, *, user_message: str, retryable: bool, missing: bool = False
    ) -> None:
        super().__init__(message)
        self.user_message = user_message
        self.retryable = retryable
        # Stripe answered `resource_missing`: the object does not exist on this account and mode.
        self.missing = missing


class StripeTimeBudgetSpent(stripe.APIConnectionError):
    """The request's time for Stripe is used up: answer the person instead of waiting on."""


def limit_stripe_time(seconds: float) -> None:
    """Give the Stripe calls of this request at most `seconds` from now, all retries included.

    Every request has a budget below gunicorn's worker timeout (STRIPE_REQUEST_BUDGET_SECONDS);
    the give path asks for less, since the browser lets a click open Checkout for about 5 s.
    """
    deadline = time.monotonic() + seconds
    g.stripe_deadline = min(deadline, g.get("stripe_deadline", deadline))


def _seconds_left() -> float | None:
    """What this request may still spend on Stripe; None outside a request (CLI commands)."""
    if not has_request_context():
        return None
    if "stripe_deadline" not in g:
        limit_stripe_time(float(current_app.config["STRIPE_REQUEST_BUDGET_SECONDS"]))
    return float(g.stripe_deadline) - time.monotonic()


class _BudgetedRequestsClient(stripe.RequestsClient):
    """stripe-python's HTTP client, each attempt and retry cut to the request's time budget."""

    @property
    def _timeout(self) -> float:
        left = _seconds_left()
        return (
            self._attempt_timeout if left is None else max(0.01, min(left, self._attempt_timeout))
        )

    @_timeout.setter
    def _timeout(self, value: float) -> None:
        self._attempt_timeout = float(value)

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        **options: Any,
    ) -> Any:
        left = _seconds_left()
        if left is not None and left <= 0.05:
            raise StripeTimeBudgetSpent("No time was left for Stripe in this request.")
        return super().request(method, url, headers, post_data, **options)

    def _should_retry(
        self,
        response: Any,
        api_connection_error: Any,
        num_retries: int,
        max_network_retries: int | None,
    ) -> bool:
        if isinstance(api_connection_error, StripeTimeBudgetSpent):
            return False
        left = _seconds_left()
        if left is not None and left < RETRY_NEEDS_SECONDS:
            return False
        return super()._should_retry(
            response, api_connection_error, num_retries, max_network_retries
        )


class InvalidSignature(ValueError):
    """A webhook body that Stripe did not sign with our secret, or signed too long ago."""


@dataclass(frozen=True)
class CheckoutRequest:
    """What a Checkout Session needs from us; amounts in our minor units."""

    donation_id: int
    goal_slug: str
    goal_title: str
    amount_minor: int
    currency: str
    monthly: bool
    success_url: str
    cancel_url: str
    locale: str | None
    source_url: str | None
    customer_email: str | None = None
    # Added to cover fees: a second line item (recurring too for a monthly gift), named thus.
    fee_cover_minor: int = 0
    fee_cover_label: str = "Contribution to fees"


def _wrap(error: stripe.StripeError) -> PaymentProviderError:
    retryable = isinstance(
        error, (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)
    )
    user_message = (
        "We could not reach our payment provider. Nothing was charged; please try again "
        "in a moment."
        if retryable
        else "Our payment provider refused this request. Nothing was charged; please try again "
        "or choose another amount."
    )
    return PaymentProviderError(
        f"{type(error).__name__}: {error.user_message or error}",
        user_message=user_message,
        retryable=retryable,
        missing=error.code == "resource_missing",
    )


def _plain(resource: Any) -> dict[str, Any]:
    """Stripe's JSON as plain values: decimal-string fields stay strings, as in webhooks."""
    return cast(dict[str, Any], resource.to_dict(for_json=True))


# Stripe Checkout's supported locales; anything else falls back to the browser's ("auto").
_CHECKOUT_LOCALES = frozenset(
    "bg cs da de el en en-GB es es-419 et fi fil fr fr-CA hr hu id it ja ko lt lv ms mt nb nl "
    "pl pt pt-BR ro ru sk sl sv th tr vi zh zh-HK zh-TW".split()
)


def checkout_locale(locale: str | None) -> str:
    """Map our locale (en_US, fr_CA) to Checkout's (en, fr-CA), or let Stripe choose."""
    if not locale:
        return "auto"
    dashed = locale.replace("_", "-")
    if dashed in _CHECKOUT_LOCALES:
        return dashed
    language = dashed.split("-")[0]
    return language if language in _CHECKOUT_LOCALES else "auto"


class StripeGateway:
    """Stripe's API as this app uses it, through one configured client."""

    def __init__(
        self,
        api_key: str,
        *,
        api_base: str = "",
        timeout: float = 10.0,
        namespace: str | Callable[[], str] = "",
    ) -> None:
        self.api_key = api_key
        self._namespace = namespace
        base_addresses: dict[str, str] = {"api": api_base} if api_base else {}
        self._client = stripe.StripeClient(
            api_key,
            base_addresses=cast(Any, base_addresses),
            max_network_retries=MAX_NETWORK_RETRIES,
            http_client=_BudgetedRequestsClient(timeout=timeout),
        )

    @property
    def namespace(self) -> str:
        """Tells our objects from another donate instance's on a shared Stripe account."""
        return self._namespace() if callable(self._namespace) else self._namespace

    @property
    def livemode(self) -> bool:
        """Whether our key is a live key; events of the other mode are not ours to apply."""
        return is_live_stripe_key(self.api_key)

    # --- Checkout ----------------------------------------------------------------------------

    def create_checkout_session(self, request: CheckoutRequest) -> dict[str, Any]:
        """Open a Checkout Session for one pending donation, idempotent on the donation id."""
        namespace = self.namespace
        metadata = {
            "donate_instance": namespace,
            "donate_donation_id": str(request.donation_id),
            "donate_goal": request.goal_slug,
            "donate_source": (request.source_url or "")[:500],
        }
        unit_amount = money.to_stripe_amount(request.amount_minor, request.currency)
        price_data: stripe.params.checkout.SessionCreateParamsLineItemPriceData = {
            "currency": request.currency.lower(),
            "unit_amount": unit_amount,
            "product_data": {"name": request.goal_title[:250]},
        }
        line_items: list[stripe.params.checkout.SessionCreateParamsLineItem] = [
            {"price_data": price_data, "quantity": 1}
        ]
        fee_data: stripe.params.checkout.SessionCreateParamsLineItemPriceData | None = None
        if request.fee_cover_minor > 0:
            fee_data = {
                "currency": request.currency.lower(),
                "unit_amount": money.to_stripe_amount(request.fee_cover_minor, request.currency),
                "product_data": {"name": request.fee_cover_label[:250]},
            }
            line_items.append({"price_data": fee_data, "quantity": 1})
        params: stripe.params.checkout.SessionCreateParams = {
            "mode": "subscription" if request.monthly else "payment",
            "line_items": line_items,
            "client_reference_id": str(request.donation_id),
            "metadata": metadata,
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "locale": cast(Any, checkout_locale(request.locale)),
            "expires_at": int(time.time()) + CHECKOUT_SESSION_LIFETIME_SECONDS,
        }
        if request.customer_email:
            params["customer_email"] = request.customer_email
        if request.monthly:
            price_data["recurring"] = {"interval": "month"}
            if fee_data is not None:
                fee_data["recurring"] = {"interval": "month"}
            params["subscription_data"] = {"metadata": metadata}
        else:
            params["submit_type"] = "donate"
            params["payment_intent_data"] = {"metadata": metadata}
            params["customer_creation"] = "if_required"
        try:
            session = self._client.v1.checkout.sessions.create(
                params,
                {"idempotency_key": f"donation-{namespace}-{request.donation_id}-checkout"},
            )
        except stripe.StripeError as error:
            raise _wrap(error) from error
        return _plain(session)

    def retrieve_checkout_session(self, session_id: str) -> dict[str, Any]:
        """Read a session as Stripe has it now, with its PaymentIntent expanded."""
        try:
            session = self._client.v1.checkout.sessions.retrieve(
                session_id, {"expand": ["payment_intent"]}
            )
        except stripe.StripeError as error:
            raise _wrap(error) from error
        return _plain(session)

    def expire_checkout_session(self, session_id: str) -> dict[str, Any]:
        """Close an open session, so nobody can pay it any more; Stripe then sends the event."""
        try:
            return _plain(self._client.v1.checkout.sessions.expire(session_id))
        except stripe.StripeError as error:
            raise _wrap(error) from error

    def list_checkout_sessions(
        self, *, created_gte: int | None = None, starting_after: str | None = None
    ) -> dict[str, Any]:
        """One page of sessions, newest first, for reconciliation."""
        params: stripe.params.checkout.SessionListParams = {"limit": 100}
        if created_gte is not None:
            params["created"] = {"gte": created_gte}
        if starting_after:
            params["starting_after"] = starting_after
        try:
            return _plain(self._client.v1.checkout.sessions.list(params))
        except stripe.StripeError as error:
            raise _wrap(error) from error

    # --- payments, refunds, disputes ----------------------------------------------------------

    def retrieve_payment_intent(self, payment_intent_id: str) -> dict[str, Any]:
        """A PaymentIntent, for its latest charge."""
        try:
            return _plain(self._client.v1.payment_intents.retrieve(payment_intent_id))
        except stripe.StripeError as error:
            raise _wrap(error) from error

    def list_refunds(
        self,
        *,
        charge: str | None = None,
        payment_intent: str | None = None,
        created_gte: int | None = None,
        starting_after: str | None = None,
    ) -> dict[str, Any]:
        """Refunds of one charge or payment (to settle a request whose answer was lost, since
        Stripe forgets idempotency keys after 24 hours) or since a time."""
        params: stripe.params.RefundListParams = {"limit": 100}
        if charge:
            params["charge"] = charge
        if payment_intent:
            params["payment_intent"] = payment_intent
        if created_gte is not None:
            params["created"] = {"gte": created_gte}
        if starting_after:
            params["starting_after"] = starting_after
        try:
            return _plain(self._client.v1.refunds.list(params))
        except stripe.StripeError as error:
            raise _wrap(error) from error

    def create_refund(
        self,
        *,
        payment_intent: str,
        amount_stripe: int | None,
        idempotency_key: str,
        reason: str,
        refund_row_id: int,
    ) -> dict[str, Any]:
        """Ask Stripe to refund; our row's id in the metadata lets its events find the row."""
        params: stripe.params.RefundCreateParams = {
            "payment_intent": payment_intent,
            "metadata": {
                "donate_reason": reason[:500],
                "donate_refund_id": str(refund_row_id),
                "donate_instance": self.namespace,
            },
        }
        if amount_stripe is not None:
            params["amount"] = amount_stripe
        try:
            return _plain(
                self._client.v1.refunds.create(params, {"idempotency_key": idempotency_key})
            )
        except stripe.StripeError as error:
            raise _wrap(error) from error

    def list_disputes(
        self, *, created_gte: int | None = None, starting_after: str | None = None
    ) -> dict[str, Any]:
        """One page of disputes since a time, for reconciliation."""
        params: stripe.params.DisputeListParams = {"limit": 100}
        if created_gte is not None:
            params["created"] = {"gte": created_gte}
        if starting_after:
            params["starting_after"] = starting_after
        try:
            return _plain(self._client.v1.disputes.list(params))
        except stripe.StripeError as error:
            raise _wrap(error) from error

    # --- subscriptions and invoices ---------------------------------------------------------

    def list_invoice_payments(self, invoice_id: str) -> list[dict[str, Any]]:
        """The payments of one invoice: where an instalment's PaymentIntent and charge hang."""
        try:
            page = self._client.v1.invoice_payments.list({"invoice": invoice_id, "limit": 10})
        except stripe.StripeError as error:
            raise _wrap(error) from error
        return list(_plain(page).get("data") or [])

    def list_invoices(
        self, *, created_gte: int | None = None, starting_after: str | None = None
    ) -> dict[str, Any]:
        """One page of paid invoices since a time, for reconciliation."""
        params: stripe.params.InvoiceListParams = {"limit": 100, "status": "paid"}
        if created_gte is not None:
            params["created"] = {"gte": created_gte}
        if starting_after:
            params["starting_after"] = starting_after
        try:
            return _plain(self._client.v1.invoices.list(params))
        except stripe.StripeError as error:
            raise _wrap(error) from error

    def retrieve_subscription(self, subscription_id: str) -> dict[str, Any]:
        """A subscription with its metadata, when an invoice arrives before its session."""
        try:
            return _plain(self._client.v1.subscriptions.retrieve(subscription_id))
        except stripe.StripeError as error:
            raise _wrap(error) from error

    def cancel_subscription(self, subscription_id: str) -> dict[str, Any]:
        """End a monthly gift now; Stripe's customer.subscription.deleted event follows.

        A DELETE takes no idempotency key: a second one is refused as already canceled.
        """
        params: stripe.params.SubscriptionCancelParams = {
            "cancellation_details": {"comment": "Cancelled from the donate dashboard."}
        }
        try:
            return _plain(self._client.v1.subscriptions.cancel(subscription_id, params))
        except stripe.StripeError as error:
            raise _wrap(error) from error

    def cancel_subscription_at_period_end(
        self, subscription_id: str, *, idempotency_key: str
    ) -> dict[str, Any]:
        """Let a monthly gift run to the end of the paid month; an updated event follows."""
        params: stripe.params.SubscriptionUpdateParams = {
            "cancel_at_period_end": True,
            "cancellation_details": {"comment": "Cancelled from the donate dashboard."},
        }
        try:
            return _plain(
                self._client.v1.subscriptions.update(
                    subscription_id, params, {"idempotency_key": idempotency_key}
                )
            )
        except stripe.StripeError as error:
            raise _wrap(error) from error

    def list_subscriptions(
        self, *, created_gte: int | None = None, starting_after: str | None = None
    ) -> dict[str, Any]:
        """One page of subscriptions of any status since a time, for reconciliation."""
        params: stripe.params.SubscriptionListParams = {"limit": 100, "status": "all"}
        if created_gte is not None:
            params["created"] = {"gte": created_gte}
        if starting_after:
            params["starting_after"] = starting_after
        try:
            return _plain(self._client.v1.subscriptions.list(params))
        except stripe.StripeError as error:
            raise _wrap(error) from error

    def invoice_payments_of(self, payment_intent_id: str) -> list[dict[str, Any]]:
        """The invoice payments a PaymentIntent made, with their invoices: is it an instalment?"""
        try:
            page = self._client.v1.invoice_payments.list(
                {
                    "payment": {"type": "payment_intent", "payment_intent": payment_intent_id},
                    "limit": 10,
                    "expand": ["data.invoice"],
                }
            )
        except stripe.StripeError as error:
            raise _wrap(error) from error
        return list(_plain(page).get("data") or [])

    def retrieve_charge(self, charge_id: str) -> dict[str, Any]:
        """A charge, for the PaymentIntent of a dispute or refund that names only the charge."""
        try:
            return _plain(self._client.v1.charges.retrieve(charge_id))
        except stripe.StripeError as error:
            raise _wrap(error) from error

    def create_portal_session(
        self, *, customer: str, return_url: str, configuration: str
    ) -> dict[str, Any]:
        """A Customer Portal link where a monthly donor can cancel, with our configuration.

        Without `configuration` Stripe uses the account's default one, which the API cannot set.
        """
        try:
            return _plain(
                self._client.v1.billing_portal.sessions.create(
                    {"customer": customer, "return_url": return_url, "configuration": configuration}
                )
            )
        except stripe.StripeError as error:
            raise _wrap(error) from error

    # --- events and endpoints ---------------------------------------------------------------

    def list_undelivered_events(
        self, *, created_gte: int | None = None, starting_after: str | None = None
    ) -> dict[str, Any]:
        """Events Stripe could not deliver to us (it keeps them 30 days)."""
        params: stripe.params.EventListParams = {"limit": 100, "delivery_success": False}
        if created_gte is not None:
            params["created"] = {"gte": created_gte}
        if starting_after:
            params["starting_after"] = starting_after
        try:
            return _plain(self._client.v1.events.list(params))
        except stripe.StripeError as error:
            raise _wrap(error) from error

    def retrieve_event(self, event_id: str) -> dict[str, Any]:
        """One event as Stripe stored it."""
        try:
            return _plain(self._client.v1.events.retrieve(event_id))
        except stripe.StripeError as error:
            raise _wrap(error) from error

    def upsert_webhook_endpoint(self, url: str) -> tuple[dict[str, Any], bool]:
        """Create our endpoint, or update the one at this URL; True when it was created."""
        try:
            existing = _plain(self._client.v1.webhook_endpoints.list({"limit": 100}))
            for endpoint in existing.get("data") or []:
                if endpoint.get("url") == url:
                    updated = self._client.v1.webhook_endpoints.update(
                        endpoint["id"],
                        {"enabled_events": cast(Any, WEBHOOK_EVENTS), "disabled": False},
                    )
                    return _plain(updated), False
            created = self._client.v1.webhook_endpoints.create(
                {
                    "url": url,
                    "enabled_events": cast(Any, WEBHOOK_EVENTS),
                    "api_version": cast(Any, API_VERSION),
                    "description": "donate: gifts, refunds and disputes",
                }
            )
        except stripe.StripeError as error:
            raise _wrap(error) from error
        return _plain(created), True

    def upsert_portal_configuration(self, return_url: str) -> tuple[dict[str, Any], bool]:
        """A Customer Portal that lets donors cancel at the end of the period and sign in later."""
        features: stripe.params.billing_portal.ConfigurationCreateParamsFeatures = {
            "subscription_cancel": {"enabled": True, "mode": "at_period_end"},
            "invoice_history": {"enabled": True},
            "payment_method_update": {"enabled": True},
        }
        try:
            existing = _plain(self._client.v1.billing_portal.configurations.list({"limit": 100}))
            for configuration in existing.get("data") or []:
                if (configuration.get("metadata") or {}).get("donate") == "portal":
                    updated = self._client.v1.billing_portal.configurations.update(
                        configuration["id"],
                        {
                            "features": cast(Any, features),
                            "login_page": {"enabled": True},
                            "default_return_url": return_url,
                        },
                    )
                    return _plain(updated), False
            created = self._client.v1.billing_portal.configurations.create(
                {
                    "features": features,
                    "login_page": {"enabled": True},
                    "default_return_url": return_url,
                    "metadata": {"donate": "portal"},
                }
            )
        except stripe.StripeError as error:
            raise _wrap(error) from error
        return _plain(created), True


def verify_event(payload: bytes, signature_header: str | None, secret: str) -> dict[str, Any]:
    """Check Stripe's signature and age, then parse: the cheap check, then plain dicts."""
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), signature_header, secret, SIGNATURE_TOLERANCE_SECONDS
        )
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as error:
        raise InvalidSignature(str(error)) from None
    try:
        event = json.loads(payload)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than Python parses
        raise InvalidSignature("The body is not JSON we can read.") from None
    if not isinstance(event, dict) or not _fits(event.get("id"), 255):
        raise InvalidSignature("The body is not a Stripe event: it has no usable id.")
    if not _fits(event.get("type"), 100):
        raise InvalidSignature("The body is not a Stripe event: it has no usable type.")
    return event


def _fits(value: Any, longest: int) -> bool:
    """A non-empty printable string that fits the inbox's column (ids and types are short).

    Printable, since PostgreSQL refuses a NUL in text: storing it would fail on every retry.
    """
    return (
        isinstance(value, str)
        and 0 < len(value.strip())
        and len(value) <= longest
        and value.isprintable()
    )


def sign_payload(payload: str, secret: str) -> str:
    """A Stripe-Signature header for a payload, as Stripe would send it (tests and tools)."""
    return stripe.WebhookSignature.generate_signature_header(payload, secret)


def gateway(app: Flask | None = None) -> StripeGateway:
    """The app's Stripe gateway, built once from its configuration."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    existing = app.extensions.get("donate.stripe")
    if existing is None:
        existing = StripeGateway(
            app.config["STRIPE_SECRET_KEY"] or "sk_test_unconfigured",
            api_base=app.config["STRIPE_API_BASE"],
            timeout=float(app.config["STRIPE_TIMEOUT_SECONDS"]),
            namespace=_stored_instance_id,
        )
        app.extensions["donate.stripe"] = existing
    return existing


def _stored_instance_id() -> str:
    from donate.payments.instance import instance_id

    return instance_id()
