"""Bus route optimiser (버스 노선 최적화) for Taebaek: keep the stops that serve most demand per km."""

__version__ = "0.3.0"
