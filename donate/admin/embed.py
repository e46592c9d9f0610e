"""The embed codes for a goal: what a site owner pastes into articles, newsletters and posts."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import escape

from donate.models import Goal
from donate.widget.images import HEIGHT as IMAGE_HEIGHT
from donate.widget.images import WIDTH as IMAGE_WIDTH


@dataclass(frozen=True)
class Snippet:
    """One way to show a goal, with the code to copy."""

    key: str
    title: str
    use: str
    code: str


# Heights for frames placed without our script, which cannot size themselves: they fit the
# widget at 320, 390 and 1280 px wide (tests/browser/test_snippets_in_browser.py measures them).
FULL_FRAME_HEIGHT = 720
BAR_FRAME_HEIGHT = 270


def snippets(goal: Goal, public_url: str) -> list[Snippet]:
    """Script, iframe, bar, image and link codes, all pointing at PUBLIC_URL; README shows these."""
    base = public_url.rstrip("/")
    slug = goal.slug
    title = escape(goal.title)
    page = f"{base}/g/{slug}"
    frame_style = 'width="100%" style="border:0" loading="lazy"'
    return [
        Snippet(
            "script",
            "Script (recommended)",
            "Sizes itself, remembers the article the gift came from and thanks donors on return. "
            "The link shows until the widget loads, and stays if it cannot. "
            'Add data-article="..." to name the article in reports.',
            f'<div class="donate-widget" data-goal="{slug}"><a href="{page}">Give to {title}</a>'
            f"</div>\n"
            f'<script async src="{base}/embed.js" data-goal="{slug}"></script>',
        ),
        Snippet(
            "iframe",
            "Frame without script",
            "For pages that do not allow scripts: a fixed-height frame with the full widget.",
            f'<iframe src="{base}/w/{slug}" title="{title}" height="{FULL_FRAME_HEIGHT}" '
            f"{frame_style}></iframe>",
        ),
        Snippet(
            "bar",
            "Progress bar",
            "A slim bar for sidebars and live blogs.",
            f'<iframe src="{base}/w/{slug}?variant=bar" title="{title}: progress" '
            f'height="{BAR_FRAME_HEIGHT}" {frame_style}></iframe>',
        ),
        Snippet(
            "image",
            "Image",
            "For newsletters and places where nothing runs. The PNG works in every e-mail client.",
            f'<a href="{page}"><img src="{base}/w/{slug}/progress.png" width="{IMAGE_WIDTH}" '
            f'height="{IMAGE_HEIGHT}" alt="{title}: progress towards the goal"></a>\n'
            f"<!-- on web pages: {base}/w/{slug}/progress.svg -->",
        ),
        Snippet(
            "link",
            "Link",
            "The goal's own page, for social posts and buttons.",
            f'<a href="{page}">Give to {title}</a>',
        ),
    ]
