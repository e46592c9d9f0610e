"""The forms of a goal's cover image page: upload with its alt text, and remove."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField
from wtforms.validators import Length, Optional

from donate.goal_covers import ALT_MAX_LENGTH


class CoverUploadForm(FlaskForm):
    image = FileField(
        "Image",
        description="A JPEG, PNG, WebP or GIF image of at most 5 MB. It is resized to fit "
        "1600 × 1200 pixels, and its camera data (such as GPS position) is removed.",
    )
    alt = StringField(
        "Text for people who cannot see the image",
        description="Say what the image shows. Left empty, the goal's title is used.",
        validators=[Optional(), Length(max=ALT_MAX_LENGTH)],
    )


class CoverRemoveForm(FlaskForm):
    """Only the CSRF token: removing needs no other input."""
