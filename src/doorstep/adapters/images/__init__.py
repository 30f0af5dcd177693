"""Untrusted image uploads: validate, normalise and strip them before storage."""

from doorstep.adapters.images.bounded import BoundedSanitizer
from doorstep.adapters.images.sanitize import SanitizedImage, sanitize_image

__all__ = ["BoundedSanitizer", "SanitizedImage", "sanitize_image"]
