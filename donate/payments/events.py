"""Applying Stripe events to the ledger: which donation an event is about, and what it changes.

Every handler is idempotent (the ledger's conditional updates make a repeat a no-op) and reads
payloads defensively. An event about a payment we have not seen yet is parked under that
payment's PaymentIntent or charge id and applied again when the payment settles.
"""

from __future__ import annotations

import enum
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa

from donate import ledger, money
from donate.extensions import db, insert_ignoring_duplicates
from donate.ledger.transitions import SUBSCRIPTION_FINAL, parse_state
from donate.models import (
    DisputeStatus,
    Donation,
    DonationKind,
    DonationState,
    EventStatus,
    Goal,
    RefundStatus,
    StripeEvent,
    Subscription,
    SubscriptionStatus,
    utcnow,
)
from donate.payments.stripe import PaymentProviderError, StripeGateway
from donate.payments.stripe_data import dig, listed, mapping, object_id, text, whole

log = logging.getLogger(__name__)
METADATA_DONATION_ID = "donate_donation_id"
METADATA_INSTANCE = "donate_instance"
# On refunds asked for from the dashboard: our refund row, so Stripe's event finds it.
METADATA_REFUND_ID = "donate_refund_id"
# Events about a payment (a charge, a refund, a dispute) that may come from other integrations.
_PAYMENT_EVENTS = frozenset(
    {
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
    }
)


def _nothing() -> None:
    """No hook."""


class StripeNeededLater(RuntimeError):
    """Applying needs Stripe's API while the database is locked: apply it after the commit."""


@dataclass(frozen=True)
class Outcome:
    """What applying an event did, for the inbox row."""

    status: EventStatus
    note: str | None = None
    parked_on: str | None = None


APPLIED = Outcome(EventStatus.PROCESSED)


def not_ours(note: str) -> Outcome:
    """Stored and answered 200, nothing changed."""
    return Outcome(EventStatus.IGNORED, note=note)


