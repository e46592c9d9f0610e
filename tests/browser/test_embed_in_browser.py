"""The script embed in a real browser, on a page of another site: render, size, give, thank."""

from __future__ import annotations

import pytest

from donate import ledger
from donate.extensions import db
from donate.models import DonationKind
from donate.widget.thank_you import sign_gift
from tests.browser.embedding import NO_SCROLLBARS, READY, csp_violations, embed, widget_frames
from tests.factories import make_goal, make_offline_gift, make_site

pytestmark = [pytest.mark.browser, pytest.mark.live]


def test_script_embed_renders_and_sizes_itself_without_a_scrollbar(
    live_server, article_site, pages, artifacts
):
    goal = make_goal(slug="council", milestones_minor=[250_000])
    make_offline_gift(goal, 82_200)
    db.session.commit()
    url = article_site.publish("/council", embed(live_server.url, "council", article="story-7"))

    page = pages.open(width=1280)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(url)
    page.wait_for_function(READY, arg=1)
    ours = [u for u in requested if u.startswith(live_server.url + "/")]
    assert [u.split("?")[0] for u in ours] == [
        f"{live_server.url}/embed.js",
        f"{live_server.url}/w/council",
    ]  # two requests before the reader interacts
    assert all(u.startswith((live_server.url, article_site.origin)) for u in requested)
    frame_element = page.query_selector(".donate-widget iframe")
    frame = frame_element.content_frame()
    assert frame.inner_text(".raised") == "$822 of $5,000"
    frame.wait_for_function(NO_SCROLLBARS)
    content = frame.evaluate(
        "() => Math.ceil(document.documentElement.getBoundingClientRect().height)"
    )
    assert abs(frame_element.bounding_box()["height"] - content) <= 1
    # The frame learnt where it is embedded, for the donor's way back.
    assert frame.input_value("input[name=source_url]") == url
    assert frame.input_value("input[name=article]") == "story-7"
    assert frame_element.get_attribute("loading") == "lazy"
    page.screenshot(path=artifacts("embed-article-1280.png"), full_page=True)

    page.set_viewport_size({"width": 320, "height": 800})
    frame.wait_for_function(NO_SCROLLBARS)
    width = frame.evaluate("() => document.documentElement.clientWidth")
    assert width <= 320
    give = frame.query_selector("button[type=submit]").bounding_box()
    assert give["width"] > 200  # the Give button still spans the narrow frame
    page.screenshot(path=artifacts("embed-article-320.png"), full_page=True)
    assert csp_violations(pages) == []


def test_two_widgets_on_one_page_work_independently(live_server, article_site, pages):
    site = make_site()
    first = make_goal(site, slug="schools", title="Cover the school board")
    make_goal(site, slug="courts", title="Cover the courts", milestones_minor=[250_000])
    make_offline_gift(first, 50_000)
    db.session.commit()
    body = embed(live_server.url, "schools") + "<p>Between the widgets.</p>"
    body += embed(live_server.url, "courts", variant="bar", locale="de")
    page = pages.open(width=1000)
    page.goto(article_site.publish("/two", body))
    page.wait_for_function(READY, arg=2)
    schools, courts = widget_frames(page)
    assert schools.inner_text("h1") == "Support Cover the school board"
    assert courts.inner_text("h1") == "Unterstützen Sie Cover the courts"
    labels = courts.locator(".scale li").all_inner_texts()
    assert [label.replace("\xa0", " ") for label in labels] == ["0 $", "2.500 $", "5.000 $"]
    heights = [h.bounding_box()["height"] for h in page.query_selector_all(".donate-widget iframe")]
    assert heights[0] > heights[1] + 150  # each frame took its own size
    for frame in (schools, courts):
        frame.wait_for_function(NO_SCROLLBARS)
    schools.click("text=$25")
    assert schools.is_checked("input[name=amount_minor][value='2500']")
    assert courts.query_selector("form") is None


