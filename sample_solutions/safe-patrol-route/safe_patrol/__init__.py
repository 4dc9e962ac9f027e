"""Safe patrol route (안심 순찰 경로) for Gyeongsan: risk grid and patrol tour as GeoJSON."""

__version__ = "0.9.0"
