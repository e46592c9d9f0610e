"""What the browser tests share: the embed snippet and ways to wait for and find widgets."""

from __future__ import annotations

# Every loader has its frame and has dropped its fallback link: the frames told their sizes.
READY = (
    "count => document.querySelectorAll('.donate-widget iframe').length === count"
    " && !document.querySelector('.donate-widget > a')"
)
# Run inside a frame: its document fits, so no scrollbar shows in either direction.
NO_SCROLLBARS = (
    "() => document.documentElement.scrollHeight <= document.documentElement.clientHeight"
    " && document.documentElement.scrollWidth <= document.documentElement.clientWidth"
)


def embed(base: str, slug: str, **data: str) -> str:
    """The snippet a site owner pastes, as the README shows it."""
    extra = "".join(f' data-{name}="{value}"' for name, value in data.items())
    return f'<script async src="{base}/embed.js" data-goal="{slug}"{extra}></script>'


def widget_frames(page) -> list:  # noqa: ANN001
    """The frames the loaders inserted, in page order."""
    return [handle.content_frame() for handle in page.query_selector_all(".donate-widget iframe")]


def csp_violations(pages) -> list[str]:  # noqa: ANN001
    """Console errors where the browser refused something under our policy."""
    return [text for text in pages.console_errors if "Content Security Policy" in text]
