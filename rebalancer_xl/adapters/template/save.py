"""Saving the template: openpyxl's writer into a zip with fixed entry times, through an
atomic replace."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from rebalancer_xl.adapters.files import atomic_write


def save_workbook(wb: Workbook, path: Path) -> None:
    """Save `wb` to `path` atomically, with fixed zip entry times for a stable file."""
    buffer = io.BytesIO()
    # openpyxl's own save() stamps the current time as "modified"; its writer does not.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).write_data()
    with (
        atomic_write(path) as pending,
        zipfile.ZipFile(pending.path, "w", zipfile.ZIP_DEFLATED) as zf,
        zipfile.ZipFile(buffer) as built,
    ):
        for item in built.infolist():
            # A fixed entry time: regenerating an unchanged workbook changes no byte.
            info = zipfile.ZipInfo(item.filename, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, built.read(item.filename))
