"""Payments: Stripe Checkout for gifts, the webhook inbox, and reconciliation with Stripe."""
