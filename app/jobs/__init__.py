"""Reserved for the jobs issue."""
