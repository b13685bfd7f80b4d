"""Report handlers that the report runner calls by name when a YAML query is not enough."""
