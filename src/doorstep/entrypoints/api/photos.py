"""Photo upload (evidence, inspection, QC) and download by its owner or staff."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, File, Request, Response, UploadFile

from doorstep.domain.errors import NotFound, TooLarge
from doorstep.domain.identity import Role
from doorstep.entrypoints.api.deps import AnyActor, AppDep, Svc
from doorstep.entrypoints.api.schemas import Id, PhotoOut
from doorstep.services import photos

router = APIRouter(prefix="/photos", tags=["photos"])


@router.post(
    "",
    response_model=PhotoOut,
    status_code=201,
    summary="Upload a JPEG, PNG or WebP; metadata (EXIF, GPS) is stripped",
)
async def upload(
    request: Request, app: AppDep, actor: AnyActor, file: Annotated[UploadFile, File()]
) -> PhotoOut:
    limit = app.settings.max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(
            "photo_too_large",
            f"Photos may be at most {limit} bytes.",
            f"照片不能超过 {limit} 字节。",
        )
    # Decoding takes a core for about a second on large photos: never on the event loop, and
    # at most ``image_workers`` threads for it, so uploads queue here and nothing else waits.
    photo = await anyio.to_thread.run_sync(
        photos.upload_photo,
        app.services,
        actor.actor_id,
        data,
        limiter=request.app.state.image_slots,
    )
    return PhotoOut(
        photo_id=photo.photo_id,
        media_type=photo.media_type,
        width=photo.width,
        height=photo.height,
        sha256=photo.sha256,
    )


@router.get(
    "/{photo_id}", response_class=Response, responses={200: {"content": {"image/jpeg": {}}}}
)
def download(svc: Svc, actor: AnyActor, photo_id: Id) -> Response:
    photo = photos.get_photo(svc, photo_id)
    staff = actor.role in (Role.OPS, Role.WAREHOUSE)
    if photo.owner != actor.actor_id and not staff:
        raise NotFound("photo", photo_id)
    return Response(
        photo.content,
        media_type=photo.media_type,
        headers={"Cache-Control": "private, max-age=3600"},
    )
