"""Smart parking sharing (스마트 주차 공유) for Cheonan: find free car parks and book spots."""

__version__ = "1.2.0"
