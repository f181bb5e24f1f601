"""Importers: workbooks and CSV files in, a row-level report out, all-or-nothing writes."""
