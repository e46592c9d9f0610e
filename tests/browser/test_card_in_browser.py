"""The donation box in Chromium, inside an article on another origin: scale labels under their
ticks, the owner's default amount chosen, the button naming the gift, and the live preview of
where a typed or chosen amount takes the goal, formatted as Babel formats it on the server."""

from __future__ import annotations

import pytest

from donate import money
from donate.extensions import db
from tests.browser.embedding import NO_SCROLLBARS, READY, csp_violations, embed, widget_frames
from tests.factories import make_goal, make_offline_gift, make_site

pytestmark = [pytest.mark.browser, pytest.mark.live]

# Where each scale label and tick sits, and the bar, in the frame's CSS pixels.
GEOMETRY = """() => {
  const box = e => e.getBoundingClientRect();
  const bar = box(document.querySelector('.bar'));
  const labels = [...document.querySelectorAll('.scale li')].map(li => {
    const b = box(li);
    return {cls: li.className, text: li.textContent, left: b.left, right: b.right,
            centre: (b.left + b.right) / 2, top: b.top};
  });
  const ticks = Object.fromEntries([...document.querySelectorAll('.tick')].map(t => {
    const b = box(t);
    return [t.classList[1], (b.left + b.right) / 2];
  }));
  return {bar: {left: bar.left, right: bar.right, bottom: bar.bottom}, labels, ticks};
}"""
# The second segment's share of the bar, in percent.
GIFT_SHARE = """() => {
  const bar = document.querySelector('.bar').getBoundingClientRect();
  return document.getElementById('gift').getBoundingClientRect().width * 100 / bar.width;
}"""


def _card_goal(slug: str, currency: str = "USD", locale: str = "en"):
    site = make_site(default_currency=currency, default_locale=locale)
    goal = make_goal(
        site,
        slug=slug,
        title="Our city hall investigation",
        presets_minor=[1_000, 2_500, 5_000],
        milestones_minor=[250_000],
    )
    make_offline_gift(goal, 100_000)
    make_offline_gift(goal, 82_200)  # $1,822 of $5,000: 36%
    goal.call_to_action = {"": "Support our city hall investigation"}
    goal.default_preset_minor = 2_500
    goal.monthly_presets_minor = [500, 1_000]
    goal.monthly_default_minor = 1_000
    goal.preset_impacts = {
        "once:2500": "pays for one records request",
        "monthly:1000": "keeps our archive open",
    }
    db.session.commit()
    return goal


def _assert_labels_under_their_ticks(frame) -> None:  # noqa: ANN001
    geometry = frame.evaluate(GEOMETRY)
    bar, labels, ticks = geometry["bar"], geometry["labels"], geometry["ticks"]
    assert [label["cls"] for label in labels] == ["s0", "m1", "s1"]
    start, middle, end = labels
    assert abs(start["left"] - bar["left"]) <= 1  # "$0" starts where the bar starts
    assert abs(end["right"] - bar["right"]) <= 1  # "$5,000" ends where the bar ends
    assert abs(middle["centre"] - ticks["m1"]) <= 1.5  # "$2,500" centred under its tick
    assert abs(ticks["m1"] - (bar["left"] + bar["right"]) / 2) <= 1.5  # half way: 2,500/5,000
    assert all(label["top"] >= bar["bottom"] for label in labels)  # under the bar
    assert start["right"] < middle["left"] and middle["right"] < end["left"]  # no overlap


@pytest.mark.parametrize("width", [320, 390, 720])
def test_the_card_in_an_article_at_phone_and_tablet_widths(
    live_server, article_site, pages, artifacts, width
):
    _card_goal(f"card-{width}")
    page = pages.open(width=width)
    page.goto(article_site.publish(f"/card-{width}", embed(live_server.url, f"card-{width}")))
    page.wait_for_function(READY, arg=1)
    (frame,) = widget_frames(page)
    frame.wait_for_function(NO_SCROLLBARS)
    assert frame.inner_text("h1") == "Support our city hall investigation"
    assert frame.inner_text(".raised") == "$1,822 of $5,000"
    assert frame.inner_text(".figures") == "36% · 2 donors"
    _assert_labels_under_their_ticks(frame)
    assert frame.is_checked("input[name=amount_minor][value='2500']")
    assert frame.inner_text("#impact") == "pays for one records request"
    assert frame.inner_text("button[type=submit]") == "Give $25"
    assert frame.inner_text("#preview") == "Your gift takes us to 36%."
    page.screenshot(path=str(artifacts(f"card-article-{width}.png")), full_page=True)
    assert csp_violations(pages) == []


def test_the_card_variants_in_an_article_at_desktop_width(
    live_server, article_site, pages, artifacts
):
    _card_goal("card-desk")
    body = embed(live_server.url, "card-desk") + "<p>Between the widgets.</p>"
    body += embed(live_server.url, "card-desk", variant="bar")
    body += embed(live_server.url, "card-desk", variant="button", locale="de")
    page = pages.open(width=1280)
    page.goto(article_site.publish("/card-desk", body))
    page.wait_for_function(READY, arg=3)
    full, bar, button = widget_frames(page)
    for frame in (full, bar):
        _assert_labels_under_their_ticks(frame)
    assert bar.inner_text("h1") == "Support our city hall investigation"
    assert button.inner_text(".raised").replace("\xa0", " ") == "1.822 $ von 5.000 $"
    assert button.inner_text("a.button") == "Spenden"
    page.locator(".donate-widget iframe").last.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts("card-article-1280.png")), full_page=True)
    assert csp_violations(pages) == []


