"""Photos (evidence, inspection, QC): sanitised before anything stores them."""

from __future__ import annotations

from doorstep.domain.errors import NotFound
from doorstep.services.context import Services
from doorstep.services.ports import StoredPhoto


def upload_photo(svc: Services, owner: str, data: bytes) -> StoredPhoto:
    """Decode, strip metadata, re-encode and store; the owner alone may attach it."""
    clean = svc.images(data)
    photo = StoredPhoto(
        svc.ids.new("P"),
        owner,
        clean.media_type,
        clean.sha256,
        clean.width,
        clean.height,
        svc.clock.now(),
        clean.content,
    )
    with svc.uow() as uow:
        uow.photos.add(photo)
        uow.commit()
    return photo


def get_photo(svc: Services, photo_id: str) -> StoredPhoto:
    """The photo with its image; an erased one (services/retention.py) looks missing."""
    with svc.uow() as uow:
        photo = uow.photos.get(photo_id)
        if photo is None or photo.erased:
            raise NotFound("photo", photo_id)
        return photo
