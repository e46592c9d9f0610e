"""The embeddable widget: loader script, frame, bar-only and image variants, and the goal page."""

from donate.widget import cover_views  # noqa: F401  (adds the cover image route)
from donate.widget.views import widget

__all__ = ["widget"]
