"""The export workbook of SPEC §5.5 and its verification, from plain frames (no database)."""

from .verify import Difference, verify_workbook
from .workbook import ExportData, build_workbook

__all__ = ["Difference", "ExportData", "build_workbook", "verify_workbook"]
