"""대기질 대시보드 — Korean Comprehensive Air-quality Index (CAI) dashboard for a city data hub."""

__version__ = "3.0.1"
