"""Money and planning: line prices and price lists, receivables and payables, cash accounts, budgets, reorder."""
