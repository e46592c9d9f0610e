"""The outbox: messages written with what caused them, sent later by `flask donate worker`."""
