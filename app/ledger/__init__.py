"""The stock ledger core: pure, exact (Decimal), no Flask and no database.

Posting code (app/services/stock/writer.py) reads the locked balance, asks this package what the move
and the new balance are, and writes both; checks here verify the invariants afterwards.
"""
