"""Uploads never larger than LINKWORK_MAX_UPLOAD_BYTES reach memory or the disk."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile


class SizeLimitUploadHandler(FileUploadHandler):
    """First in FILE_UPLOAD_HANDLERS: passes each chunk on until a file goes past the limit, then skips the file
    (the rest of it is read and dropped, so the person still gets a page that explains) and marks the request
    with ``upload_too_large`` for the form to say so."""

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > settings.LINKWORK_MAX_UPLOAD_BYTES:
            if self.request is not None:
                self.request.upload_too_large = True  # type: ignore[attr-defined]
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> Any:
        return None  # the next handler builds the file
