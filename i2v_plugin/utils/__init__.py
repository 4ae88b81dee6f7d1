"""Small helpers shared across the package: atomic file writes and the colour palettes."""