class EventApplier:
    """Applies one Stripe event (a plain dict) through the ledger, in the caller's transaction."""

    def __init__(self, stripe_gateway: StripeGateway) -> None:
        self.stripe = stripe_gateway
        # What Stripe's API said about this event, fetched before any database lock is taken.
        self._fetched: dict[tuple[str, str], Any] = {}
        # Runs once before the first call to Stripe (the inbox commits the stored event there).
        self.before_stripe_call: Callable[[], None] = _nothing
        # While rows are locked no call may reach Stripe; parked events that would need one are
        # listed here and applied by the inbox once the transaction has committed.
        self._locked = False
        self.deferred: list[str] = []
        self._handlers: dict[str, Callable[[dict[str, Any], str, str], Outcome]] = {
            # A Checkout Session finished: paid now, or waiting for a delayed method.
            "checkout.session.completed": self._on_session_completed,
            # A delayed payment method (bank debit) succeeded or failed after completion.
            "checkout.session.async_payment_succeeded": self._on_session_completed,
            "checkout.session.async_payment_failed": self._on_session_failed,
            # The donor never paid and the session timed out.
            "checkout.session.expired": self._on_session_expired,
            # A charge succeeded: its id lets later disputes that name only the charge find us.
            "charge.succeeded": self._on_charge_succeeded,
            # Refunds, whichever object announces them.
            "charge.refunded": self._on_charge_refunded,
            "refund.created": self._on_refund,
            "refund.updated": self._on_refund,
            "refund.failed": self._on_refund,
            # Disputes move through their statuses; only a lost one takes money off.
            "charge.dispute.created": self._on_dispute,
            "charge.dispute.updated": self._on_dispute,
            "charge.dispute.closed": self._on_dispute,
            "charge.dispute.funds_withdrawn": self._on_dispute,
            "charge.dispute.funds_reinstated": self._on_dispute,
            # Monthly gifts: money counts only from paid invoices, one instalment each.
            "invoice.paid": self._on_invoice_paid,
            "invoice.payment_failed": self._on_invoice_payment_failed,
            "customer.subscription.created": self._on_subscription_changed,
            "customer.subscription.updated": self._on_subscription_changed,
            "customer.subscription.deleted": self._on_subscription_changed,
        }

    @contextmanager
    def no_stripe_calls(self) -> Iterator[None]:
        """While rows are locked: a call to Stripe raises StripeNeededLater instead of waiting."""
        locked_before, self._locked = self._locked, True
        try:
            yield
        finally:
            self._locked = locked_before

    def handles(self, event_type: str) -> bool:
        """Whether we apply this type of event at all."""
        return event_type in self._handlers

    def prefetch(self, event_type: str, obj: dict[str, Any]) -> Outcome | None:
        """Ask Stripe now for what applying will need, so no lock is held while it answers.

        Our own tables are read first, so an event about a payment we know costs no call. The
        answer is an outcome when Stripe gave positive evidence that the event is not ours (the
        object is another instance's, or Stripe has no such object); else None. Network failures
        raise PaymentProviderError: the caller keeps the event for a retry.
        """
        if event_type in _PAYMENT_EVENTS:
            return self._prefetch_payment_event(event_type, obj)
        if event_type == "invoice.paid":
            return self._prefetch_invoice(obj)
        return None

    def _ask(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call Stripe, after the caller's hook (the inbox commits the stored event first)."""
        if self._locked:
            raise StripeNeededLater(getattr(call, "__name__", "a call to Stripe"))
        hook, self.before_stripe_call = self.before_stripe_call, _nothing
        hook()
        return call(*args, **kwargs)

    def _prefetch_payment_event(self, event_type: str, obj: dict[str, Any]) -> Outcome | None:
        if event_type == "charge.succeeded" or event_type == "charge.refunded":
            payment_intent_id = object_id(dig(obj, "payment_intent"))
            charge_id = text(obj, "id")
        else:
            payment_intent_id = object_id(dig(obj, "payment_intent"))
            charge_id = object_id(dig(obj, "charge"))
        if self._find_payment(payment_intent_id, charge_id) is None:
            try:
                return self._foreign_payment(payment_intent_id, charge_id, obj)
            except PaymentProviderError as error:
                if error.missing:
                    return not_ours(f"Stripe has no such payment ({error}).")
                # Parked, so kept: applied if the payment turns out ours, else shown as waiting.
                log.warning("Could not ask Stripe whose %s is: %s", payment_intent_id, error)
                return None
        if event_type == "charge.refunded" and charge_id and not listed(obj, "refunds"):
            # Since API 2022-11-15 a charge no longer lists its refunds.
            refunds = listed(self._ask(self.stripe.list_refunds, charge=charge_id), "data")
            self._fetched[("refunds", charge_id)] = refunds
        return None

    def _foreign_payment(
        self, payment_intent_id: str | None, charge_id: str | None, obj: dict[str, Any]
    ) -> Outcome | None:
        """Positive evidence that a payment we have not seen is not ours, else None (park it).

        Charges, refunds and disputes of monthly instalments carry no metadata of ours, so a
        payment without it is ours only when an invoice of one of our subscriptions made it.
        """
        verdict = self._metadata_verdict(mapping(obj, "metadata"))
        if verdict is not None:
            return None if verdict else not_ours("The payment is another instance's.")
        if not payment_intent_id and charge_id:
            charge = self._ask(self.stripe.retrieve_charge, charge_id)
            payment_intent_id = object_id(dig(charge, "payment_intent"))
            verdict = self._metadata_verdict(mapping(charge, "metadata"))
            if verdict is not None:
                return None if verdict else not_ours("The payment is another instance's.")
        if not payment_intent_id:
            return not_ours("The payment has no PaymentIntent: donate did not open it.")
        intent = self._ask(self.stripe.retrieve_payment_intent, payment_intent_id)
        verdict = self._metadata_verdict(mapping(intent, "metadata"))
        if verdict is not None:
            return None if verdict else not_ours("The payment is another instance's.")
        for payment in self._ask(self.stripe.invoice_payments_of, payment_intent_id):
            invoice = dig(payment, "invoice")
            if isinstance(invoice, dict) and self._invoice_verdict(invoice) is None:
                return None
        return not_ours("The payment was not made by donate (no gift or instalment of ours).")

    def _metadata_verdict(self, metadata: dict[str, Any]) -> bool | None:
        """True for our metadata, False for another instance's, None when it names no instance."""
        instance = text(metadata, METADATA_INSTANCE)
        if instance:
            return instance == self.stripe.namespace
        return True if text(metadata, METADATA_DONATION_ID) else None

    def _prefetch_invoice(self, invoice: dict[str, Any]) -> Outcome | None:
        verdict = self._invoice_verdict(invoice)
        if verdict is not None:
            return verdict
        invoice_id = text(invoice, "id")
        if invoice_id:
            self._invoice_payment(invoice, invoice_id)
        return None

    def _invoice_verdict(self, invoice: dict[str, Any]) -> Outcome | None:
        """Not ours, with the evidence, or None when the invoice's subscription is ours."""
        subscription_id, metadata = _invoice_subscription(invoice)
        if not subscription_id:
            return not_ours("The invoice is not for a subscription.")
        known = db.session.execute(
            sa.select(Subscription.id).where(Subscription.stripe_subscription_id == subscription_id)
        ).first()
        if known is not None:
            return None
        verdict = self._metadata_verdict(metadata)
        if verdict is None:
            try:
                subscription = self._ask(self.stripe.retrieve_subscription, subscription_id)
            except PaymentProviderError as error:
                if error.missing:
                    return not_ours(f"Stripe has no subscription {subscription_id}.")
                raise
            metadata = mapping(subscription, "metadata")
            self._fetched[("subscription", subscription_id)] = metadata
            verdict = self._metadata_verdict(metadata)
        if not verdict:
            return not_ours("The invoice is not for a monthly gift opened by donate.")
        return None

    def _invoice_payment(
        self, invoice: dict[str, Any], invoice_id: str
    ) -> tuple[str | None, str | None]:
        """The PaymentIntent and charge of a paid invoice, asked of Stripe once per applier."""
        key = ("invoice", invoice_id)
        if key not in self._fetched:
            self._fetched[key] = self._fetch_invoice_payment(invoice, invoice_id)
        return cast(tuple[str | None, str | None], self._fetched[key])

    def apply(self, event: dict[str, Any]) -> Outcome:
        """Apply one verified event; unknown, foreign or other-mode events change nothing."""
        event_type = text(event, "type") or ""
        handler = self._handlers.get(event_type)
        if handler is None:
            return not_ours(f"{event_type or 'untyped'} events are not used by donate.")
        mismatch = self.livemode_mismatch(event)
        if mismatch:
            return not_ours(mismatch)
        obj = mapping(event, "data", "object")
        if not obj:
            return not_ours("The event carries no object.")
        return handler(obj, event_type, f"stripe:{text(event, 'id')}")

    def apply_object(self, event_type: str, obj: dict[str, Any], *, cause: str) -> Outcome:
        """Apply a Stripe object as if it came in an event of that type (reconciliation)."""
        handler = self._handlers.get(event_type)
        if handler is None:
            return not_ours(f"{event_type} events are not used by donate.")
        live = dig(obj, "livemode")
        if isinstance(live, bool) and live != self.stripe.livemode:
            return not_ours("livemode mismatch: the object is of the other mode.")
        return handler(obj, event_type, cause)

    def livemode_mismatch(self, event: dict[str, Any]) -> str | None:
        """Explain a live/test mismatch (a misconfigured endpoint or a foreign event), if any."""
        event_live = dig(event, "livemode")
        object_live = dig(event, "data", "object", "livemode")
        if isinstance(event_live, bool) and event_live != self.stripe.livemode:
            mode = "live" if event_live else "test"
            ours = "live" if self.stripe.livemode else "test"
            return f"livemode mismatch: a {mode}-mode event reached an app using a {ours} key."
        if (
            isinstance(event_live, bool)
            and isinstance(object_live, bool)
            and (event_live != object_live)
        ):
            return "livemode mismatch: the event and its object disagree."
        return None

    # --- Checkout Sessions ------------------------------------------------------------------

    def donation_for_session(self, session: dict[str, Any]) -> Donation | None:
        """Our donation behind a Checkout Session: our metadata, our instance, its amount."""
        metadata = mapping(session, "metadata")
        raw_id = text(metadata, METADATA_DONATION_ID)
        if not raw_id or not (raw_id.isascii() and raw_id.isdigit()):
            return None
        instance = text(metadata, METADATA_INSTANCE)
        if instance and instance != self.stripe.namespace:
            return None  # another donate instance sharing this Stripe account
        donation = db.session.get(Donation, int(raw_id))
        reference = text(session, "client_reference_id")
        if donation is None or (reference and reference != raw_id):
            return None
        # Each must be there and match what we asked Stripe for: a signed event naming only our
        # donation id must not settle a gift of another amount, currency or session.
        session_id = text(session, "id")
        linked = donation.stripe_checkout_session_id
        if not session_id or (linked and linked != session_id):
            return None
        currency = text(session, "currency")
        if not currency or currency.upper() != donation.currency:
            return None
        # amount_minor is the gift plus any fee cover: the two line items' total.
        total = whole(session, "amount_total")
        if total is None or _to_minor(total, donation.currency) != donation.amount_minor:
            return None
        return donation

    def _on_session_completed(
        self, session: dict[str, Any], event_type: str, cause: str
    ) -> Outcome:
        donation = self.donation_for_session(session)
        if donation is None:
            return not_ours("The session was not opened by donate.")
        return self.settle_session(donation, session, cause=cause, event_type=event_type)

    def settle_session(
        self, donation: Donation, session: dict[str, Any], *, cause: str, event_type: str
    ) -> Outcome:
        """Settle a one-time gift or link a monthly one (shared by webhook and return page)."""
        session_id = text(session, "id")
        customer_id = object_id(dig(session, "customer"))
        email = text(session, "customer_details", "email") or text(session, "customer_email")
        if text(session, "mode") == "subscription":
            subscription_id = object_id(dig(session, "subscription"))
            if not subscription_id:
                return Outcome(EventStatus.PROCESSED, note="The session has no subscription yet.")
            subscription = self._upsert_subscription(
                subscription_id,
                donation=donation,
                customer_id=customer_id,
                status=None,
                cause=cause,
            )
            ledger.link_stripe_ids(
                donation.id,
                stripe_checkout_session_id=session_id,
                stripe_customer_id=customer_id,
                subscription_id=subscription.id,
            )
            return Outcome(EventStatus.PROCESSED, note="Monthly gift linked; invoices count.")
        paid = text(session, "payment_status") == "paid" or (
            event_type == "checkout.session.async_payment_succeeded"
        )
        if not paid:
            ledger.link_stripe_ids(donation.id, stripe_checkout_session_id=session_id)
            return Outcome(EventStatus.PROCESSED, note="Waiting for a delayed payment.")
        payment_intent = dig(session, "payment_intent")
        payment_intent_id = object_id(payment_intent)
        charge_id = (
            object_id(dig(payment_intent, "latest_charge"))
            if isinstance(payment_intent, dict)
            else None
        )
        ledger.settle_donation(
            donation.id,
            cause=cause,
            payment_intent_id=payment_intent_id,
            charge_id=charge_id,
            customer_id=customer_id,
            checkout_session_id=session_id,
            donor_email=email,
        )
        ledger.link_stripe_ids(donation.id, stripe_charge_id=charge_id)
        self.release_parked(payment_intent_id, charge_id)
        return APPLIED

    def _on_session_failed(self, session: dict[str, Any], _type: str, cause: str) -> Outcome:
        donation = self.donation_for_session(session)
        if donation is None:
            return not_ours("The session was not opened by donate.")
        ledger.close_pending_donation(donation.id, DonationState.FAILED, cause=cause)
        return APPLIED

    def _on_session_expired(self, session: dict[str, Any], _type: str, cause: str) -> Outcome:
        donation = self.donation_for_session(session)
        if donation is None:
            return not_ours("The session was not opened by donate.")
        ledger.close_pending_donation(donation.id, DonationState.EXPIRED, cause=cause)
        return APPLIED

    # --- payments, refunds, disputes --------------------------------------------------------

    def _find_payment(
        self, payment_intent_id: str | None, charge_id: str | None
    ) -> Donation | None:
        conditions = []
        if payment_intent_id:
            conditions.append(Donation.stripe_payment_intent_id == payment_intent_id)
        if charge_id:
            conditions.append(Donation.stripe_charge_id == charge_id)
        if not conditions:
            return None
        return db.session.execute(
            sa.select(Donation).where(sa.or_(*conditions)).limit(1)
        ).scalar_one_or_none()

    def _find_or_park(
        self, payment_intent_id: str | None, charge_id: str | None, what: str
    ) -> Donation | Outcome:
        """The donation this payment belongs to, or the outcome of parking the event until it is.

        Parking and releasing serialise on the payment's key, so an event parked while its
        payment settles in another transaction is always seen by that settlement's release.
        """
        donation = self._find_payment(payment_intent_id, charge_id)
        if donation is not None:
            return donation
        key = payment_intent_id or charge_id
        if not key:
            return not_ours(f"The {what} names no payment.")
        _serialise_on_payments([key])
        donation = self._find_payment(payment_intent_id, charge_id)
        if donation is not None:
            return donation
        return Outcome(EventStatus.PARKED, note=f"Waiting for payment {key}.", parked_on=key)

    def _on_charge_succeeded(self, charge: dict[str, Any], _type: str, cause: str) -> Outcome:
        payment_intent_id = object_id(dig(charge, "payment_intent"))
        donation = self._find_or_park(payment_intent_id, None, "charge")
        if isinstance(donation, Outcome):
            return donation
        ledger.link_stripe_ids(donation.id, stripe_charge_id=text(charge, "id"))
        self.release_parked(None, text(charge, "id"))
        return APPLIED

    def _on_charge_refunded(self, charge: dict[str, Any], _type: str, cause: str) -> Outcome:
        charge_id = text(charge, "id")
        payment_intent_id = object_id(dig(charge, "payment_intent"))
        donation = self._find_or_park(payment_intent_id, charge_id, "refund")
        if isinstance(donation, Outcome):
            return donation
        refunds = listed(charge, "refunds")
        if not refunds and charge_id:
            if ("refunds", charge_id) not in self._fetched:
                self.prefetch("charge.refunded", charge)
            refunds = self._fetched[("refunds", charge_id)]
        for refund in refunds:
            self._record_refund(donation, refund, cause)
        return APPLIED

    def _payment_named_by(self, obj: dict[str, Any], what: str) -> Donation | Outcome:
        """The donation a refund or dispute is about, or the outcome of parking it until we know."""
        payment_intent_id = object_id(dig(obj, "payment_intent"))
        charge_id = object_id(dig(obj, "charge"))
        return self._find_or_park(payment_intent_id, charge_id, what)

    def _on_refund(self, refund: dict[str, Any], _type: str, cause: str) -> Outcome:
        donation = self._payment_named_by(refund, "refund")
        if isinstance(donation, Outcome):
            return donation
        return self._record_refund(donation, refund, cause)

    def _record_refund(self, donation: Donation, refund: dict[str, Any], cause: str) -> Outcome:
        return self._record_deduction(
            donation,
            refund,
            "refund",
            RefundStatus,
            cause,
            lambda stripe_id, amount, status, reason: ledger.record_refund(
                donation,
                stripe_refund_id=stripe_id,
                amount_minor=amount,
                status=status,
                cause=cause,
                reason=reason,
                request_id=self._our_refund_request(refund),
            ),
        )

    def _our_refund_request(self, refund: dict[str, Any]) -> int | None:
        """Our refund row's id from a refund's metadata, when this instance asked for it."""
        metadata = mapping(refund, "metadata")
        raw_id = text(metadata, METADATA_REFUND_ID)
        if not raw_id or not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > 18:
            return None
        if text(metadata, METADATA_INSTANCE) != self.stripe.namespace:
            return None
        return int(raw_id)

    def _on_dispute(self, dispute: dict[str, Any], _type: str, cause: str) -> Outcome:
        donation = self._payment_named_by(dispute, "dispute")
        if isinstance(donation, Outcome):
            return donation
        return self._record_deduction(
            donation,
            dispute,
            "dispute",
            DisputeStatus,
            cause,
            lambda stripe_id, amount, status, reason: ledger.record_dispute(
                donation,
                stripe_dispute_id=stripe_id,
                amount_minor=amount,
                status=status,
                cause=cause,
                reason=reason,
            ),
        )

    @staticmethod
    def _record_deduction(
        donation: Donation,
        obj: dict[str, Any],
        what: str,
        statuses: type[enum.StrEnum],
        cause: str,
        record: Callable[[str, int, str, str | None], object],
    ) -> Outcome:
        """Check a refund's or dispute's fields and currency, then hand it to the ledger."""
        stripe_id = text(obj, "id")
        amount = whole(obj, "amount")
        status = text(obj, "status")
        if not stripe_id or not amount or not status:
            return not_ours(f"The {what} lacks an id, an amount or a status.")
        if parse_state(statuses, status) is None:
            # A status newer than our pinned API version: nothing moves until we know what it
            # means, and the event is not retried for ever.
            return Outcome(
                EventStatus.PROCESSED, note=f"The {what}'s status {status!r} is unknown; kept."
            )
        if (text(obj, "currency") or "").upper() != donation.currency:
            return not_ours(f"The {what}'s currency differs from the gift's.")
        amount_minor = _to_minor(amount, donation.currency)
        if amount_minor is None:
            return not_ours(f"The {what}'s amount cannot be shown in {donation.currency}.")
        record(stripe_id, amount_minor, status, text(obj, "reason"))
        return APPLIED

    def release_parked(self, payment_intent_id: str | None, charge_id: str | None) -> int:
        """Apply events that were waiting for this payment; return how many were applied."""
        keys = [key for key in (payment_intent_id, charge_id) if key]
        if not keys:
            return 0
        _serialise_on_payments(keys)
        waiting = db.session.execute(
            sa.select(StripeEvent)
            .where(StripeEvent.status == EventStatus.PARKED, StripeEvent.parked_on.in_(keys))
            .order_by(StripeEvent.id)
        ).scalars()
        released = 0
        for row in list(waiting):
            # Each in its own savepoint: one event that cannot be applied must not stop the
            # payment that released it from being counted; it is kept, failed, for a replay.
            try:
                with self.no_stripe_calls(), db.session.begin_nested():
                    outcome = self.apply(json.loads(row.payload))
            except StripeNeededLater:
                self.deferred.append(row.event_id)  # still parked; applied after the commit
                continue
            except Exception as error:  # noqa: BLE001 - recorded on the event row
                row.status = EventStatus.FAILED
                row.error = f"{type(error).__name__}: {error}"[:2000]
                row.parked_on = None
                continue
            if outcome.status == EventStatus.PARKED:
                continue
            row.status = outcome.status
            row.error = outcome.note if outcome.status == EventStatus.IGNORED else None
            row.processed_at = utcnow()
            row.parked_on = None
            released += 1
        return released

    # --- monthly gifts ----------------------------------------------------------------------

    def _subscription_context(
        self, subscription_id: str | None, metadata: dict[str, Any]
    ) -> tuple[Donation | None, Subscription | None]:
        """The donation that opened a subscription and our row for it (metadata, else our table)."""
        subscription = None
        if subscription_id:
            subscription = db.session.execute(
                sa.select(Subscription).where(
                    Subscription.stripe_subscription_id == subscription_id
                )
            ).scalar_one_or_none()
        if subscription_id and METADATA_DONATION_ID not in metadata:
            metadata = self._fetched.get(("subscription", subscription_id), metadata)
        raw_id = text(metadata, METADATA_DONATION_ID)
        instance = text(metadata, METADATA_INSTANCE)
        donation = None
        if raw_id and raw_id.isascii() and raw_id.isdigit():
            if not instance or instance == self.stripe.namespace:
                donation = db.session.get(Donation, int(raw_id))
        if donation is None and subscription is not None:
            donation = db.session.execute(
                sa.select(Donation)
                .where(Donation.subscription_id == subscription.id)
                .order_by(Donation.id)
                .limit(1)
            ).scalar_one_or_none()
        return donation, subscription

    def _upsert_subscription(
        self,
        stripe_subscription_id: str,
        *,
        donation: Donation,
        customer_id: str | None,
        status: str | None,
        cause: str,
        stripe_subscription: dict[str, Any] | None = None,
    ) -> Subscription:
        values: dict[str, Any] = {
            "stripe_subscription_id": stripe_subscription_id,
            "goal_id": donation.goal_id,
            "stripe_customer_id": customer_id,
            "status": (
                parse_state(SubscriptionStatus, status) or SubscriptionStatus.INCOMPLETE
            ).value,
            "amount_minor": donation.amount_minor,
            "fee_cover_minor": donation.fee_cover_minor,
            "currency": donation.currency,
            "cancel_at_period_end": False,
            "created_at": utcnow(),
            "updated_at": utcnow(),
        }
        insert_ignoring_duplicates(Subscription.__table__, values)
        subscription = db.session.execute(
            sa.select(Subscription)
            .where(Subscription.stripe_subscription_id == stripe_subscription_id)
            .execution_options(populate_existing=True)
        ).scalar_one()
        if customer_id and not subscription.stripe_customer_id:
            subscription.stripe_customer_id = customer_id
        if stripe_subscription:
            self._copy_subscription_state(
                subscription, stripe_subscription, donation=donation, cause=cause
            )
        return subscription

    @staticmethod
    def _copy_subscription_state(
        subscription: Subscription, data: dict[str, Any], *, donation: Donation, cause: str
    ) -> None:
        """Follow Stripe's status as far as the ledger's table allows; copy the period."""
        final_before = subscription.status in SUBSCRIPTION_FINAL
        reported = parse_state(SubscriptionStatus, text(data, "status"))
        if reported is not None:
            # The table refuses moves back (a late "created" never demotes an active one); an
            # unknown status (newer than our API version) leaves the status as it is.
            ledger.move_subscription(
                subscription, reported, cause=cause, first_donation_id=donation.id
            )
        if final_before:
            return  # a late copy of an older update must not revive a finished subscription
        cancel_at_period_end = dig(data, "cancel_at_period_end")
        if isinstance(cancel_at_period_end, bool):
            subscription.cancel_at_period_end = cancel_at_period_end
        period_end = whole(data, "current_period_end")
        items = listed(data, "items")
        if period_end is None and items:
            period_end = whole(items[0], "current_period_end")
        if period_end:
            subscription.current_period_end = datetime.fromtimestamp(period_end, UTC)
        canceled_at = whole(data, "canceled_at") or whole(data, "ended_at")
        if canceled_at:
            subscription.canceled_at = datetime.fromtimestamp(canceled_at, UTC)

    def _on_invoice_paid(self, invoice: dict[str, Any], _type: str, cause: str) -> Outcome:
        invoice_id = text(invoice, "id")
        subscription_id, metadata = _invoice_subscription(invoice)
        first, subscription = self._subscription_context(subscription_id, metadata)
        if first is None or not invoice_id or not subscription_id:
            return not_ours("The invoice is not for a monthly gift opened by donate.")
        amount = whole(invoice, "amount_paid")
        if not amount:
            return Outcome(EventStatus.PROCESSED, note="Nothing was paid on this invoice.")
        if (text(invoice, "currency") or "").upper() != first.currency:
            return not_ours("The invoice's currency differs from the gift's.")
        amount_minor = _to_minor(amount, first.currency)
        if amount_minor is None:
            return not_ours(f"The invoice's amount cannot be shown in {first.currency}.")
        first_instalment = first.state == DonationState.PENDING and not first.stripe_invoice_id
        if first_instalment and amount_minor != first.amount_minor:
            # The first month must be what the donor was asked for: gift plus fee cover.
            return not_ours("The invoice's total differs from the gift and fee cover asked for.")
        customer_id = object_id(dig(invoice, "customer"))
        if subscription is None:
            subscription = self._upsert_subscription(
                subscription_id,
                donation=first,
                customer_id=customer_id,
                status="active",
                cause=cause,
            )
        elif subscription.status == SubscriptionStatus.INCOMPLETE:
            # The first invoice is paid: the subscription runs, whatever event says so first.
            ledger.move_subscription(subscription, SubscriptionStatus.ACTIVE, cause=cause)
        payment_intent_id, charge_id = self._invoice_payment(invoice, invoice_id)
        already = db.session.execute(
            sa.select(Donation.id).where(Donation.stripe_invoice_id == invoice_id)
        ).first()
        if already is None:
            settled_first = first.state == DonationState.PENDING and ledger.settle_donation(
                first.id,
                cause=cause,
                payment_intent_id=payment_intent_id,
                charge_id=charge_id,
                customer_id=customer_id,
                invoice_id=invoice_id,
                subscription_id=subscription.id,
                donor_email=text(invoice, "customer_email"),
            )
            if not settled_first:
                goal = db.session.get(Goal, first.goal_id)
                assert goal is not None
                ledger.record_instalment(
                    goal,
                    subscription_id=subscription.id,
                    invoice_id=invoice_id,
                    amount_minor=amount_minor,
                    fee_cover_minor=instalment_fee_cover(subscription, amount_minor),
                    cause=cause,
                    payment_intent_id=payment_intent_id,
                    charge_id=charge_id,
                    customer_id=customer_id,
                    donor_email=first.donor_email or text(invoice, "customer_email"),
                    public_name=first.public_name,
                    public_message=None,
                    anonymous=first.anonymous,
                    source_url=first.source_url,
                    article_id=first.article_id,
                    donor_key=first.donor_key,
                )
        self.release_parked(payment_intent_id, charge_id)
        return APPLIED

    def _fetch_invoice_payment(
        self, invoice: dict[str, Any], invoice_id: str
    ) -> tuple[str | None, str | None]:
        """The PaymentIntent and charge of a paid invoice, from its payments."""
        payments = listed(invoice, "payments") or self._ask(
            self.stripe.list_invoice_payments, invoice_id
        )
        for payment in payments:
            if text(payment, "status") not in (None, "paid"):
                continue
            payment_intent_id = object_id(dig(payment, "payment", "payment_intent"))
            charge_id = object_id(dig(payment, "payment", "charge"))
            if payment_intent_id and not charge_id:
                intent = self._ask(self.stripe.retrieve_payment_intent, payment_intent_id)
                charge_id = object_id(dig(intent, "latest_charge"))
            if payment_intent_id or charge_id:
                return payment_intent_id, charge_id
        return None, None

    def _on_invoice_payment_failed(
        self, invoice: dict[str, Any], _type: str, cause: str
    ) -> Outcome:
        _first, subscription = self._subscription_context(*_invoice_subscription(invoice))
        if subscription is None:
            return not_ours("The invoice is not for a monthly gift we know.")
        # A renewal that failed makes a running gift past due; a failed first payment leaves it
        # incomplete until Stripe expires it (incomplete -> past_due is not in the table). A
        # late copy never undoes what a subscription event already said (unpaid, paused, ...).
        if subscription.status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING):
            ledger.move_subscription(subscription, SubscriptionStatus.PAST_DUE, cause=cause)
        return APPLIED

    def _on_subscription_changed(self, data: dict[str, Any], _type: str, cause: str) -> Outcome:
        subscription_id = text(data, "id")
        first, subscription = self._subscription_context(subscription_id, mapping(data, "metadata"))
        if first is None or not subscription_id:
            return not_ours("The subscription was not opened by donate.")
        if first.kind != DonationKind.MONTHLY:
            return not_ours("The subscription's donation is not a monthly gift.")
        self._upsert_subscription(
            subscription_id,
            donation=first,
            customer_id=object_id(dig(data, "customer")),
            status=text(data, "status"),
            cause=cause,
            stripe_subscription=data,
        )
        return APPLIED


def instalment_fee_cover(subscription: Subscription, amount_minor: int) -> int:
    """The fee cover of one instalment: the subscription's when the invoice is its gift plus fee
    cover; none for another amount (changed or prorated), which cannot be told apart."""
    return subscription.fee_cover_minor if amount_minor == subscription.amount_minor else 0


def _invoice_subscription(invoice: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """An invoice's subscription and its metadata: `parent.subscription_details` since API
    2025-03-31; `invoice.subscription` and `invoice.subscription_details` before."""
    details = mapping(invoice, "parent", "subscription_details")
    subscription_id = object_id(dig(details, "subscription")) or object_id(
        dig(invoice, "subscription")
    )
    metadata = mapping(details, "metadata") or mapping(invoice, "subscription_details", "metadata")
    return subscription_id, metadata


def _to_minor(stripe_amount: int, currency: str) -> int | None:
    """Our minor units for a Stripe amount, or None when they cannot say it exactly."""
    try:
        return money.from_stripe_amount(stripe_amount, currency)
    except ValueError:
        return None


def _serialise_on_payments(keys: list[str]) -> None:
    """Make parking and releasing for one payment take turns (PostgreSQL; SQLite already does)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for key in sorted(set(keys)):
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(key))))
