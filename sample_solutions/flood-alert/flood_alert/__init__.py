"""침수·호우 경보 — four-level flood and heavy-rain alerts from rain gauges and river stations."""

__version__ = "2.1.0"
