"""Widget routes: thin views that read one goal row and serve a cached rendering."""

from __future__ import annotations

from flask import Blueprint

widget = Blueprint("widget", __name__)
