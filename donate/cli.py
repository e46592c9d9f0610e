"""Operator commands under `flask --app wsgi donate ...`."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import NoReturn

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from donate import ledger, money
from donate.accounts import AccountError, create_user, grant_role, set_operator
from donate.extensions import db
from donate.goals import GoalSettings, SettingsError, SiteSettings, create_goal, create_site
from donate.models import DonationKind, Goal, GoalStatus, Role, Site, User
from donate.outbox.command import worker_command

DEMO_EMAIL = "demo@example.org"
DEMO_PASSWORD = "demo-password"  # printed in the terminal by `make run`; development only
DEMO_SLUG = "local-news"
# (amount in dollars, public name or None for anonymous, message)
DEMO_GIFTS = [
    (250, "Marguerite", "For the council coverage."),
    (100, None, None),
    (75, "Sam K.", "Keep it free for everyone."),
    (50, "Ana", None),
    (25, None, None),
    (200, "The Okafor family", "Thank you for the school board reporting."),
    (72, "Léa", None),
    (50, None, "Small but monthly soon."),
]


@click.group("donate")
def donate_cli() -> None:
    """Manage sites, goals and totals."""


def _fail(message: str) -> NoReturn:
    db.session.rollback()
    raise click.ClickException(message)


def _parse_amount(text: str, currency: str, label: str) -> int:
    try:
        return money.parse_amount(text, currency, "en")
    except ValueError as error:
        _fail(f"{label}: {error}")
        raise  # unreachable, for type checkers


def _parse_date(text: str | None, label: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        _fail(f"{label}: write dates as YYYY-MM-DD or YYYY-MM-DDTHH:MM, not {text!r}.")
        raise
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _report_settings(error: SettingsError) -> NoReturn:
    _fail("; ".join(f"{name.replace('_minor', '')}: {text}" for name, text in error.errors.items()))


@donate_cli.command("create-user")
@click.option("--email", required=True, help="The address the person signs in with.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="At least 10 characters.",
)
@click.option("--name", default="", help="Shown in the dashboard and the audit log.")
@click.option("--site", "site_id", type=int, help="Give the user a role on this site (its id).")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.OWNER.value,
    show_default=True,
)
@with_appcontext
def create_user_command(
    email: str, password: str, name: str, site_id: int | None, role: str
) -> None:
    """Create a dashboard user, optionally with a role on a site."""
    try:
        user = create_user(email, password, name=name)
        if site_id is not None:
            site = db.session.get(Site, site_id)
            if site is None:
                _fail(f"There is no site with id {site_id}; `donate list` shows them.")
            grant_role(user, site, role)
    except AccountError as error:
        _fail(str(error))
    db.session.commit()
    where = f" as {role} of site {site_id}" if site_id is not None else ""
    click.echo(f"Created user {user.email} (id {user.id}){where}.")


@donate_cli.command("grant-operator")
@click.option("--email", required=True, help="The account that runs this instance.")
@with_appcontext
def grant_operator_command(email: str) -> None:
    """Let an account see Stripe's webhook health and alerts for the whole instance."""
    _set_operator(email, granted=True)


@donate_cli.command("revoke-operator")
@click.option("--email", required=True)
@with_appcontext
def revoke_operator_command(email: str) -> None:
    """Take the instance operator role away; the account keeps its roles on sites."""
    _set_operator(email, granted=False)


def _set_operator(email: str, *, granted: bool) -> None:
    try:
        user = set_operator(email, granted)
    except AccountError as error:
        _fail(str(error))
    db.session.commit()
    if granted:
        click.echo(
            f"{user.email} is an instance operator: the overview shows every site's webhooks."
        )
    else:
        click.echo(f"{user.email} is no longer an instance operator.")


@donate_cli.command("create-site")
@click.option("--name", required=True)
@click.option(
    "--origin",
    "origins",
    multiple=True,
    help="An origin allowed to embed widgets; repeat for more.",
)
@click.option("--currency", default="USD", show_default=True)
@click.option("--locale", default="en", show_default=True)
@click.option("--time-zone", default="UTC", show_default=True)
@click.option("--colour", default="#1d4ed8", show_default=True)
@with_appcontext
def create_site_command(
    name: str, origins: tuple[str, ...], currency: str, locale: str, time_zone: str, colour: str
) -> None:
    """Create a site: where its widgets may be embedded and how its money is shown."""
    try:
        site = create_site(
            SiteSettings(
                name=name,
                allowed_origins=list(origins),
                default_currency=currency,
                default_locale=locale,
                time_zone=time_zone,
                brand_colour=colour,
            )
        )
    except SettingsError as error:
        _report_settings(error)
    db.session.commit()
    allowed = ", ".join(site.allowed_origins) or "none yet"
    click.echo(f"Created site {site.name!r} (id {site.id}); embeds allowed from: {allowed}.")


