"""The dashboard's goal page shows what donors see (presets, milestones, deadline, the public
page), and the pages carry what the phone layout and the confirmations read."""

from __future__ import annotations

from datetime import UTC, datetime

from donate import ledger
from donate.models import DonationKind
from tests.admin_support import sign_in_as
from tests.factories import make_goal

pytest_plugins = ["tests.admin_fixtures"]  # the dashboard fixtures


def test_the_goal_page_shows_presets_milestones_deadline_and_the_public_page(
    client, dashboard, app
):
    d = dashboard
    goal = make_goal(
        d.site_a,
        slug="winter-desk",
        presets_minor=[1_000, 2_500, 10_000],
        milestones_minor=[2_000, 100_000],
        ends_at=datetime(2027, 3, 31, 22, 0, tzinfo=UTC),
    )
    ledger.record_succeeded_gift(goal, amount_minor=2_500, kind=DonationKind.OFFLINE, cause="t")
    sign_in_as(client, d.viewer)
    page = client.get(f"/admin/sites/{d.site_a.id}/goals/{goal.id}").text
    public = f"{app.config['PUBLIC_URL']}/g/winter-desk"
    assert f'<a href="{public}" rel="noopener" target="_blank">{public}</a>' in page
    assert "<li>$10.00</li><li>$25.00</li><li>$100.00</li>" in page
    assert (
        '<li>$20.00 ✓<span class="visually-hidden"> reached</span></li><li>$1,000.00</li>' in page
    )
    assert "<dt>Deadline</dt><dd>2027-03-31 22:00" in page
    assert "monthly donors</a>" in page


def test_a_goal_without_a_deadline_or_milestones_says_so(client, dashboard):
    d = dashboard
    sign_in_as(client, d.viewer)
    page = client.get(f"/admin/sites/{d.site_a.id}/goals/{d.goal_a.id}").text
    assert "<dt>Deadline</dt><dd>none" in page
    assert "<dt>Milestones</dt><dd>—</dd>" in page


def test_only_a_new_goal_suggests_its_address(client, dashboard):
    d = dashboard
    sign_in_as(client, d.editor)
    new = client.get(f"/admin/sites/{d.site_a.id}/goals/new").text
    assert 'class="goal-form" data-suggest-slug>' in new
    edit = client.get(f"/admin/sites/{d.site_a.id}/goals/{d.goal_a.id}/edit").text
    assert "data-suggest-slug" not in edit


def test_the_refund_form_carries_the_amount_its_confirmation_names(client, dashboard):
    d = dashboard
    gift = ledger.create_pending_donation(
        d.goal_a, amount_minor=5_000, kind=DonationKind.ONE_TIME, cause="test"
    )
    ledger.settle_donation(gift.id, cause="evt", payment_intent_id="pi_confirm")
    sign_in_as(client, d.editor)
    page = client.get(f"/admin/sites/{d.site_a.id}/donations/{gift.id}").text
    assert 'data-confirm-refund data-currency="USD" data-refundable="$50.00"' in page


def test_list_cells_name_their_column_for_the_phone_layout(client, dashboard):
    d = dashboard
    sign_in_as(client, d.viewer)
    donations = client.get(f"/admin/sites/{d.site_a.id}/donations").text
    for label in ("When", "Goal", "Donor", "Kind", "State", "Amount", "Counts", "Article"):
        assert f'data-label="{label}"' in donations
    overview = client.get(f"/admin/sites/{d.site_a.id}/").text
    for label in ("Goal", "Status", "Raised", "Target", "Reached", "Monthly donors"):
        assert f'data-label="{label}"' in overview
