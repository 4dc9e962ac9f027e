"""Hourly population flows and hotspot detection from aggregated FloatingPopulation data.

Only aggregated counts per area code are ever handled: the data hub publishes
head counts per administrative area, never individual positions or traces.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

ENTITY_TYPE = "FloatingPopulation"
HOUR = timedelta(hours=1)
# Populations are whole people; a flat baseline would otherwise give an infinite z-score.
MIN_STD = 1.0
MIN_BASELINE_SAMPLES = 3

Hourly = dict[str, dict[datetime, float]]  # areaCode -> hour (UTC) -> population


def parse_time(text: str) -> datetime:
    """Parse an ISO 8601 instant; it must carry a time zone so hours line up across sources."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not an ISO 8601 date-time: {text!r}") from exc
    if moment.tzinfo is None:
        raise ValueError(f"date-time needs a time zone (e.g. Z or +09:00): {text!r}")
    return moment.astimezone(timezone.utc)


def format_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instances(entity: dict[str, Any], attribute: str) -> list[dict[str, Any]]:
    """Temporal representation lists instances; a lone instance may come as an object."""
    value = entity.get(attribute)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def hourly_population(entities: Iterable[dict[str, Any]], area_prefix: str) -> Hourly:
    """Population per area code and UTC hour.

    Readings of one entity within an hour are averaged; entities of the same area
    (age-group / gender strata) are summed.
    """
    result: Hourly = defaultdict(dict)
    for entity in entities:
        codes = _instances(entity, "areaCode")
        if not codes:
            raise ValueError(f"{entity.get('id', '?')}: FloatingPopulation without areaCode")
        area_code = str(codes[0]["value"])
        if not area_code.startswith(area_prefix):
            continue
        readings: dict[datetime, list[float]] = defaultdict(list)
        for instance in _instances(entity, "populationCount"):
            if "observedAt" not in instance:
                raise ValueError(
                    f"{entity.get('id', '?')}: populationCount instance without observedAt"
                )
            value = instance.get("value")
            if not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{entity.get('id', '?')}: bad populationCount {value!r}")
            hour = parse_time(instance["observedAt"]).replace(minute=0, second=0, microsecond=0)
            readings[hour].append(float(value))
        for hour, values in readings.items():
            per_area = result[area_code]
            per_area[hour] = per_area.get(hour, 0.0) + statistics.fmean(values)
    return dict(result)


def estimate_flows(
    before: dict[str, float], after: dict[str, float]
) -> tuple[list[tuple[str, str, float]], float, float]:
    """Estimate area-to-area movement between two consecutive hours.

    Aggregated counts show only each area's net change, so the matched part of the
    losses is spread over the gaining areas in proportion to their gains. What cannot
    be matched crossed the boundary of the study area. Returns
    (flows [(from, to, people)], inflow from outside, outflow to outside).
    """
    changes = {code: after[code] - before[code] for code in before.keys() & after.keys()}
    gains = {code: d for code, d in changes.items() if d > 0}
    losses = {code: -d for code, d in changes.items() if d < 0}
    total_gain, total_loss = sum(gains.values()), sum(losses.values())
    matched = min(total_gain, total_loss)
    flows = [
        (source, target, matched * (lost / total_loss) * (gained / total_gain))
        for source, lost in sorted(losses.items())
        for target, gained in sorted(gains.items())
    ]
    return flows, total_gain - matched, total_loss - matched


def baseline_by_hour_of_day(history: Hourly) -> dict[tuple[str, int], tuple[float, float, int]]:
    """(areaCode, hour of day) -> (mean, standard deviation, number of samples)."""
    samples: dict[tuple[str, int], list[float]] = defaultdict(list)
    for area_code, hours in history.items():
        for hour, population in hours.items():
            samples[(area_code, hour.hour)].append(population)
    return {
        key: (statistics.fmean(values), statistics.pstdev(values), len(values))
        for key, values in samples.items()
    }