@donate_cli.command("create-goal")
@click.option("--site", "site_id", type=int, required=True, help="The site's id.")
@click.option("--slug", required=True, help="Lower-case letters, digits and dashes.")
@click.option("--title", required=True)
@click.option("--currency", help="ISO 4217 code; the site's currency when left out.")
@click.option("--target", required=True, help='The amount to raise, e.g. "5,000".')
@click.option("--preset", "presets", multiple=True, help="A preset amount; repeat for more.")
@click.option("--minimum", help="The smallest gift; Stripe's minimum charge when left out.")
@click.option("--maximum", help="The largest gift; no limit when left out.")
@click.option("--monthly/--no-monthly", default=False, show_default=True)
@click.option("--milestone", "milestones", multiple=True, help="A milestone amount; repeat.")
@click.option("--starts", help="YYYY-MM-DD[THH:MM], UTC unless an offset is given.")
@click.option("--deadline", help="YYYY-MM-DD[THH:MM], UTC unless an offset is given.")
@click.option("--description", default="")
@click.option(
    "--status",
    type=click.Choice([s.value for s in GoalStatus]),
    default=GoalStatus.ACTIVE.value,
    show_default=True,
)
@with_appcontext
def create_goal_command(
    site_id: int,
    slug: str,
    title: str,
    currency: str | None,
    target: str,
    presets: tuple[str, ...],
    minimum: str | None,
    maximum: str | None,
    monthly: bool,
    milestones: tuple[str, ...],
    starts: str | None,
    deadline: str | None,
    description: str,
    status: str,
) -> None:
    """Create a fundraising goal with its presets, limits and deadline."""
    site = db.session.get(Site, site_id)
    if site is None:
        _fail(f"There is no site with id {site_id}.")
    code = (currency or site.default_currency).upper()
    try:
        money.get_currency(code)
    except ValueError as error:
        _fail(str(error))
    settings = GoalSettings(
        slug=slug,
        title=title,
        currency=code,
        target_minor=_parse_amount(target, code, "target"),
        presets_minor=[_parse_amount(p, code, "preset") for p in presets],
        minimum_minor=_parse_amount(minimum, code, "minimum") if minimum else None,
        maximum_minor=_parse_amount(maximum, code, "maximum") if maximum else None,
        monthly_enabled=monthly,
        milestones_minor=[_parse_amount(m, code, "milestone") for m in milestones],
        starts_at=_parse_date(starts, "starts"),
        ends_at=_parse_date(deadline, "deadline"),
        description=description,
        status=GoalStatus(status),
    )
    try:
        goal = create_goal(site, settings)
    except SettingsError as error:
        _report_settings(error)
    db.session.commit()
    click.echo(
        f"Created goal {goal.slug} (id {goal.id}) on site {site.id}: "
        f"target {money.format_amount(goal.target_minor, goal.currency, site.default_locale)}, "
        f"status {goal.status.value}."
    )