def test_a_bad_amount_is_explained_inside_the_frame(live_server, article_site, pages):
    make_goal(slug="typo", minimum_minor=500)
    db.session.commit()
    url = article_site.publish("/typo", embed(live_server.url, "typo"))
    page = pages.open(width=800)
    page.goto(url)
    page.wait_for_function(READY, arg=1)
    frame = widget_frames(page)[0]

    frame.fill("#amount", "twelve")
    frame.click("button[type=submit]")
    error = frame.locator("#amount-error")
    assert error.inner_text() == "Please enter the amount in digits, for example 25.50."
    assert frame.input_value("#amount") == "twelve"
    assert frame.get_attribute("#amount", "aria-invalid") == "true"

    frame.fill("#amount", "2")
    frame.click("button[type=submit]")
    assert error.inner_text() == "The minimum gift is $5.00."
    frame.fill("#amount", "12.345")
    frame.click("button[type=submit]")
    assert error.inner_text() == "USD amounts have at most 2 decimals."
    frame.click("text=$10")
    assert frame.input_value("#amount") == ""
    assert not error.is_visible()
    assert page.url == url  # nothing was posted; the reader stayed on the article
    frame.wait_for_function(NO_SCROLLBARS)


def test_digits_other_than_0_to_9_are_refused_inside_the_frame(live_server, article_site, pages):
    make_goal(slug="digits", minimum_minor=500)
    db.session.commit()
    url = article_site.publish("/digits", embed(live_server.url, "digits"))
    page = pages.open(width=800)
    page.goto(url)
    page.wait_for_function(READY, arg=1)
    frame = widget_frames(page)[0]
    error = frame.locator("#amount-error")
    # NFKC would read "10²" as 102 and "⑩" as 10; the script keeps the server's rule.
    for typed in ("10²", "⑩", "١٠"):
        frame.fill("#amount", typed)
        frame.click("button[type=submit]")
        assert error.inner_text() == (
            "Please type the amount with the digits 0 to 9, for example 25.50."
        ), typed
    assert page.url == url


def test_amounts_are_read_in_the_readers_notation(live_server, article_site, pages):
    make_goal(make_site(default_currency="EUR"), slug="euro", currency="EUR", minimum_minor=500)
    db.session.commit()
    page = pages.open()
    page.goto(article_site.publish("/euro", embed(live_server.url, "euro", locale="de")))
    page.wait_for_function(READY, arg=1)
    frame = widget_frames(page)[0]
    frame.fill("#amount", "2,5")
    frame.click("button[type=submit]")
    assert frame.inner_text("#amount-error") == "Die kleinste mögliche Spende beträgt 5,00\xa0€."
    frame.fill("#amount", "1.000,50")
    # Valid in German notation: the frame sends the gift, and the give endpoint accepts the
    # amount too (its next step, Stripe, is a closed port in these tests).
    frame.click("button[type=submit]")
    frame.wait_for_selector("#give-error:not([hidden])")
    assert "payment provider" in frame.inner_text("#give-error")
    assert frame.is_hidden("#amount-error")


def test_returning_donor_sees_the_moved_bar_though_the_frame_came_from_cache(
    live_server, article_site, pages
):
    goal = make_goal(slug="moved")
    make_offline_gift(goal, 10_000)
    db.session.commit()
    url = article_site.publish("/moved", embed(live_server.url, "moved"))
    page = pages.open()
    page.goto(url)
    page.wait_for_function(READY, arg=1)
    assert "$100 of" in widget_frames(page)[0].inner_text(".raised")

    # Paid while the donor was at Checkout: someone else's 300 and the donor's own 100.
    make_offline_gift(goal, 30_000)
    gift = ledger.create_pending_donation(
        goal, amount_minor=10_000, kind=DonationKind.ONE_TIME, cause="test"
    )
    ledger.settle_donation(gift.id, cause="test", charge_id="ch_moved")
    db.session.commit()
    page.goto("about:blank")
    page.goto(f"{url}#donate-thanks=moved&t={sign_gift(gift)}")
    page.wait_for_function(READY, arg=1)
    frame = widget_frames(page)[0]
    # The frame's URL is the cached one: the token rode in its fragment, which the frame cleared.
    assert "thanks=1" not in frame.url and "fresh" not in frame.url
    assert frame.evaluate("location.hash") == ""
    frame.wait_for_selector("#thank-you:not([hidden])")
    assert "Your gift of $100.00 takes us to 10%." in frame.inner_text("#thank-you")
    # Asked past every cache: the bar and the sum raised are as they are now.
    assert frame.inner_text(".raised strong") == "$500"
    assert frame.eval_on_selector(".bar .gift", "e => [e.style.left, e.style.width]") == [
        "8%",
        "2%",
    ]


