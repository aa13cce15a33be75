"""The window's dock panels, one per file."""
