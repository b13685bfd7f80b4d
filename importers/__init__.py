"""Spreadsheet importers."""