@donate_cli.command("demo")
@with_appcontext
def demo_command() -> None:
    """Seed a demo site, owner and goal with a few gifts, when the database has no site yet."""
    if current_app.config["DONATE_ENV"] == "production":
        _fail("The demo seeds a known password; it is not available in production.")
    if db.session.execute(sa.select(Site.id).limit(1)).first():
        click.echo("The database already has a site; no demo data added.")
        _print_demo_sign_in()
        return
    site = create_site(
        SiteSettings(
            name="Demo Gazette",
            allowed_origins=["http://localhost:*", "http://127.0.0.1:*"],
            default_currency="USD",
            default_locale="en_US",
            time_zone="America/New_York",
            receipts_enabled=True,
            receipt_organisation="Demo Gazette Foundation",
            receipt_address="1 Main Street\nSpringfield, NY 10001",
            receipt_tax_note="A demo: this receipt is not valid for tax purposes.",
        )
    )
    user = create_user(DEMO_EMAIL, DEMO_PASSWORD, name="Demo Owner")
    grant_role(user, site, Role.OWNER)
    goal = create_goal(
        site,
        GoalSettings(
            slug=DEMO_SLUG,
            title="Keep local news free to read",
            description="Our reporters cover the council, the schools and the courts. "
            "Readers' gifts keep every story free.",
            currency="USD",
            target_minor=500_000,
            presets_minor=[1_000, 2_500, 5_000, 10_000],
            minimum_minor=500,
            maximum_minor=1_000_000,
            monthly_enabled=True,
            milestones_minor=[100_000, 250_000, 500_000],
        ),
    )
    for dollars, name, message in DEMO_GIFTS:
        ledger.record_succeeded_gift(
            goal,
            amount_minor=dollars * 100,
            kind=DonationKind.DEMO,
            cause="cli:demo",
            public_name=name,
            public_message=message,
            anonymous=name is None,
        )
    db.session.commit()
    db.session.refresh(goal)
    raised = money.format_amount(goal.raised_minor, goal.currency, "en_US")
    click.echo(f"Created the demo site, its owner and the goal {goal.slug} ({raised} raised).")
    _print_demo_sign_in()


def _print_demo_sign_in() -> None:
    if db.session.execute(sa.select(User.id).where(User.email == DEMO_EMAIL)).first():
        click.echo(f"Demo sign-in: {DEMO_EMAIL} / {DEMO_PASSWORD}")


@donate_cli.command("recount")
@click.option("--goal", "slug", help="Only this goal (its slug); every goal when left out.")
@click.option("--dry-run", is_flag=True, help="Report drift without repairing it.")
@with_appcontext
def recount_command(slug: str | None, dry_run: bool) -> None:
    """Rebuild totals from the ledger and report any drift; exit 1 when a dry run finds some."""
    query = sa.select(Goal).order_by(Goal.id)
    if slug:
        query = query.where(Goal.slug == slug)
    goals = list(db.session.execute(query).scalars())
    if slug and not goals:
        _fail(f"There is no goal with the slug {slug!r}.")
    drifted = 0
    for goal in goals:
        drift = ledger.recount(goal, cause="cli:recount", repair=not dry_run)
        if not drift.found:
            click.echo(f"{goal.slug}: totals match the ledger.")
            continue
        drifted += 1
        for name, (stored, actual) in drift.fields.items():
            click.echo(f"{goal.slug}: {name} was {stored}, the ledger says {actual}.")
        for donation_id, columns in drift.donations.items():
            for name, (stored, actual) in columns.items():
                click.echo(
                    f"{goal.slug}: donation {donation_id} {name} was {stored}, "
                    f"its rows say {actual}."
                )
    if dry_run:
        db.session.rollback()
        if drifted:
            raise click.ClickException(
                f"{drifted} goal(s) drifted; run without --dry-run to repair."
            )
        return
    db.session.commit()
    click.echo(f"Recounted {len(goals)} goal(s); repaired {drifted}.")


@donate_cli.command("stripe-setup")
@click.option(
    "--portal-only",
    is_flag=True,
    help="Only the Customer Portal configuration; leave webhook endpoints alone.",
)
@with_appcontext
def stripe_setup_command(portal_only: bool) -> None:
    """Create or update our Stripe webhook endpoint and the Customer Portal configuration."""
    from donate.payments.instance import remember_portal_configuration
    from donate.payments.stripe import API_VERSION, PaymentProviderError, gateway

    if not current_app.config["STRIPE_SECRET_KEY"]:
        _fail("Set STRIPE_SECRET_KEY first; stripe-setup talks to your Stripe account.")
    public_url = current_app.config["PUBLIC_URL"]
    stripe = gateway()
    try:
        if not portal_only:
            endpoint, created = stripe.upsert_webhook_endpoint(f"{public_url}/stripe/webhook")
        portal, portal_created = stripe.upsert_portal_configuration(public_url)
    except PaymentProviderError as error:
        _fail(f"Stripe refused: {error}")
        raise
    # Portal sessions name this configuration: Stripe's default one cannot be set by the API.
    login_url = (portal.get("login_page") or {}).get("url")
    remember_portal_configuration(
        stripe.livemode, str(portal.get("id")), login_url if isinstance(login_url, str) else None
    )
    db.session.commit()
    if not portal_only and created:
        click.echo(
            f"Created webhook endpoint {endpoint.get('id')} for {endpoint.get('url')} "
            f"(API version {API_VERSION})."
        )
        click.echo(f"Its signing secret, shown only now: {endpoint.get('secret')}")
        click.echo("Set it as STRIPE_WEBHOOK_SECRET.")
    elif not portal_only:
        click.echo(
            f"Updated webhook endpoint {endpoint.get('id')} for {endpoint.get('url')}; "
            "Stripe shows its signing secret only on creation, so keep the one you have "
            "(or roll it in the Stripe dashboard)."
        )
    verb = "Created" if portal_created else "Updated"
    mode = "live" if stripe.livemode else "test"
    click.echo(
        f"{verb} Customer Portal configuration {portal.get('id')} ({mode} mode), used for "
        "every portal link: donors can cancel at the end of the period and sign in later "
        "from the portal's login page."
    )


