"""Spreadsheet importers: parse, stage, validate, apply, with row and cell errors as values."""
