"""The dashboard's snippets in a real browser: frames tall enough at phone and desktop widths,
a link that stays when the loader cannot load, thanks for the goal given to, the page's language.
"""

from __future__ import annotations

import pytest

from donate.admin.embed import Look, snippets
from donate.extensions import db
from tests.browser.embedding import READY, embed, widget_frames
from tests.factories import make_goal, make_site

pytestmark = [pytest.mark.browser, pytest.mark.live]

WIDTHS = (320, 390, 1280)
# In the frame: how tall the document is, and where the Give button ends.
MEASURE = """() => ({
  content: Math.ceil(document.documentElement.getBoundingClientRect().height),
  button: (() => {
    const b = document.querySelector('#give button[type=submit], #give button');
    return b ? Math.ceil(b.getBoundingClientRect().bottom) : 0;
  })(),
})"""


def _codes(goal, base: str) -> dict[str, str]:
    return {snippet.key: snippet.code for snippet in snippets(goal, base)}


@pytest.mark.parametrize("width", WIDTHS)
def test_frame_snippets_show_the_whole_widget_without_the_script(
    live_server, article_site, pages, artifacts, width
):
    goal = make_goal(
        slug=f"tall-{width}",
        title="Keep our city hall investigation going through the whole winter",
        presets_minor=[500, 1_000, 2_500, 5_000, 10_000, 25_000],
        milestones_minor=[150_000, 300_000],
    )
    db.session.commit()
    codes = _codes(goal, live_server.url)
    # The designer's button variant, as its frame snippet gives it.
    button = snippets(goal, live_server.url, Look("button"))[1].code
    url = article_site.publish(f"/frames-{width}", codes["iframe"] + codes["bar"] + button)
    page = pages.open(width=width)
    page.goto(url)
    frames = page.query_selector_all("iframe")
    assert len(frames) == 3
    for handle, selector in zip(frames, ("#give", ".bar", "a.button"), strict=True):
        frame = handle.content_frame()
        frame.wait_for_selector(selector)
        height = int(handle.get_attribute("height"))
        measured = frame.evaluate(MEASURE)
        assert measured["content"] <= height, (width, handle.get_attribute("src"), measured)
        assert measured["button"] <= height
    page.screenshot(path=str(artifacts(f"snippet-frames-{width}.png")), full_page=True)


def test_the_script_snippet_keeps_its_link_when_the_loader_cannot_load(
    live_server, article_site, pages
):
    goal = make_goal(slug="blocked", title="Cover the courts")
    db.session.commit()
    url = article_site.publish("/blocked", _codes(goal, live_server.url)["script"])
    page = pages.open()
    page.route(f"{live_server.url}/embed.js", lambda route: route.abort())
    page.goto(url)
    link = page.locator(".donate-widget > a")
    assert link.inner_text() == "Give to Cover the courts"
    assert link.get_attribute("href") == f"{live_server.url}/g/blocked"
    assert page.locator(".donate-widget iframe").count() == 0


def test_the_script_snippet_adopts_its_link_and_replaces_it_with_the_widget(
    live_server, article_site, pages
):
    goal = make_goal(slug="adopted")
    db.session.commit()
    url = article_site.publish("/adopted", _codes(goal, live_server.url)["script"])
    page = pages.open()
    page.goto(url)
    page.wait_for_function(READY, arg=1)
    assert page.locator(".donate-widget").count() == 1


def test_only_the_goal_given_to_says_thanks_and_only_once(live_server, article_site, pages):
    site = make_site()
    make_goal(site, slug="given")
    make_goal(site, slug="other")
    db.session.commit()
    body = embed(live_server.url, "given") + embed(live_server.url, "other")
    body += embed(live_server.url, "given", variant="bar")
    url = article_site.publish("/thanks-once", body)
    page = pages.open()
    page.goto(url + "#donate-thanks=given")
    page.wait_for_function(READY, arg=3)
    frames = widget_frames(page)
    thanked = [frame.is_visible("#thank-you") for frame in frames]
    # One of the two widgets of the goal given to (whichever loader ran first); never the other.
    assert thanked in ([True, False, False], [False, False, True])
    assert not thanked[1]
    assert "Thank you!" in frames[thanked.index(True)].inner_text("body")
    assert page.evaluate("location.hash") == ""
    assert page.url == url

    page.reload()
    page.wait_for_function(READY, arg=3)
    assert not any(frame.is_visible("#thank-you") for frame in widget_frames(page))


def test_the_widget_speaks_the_articles_language_not_the_browsers(live_server, article_site, pages):
    make_goal(slug="sprache")
    db.session.commit()
    url = article_site.publish("/de", embed(live_server.url, "sprache"))
    article_site.pages["/de"] = article_site.pages["/de"].replace(
        "<html lang='en'>", "<html lang='de'>"
    )
    page = pages.open()
    page.goto(url)
    page.wait_for_function(READY, arg=1)
    frame = widget_frames(page)[0]
    assert "locale=de" in frame.url
    assert page.evaluate("navigator.language").startswith("en")


def test_a_mistyped_goal_is_reported_in_the_console(live_server, article_site, pages):
    url = article_site.publish("/typo-slug", embed(live_server.url, "no-such-goal"))
    page = pages.open()
    page.goto(url)
    page.wait_for_function("() => !document.querySelector('.donate-widget iframe')", timeout=10_000)
    page.wait_for_timeout(500)
    assert 'donate: there is no goal "no-such-goal"; check data-goal.' in pages.console_errors
    assert page.locator(".donate-widget > a").count() == 1
