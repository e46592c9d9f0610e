"""Stripe-shaped API errors, so the stripe library raises the same classes as against Stripe."""

from __future__ import annotations

DOC_URL = "https://stripe.com/docs/error-codes/"


class StripeError(Exception):
    """An error answered as Stripe's `{"error": {...}}` body with Stripe's status code."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        extra: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.param = param
        self.code = code
        self.extra = extra or {}

    def body(self, request_id: str | None = None) -> dict:
        """Return the JSON body Stripe sends for this error."""
        error: dict = {"message": self.message, "type": self.type}
        if self.param is not None:
            error["param"] = self.param
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = DOC_URL + self.code.replace("_", "-")
        if request_id:
            error["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}"
        error.update(self.extra)
        return {"error": error}


def missing(param: str) -> StripeError:
    """Return Stripe's error for a required parameter that was not sent."""
    return StripeError(f"Missing required param: {param}.", param=param, code="parameter_missing")


def invalid(param: str, message: str, code: str = "parameter_invalid_string") -> StripeError:
    """Return Stripe's error for a parameter whose value cannot be used."""
    return StripeError(message, param=param, code=code)


def no_such(kind: str, object_id: str, param: str = "id") -> StripeError:
    """Return Stripe's 404 for an id this account does not have."""
    return StripeError(
        f"No such {kind}: '{object_id}'", status=404, param=param, code="resource_missing"
    )