def build_report(
    window: Hourly,
    history: Hourly,
    *,
    area_prefix: str,
    start: datetime,
    end: datetime,
    z_threshold: float = 2.0,
    min_cell: int = 5,
) -> dict[str, Any]:
    """Combine flows and hotspots into one JSON-ready report.

    Counts below `min_cell` are suppressed so that small groups cannot be singled out.
    """
    if end <= start:
        raise ValueError("end must be after start")
    hours = []
    moment = start.replace(minute=0, second=0, microsecond=0)
    while moment < end:
        hours.append(moment)
        moment += HOUR

    areas = []
    for area_code in sorted(window):
        series = window[area_code]
        rows = []
        for hour in hours:
            if hour not in series:
                continue
            previous = series.get(hour - HOUR)
            change = None if previous is None else series[hour] - previous
            rows.append(
                {
                    "hour": format_time(hour),
                    "population": round(series[hour]),
                    "netInflow": round(max(change, 0.0)) if change is not None else None,
                    "netOutflow": round(max(-change, 0.0)) if change is not None else None,
                }
            )
        areas.append({"areaCode": area_code, "hours": rows})

    flows = []
    boundary = []
    for hour in hours:
        before = {code: s[hour - HOUR] for code, s in window.items() if hour - HOUR in s}
        after = {code: s[hour] for code, s in window.items() if hour in s}
        pairs, from_outside, to_outside = estimate_flows(before, after)
        for source, target, people in pairs:
            if people >= min_cell:
                flows.append(
                    {"hour": format_time(hour), "from": source, "to": target, "people": round(people)}
                )
        boundary.append(
            {
                "hour": format_time(hour),
                "inflowFromOutside": round(from_outside) if from_outside >= min_cell else 0,
                "outflowToOutside": round(to_outside) if to_outside >= min_cell else 0,
            }
        )

    baseline = baseline_by_hour_of_day(history)
    hotspots = []
    without_baseline = set()
    for area_code, series in sorted(window.items()):
        for hour in hours:
            population = series.get(hour)
            if population is None or population < min_cell:
                continue
            mean, std, count = baseline.get((area_code, hour.hour), (0.0, 0.0, 0))
            if count < MIN_BASELINE_SAMPLES:
                without_baseline.add(area_code)
                continue
            z_score = (population - mean) / max(std, MIN_STD)
            if z_score >= z_threshold:
                hotspots.append(
                    {
                        "areaCode": area_code,
                        "hour": format_time(hour),
                        "population": round(population),
                        "baselineMean": round(mean, 1),
                        "baselineStd": round(std, 1),
                        "zScore": round(z_score, 2),
                    }
                )

    return {
        "area": area_prefix,
        "start": format_time(start),
        "end": format_time(end),
        "zThreshold": z_threshold,
        "minCell": min_cell,
        "areas": areas,
        "flows": flows,
        "boundary": boundary,
        "hotspots": hotspots,
        "areasWithoutBaseline": sorted(without_baseline),
    }


def analyse(
    client: Any,
    *,
    area_prefix: str,
    start: datetime,
    end: datetime,
    baseline_days: int = 7,
    z_threshold: float = 2.0,
    min_cell: int = 5,
) -> dict[str, Any]:
    """Fetch the window and the preceding baseline days from the hub and build the report."""
    if not area_prefix.isdigit():
        raise ValueError(f"area must be a numeric administrative area code prefix, got {area_prefix!r}")
    if baseline_days < 1:
        raise ValueError("baseline_days must be at least 1")
    # Start one hour early so the first hour of the window has a net change too.
    window_entities = client.temporal_entities(
        ENTITY_TYPE, format_time(start - HOUR), format_time(end)
    )
    window = hourly_population(window_entities, area_prefix)
    baseline_start = start - timedelta(days=baseline_days)
    history = hourly_population(
        client.temporal_entities(ENTITY_TYPE, format_time(baseline_start), format_time(start)),
        area_prefix,
    )
    return build_report(
        window,
        history,
        area_prefix=area_prefix,
        start=start,
        end=end,
        z_threshold=z_threshold,
        min_cell=min_cell,
    )
