"""Smart bus shelter controller (스마트 버스 쉼터) for Gwangmyeong: heating, cooling and air purifier."""

__version__ = "1.0.0"
