"""Allowed embed origins are stored as scheme://host[:port] and matched exactly."""

from __future__ import annotations

import pytest

from donate.origins import OriginError, normalise_origin, origin_allowed, origin_of


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("https://News.Example.org", "https://news.example.org"),
        ("HTTPS://news.example.org:443/", "https://news.example.org"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("http://localhost:*", "http://localhost:*"),
        ("http://127.0.0.1:80", "http://127.0.0.1"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
        # UTS-46, as browsers resolve hosts: ß and ς are letters of their own, not ss and σ.
        ("https://straße.example", "https://xn--strae-oqa.example"),
        ("https://STRASSE.example", "https://strasse.example"),
        ("https://faß.de", "https://xn--fa-hia.de"),
    ],
)
def test_origins_are_normalised(typed, stored):
    assert normalise_origin(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "news.example.org",
        "ftp://example.org",
        "https://example.org/article/1",
        "https://user:pw@example.org",
        "https://exa mple.org",
        "https://example.org?x=1",
    ],
)
def test_bad_origins_get_a_sentence(typed):
    with pytest.raises(OriginError) as error:
        normalise_origin(typed)
    assert str(error.value).endswith(".")


def test_wildcard_port_matches_any_port_of_that_host_only():
    allowed = ["http://localhost:*", "https://news.example.org"]
    assert origin_allowed("http://localhost:8123", allowed)
    assert origin_allowed("http://localhost", allowed)
    assert origin_allowed("https://news.example.org", allowed)
    assert not origin_allowed("https://news.example.org:8443", allowed)
    assert not origin_allowed("http://evil.example", allowed)
    assert not origin_allowed("https://localhost:8123", allowed)
    assert not origin_allowed(None, allowed)


def test_origin_of_a_page_url():
    assert origin_of("https://News.example.org/2026/story?x=1#donate") == "https://news.example.org"
    assert origin_of("javascript:alert(1)") is None
    assert origin_of("/relative/path") is None


def test_a_look_alike_host_never_passes_as_an_allowed_one():
    assert not origin_allowed("https://straße.example", ["https://strasse.example"])
    assert origin_of("https://straße.example/phish") == "https://xn--strae-oqa.example"
    assert origin_allowed("https://straße.example", ["https://xn--strae-oqa.example"])
    assert not origin_allowed("https://strasse.example", ["https://xn--strae-oqa.example"])