def test_the_preview_follows_chosen_and_typed_amounts(live_server, article_site, pages, artifacts):
    _card_goal("card-live")
    page = pages.open(width=390)
    page.goto(article_site.publish("/card-live", embed(live_server.url, "card-live")))
    page.wait_for_function(READY, arg=1)
    (frame,) = widget_frames(page)
    preview = frame.locator("#preview")
    assert preview.get_attribute("aria-live") == "polite"
    assert frame.evaluate(GIFT_SHARE) == pytest.approx(0.94, abs=0.2)  # 1,847 - 36% floor

    frame.click(".presets[data-freq=once] label:has-text('$50')")
    assert preview.inner_text() == "Your gift takes us to 37%."
    assert frame.inner_text("button[type=submit]") == "Give $50"
    assert frame.is_hidden("#impact")  # $50 has no impact line
    assert frame.evaluate(GIFT_SHARE) == pytest.approx(1.44, abs=0.2)

    frame.fill("#amount", "600")
    assert preview.inner_text() == "Your gift takes us to 48%."
    assert not frame.is_checked("input[name=amount_minor][value='5000']")
    frame.fill("#amount", "700")
    assert preview.inner_text() == "Your gift takes us past the $2,500 milestone, to 50%."
    assert frame.evaluate(GIFT_SHARE) == pytest.approx(14.44, abs=0.2)
    frame.fill("#amount", "1234.5")
    assert frame.inner_text("button[type=submit]") == "Give $1,234.50"
    assert preview.inner_text() == "Your gift takes us past the $2,500 milestone, to 61%."
    page.screenshot(path=str(artifacts("card-preview-typed-390.png")), full_page=True)
    frame.fill("#amount", "4000")
    assert preview.inner_text() == "Your gift takes us past our goal, to 116%."
    assert frame.evaluate(GIFT_SHARE) == pytest.approx(64, abs=0.5)  # the bar stops at 100%
    frame.fill("#amount", "abc")
    assert preview.inner_text() == ""
    assert frame.inner_text("button[type=submit]") == "Give"
    assert frame.evaluate(GIFT_SHARE) == pytest.approx(0, abs=0.1)

    frame.fill("#amount", "")
    frame.check("input[name=frequency][value=monthly]")
    assert frame.is_hidden(".presets[data-freq=once]")
    assert frame.is_checked(".presets[data-freq=monthly] input[value='1000']")
    assert frame.inner_text("#impact") == "keeps our archive open"
    assert frame.inner_text("button[type=submit]") == "Give $10 monthly"
    assert preview.inner_text() == "Your gift takes us to 36%."
    frame.click(".presets[data-freq=monthly] label:has-text('$5')")
    assert frame.inner_text("button[type=submit]") == "Give $5 monthly"
    frame.check("input[name=frequency][value=once]")
    assert frame.is_checked("input[name=amount_minor][value='2500']")
    assert frame.inner_text("button[type=submit]") == "Give $25"
    page.screenshot(path=str(artifacts("card-preview-preset-390.png")), full_page=True)
    assert csp_violations(pages) == []


@pytest.mark.parametrize(
    ("locale", "typed", "minor"),
    [("de", "1234,5", 123_450), ("fr", "9999", 999_900), ("es", "25", 2_500)],
)
def test_typed_amounts_read_as_babel_writes_them(live_server, pages, locale, typed, minor):
    _card_goal(f"card-{locale}", currency="EUR", locale=locale)
    page = pages.open(width=390)
    page.goto(f"{live_server.url}/w/card-{locale}?locale={locale}")
    page.fill("#amount", typed)
    amount = money.format_amount(minor, "EUR", locale, compact=True)
    percent = money.format_progress(182_200 + minor, 500_000, locale)
    button = page.inner_text("button[type=submit]")
    assert amount in button, (button, amount)
    assert percent in page.inner_text("#preview"), percent


def test_without_script_the_form_shows_the_servers_defaults(live_server, chromium, artifacts):
    _card_goal("card-plain")
    context = chromium.new_context(
        viewport={"width": 320, "height": 900}, java_script_enabled=False
    )
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/w/card-plain")
        assert page.is_checked("input[name=amount_minor][value='2500']")
        assert page.inner_text("button[type=submit]") == "Give $25"
        assert page.inner_text("#preview") == "Your gift takes us to 36%."
        assert page.inner_text("#impact") == "pays for one records request"
        assert page.is_disabled("input[name=amount_minor][value='1000'][disabled]")
        page.screenshot(path=str(artifacts("card-no-script-320.png")), full_page=True)
    finally:
        context.close()


def test_axe_finds_nothing_in_the_cards_states(live_server, pages):
    from axe_playwright_python.sync_playwright import Axe

    goal = _card_goal("card-axe")
    for path, act in [
        ("/w/card-axe", None),
        ("/w/card-axe", "typed"),
        ("/w/card-axe", "monthly"),
        ("/w/card-axe?variant=bar&locale=fr", None),
        ("/w/card-axe?variant=button&locale=es", None),
        ("/g/card-axe?locale=de", "typed"),
    ]:
        page = pages.open(width=320)
        page.goto(live_server.url + path)
        if act == "typed":
            page.fill("#amount", "700")
        elif act == "monthly":
            page.check("input[name=frequency][value=monthly]")
        results = Axe().run(page)
        assert results.violations_count == 0, (path, act, results.generate_report())
    goal.hide_figures_below_percent = 50
    goal.show_donor_count = False
    db.session.commit()
    page = pages.open(width=320)
    page.goto(live_server.url + "/w/card-axe?locale=en")
    assert page.query_selector(".figures") is None
    assert Axe().run(page).violations_count == 0
