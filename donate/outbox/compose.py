"""What each kind of outbox row becomes when the worker sends it, read from the database then."""

from __future__ import annotations

from email.message import EmailMessage

from donate.admin.passwords import reset_letter
from donate.extensions import db
from donate.models import OutboxKind, OutboxMessage, OutboxStatus
from donate.outbox.letters import Letter, as_email
from donate.receipts.letters import receipt_letter, refund_letter


class NothingToSend(Exception):
    """The row needs no mail: no account for a reset, no address or gift left for a receipt."""


def compose(message_id: int) -> EmailMessage:
    """The e-mail for a leased row; NothingToSend when there is none to send."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.status != OutboxStatus.PENDING:
        raise NothingToSend("The message is gone or already finished.")
    letter: Letter | None
    match message.kind:
        case OutboxKind.RESET_REQUESTED:
            letter = reset_letter(message.recipient)
        case OutboxKind.RECEIPT:
            letter = receipt_letter(message)
        case OutboxKind.REFUND_NOTICE:
            letter = refund_letter(message)
    if letter is None:
        raise NothingToSend(f"No {message.kind.value} to send.")
    return as_email(letter, message.message_id)
