"""The one write path and the reads beside it.

Parse, check, write, audit; scoped, masked queries; numbering; policy settings.
"""
