"""Fast and safe on someone else's page: one row per view, cache headers, 304, CSP, sizes."""

from __future__ import annotations

import gzip
import re
import threading

import pytest

from donate.extensions import db
from donate.widget.render_cache import RenderCache
from tests.factories import make_goal, make_offline_gift, make_site
from tests.widget_support import StatementCounter, fresh_widget_cache, page_text  # noqa: F401

PUBLIC_URLS = (
    "/w/{slug}",
    "/w/{slug}?variant=bar",
    "/w/{slug}?variant=button",
    "/w/{slug}/progress.svg",
    "/w/{slug}/progress.png",
    "/g/{slug}",
)

# Budgets from the issue, in bytes, gzipped.
EMBED_BUDGET = 2 * 1024
WIDGET_BUDGET = 10 * 1024


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_public_views_are_cacheable_by_a_cdn(client, db_session, url):
    make_goal(slug="cached")
    response = client.get(url.format(slug="cached"))
    assert response.status_code == 200
    cache_control = response.headers["Cache-Control"]
    assert "public" in cache_control
    assert "max-age=15" in cache_control and "stale-while-revalidate=60" in cache_control
    assert response.headers["ETag"]
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_a_matching_etag_gets_304(client, db_session, url):
    make_goal(slug="revalidate")
    url = url.format(slug="revalidate")
    first = client.get(url)
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]