# `donate reconcile` exit codes, documented in README's Commands section.
RECONCILE_AGREES = 0
RECONCILE_COULD_NOT_RUN = 1
RECONCILE_DISAGREES = 2


@donate_cli.command("reconcile")
@click.option("--since", help="YYYY-MM-DD; 30 days ago (Stripe's event window) when left out.")
@with_appcontext
def reconcile_command(since: str | None) -> None:
    """Apply what Stripe has and we missed since a date, recount totals and print any drift.

    Exit 0 when Stripe and we agree (also after applying what was missing), 1 when it could not
    run, 2 when drift was found or events remain unapplied.
    """
    from datetime import timedelta

    from donate.payments.reconcile import reconcile
    from donate.payments.stripe import PaymentProviderError, gateway

    start = _parse_date(since, "since") or datetime.now(UTC) - timedelta(days=30)
    with click.progressbar(
        length=0, label="Walking Stripe's objects", show_pos=True, file=sys.stderr
    ) as bar:

        def tick(_kind: str) -> None:
            bar.length = (bar.length or 0) + 1
            bar.update(1)

        try:
            report = reconcile(gateway(), start, on_item=tick)
        except PaymentProviderError as error:
            db.session.rollback()
            click.echo(
                f"Stripe could not be read: {error}. What was applied so far is kept; "
                "run it again.",
                err=True,
            )
            sys.exit(RECONCILE_COULD_NOT_RUN)
    for kind in sorted(report.seen):
        click.echo(f"{kind}: {report.seen[kind]} seen, {report.applied.get(kind, 0)} applied.")
    if not report.seen:
        click.echo(f"Stripe has nothing since {start:%Y-%m-%d}.")
    for drift in report.drift:
        for name, (stored, actual) in drift.fields.items():
            click.echo(
                f"goal {drift.goal_id}: {name} was {stored}, the ledger says {actual}; repaired."
            )
    if not report.drift:
        click.echo("Totals match the ledger.")
    for event_id in report.failed_events:
        click.echo(
            f"{event_id} could not be applied; see its error in the inbox and run "
            f"`donate replay-event {event_id}` once the cause is fixed."
        )
    if not report.agrees:
        sys.exit(RECONCILE_DISAGREES)


@donate_cli.command("replay-event")
@click.argument("event_id")
@with_appcontext
def replay_event_command(event_id: str) -> None:
    """Apply a Stripe event again (fetched from Stripe when we never stored it)."""
    import json

    from donate.models import StripeEvent
    from donate.payments import inbox
    from donate.payments.events import EventApplier
    from donate.payments.stripe import PaymentProviderError, gateway

    if not event_id.startswith("evt_"):
        _fail(f"{event_id!r} is not a Stripe event id (they start with evt_).")
    applier = EventApplier(gateway())
    stored = db.session.execute(
        sa.select(StripeEvent.id).where(StripeEvent.event_id == event_id)
    ).first()
    if stored:
        receipt = inbox.replay(event_id, applier)
    else:
        try:
            event = gateway().retrieve_event(event_id)
        except PaymentProviderError as error:
            _fail(f"{event_id} is not stored here and Stripe could not return it: {error}")
            raise
        receipt = inbox.receive(event, json.dumps(event), applier)
    if receipt.http_status != 200:
        _fail(receipt.message)
    click.echo(receipt.message)


donate_cli.add_command(worker_command)
