"""Request-bound Flask glue: the request's user and access, security hooks, remembered preferences."""
