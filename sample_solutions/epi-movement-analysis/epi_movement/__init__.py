"""역학 이동 분석 — aggregated population movement and hotspot analysis for epidemiology."""

__version__ = "1.0.0"
