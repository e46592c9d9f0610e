"""Turn an uploaded picture into a goal page cover: checked, bounded, stripped and re-encoded.

Only the header is read before the pixel limit is checked, so a small file that claims a huge
image (a decompression bomb) is refused without being decoded. What is stored is a new JPEG
drawn from the pixels alone: no EXIF (GPS, camera), no comments, no colour profile.
"""

from __future__ import annotations

import hashlib
import io
import struct
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

# An upload may be this large; the rest of the app accepts 1 MB (see donate.body_limits).
COVER_MAX_BYTES = 5 * 1024 * 1024
# Decoding costs about 3 bytes a pixel: 40 million pixels is 120 MB, the most we allow.
COVER_MAX_SOURCE_PIXELS = 40_000_000
# The stored cover fits in this box, which is wider than the goal page ever shows it.
COVER_BOX = (1600, 1200)
COVER_MEDIA_TYPE = "image/jpeg"
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
JPEG_QUALITY = 85
_READ_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error, IndexError, KeyError)


class CoverError(ValueError):
    """A picture we will not store; the message says why, for the person who uploaded it."""


@dataclass(frozen=True)
class ProcessedCover:
    """The bytes to store and serve, with their size and the digest that names them."""

    data: bytes
    width: int
    height: int
    digest: str
    media_type: str = COVER_MEDIA_TYPE


def looks_like_svg(raw: bytes) -> bool:
    """SVG is XML text that can carry scripts and links: we never store it, whatever its name."""
    head = raw[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<") and (b"<svg" in head or head.startswith(b"<?xml"))


def _open_checked(raw: bytes) -> Image.Image:
    """Identify the picture from its header and refuse it before decoding when it is too big."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw), formats=ACCEPTED_FORMATS)
    except Image.DecompressionBombError:
        raise _too_many_pixels() from None
    except UnidentifiedImageError:
        raise CoverError(
            "This file is not a JPEG, PNG, WebP or GIF image; upload one of those."
        ) from None
    except _READ_ERRORS:
        raise CoverError("This image could not be read; it may be damaged.") from None
    width, height = image.size
    if width < 1 or height < 1 or width * height > COVER_MAX_SOURCE_PIXELS:
        raise _too_many_pixels()
    return image


def _too_many_pixels() -> CoverError:
    megapixels = COVER_MAX_SOURCE_PIXELS // 1_000_000
    return CoverError(
        f"This image has too many pixels: at most {megapixels} million are accepted. "
        "Save it smaller and upload it again."
    )


def _flattened(image: Image.Image) -> Image.Image:
    """The picture in RGB, transparent parts on white, on a fresh image without any metadata."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    rgb = image.convert("RGB")
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    return clean


def process_cover(raw: bytes) -> ProcessedCover:
    """Check, orient, shrink and re-encode an upload; raise CoverError with a reason otherwise."""
    if not raw:
        raise CoverError("Choose an image file to upload.")
    if len(raw) > COVER_MAX_BYTES:
        raise CoverError(f"This image is too large: at most {COVER_MAX_BYTES // 2**20} MB.")
    if looks_like_svg(raw):
        raise CoverError("SVG images are not accepted; upload a JPEG, PNG, WebP or GIF image.")
    image = _open_checked(raw)
    try:
        # A large JPEG can be decoded at a fraction of its size, which saves most of the memory.
        image.draft("RGB", (COVER_BOX[0] * 2, COVER_BOX[1] * 2))
        image.load()  # a GIF or WebP animation: its first frame
        oriented = ImageOps.exif_transpose(image)
        flat = _flattened(oriented)
    except Image.DecompressionBombError:
        raise _too_many_pixels() from None
    except _READ_ERRORS:
        raise CoverError("This image could not be read; it may be damaged.") from None
    flat.thumbnail(COVER_BOX, Image.Resampling.LANCZOS)
    output = io.BytesIO()
    flat.save(output, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    data = output.getvalue()
    return ProcessedCover(
        data=data,
        width=flat.width,
        height=flat.height,
        digest=hashlib.sha256(data).hexdigest(),
    )
