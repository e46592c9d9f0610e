"""The dashboard tests' fixtures (loaded with pytest_plugins): two sites, and the mail folder."""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from itertools import count
from pathlib import Path

import pytest
from flask import Flask, has_app_context

from donate.extensions import db
from donate.models import Donation, Goal, Role, Site, User
from donate.outbox.worker import Worker, WorkerOptions
from tests.admin_support import make_user
from tests.factories import make_goal, make_offline_gift, make_site

_serial = count(1)


@dataclass
class Dashboard:
    """Two sites: A with an owner, an editor and a viewer; B with its own owner."""

    site_a: Site
    owner: User
    editor: User
    viewer: User
    goal_a: Goal
    donation_a: Donation
    site_b: Site
    owner_b: User
    goal_b: Goal
    donation_b: Donation


@pytest.fixture
def dashboard(db_session) -> Dashboard:
    site_a = make_site(name="Riverside Gazette")
    site_b = make_site(name="Hilltop Herald")
    goal_a = make_goal(site_a, slug=f"riverside-{next(_serial)}")
    goal_b = make_goal(site_b, slug=f"hilltop-{next(_serial)}")
    return Dashboard(
        site_a=site_a,
        owner=make_user("owner@riverside.example", site=site_a, role=Role.OWNER),
        editor=make_user("editor@riverside.example", site=site_a, role=Role.EDITOR),
        viewer=make_user("viewer@riverside.example", site=site_a, role=Role.VIEWER),
        goal_a=goal_a,
        donation_a=make_offline_gift(
            goal_a, 2_500, donor_email="a@donor.example", public_message="For the river."
        ),
        site_b=site_b,
        owner_b=make_user("owner@hilltop.example", site=site_b, role=Role.OWNER),
        goal_b=goal_b,
        donation_b=make_offline_gift(
            goal_b, 4_000, donor_email="b@donor.example", public_message="For the hill."
        ),
    )


@dataclass
class Outbox:
    """The messages the app wrote to its mail folder (no SMTP_HOST in tests)."""

    folder: Path

    def messages(self) -> list[Message]:
        if has_app_context():  # what the requests queued, sent by the worker as it would be
            db.session.commit()
            Worker(WorkerOptions(once=True)).run()
        if not self.folder.exists():
            return []
        return [email.message_from_bytes(p.read_bytes()) for p in sorted(self.folder.iterdir())]

    def last(self) -> Message:
        found = self.messages()
        assert found, "no mail was written"
        return found[-1]

    def link_in_last(self) -> str:
        body = self.last().get_payload(decode=True).decode()
        match = re.search(r"https?://\S+", body)
        assert match, body
        return match.group(0)


@pytest.fixture
def outbox(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Outbox]:
    monkeypatch.setitem(app.config, "MAIL_FOLDER", str(tmp_path / "mail"))
    monkeypatch.setitem(app.config, "SMTP_HOST", "")
    yield Outbox(tmp_path / "mail")
