"""Reserved for the grid issue."""
