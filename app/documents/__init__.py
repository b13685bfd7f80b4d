"""Reserved for the documents issue."""
