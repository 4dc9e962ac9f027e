"""Korean Comprehensive Air-quality Index (통합대기환경지수, CAI).

Breakpoints and index bands as published by AirKorea / Korea Environment Corporation
(한국환경공단 에어코리아, "통합대기환경지수 산출방법"): gases are 1-hour concentrations in
ppm, PM10 and PM2.5 24-hour averages in µg/m³ (PM2.5 bands as revised in March 2018).
Sub-index: I = (I_HI - I_LO) / (BP_HI - BP_LO) × (C - BP_LO) + I_LO.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Index bands of the four grades: 좋음, 보통, 나쁨, 매우나쁨.
INDEX_BANDS = ((0, 50), (51, 100), (101, 250), (251, 500))
GRADES = ("좋음", "보통", "나쁨", "매우나쁨")
GRADES_EN = ("good", "moderate", "unhealthy", "very unhealthy")


@dataclass(frozen=True)
class Pollutant:
    key: str  # attribute name in AirQualityObserved
    label: str
    unit: str
    decimals: int  # published precision; the bands leave gaps below it (0.020 | 0.021)
    breakpoints: tuple[tuple[float, float], ...]
    molar_mass: float | None = None  # g/mol, for converting mass concentrations of gases


POLLUTANTS = (
    Pollutant("so2", "아황산가스 SO₂", "ppm", 3,
              ((0, 0.020), (0.021, 0.050), (0.051, 0.150), (0.151, 1.0)), 64.066),
    Pollutant("co", "일산화탄소 CO", "ppm", 2,
              ((0, 2.00), (2.01, 9.00), (9.01, 15.00), (15.01, 50.00)), 28.010),
    Pollutant("o3", "오존 O₃", "ppm", 3,
              ((0, 0.030), (0.031, 0.090), (0.091, 0.150), (0.151, 0.600)), 47.997),
    Pollutant("no2", "이산화질소 NO₂", "ppm", 3,
              ((0, 0.030), (0.031, 0.060), (0.061, 0.200), (0.201, 2.000)), 46.0055),
    Pollutant("pm10", "미세먼지 PM10", "µg/m³", 0, ((0, 30), (31, 80), (81, 150), (151, 600))),
    Pollutant("pm25", "초미세먼지 PM2.5", "µg/m³", 0, ((0, 15), (16, 35), (36, 75), (76, 500))),
)
BY_KEY = {p.key: p for p in POLLUTANTS}
# AirKorea publishes an overall CAI only when these four are measured.
REQUIRED_FOR_OVERALL = ("pm10", "pm25", "o3", "no2")
MOLAR_VOLUME_L = 24.45  # litres per mole at 25 °C and 1 atm


def to_table_unit(pollutant: Pollutant, value: float, unit_code: str | None) -> float:
    """Convert a reading to the table's unit. UN/CEFACT codes: GQ µg/m³, GP mg/m³, 59 ppm, 61 ppb.

    Without a unit code, the AirKorea conventions apply (gases in ppm, dust in µg/m³).
    """
    if pollutant.unit == "µg/m³":
        factors = {None: 1.0, "GQ": 1.0, "GP": 1000.0}
        if unit_code not in factors:
            raise ValueError(f"{pollutant.key}: unsupported unit code {unit_code!r} for particulates")
        return value * factors[unit_code]
    assert pollutant.molar_mass is not None
    if unit_code in (None, "59"):
        return value
    if unit_code == "61":
        return value / 1000.0
    if unit_code == "GQ":
        return value * MOLAR_VOLUME_L / (pollutant.molar_mass * 1000.0)
    if unit_code == "GP":
        return value * MOLAR_VOLUME_L / pollutant.molar_mass
    raise ValueError(f"{pollutant.key}: unsupported unit code {unit_code!r}")


def grade_of(index: int) -> int:
    """0 좋음, 1 보통, 2 나쁨, 3 매우나쁨."""
    for grade, (_, high) in enumerate(INDEX_BANDS):
        if index <= high:
            return grade
    return len(INDEX_BANDS) - 1


def sub_index(key: str, concentration: float) -> int:
    """CAI sub-index (0-500) of one pollutant; `concentration` in the table's unit."""
    pollutant = BY_KEY.get(key)
    if pollutant is None:
        raise ValueError(f"unknown pollutant {key!r}; expected one of {', '.join(BY_KEY)}")
    if not math.isfinite(concentration) or concentration < 0:
        raise ValueError(f"{key}: concentration must be a non-negative number, got {concentration!r}")
    scale = 10**pollutant.decimals
    # Truncate to the published precision so that values never fall into a band gap.
    c = math.floor(concentration * scale + 1e-9) / scale
    for (bp_lo, bp_hi), (i_lo, i_hi) in zip(pollutant.breakpoints, INDEX_BANDS, strict=True):
        if c <= bp_hi:
            # Half up, as index values are published (Python's round() goes half to even).
            return math.floor((i_hi - i_lo) / (bp_hi - bp_lo) * (c - bp_lo) + i_lo + 0.5)
    return 500  # beyond the table: the index is capped


@dataclass(frozen=True)
class CaiResult:
    sub_indices: dict[str, int]
    overall: int | None  # None when a pollutant required by AirKorea is missing
    main_pollutant: str | None

    @property
    def grade(self) -> int | None:
        return None if self.overall is None else grade_of(self.overall)

    def to_json(self) -> dict:
        grade = self.grade
        return {
            "cai": self.overall,
            "grade": None if grade is None else GRADES[grade],
            "gradeEn": None if grade is None else GRADES_EN[grade],
            "mainPollutant": self.main_pollutant,
            "subIndices": {
                key: {"index": value, "grade": GRADES[grade_of(value)]}
                for key, value in self.sub_indices.items()
            },
        }


def comprehensive_index(concentrations: dict[str, float]) -> CaiResult:
    """Overall CAI: the highest sub-index, raised by 50 when two pollutants are 나쁨 or
    worse and by 75 when three or more are (AirKorea's rule for combined exposure)."""
    subs = {key: sub_index(key, value) for key, value in concentrations.items()}
    if not subs or any(key not in subs for key in REQUIRED_FOR_OVERALL):
        return CaiResult(subs, None, None)
    main = max(subs, key=lambda key: (subs[key], key))
    unhealthy = sum(1 for value in subs.values() if grade_of(value) >= 2)
    bonus = 75 if unhealthy >= 3 else 50 if unhealthy == 2 else 0
    return CaiResult(subs, min(subs[main] + bonus, 500), main)
