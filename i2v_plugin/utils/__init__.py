"""Small helpers shared across the package: atomic file writes, JSON reading, the colour
palettes and the float32 regions of mixed precision."""
