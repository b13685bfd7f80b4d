"""Rules a model keeps on every change beyond its field types, found by name: app/rules/<model>.py."""
