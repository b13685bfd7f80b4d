"""Reserved for the mail issue."""
