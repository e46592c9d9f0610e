"""What the ledger refuses, as exceptions whose message a person can read."""

from __future__ import annotations


class LedgerError(ValueError):
    """A change the ledger refuses: the message says why, nothing was changed."""


class NothingLeftToRefund(LedgerError):
    """A refund asks for more than is left; `remaining_minor` is what could still be refunded."""

    def __init__(self, message: str, *, remaining_minor: int) -> None:
        super().__init__(message)
        self.remaining_minor = remaining_minor
