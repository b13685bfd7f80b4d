"""Who may do what: actions, field masks and row scope per user; users, their warehouses and departments; role sync."""
