"""Turn an uploaded photo into a safe, metadata-free JPEG.

Output format: always baseline JPEG (quality 85), whatever came in. Return photos are
evidence of an item's condition, so transparency carries no information and is flattened
onto white; one output format keeps every consumer simple (carrier damage claims, PDF
reports and e-mail all take JPEG, not all take WebP), and re-encoding every pixel is what
guarantees nothing of the original file (metadata, trailing data, polyglot payloads)
survives. The cost is that screenshots lose a little sharpness; photos are the main case.

Colour: an embedded ICC profile (for example Display P3 from phones) is applied to reach
sRGB before it is dropped, so colours stay right without shipping the profile.

Thread safety: Pillow reports decompression bombs through ``warnings``, and in Python 3.11
``warnings.catch_warnings`` changes process-wide state. While a sanitize call runs, other
threads' warnings are also filtered; that is accepted because the window is short and the
alternative (letting the warning escape) breaks the contract of this module.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from doorstep.domain.errors import InvalidInput, TooLarge

_ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
_JPEG_QUALITY = 85
_OUTPUT_MEDIA_TYPE = "image/jpeg"

# Formats users commonly send that we refuse. Matched by signature only to give a helpful
# message (an iPhone HEIC photo should not be called "not an image"); acceptance is
# decided solely by Pillow decoding with the allowed formats.
_KNOWN_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"8BPS", "psd"),
    (b"\x00\x00\x01\x00", "ico"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "jpeg2000"),
)
_ISO_BMFF_BRANDS = {
    b"heic": "heic",
    b"heix": "heic",
    b"hevc": "heic",
    b"hevx": "heic",
    b"mif1": "heif",
    b"msf1": "heif",
    b"avif": "avif",
    b"avis": "avif",
}


@dataclass(frozen=True, slots=True)
class SanitizedImage:
    """A re-encoded image that is safe to store and serve."""

    content: bytes
    media_type: str
    width: int
    height: int
    sha256: str
    """Hex digest of ``content``; equal inputs give equal digests (output is deterministic)."""


def sanitize_image(
    data: bytes,
    *,
    max_bytes: int = 8_000_000,
    max_pixels: int = 40_000_000,
    max_side: int = 4096,
) -> SanitizedImage:
    """Validate an untrusted upload and re-encode it as a metadata-free JPEG.

    Only JPEG, PNG and WebP are accepted, judged by decoding the bytes (the client's
    content type is ignored). EXIF orientation is applied, the longer side is scaled down
    to ``max_side``, and EXIF/GPS, XMP, ICC, comments and text chunks are all removed.

    Raises ``TooLarge`` (``photo_too_large``) or ``InvalidInput`` with code
    ``photo_not_an_image``, ``photo_unsupported_type`` or ``photo_too_many_pixels``.
    """
    if len(data) > max_bytes:
        raise TooLarge(
            "photo_too_large",
            f"The photo is larger than {max_bytes / 1_000_000:g} MB.",
            f"照片不能超过 {max_bytes / 1_000_000:g} MB。",
            size=len(data),
            max_bytes=max_bytes,
        )
    with _pillow_warnings_contained(), _open(data) as image:
        width, height = image.size
        # Checked on the header's dimensions, before a single pixel is decoded.
        if width * height > max_pixels:
            raise _too_many_pixels(width, height, max_pixels)
        _decode(image, max_side)
        icc_profile = image.info.get("icc_profile")
        oriented = _apply_orientation(image)
        rgb = _to_output_mode(oriented, icc_profile if isinstance(icc_profile, bytes) else None)
        scaled = _fit(rgb, max_side)
        # A fresh image from raw pixels carries no ``info``: Pillow's JPEG writer would
        # otherwise copy e.g. a source comment into the output.
        clean = Image.frombytes(scaled.mode, scaled.size, scaled.tobytes())
        out = io.BytesIO()
        clean.save(out, format="JPEG", quality=_JPEG_QUALITY, optimize=True)
    content = out.getvalue()
    return SanitizedImage(
        content=content,
        media_type=_OUTPUT_MEDIA_TYPE,
        width=clean.width,
        height=clean.height,
        sha256=hashlib.sha256(content).hexdigest(),
    )


@contextmanager
def _pillow_warnings_contained() -> Iterator[None]:
    # Bomb warnings become exceptions we map to a domain error; any other Pillow warning
    # (corrupt EXIF, odd chunks) concerns metadata we throw away, so it is silenced rather
    # than allowed to escape (pytest runs with warnings as errors).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise InvalidInput(
                "photo_too_many_pixels",
                "The photo has too many pixels.",
                "照片像素过多。",
            ) from exc


def _open(data: bytes) -> Image.Image:
    try:
        return Image.open(io.BytesIO(data), formats=_ALLOWED_FORMATS)
    except UnidentifiedImageError as exc:
        kind = _refused_kind(data)
        if kind is not None:
            raise InvalidInput(
                "photo_unsupported_type",
                "This image type is not supported. Please upload a JPEG, PNG or WebP photo.",
                "不支持该图片格式，请上传 JPEG、PNG 或 WebP 格式的照片。",
                detected=kind,
            ) from exc
        raise _not_an_image() from exc
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise
    except Exception as exc:
        # Pillow's parsers raise a wide, undocumented range of exceptions on hostile input.
        raise _not_an_image() from exc


def _decode(image: Image.Image, max_side: int) -> None:
    if image.format == "JPEG" and max(image.size) > max_side:
        # Let libjpeg decode at 1/2, 1/4 or 1/8 scale: a 40 MP photo then never needs
        # its full-size pixel buffer. The result is still at least the target size.
        scale = max_side / max(image.size)
        image.draft(None, (max(1, round(image.width * scale)), max(1, round(image.height * scale))))
    try:
        image.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise
    except Exception as exc:
        # Truncated or corrupt pixel data only shows up while decoding.
        raise _not_an_image() from exc


def _apply_orientation(image: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(image)
    except Exception:
        # Unreadable EXIF is metadata we discard anyway; keep the pixels as stored.
        return image


def _to_output_mode(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    if image.has_transparency_data:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    elif image.mode.startswith("I"):
        # 16-bit greyscale: convert("L") would clip everything above 255 to white.
        image = image.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    elif image.mode not in ("L", "RGB", "CMYK"):
        image = image.convert("RGB")

    if image.mode in ("RGB", "CMYK") and icc_profile:
        converted = _to_srgb(image, icc_profile)
        if converted is not None:
            return converted
    return image.convert("RGB") if image.mode == "CMYK" else image


def _to_srgb(image: Image.Image, icc_profile: bytes) -> Image.Image | None:
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
        return ImageCms.profileToProfile(image, source, srgb, outputMode="RGB")
    except Exception:
        # A broken or mismatched profile: fall back to the raw values, slightly off colour.
        return None


def _fit(image: Image.Image, max_side: int) -> Image.Image:
    longest = max(image.size)
    if longest <= max_side:
        return image
    scale = max_side / longest
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _refused_kind(data: bytes) -> str | None:
    for signature, kind in _KNOWN_SIGNATURES:
        if data.startswith(signature):
            return kind
    if data[4:8] == b"ftyp":
        return _ISO_BMFF_BRANDS.get(data[8:12])
    return None


def _not_an_image() -> InvalidInput:
    return InvalidInput(
        "photo_not_an_image",
        "The file is not a readable image; it may be damaged or incomplete.",
        "文件不是可读取的图片，可能已损坏或不完整。",
    )


def _too_many_pixels(width: int, height: int, max_pixels: int) -> InvalidInput:
    return InvalidInput(
        "photo_too_many_pixels",
        "The photo has too many pixels.",
        "照片像素过多。",
        width=width,
        height=height,
        max_pixels=max_pixels,
    )
