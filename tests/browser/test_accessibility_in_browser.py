"""Accessibility in a real browser: axe-core finds nothing, the keyboard reaches everything."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from donate.extensions import db
from tests.factories import make_goal, make_offline_gift

pytestmark = [pytest.mark.browser, pytest.mark.live]

PATHS = (
    "/w/{slug}",
    "/w/{slug}?variant=bar",
    "/w/{slug}?variant=button",
    "/w/{slug}?thanks=1&locale=fr",
    "/g/{slug}",
    "/g/{slug}?thanks=1&locale=de",
)


@pytest.fixture
def accessible_goal(live_server):  # noqa: ANN001
    goal = make_goal(
        slug="accessible",
        description="Our reporters cover the council.\n\nEvery gift keeps a story free.",
        milestones_minor=[100_000, 250_000],
        ends_at=datetime(2099, 3, 31, tzinfo=UTC),
    )
    make_offline_gift(goal, 25_000, public_name="Marguerite", public_message="For the council.")
    make_offline_gift(goal, 5_000, anonymous=True)
    db.session.commit()
    return goal


def _axe_violations(page) -> str | None:  # noqa: ANN001
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return None if results.violations_count == 0 else results.generate_report()


@pytest.mark.parametrize("width", [320, 1280])
def test_axe_finds_no_violations_on_the_widget_and_goal_page(
    live_server, accessible_goal, pages, artifacts, width
):
    for path in PATHS:
        page = pages.open(width=width)
        page.goto(live_server.url + path.format(slug="accessible"))
        assert _axe_violations(page) is None, path
        if path == "/g/{slug}":
            page.screenshot(path=artifacts(f"goal-page-{width}.png"), full_page=True)
        if path == "/w/{slug}":
            page.screenshot(path=artifacts(f"widget-{width}.png"), full_page=True)


def test_axe_finds_no_violations_with_an_amount_error_shown(live_server, accessible_goal, pages):
    page = pages.open(width=320)
    page.goto(live_server.url + "/w/accessible")
    page.fill("#amount", "1")
    page.click("button[type=submit]")
    assert page.inner_text("#amount-error") == "The minimum gift is $5.00."
    page.click("summary")
    assert _axe_violations(page) is None


def test_the_give_form_works_from_the_keyboard_with_visible_focus(
    live_server, accessible_goal, pages
):
    page = pages.open(width=1280)
    page.goto(live_server.url + "/w/accessible")

    def focused() -> dict:
        return page.evaluate(
            "() => { const e = document.activeElement;"
            " const preset = e.matches('input[name=amount_minor]');"
            " const shown = preset ? e.nextElementSibling : e;"
            " const style = getComputedStyle(shown);"
            " return {name: e.name || e.tagName, value: e.value, checked: !!e.checked,"
            " outline: style.outlineStyle, width: parseFloat(style.outlineWidth)}; }"
        )

    page.keyboard.press("Tab")
    first = focused()
    assert first["name"] == "amount_minor"
    page.keyboard.press("ArrowRight")
    chosen = focused()
    assert (chosen["value"], chosen["checked"]) == ("2500", True)
    assert chosen["outline"] != "none" and chosen["width"] >= 2
    page.keyboard.press("Tab")
    assert focused()["name"] == "amount"
    page.keyboard.press("Tab")
    assert focused()["name"] == "frequency"
    page.keyboard.press("ArrowRight")
    assert focused()["value"] == "monthly"
    page.keyboard.press("Tab")
    assert focused()["name"] == "SUMMARY"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert focused()["name"] == "name"
    for _ in range(3):
        page.keyboard.press("Tab")
    button = focused()
    assert button["name"] == "BUTTON"
    assert button["outline"] != "none" and button["width"] >= 2
