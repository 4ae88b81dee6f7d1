"""Small helpers shared across the package: atomic file writes, JSON reading and the colour
palettes."""
