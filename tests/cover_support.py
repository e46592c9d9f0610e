"""Pictures built with Pillow for the cover tests: a phone photo with EXIF, a bomb, an SVG."""

from __future__ import annotations

import io
import os
import struct
import zlib

from PIL import Image

SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script><rect width='10' height='10'/></svg>"
)
GPS = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 0.0)}


def phone_photo(size: tuple[int, int] = (3000, 2000)) -> bytes:
    """A JPEG stored landscape with orientation 6 (shown turned a quarter clockwise), GPS too.

    Its left third is red and the rest blue: once turned, red must be at the top.
    """
    image = Image.new("RGB", size, (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, size[0] // 3, size[1]))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to show
    exif[0x010F] = "TestCam"  # Make
    exif[0x8825] = GPS  # GPSInfo
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90, comment=b"secret comment")
    return out.getvalue()


def png_with_transparency(size: tuple[int, int] = (400, 300)) -> bytes:
    """A small PNG, half transparent: it must not be enlarged, and the clear half turns white."""
    image = Image.new("RGBA", size, (0, 128, 0, 255))
    image.paste((0, 0, 0, 0), (0, 0, size[0] // 2, size[1]))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def noisy_jpeg(size: tuple[int, int] = (1500, 1000)) -> bytes:
    """A JPEG of random pixels: well over the app's 1 MB, under the cover's 5 MB."""
    image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG file whose header claims width × height pixels: a decompression bomb."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    pixels = zlib.compress(b"\x00" * 1025 * 16)  # a few rows; the decoder never gets this far
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", pixels)
        + (_chunk(b"IEND", b""))
    )


def large_bilevel_png(width: int = 7000, height: int = 7000) -> bytes:
    """A real, small file of 49 million pixels: under Pillow's own limit, over ours."""
    out = io.BytesIO()
    Image.new("1", (width, height), 0).save(out, "PNG")
    return out.getvalue()
