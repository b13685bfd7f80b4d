"""Report runners."""
