"""수요응답형 교통 — batch dispatch of demand-responsive transport for an ageing town."""

__version__ = "1.1.0"
