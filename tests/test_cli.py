"""Operator commands: each validates, says what it did, and exits non-zero with a sentence."""

from __future__ import annotations

import sqlalchemy as sa

from donate.cli import DEMO_EMAIL, DEMO_SLUG
from donate.extensions import db
from donate.models import Donation, DonationKind, Goal, Membership, Role, Site, User


def _site_id(runner) -> int:
    result = runner.invoke(
        args=["donate", "create-site", "--name", "Gazette", "--origin", "https://News.Example.org/"]
    )
    assert result.exit_code == 0, result.output
    return db.session.execute(sa.select(Site.id).where(Site.name == "Gazette")).scalar_one()


def test_create_site_normalises_origins(runner):
    site_id = _site_id(runner)
    site = db.session.get(Site, site_id)
    assert site.allowed_origins == ["https://news.example.org"]


def test_create_site_refuses_a_page_url_as_origin(runner):
    result = runner.invoke(
        args=["donate", "create-site", "--name", "Bad", "--origin", "https://x.org/story/1"]
    )
    assert result.exit_code != 0
    assert "enter only its origin" in result.output
    assert db.session.execute(sa.select(Site).where(Site.name == "Bad")).first() is None


def test_create_user_with_a_role(runner):
    site_id = _site_id(runner)
    result = runner.invoke(
        args=[
            "donate",
            "create-user",
            "--email",
            "Ed@Example.org",
            "--password",
            "long enough pw",
            "--site",
            str(site_id),
            "--role",
            "editor",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Created user ed@example.org" in result.output
    user = db.session.execute(sa.select(User).where(User.email == "ed@example.org")).scalar_one()
    membership = db.session.execute(
        sa.select(Membership).where(Membership.user_id == user.id)
    ).scalar_one()
    assert membership.role is Role.EDITOR
    assert user.password_hash.startswith("scrypt:")


def test_create_user_refuses_a_short_password_and_keeps_nothing(runner):
    result = runner.invoke(
        args=["donate", "create-user", "--email", "a@example.org", "--password", "short"]
    )
    assert result.exit_code == 1
    assert "at least 10 characters" in result.output
    assert db.session.execute(sa.select(User)).first() is None


def test_create_goal_parses_amounts(runner):
    site_id = _site_id(runner)
    result = runner.invoke(
        args=[
            "donate",
            "create-goal",
            "--site",
            str(site_id),
            "--slug",
            "night-desk",
            "--title",
            "Night desk",
            "--currency",
            "eur",
            "--target",
            "5,000",
            "--preset",
            "10",
            "--preset",
            "25.50",
            "--minimum",
            "5",
            "--maximum",
            "1,000",
            "--monthly",
            "--milestone",
            "2,500",
            "--deadline",
            "2030-01-31",
        ]
    )
    assert result.exit_code == 0, result.output
    goal = db.session.execute(sa.select(Goal).where(Goal.slug == "night-desk")).scalar_one()
    assert goal.currency == "EUR"
    assert goal.target_minor == 500_000
    assert goal.presets_minor == [1_000, 2_550]
    assert (goal.minimum_minor, goal.maximum_minor) == (500, 100_000)
    assert goal.monthly_enabled is True
    assert goal.milestones_minor == [250_000]
    assert goal.ends_at is not None and goal.ends_at.year == 2030


def test_create_goal_refuses_a_minimum_below_stripes(runner):
    site_id = _site_id(runner)
    result = runner.invoke(
        args=[
            "donate",
            "create-goal",
            "--site",
            str(site_id),
            "--slug",
            "tiny",
            "--title",
            "Tiny",
            "--currency",
            "USD",
            "--target",
            "100",
            "--minimum",
            "0.10",
        ]
    )
    assert result.exit_code == 1
    assert "minimum" in result.output.lower()
    assert db.session.execute(sa.select(Goal).where(Goal.slug == "tiny")).first() is None


def test_create_goal_refuses_an_unreadable_amount(runner):
    site_id = _site_id(runner)
    result = runner.invoke(
        args=[
            "donate",
            "create-goal",
            "--site",
            str(site_id),
            "--slug",
            "words",
            "--title",
            "Words",
            "--target",
            "lots",
        ]
    )
    assert result.exit_code == 1
    assert "target" in result.output
    assert "Traceback" not in result.output


def test_create_goal_on_a_missing_site(runner):
    result = runner.invoke(
        args=[
            "donate",
            "create-goal",
            "--site",
            "999",
            "--slug",
            "x",
            "--title",
            "X",
            "--target",
            "10",
        ]
    )
    assert result.exit_code == 1
    assert "no site with id 999" in result.output


def test_demo_seeds_once_with_demo_gifts(runner):
    first = runner.invoke(args=["donate", "demo"])
    assert first.exit_code == 0, first.output
    assert f"Demo sign-in: {DEMO_EMAIL}" in first.output
    goal = db.session.execute(sa.select(Goal).where(Goal.slug == DEMO_SLUG)).scalar_one()
    assert goal.raised_minor == 82_200
    kinds = set(db.session.execute(sa.select(Donation.kind)).scalars())
    assert kinds == {DonationKind.DEMO}
    second = runner.invoke(args=["donate", "demo"])
    assert second.exit_code == 0
    assert "already has a site" in second.output
    assert db.session.execute(sa.select(sa.func.count(Site.id))).scalar_one() == 1


def test_recount_dry_run_reports_drift_and_recount_repairs_it(runner):
    runner.invoke(args=["donate", "demo"])
    db.session.execute(sa.update(Goal).values(raised_minor=1))
    db.session.commit()
    dry = runner.invoke(args=["donate", "recount", "--dry-run"])
    assert dry.exit_code == 1
    assert "raised_minor was 1, the ledger says 82200" in dry.output
    assert db.session.execute(sa.select(Goal.raised_minor)).scalar_one() == 1
    fix = runner.invoke(args=["donate", "recount"])
    assert fix.exit_code == 0
    assert "repaired 1" in fix.output
    assert db.session.execute(sa.select(Goal.raised_minor)).scalar_one() == 82_200


def test_recount_of_an_unknown_goal(runner):
    result = runner.invoke(args=["donate", "recount", "--goal", "nope"])
    assert result.exit_code == 1
    assert "no goal with the slug 'nope'" in result.output


def test_create_goal_refuses_a_deadline_in_year_202(runner):
    site_id = _site_id(runner)
    result = runner.invoke(
        args=[
            "donate",
            "create-goal",
            "--site",
            str(site_id),
            "--slug",
            "typo-year",
            "--title",
            "Typo",
            "--target",
            "100",
            "--deadline",
            "0202-03-31",
        ]
    )
    assert result.exit_code == 1
    assert "between 2000 and 2100" in result.output
