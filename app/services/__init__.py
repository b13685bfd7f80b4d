"""The service layer every channel uses, a package per subsystem.

access, records (the one write path), stock, money, posting, grid.
"""
