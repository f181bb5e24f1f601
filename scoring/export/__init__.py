"""The export workbook of SPEC §5.5 and its verification, from plain frames (no database)."""

from .canonical import ExportData, content_sha256, export_content
from .verify import Difference, verify_workbook
from .workbook import build_workbook, write_workbook

__all__ = [
    "Difference",
    "ExportData",
    "build_workbook",
    "content_sha256",
    "export_content",
    "verify_workbook",
    "write_workbook",
]
