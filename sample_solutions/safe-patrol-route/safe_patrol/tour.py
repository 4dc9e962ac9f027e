"""Closed patrol tour from a start point: nearest neighbour, then 2-opt until no move helps."""
from __future__ import annotations

import math

Point = tuple[float, float]


def tour_length(points: list[Point], order: list[int]) -> float:
    """Length of the closed tour visiting ``points`` in ``order`` and returning to the first."""
    return sum(math.dist(points[a], points[b]) for a, b in zip(order, order[1:] + order[:1]))


def nearest_neighbour(points: list[Point], start: int = 0) -> list[int]:
    order, left = [start], set(range(len(points))) - {start}
    while left:
        here = points[order[-1]]
        following = min(left, key=lambda i: (math.dist(here, points[i]), i))
        order.append(following)
        left.remove(following)
    return order


def two_opt(points: list[Point], order: list[int]) -> list[int]:
    """Reverse segments while that shortens the closed tour; ``order[0]`` (the start) stays first."""
    order = list(order)
    n = len(order)
    improved = True
    while improved:
        improved = False
        for i in range(1, n - 1):
            for j in range(i + 1, n):
                a, b = points[order[i - 1]], points[order[i]]
                c, d = points[order[j]], points[order[(j + 1) % n]]
                if math.dist(a, c) + math.dist(b, d) < math.dist(a, b) + math.dist(c, d) - 1e-9:
                    order[i : j + 1] = reversed(order[i : j + 1])
                    improved = True
    return order


def plan_tour(points: list[Point]) -> list[int]:
    """Visiting order of ``points``, starting and ending at ``points[0]``."""
    if len(points) < 4:
        return nearest_neighbour(points)  # every closed tour of 3 or fewer points is optimal
    return two_opt(points, nearest_neighbour(points))
