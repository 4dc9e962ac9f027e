"""The outlines of the 17 시·도, read from the vendored SVG map (data/south-korea.svg, CC BY 4.0; see
data/SOURCES.md), so the reuse page draws its map with no tiles or files from the network."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from xml.etree import ElementTree

MAP_FILE = Path(__file__).with_name("data") / "south-korea.svg"
SVG = "{http://www.w3.org/2000/svg}"


@dataclass(frozen=True)
class KoreaMap:
    view_box: str
    paths: dict[str, str]  # province (its Province value, the path's id) -> the path's d


@cache
def korea_map() -> KoreaMap:
    # ElementTree without defusedxml is fine here: the file is the registry's own, never an upload.
    root = ElementTree.parse(MAP_FILE).getroot()
    return KoreaMap(root.attrib["viewBox"], {path.attrib["id"]: path.attrib["d"] for path in root.iter(f"{SVG}path")})


SHADES = 4  # levels above "none": fills .shade-1 … .shade-4 in static/style.css


@dataclass(frozen=True)
class Shade:
    level: int  # 0: none
    low: int
    high: int


def shading(values: dict[str, int]) -> tuple[dict[str, int], list[Shade]]:
    """Each province's level (0 for none; the largest value always the darkest, SHADES) and the legend:
    the whole-number range of each level in use."""
    top = max(values.values(), default=0)
    if top <= 0:
        return dict.fromkeys(values, 0), [Shade(0, 0, 0)]
    ranges = [Shade(level, (level - 1) * top // SHADES + 1, level * top // SHADES) for level in range(1, SHADES + 1)]
    return ({key: -(-value * SHADES // top) for key, value in values.items()},
            [Shade(0, 0, 0), *(shade for shade in ranges if shade.low <= shade.high)])


@dataclass(frozen=True)
class Credit:
    """What CC BY 4.0 asks the page to say about the map it draws."""

    work: str
    work_url: str
    author: str
    based_on: str
    licence: str
    licence_url: str


CREDIT = Credit("svg-maps: South Korea", "https://github.com/VictorCazanave/svg-maps", "Victor Cazanave",
                "MapSVG", "CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/")