def test_vary_accept_language_only_when_the_language_was_negotiated(client, db_session):
    make_goal(slug="vary")
    negotiated = client.get("/w/vary", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert "Accept-Language" in negotiated.headers["Vary"]
    chosen = client.get("/w/vary?locale=de", headers={"Accept-Language": "fr-FR"})
    assert "Accept-Language" not in chosen.headers.get("Vary", "")


def test_different_languages_get_different_etags(client, db_session):
    make_goal(slug="etag-lang")
    english = client.get("/w/etag-lang", headers={"Accept-Language": "en"})
    french = client.get(
        "/w/etag-lang",
        headers={"Accept-Language": "fr", "If-None-Match": english.headers["ETag"]},
    )
    assert french.status_code == 200
    assert french.headers["ETag"] != english.headers["ETag"]


def test_a_new_gift_shows_at_once_and_changes_the_etag(client, db_session):
    goal = make_goal(slug="fresh")
    before = client.get("/w/fresh?locale=en")
    assert "$0 of $5,000" in page_text(before.data)
    make_offline_gift(goal, 12_300)
    after = client.get("/w/fresh?locale=en", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert "$123 of $5,000" in page_text(after.data)
    assert after.headers["ETag"] != before.headers["ETag"]
    assert "$123 raised of $5,000" in page_text(client.get("/w/fresh/progress.svg?locale=en").data)
    assert "$123 of $5,000" in page_text(client.get("/g/fresh?locale=en").data)


def test_a_view_reads_one_row_and_the_goal_page_one_more(app, client, db_session):
    goal = make_goal(slug="one-row")
    for _ in range(3):
        make_offline_gift(goal, 1_000)
    db.session.commit()
    client.get("/w/one-row")  # warm the render cache
    for url in ("/w/one-row", "/w/one-row?variant=bar", "/w/one-row/progress.svg"):
        db.session.expunge_all()  # as in a fresh request: nothing already loaded
        with StatementCounter() as counter:
            assert client.get(url).status_code == 200
        assert len(counter.selects) == 1, counter.statements
        assert "count(" not in counter.selects[0].lower()
        assert "sum(" not in counter.selects[0].lower()
    db.session.expunge_all()
    with StatementCounter() as counter:
        client.get("/g/one-row")
    assert len(counter.selects) == 2, counter.statements


def test_repeated_views_are_served_from_the_render_cache(app, client, db_session):
    make_goal(slug="hits")
    cache = app.extensions["donate.widget_cache"]
    for _ in range(5):
        client.get("/w/hits?locale=en&color=green")
    assert (cache.misses, cache.hits) == (1, 4)


def test_frame_ancestors_are_the_sites_origins_and_our_own(client, db_session):
    site = make_site(allowed_origins=["https://news.example.org", "http://localhost:*"])
    make_goal(site, slug="framed")
    for url in ("/w/framed", "/w/framed?variant=bar", "/g/framed"):
        policy = client.get(url).headers["Content-Security-Policy"]
        ancestors = next(p for p in policy.split("; ") if p.startswith("frame-ancestors"))
        assert ancestors.split() == [
            "frame-ancestors",
            "'self'",
            "http://127.0.0.1:5000",
            "https://news.example.org",
            "http://localhost:*",
        ]
        assert "default-src 'none'" in policy
        assert "'unsafe-inline'" not in policy


def test_a_site_without_origins_may_only_be_framed_by_us(client, db_session):
    make_goal(make_site(allowed_origins=[]), slug="ours-only")
    policy = client.get("/w/ours-only").headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' http://127.0.0.1:5000" in policy


def test_changed_origins_take_effect_without_waiting_for_a_gift(client, db_session):
    site = make_site(allowed_origins=["https://old.example.org"])
    make_goal(site, slug="moved")
    first = client.get("/w/moved")
    site.allowed_origins = ["https://new.example.org"]
    db.session.flush()
    second = client.get("/w/moved")
    assert "https://new.example.org" in second.headers["Content-Security-Policy"]
    assert 'data-origins="https://new.example.org"' in second.get_data(as_text=True)
    assert second.headers["ETag"] != first.headers["ETag"]


def test_origin_handshake_data_the_frame_checks_against(client, db_session):
    site = make_site(allowed_origins=["https://news.example.org", "http://localhost:*"])
    make_goal(site, slug="handshake")
    body = client.get("/w/handshake").get_data(as_text=True)
    assert 'data-origins="https://news.example.org http://localhost:*"' in body
    script = body.split("<script>")[1]
    # The frame posts its size to the checked origin only, never to every origin.
    calls = re.findall(r"postMessage\((.*?)\);", script)
    assert calls == ['{ donate: "size", height: height }, parentOrigin']
    assert "isAllowed(parentOrigin)" in script


def test_inline_script_and_styles_are_allowed_by_hash(client, db_session):
    import base64
    import hashlib

    make_goal(slug="hashes")
    response = client.get("/w/hashes")
    body = response.get_data(as_text=True)
    policy = response.headers["Content-Security-Policy"]
    blocks = re.findall(r"<script>(.*?)</script>", body, re.S)
    blocks += re.findall(r"<style>(.*?)</style>", body, re.S)
    assert len(blocks) >= 3
    for block in blocks:
        digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy


def test_colour_is_a_bounded_choice(client, db_session):
    make_goal(make_site(brand_colour="#0f766e"), slug="colours")
    green = client.get("/w/colours?color=green").get_data(as_text=True)
    assert ":root{--accent:#15803d}" in green
    for odd in ("%23ff00ff", "javascript:alert(1)", "red;background:url(x)"):
        body = client.get(f"/w/colours?color={odd}").get_data(as_text=True)
        assert ":root{--accent:#0f766e}" in body, odd
    cache = client.application.extensions["donate.widget_cache"]
    assert len(cache) == 2


def test_embed_loader_is_served_small_and_cacheable(client, db_session):
    response = client.get("/embed.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert "public" in response.headers["Cache-Control"]
    assert response.headers["ETag"]
    assert (
        client.get("/embed.js", headers={"If-None-Match": response.headers["ETag"]}).status_code
        == 304
    )
    assert len(gzip.compress(response.data, 9)) <= EMBED_BUDGET
    script = response.get_data(as_text=True)
    assert "event.origin !== base" in script and "event.source !== frame.contentWindow" in script
    assert '"*"' not in script


def test_widget_document_with_its_css_and_js_is_within_budget(client, db_session):
    site = make_site()
    goal = make_goal(
        site,
        slug="budget",
        title="A long fundraiser title that takes up most of the line in a sidebar " * 2,
        presets_minor=[500, 1_000, 2_500, 5_000, 10_000, 25_000],
        milestones_minor=[100_000, 200_000, 300_000, 400_000],
        description="Words " * 300,
    )
    make_offline_gift(goal, 42_000)
    # Every display setting at its longest: the card's texts travel in the frame too.
    goal.call_to_action = {
        "": "Support our city hall investigation " * 3,
        "de": "Unterstützen " * 9,
    }
    goal.default_preset_minor = 2_500
    goal.monthly_presets_minor = [300, 500, 1_000, 2_000, 3_000, 5_000]
    goal.monthly_default_minor = 1_000
    goal.preset_impacts = {
        f"{frequency}:{amount}": "pays for one more public records request to city hall, " * 2
        for frequency, amounts in (("once", goal.presets_minor), ("monthly", [300, 500, 1_000]))
        for amount in amounts
    }
    db.session.flush()
    for url in ("/w/budget?locale=de", "/w/budget?locale=fr&thanks=1", "/w/budget?variant=bar"):
        body = client.get(url).data
        size = len(gzip.compress(body, 9))
        assert size <= WIDGET_BUDGET, (url, size)


def test_render_cache_keeps_only_the_most_recently_used_entries():
    cache: RenderCache[str] = RenderCache(max_entries=2)
    cache.get_or_render("a", lambda: "A")
    cache.get_or_render("b", lambda: "B")
    cache.get_or_render("a", lambda: "never")  # a is now the most recent
    cache.get_or_render("c", lambda: "C")  # evicts b
    assert len(cache) == 2
    assert cache.get_or_render("a", lambda: "new A") == "A"
    assert cache.get_or_render("b", lambda: "new B") == "new B"


def test_render_cache_is_safe_to_share_between_threads():
    cache: RenderCache[int] = RenderCache(max_entries=50)
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for number in range(500):
                key = (number + offset) % 80
                assert cache.get_or_render(key, lambda key=key: key * 2) == key * 2
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(cache) == 50


def test_render_cache_refuses_a_size_of_zero():
    with pytest.raises(ValueError, match="at least one entry"):
        RenderCache(max_entries=0)


def test_locales_are_normalised_to_the_set_we_serve(client, db_session):
    from babel import localedata

    from donate.widget.languages import SERVED_LOCALES, choose_locale

    seen = set()
    with client.application.test_request_context("/w/x"):
        for name in localedata.locale_identifiers():  # all 1,147 of Babel's
            seen.add(choose_locale(name, "en").locale)
            seen.add(choose_locale(name.replace("_", "-"), "de").locale)
    assert seen <= SERVED_LOCALES
    assert {"en", "de", "fr", "es", "de_CH", "en_IN"} <= seen


@pytest.mark.parametrize(
    ("asked", "served_as"),
    [("de-DE", "de"), ("de_de", "de"), ("en-US", "en"), ("ja", "en"), ("fr-BE", "fr")],
)
def test_a_region_that_changes_nothing_shares_its_languages_rendering(
    app, client, db_session, asked, served_as
):
    make_goal(slug="shared")
    cache = app.extensions["donate.widget_cache"]
    first = client.get(f"/w/shared?locale={served_as}")
    second = client.get(f"/w/shared?locale={asked}", headers={"Accept-Language": "en"})
    assert second.data == first.data
    assert (cache.misses, cache.hits) == (1, 1)


def test_regional_forms_that_change_numbers_are_served(client, db_session):
    goal = make_goal(slug="regional", target_minor=123_456_700, currency="USD")
    make_offline_gift(goal, 1_234_500)
    swiss = page_text(client.get("/w/regional?locale=de-CH").data)
    indian = page_text(client.get("/w/regional?locale=en-IN").data)
    assert "$ 12'345 von $ 1234567" in swiss
    assert "of $12,34,567" in indian


def test_one_goal_cycling_locales_and_colours_cannot_evict_another_goal(
    app, client, db_session, monkeypatch
):
    from babel import localedata

    from donate.widget.colours import PALETTE

    make_goal(slug="quiet")
    make_goal(slug="busy")
    cache: RenderCache = RenderCache(max_entries=64, max_entries_per_group=16)
    monkeypatch.setitem(app.extensions, "donate.widget_cache", cache)
    client.get("/w/quiet?locale=en")
    names = localedata.locale_identifiers()[::7]
    for n, name in enumerate(names):  # 164 locales, each with another colour
        client.get(f"/w/busy?locale={name}&color={list(PALETTE)[n % len(PALETTE)]}")
    assert len(cache) == 17
    hits = cache.hits
    client.get("/w/quiet?locale=en")
    assert cache.hits == hits + 1  # still cached


def test_render_cache_bounds_each_group_on_its_own():
    cache: RenderCache[str] = RenderCache(max_entries=10, max_entries_per_group=3)
    cache.get_or_render("quiet", lambda: "Q", group="goal-1")
    for n in range(50):
        cache.get_or_render(n, lambda n=n: str(n), group="goal-2")
    assert cache.entries_of("goal-2") == 3
    assert cache.get_or_render("quiet", lambda: "rendered again", group="goal-1") == "Q"
    assert cache.get_or_render(49, lambda: "rendered again", group="goal-2") == "49"
    assert cache.get_or_render(0, lambda: "0 again", group="goal-2") == "0 again"
