"""Upload sanitising: formats, limits, bombs and metadata stripping."""

from __future__ import annotations

import contextlib
import io
import random
import struct
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image, ImageCms
from PIL.PngImagePlugin import PngInfo

from doorstep.adapters.images import SanitizedImage, sanitize_image
from doorstep.domain.errors import DomainError, ErrorKind, InvalidInput, TooLarge

RED = (255, 0, 0)
BLUE = (0, 0, 255)


def _noise(size: tuple[int, int], seed: int = 0) -> Image.Image:
    rng = random.Random(seed)
    return Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))


def _encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **params)
    return buf.getvalue()


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose IHDR claims ``width`` x ``height``: the classic decompression bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )


def _jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCo"
    exif[ExifTags.Base.Model] = "Leaky 3000"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (31.0, 13.0, 48.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (121.0, 28.0, 12.0)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    return _encode(
        _noise((64, 48)),
        "JPEG",
        exif=exif,
        icc_profile=srgb,
        xmp=xmp,
        comment=b"shot at home, 12 Some Road",
    )


def _reopen(result: SanitizedImage) -> Image.Image:
    image = Image.open(io.BytesIO(result.content))
    image.load()
    return image


def _assert_no_metadata(result: SanitizedImage) -> None:
    image = _reopen(result)
    for key in ("exif", "icc_profile", "xmp", "comment", "dpi"):
        assert key not in image.info, key
    assert len(image.getexif()) == 0
    for marker in (b"Exif\x00\x00", b"ICC_PROFILE", b"http://ns.adobe.com/xap", b"Some Road"):
        assert marker not in result.content, marker


def _error(data: bytes, **limits: int) -> DomainError:
    with pytest.raises(DomainError) as info:
        sanitize_image(data, **limits)
    return info.value


def test_jpeg_with_gps_comes_out_without_any_metadata() -> None:
    data = _jpeg_with_gps()
    original = Image.open(io.BytesIO(data))
    assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the fixture really leaks
    assert "icc_profile" in original.info and "xmp" in original.info

    result = sanitize_image(data)

    assert result.media_type == "image/jpeg"
    assert (result.width, result.height) == (64, 48)
    assert _reopen(result).format == "JPEG"
    _assert_no_metadata(result)


def test_exif_orientation_is_applied_to_the_pixels() -> None:
    stored = Image.new("RGB", (40, 20), RED)
    stored.paste(BLUE, (20, 0, 40, 20))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # viewer must rotate 90° clockwise
    result = sanitize_image(_encode(stored, "JPEG", exif=exif, quality=95))

    assert (result.width, result.height) == (20, 40)
    image = _reopen(result).convert("RGB")
    top, bottom = image.getpixel((10, 5)), image.getpixel((10, 35))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 200 and top[2] < 60  # stored left (red) is now on top
    assert bottom[2] > 200 and bottom[0] < 60
    _assert_no_metadata(result)


def test_png_with_transparency_and_text_chunks_is_flattened_to_jpeg() -> None:
    image = Image.new("RGBA", (30, 10), (0, 0, 0, 0))
    image.paste((0, 128, 0, 255), (0, 0, 15, 10))
    text = PngInfo()
    text.add_text("Comment", "Some Road")
    text.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta/>")
    result = sanitize_image(_encode(image, "PNG", pnginfo=text))

    assert result.media_type == "image/jpeg"
    out = _reopen(result).convert("RGB")
    opaque, transparent = out.getpixel((5, 5)), out.getpixel((25, 5))
    assert isinstance(opaque, tuple) and isinstance(transparent, tuple)
    assert opaque[1] > 100 and opaque[0] < 40
    assert min(transparent) > 240  # transparent area became white
    _assert_no_metadata(result)


@pytest.mark.parametrize("mode", ["RGB", "L", "P", "1", "CMYK"])
def test_common_modes_are_accepted(mode: str) -> None:
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    image = _noise((16, 12)).convert(mode)
    result = sanitize_image(_encode(image, fmt))
    assert _reopen(result).mode in ("RGB", "L")


def test_sixteen_bit_greyscale_keeps_its_tones() -> None:
    image = Image.new("I;16", (8, 8), 32768)
    result = sanitize_image(_encode(image, "PNG"))
    pixel = _reopen(result).getpixel((4, 4))
    assert isinstance(pixel, int) and 120 <= pixel <= 136


def test_webp_is_accepted() -> None:
    result = sanitize_image(_encode(_noise((20, 20)), "WEBP", quality=80))
    assert (result.media_type, result.width, result.height) == ("image/jpeg", 20, 20)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_large_images_are_scaled_to_max_side(fmt: str) -> None:
    result = sanitize_image(_encode(_noise((1000, 400)), fmt), max_side=250)
    assert (result.width, result.height) == (250, 100)


def test_output_is_deterministic() -> None:
    data = _jpeg_with_gps()
    first, second = sanitize_image(data), sanitize_image(data)
    assert first == second
    assert len(first.sha256) == 64


def test_text_file_is_not_an_image() -> None:
    error = _error(b"order 42: please pick up tomorrow\n" * 10)
    assert isinstance(error, InvalidInput)
    assert error.code == "photo_not_an_image"
    assert error.message_zh and error.message_en


def test_truncated_jpeg_is_not_an_image() -> None:
    data = _encode(_noise((200, 200)), "JPEG")
    assert _error(data[: len(data) // 2]).code == "photo_not_an_image"


@pytest.mark.parametrize(("fmt", "detected"), [("GIF", "gif"), ("BMP", "bmp"), ("TIFF", "tiff")])
def test_other_image_formats_are_unsupported(fmt: str, detected: str) -> None:
    error = _error(_encode(_noise((10, 10)), fmt))
    assert error.code == "photo_unsupported_type"
    assert error.details == {"detected": detected}


def test_heic_is_reported_as_unsupported_not_as_garbage() -> None:
    fake_heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    error = _error(fake_heic)
    assert (error.code, error.details) == ("photo_unsupported_type", {"detected": "heic"})


def test_oversize_payload_is_too_large() -> None:
    error = _error(b"\xff\xd8" + b"\x00" * 8_000_000)
    assert isinstance(error, TooLarge)
    assert error.kind is ErrorKind.TOO_LARGE
    assert error.code == "photo_too_large"


def test_max_bytes_is_configurable() -> None:
    assert _error(_jpeg_with_gps(), max_bytes=100).code == "photo_too_large"


def test_png_bomb_beyond_pillows_hard_limit_is_refused() -> None:
    data = _png_header_only(50_000, 50_000)
    assert len(data) < 200
    assert _error(data).code == "photo_too_many_pixels"


def test_too_many_pixels_is_checked_before_decoding() -> None:
    # 49 MP: below Pillow's own limit, so only our header check can catch it.
    error = _error(_png_header_only(7_000, 7_000))
    assert error.code == "photo_too_many_pixels"
    assert error.details == {"width": 7_000, "height": 7_000, "max_pixels": 40_000_000}


def test_pillow_bomb_warning_becomes_a_domain_error() -> None:
    # 100 MP with a generous max_pixels: Pillow's DecompressionBombWarning fires first.
    data = _png_header_only(10_000, 10_000)
    assert _error(data, max_pixels=10**9).code == "photo_too_many_pixels"


def test_bilevel_png_bomb_is_refused() -> None:
    data = _encode(Image.new("1", (8_000, 8_000)), "PNG", optimize=True)
    assert len(data) < 100_000
    assert _error(data).code == "photo_too_many_pixels"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_only_ever_raise_domain_errors(data: bytes) -> None:
    with contextlib.suppress(DomainError):
        sanitize_image(data)


_SEEDS = {
    "jpeg": _encode(_noise((24, 16)), "JPEG"),
    "png": _encode(_noise((24, 16)), "PNG"),
    "webp": _encode(_noise((24, 16)), "WEBP"),
}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(_SEEDS)),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=8),
    st.integers(0, 10_000),
)
def test_corrupted_images_only_ever_raise_domain_errors(
    seed: str, flips: list[tuple[int, int]], cut: int
) -> None:
    data = bytearray(_SEEDS[seed])
    for position, value in flips:
        data[position % len(data)] = value
    try:
        result = sanitize_image(bytes(data[: max(cut, 8)]))
    except DomainError:
        return
    assert result.media_type == "image/jpeg"
