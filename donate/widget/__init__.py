"""The embeddable widget: loader script, frame, bar-only and image variants, and the goal page."""

from donate.widget.views import widget

__all__ = ["widget"]