def test_an_old_link_without_a_token_thanks_without_an_amount(live_server, article_site, pages):
    make_goal(slug="old-link")
    db.session.commit()
    url = article_site.publish("/old-link", embed(live_server.url, "old-link"))
    page = pages.open()
    page.goto(url + "#donate-thanks=old-link")
    page.wait_for_function(READY, arg=1)
    frame = widget_frames(page)[0]
    frame.wait_for_selector("#thank-you:not([hidden])")
    assert frame.inner_text("#ty-title") == "Thank you!"
    assert frame.is_hidden("[data-when=once]") and frame.is_hidden("#give")
    assert page.evaluate("location.hash") == ""


def test_a_page_on_an_origin_not_allowed_keeps_only_a_link(live_server, article_site, pages):
    make_goal(make_site(allowed_origins=["https://news.example.org"]), slug="elsewhere")
    db.session.commit()
    page = pages.open()
    page.goto(article_site.publish("/elsewhere", embed(live_server.url, "elsewhere")))
    # The browser refuses to frame us (frame-ancestors); the loader gives up on the frame.
    page.wait_for_function("() => !document.querySelector('.donate-widget iframe')", timeout=15_000)
    link = page.query_selector(".donate-widget > a")
    assert link.get_attribute("href") == f"{live_server.url}/g/elsewhere"
    assert link.inner_text() == "Give to this fundraiser"


def test_bar_only_and_image_variants_render(live_server, article_site, pages, artifacts):
    goal = make_goal(slug="sidebar", milestones_minor=[250_000])
    make_offline_gift(goal, 250_000)
    db.session.commit()
    base = live_server.url
    body = embed(base, "sidebar", variant="bar")
    body += f'<img id="svg" src="{base}/w/sidebar/progress.svg" width="480" height="120" alt="">'
    body += f'<img id="png" src="{base}/w/sidebar/progress.png" width="480" height="120" alt="">'
    body += (
        f'<iframe id="plain" src="{base}/w/sidebar" title="Give" width="100%" height="520"'
        ' style="border:0" sandbox="allow-forms allow-scripts allow-same-origin'
        ' allow-top-navigation-by-user-activation allow-popups"></iframe>'
    )
    page = pages.open(width=700)
    page.goto(article_site.publish("/sidebar", body))
    page.wait_for_function(READY, arg=1)
    bar = widget_frames(page)[0]
    assert bar.locator(".scale li").all_inner_texts() == ["$0", "$2,500", "$5,000"]
    assert bar.inner_text(".raised") == "$2,500 of $5,000"
    assert bar.inner_text(".figures") == "50% · 1 donor"
    bar.wait_for_function(NO_SCROLLBARS)
    page.wait_for_function("() => ['svg', 'png'].every(id => document.getElementById(id).complete)")
    sizes = page.evaluate(
        "() => ['svg', 'png'].map(id => document.getElementById(id).naturalWidth)"
    )
    assert sizes == [480, 960]
    plain = page.frame_locator("#plain")
    assert plain.locator("h1").inner_text() == "Support Keep the newsroom going"
    page.screenshot(path=artifacts("bar-and-images.png"), full_page=True)
    assert csp_violations(pages) == []


def test_a_sandbox_without_the_needed_permissions_offers_a_link(live_server, article_site, pages):
    make_goal(slug="sandboxed")
    db.session.commit()
    frame_url = f"{live_server.url}/w/sandboxed"
    body = (
        f'<iframe id="no-origin" src="{frame_url}" title="Give" width="100%" height="520"'
        ' sandbox="allow-forms allow-scripts allow-top-navigation-by-user-activation'
        ' allow-popups"></iframe>'
        f'<iframe id="no-scripts" src="{frame_url}" title="Give" width="100%" height="520"'
        ' sandbox="allow-forms allow-same-origin allow-top-navigation-by-user-activation'
        ' allow-popups"></iframe>'
    )
    page = pages.open()
    page.goto(article_site.publish("/sandboxed", body))
    for frame_id in ("no-origin", "no-scripts"):
        frame = page.frame_locator(f"#{frame_id}")
        link = frame.get_by_role("link", name="Open the fundraiser page to give")
        assert link.get_attribute("href").endswith("/g/sandboxed"), frame_id
        assert link.get_attribute("target") == "_blank"
    assert page.frame_locator("#no-origin").locator("form").count() == 0
