"""Reserved for the ledger issue."""
