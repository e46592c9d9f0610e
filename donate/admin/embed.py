"""The embed codes for a goal: what a site owner pastes into articles, newsletters and posts."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import escape

from donate.models import Goal


@dataclass(frozen=True)
class Snippet:
    """One way to show a goal, with the code to copy."""

    key: str
    title: str
    use: str
    code: str


def snippets(goal: Goal, public_url: str) -> list[Snippet]:
    """Script, iframe, bar, image and link codes, all pointing at PUBLIC_URL."""
    base = public_url.rstrip("/")
    slug = goal.slug
    title = escape(goal.title)
    page = f"{base}/g/{slug}"
    return [
        Snippet(
            "script",
            "Script (recommended)",
            "Sizes itself, remembers the article the gift came from and thanks donors on return. "
            'Add data-article="..." to name the article in reports.',
            f'<script async src="{base}/embed.js" data-goal="{slug}"></script>',
        ),
        Snippet(
            "iframe",
            "Frame without script",
            "For pages that do not allow scripts: a fixed-height frame with the full widget.",
            f'<iframe src="{base}/w/{slug}" title="{title}" width="100%" height="470" '
            f'loading="lazy" frameborder="0"></iframe>\n'
            f'<noscript><a href="{page}">Give to {title}</a></noscript>',
        ),
        Snippet(
            "bar",
            "Progress bar",
            "A slim bar for sidebars and live blogs.",
            f'<iframe src="{base}/w/{slug}?variant=bar" title="{title}" width="100%" height="100" '
            f'loading="lazy" frameborder="0"></iframe>',
        ),
        Snippet(
            "image",
            "Image",
            "For newsletters and places where nothing runs. The PNG works in every e-mail client.",
            f'<a href="{page}"><img src="{base}/w/{slug}/progress.png" alt="{title}" '
            f'width="600"></a>\n'
            f"<!-- or as SVG: {base}/w/{slug}/progress.svg -->",
        ),
        Snippet(
            "link",
            "Link",
            "The goal's own page, for social posts and buttons.",
            f'<a href="{page}">Give to {title}</a>',
        ),
    ]
