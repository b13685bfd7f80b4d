"""User accounts: creating users, their warehouses and departments, and the Access each one gets."""
