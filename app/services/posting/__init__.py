"""Document transitions: submit, approve, reject, cancel, each posting through the stock writer in one transaction."""
