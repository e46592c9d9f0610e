"""Helpers shared by the widget's tests: a clean render cache and readable page text."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from donate.extensions import db


@pytest.fixture(autouse=True)
def fresh_widget_cache(app: Flask) -> Iterator[None]:
    """Each test renders from scratch: ids are reused after a rollback."""
    app.extensions["donate.widget_cache"].clear()
    yield
    app.extensions["donate.widget_cache"].clear()


def page_text(body: bytes) -> str:
    """What a reader sees: tags, scripts and styles removed, entities decoded, spaces folded."""
    text = body.decode("utf-8")
    text = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", text, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    text = html.unescape(text).replace("\u00a0", " ").replace("\u202f", " ")
    return re.sub(r"\s+", " ", text).strip()


class StatementCounter:
    """Count the SQL statements the app sends while the block runs."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def _record(self, _conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        self.statements.append(statement)

    def __enter__(self) -> StatementCounter:
        sa.event.listen(db.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_exc: object) -> None:
        sa.event.remove(db.engine, "before_cursor_execute", self._record)

    @property
    def selects(self) -> list[str]:
        return [s for s in self.statements if s.lstrip().upper().startswith("SELECT")]
