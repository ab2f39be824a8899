"""Downloads of audit events: CSV, streamed row by row, or XLSX, written in openpyxl's write-only mode to a
temporary file. Either way memory stays flat however long the trail. Every text cell goes through
``safe_cell`` so a name, summary or address bar typed as a formula stays text."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

from linkwork.audit.models import AuditEvent
from linkwork.audit.selectors import object_label
from linkwork.spreadsheets import safe_cell

FORMATS = ("csv", "xlsx")
HEADER = [
    "When (UK time)",
    "Who",
    "Email at the time",
    "Action",
    "Record type",
    "Record ID",
    "Summary",
    "Page",
    "IP address",
]
CHUNK = 2000  # rows fetched per round trip (a server-side cursor on PostgreSQL)


def event_row(event: AuditEvent) -> list[Any]:
    who = event.actor.full_name if event.actor is not None else ""
    cells = [
        timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M:%S"),
        who,
        event.actor_label,
        event.get_action_display(),
        object_label(event.object_type),
        event.object_id,
        event.summary,
        event.path,
        event.ip_address or "",
    ]
    return [safe_cell(c) for c in cells]


def rows(events: QuerySet[AuditEvent]) -> Iterator[list[Any]]:
    yield HEADER
    for event in events.iterator(chunk_size=CHUNK):
        yield event_row(event)


class _Echo:
    """A file-like object whose write() hands the line back, for csv.writer in a stream."""

    def write(self, value: str) -> str:
        return value


def csv_response(events: QuerySet[AuditEvent], *, filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"  # a byte order mark, so Excel reads the file as UTF-8
        for row in rows(events):
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def xlsx_response(events: QuerySet[AuditEvent], *, filename: str, title: str) -> FileResponse:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    for row in rows(events):
        sheet.append(row)
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - returned open; FileResponse closes (and so deletes) it
    workbook.save(handle)
    handle.seek(0)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"{filename}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def download(events: QuerySet[AuditEvent], *, fmt: str, filename: str, title: str) -> Any:
    if fmt == "xlsx":
        return xlsx_response(events, filename=filename, title=title)
    return csv_response(events, filename=filename)
