"""Controlled vocabularies of solution.yaml v1, written once for the validator,
the JSON Schema test, the docs and the web UI."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

MANIFEST_VERSION: Final = "1"

# Text blocks (title/summary/description) are keyed by these BCP 47 tags.
LANGUAGES: Final = ("ko", "en")

LanguageLabels = dict[str, dict[str, str]]

CATEGORY_LABELS: Final[LanguageLabels] = {
    "mobility": {"ko": "모빌리티", "en": "Mobility"},
    "parking": {"ko": "주차", "en": "Parking"},
    "safety": {"ko": "안전", "en": "Safety"},
    "environment": {"ko": "환경", "en": "Environment"},
    "energy": {"ko": "에너지", "en": "Energy"},
    "water": {"ko": "물관리", "en": "Water"},
    "welfare": {"ko": "복지", "en": "Welfare"},
    "health": {"ko": "보건·의료", "en": "Health"},
    "administration": {"ko": "행정", "en": "Administration"},
    "tourism": {"ko": "관광", "en": "Tourism"},
    "culture": {"ko": "문화", "en": "Culture"},
    "education": {"ko": "교육", "en": "Education"},
    "disaster": {"ko": "재난·재해", "en": "Disaster management"},
    "transport-infrastructure": {"ko": "교통 인프라", "en": "Transport infrastructure"},
    "smart-building": {"ko": "스마트 빌딩", "en": "Smart building"},
    "agriculture": {"ko": "농업", "en": "Agriculture"},
}
CATEGORIES: Final = tuple(CATEGORY_LABELS)

DEVELOPMENT_STATUS_LABELS: Final[LanguageLabels] = {
    "concept": {"ko": "구상", "en": "Concept"},
    "development": {"ko": "개발 중", "en": "In development"},
    "beta": {"ko": "베타", "en": "Beta"},
    "stable": {"ko": "안정", "en": "Stable"},
    "obsolete": {"ko": "지원 종료", "en": "Obsolete"},
}
DEVELOPMENT_STATUSES: Final = tuple(DEVELOPMENT_STATUS_LABELS)

PROGRAMME_LABELS: Final[LanguageLabels] = {
    "hub": {"ko": "거점형 스마트시티", "en": "Hub-type smart city"},
    "small-strong-climate": {"ko": "강소형 스마트시티(기후위기 대응)", "en": "Small-and-strong (climate crisis)"},
    "small-strong-population": {"ko": "강소형 스마트시티(지역소멸 대응)", "en": "Small-and-strong (local extinction)"},
    "solution-spread": {"ko": "스마트시티 솔루션 확산", "en": "Solution spread"},
    "data-hub-pilot": {"ko": "데이터허브 실증", "en": "Data-hub pilot"},
    "other": {"ko": "기타", "en": "Other"},
}
PROGRAMMES: Final = tuple(PROGRAMME_LABELS)

MAINTENANCE_TYPE_LABELS: Final[LanguageLabels] = {
    "contract": {"ko": "유지보수 계약", "en": "Maintenance contract"},
    "internal": {"ko": "지자체 자체 유지보수", "en": "Maintained in-house"},
    "community": {"ko": "커뮤니티", "en": "Community"},
    "none": {"ko": "유지보수 없음", "en": "Not maintained"},
}
MAINTENANCE_TYPES: Final = tuple(MAINTENANCE_TYPE_LABELS)


class Province(StrEnum):
    """The 17 first-level divisions (시·도) an organisation is in: not a manifest field, but the
    registry's own vocabulary for organisations. The values are the ids of the provinces in the
    vendored map (registry/catalog/data/south-korea.svg), so the reuse map is shaded by them."""

    SEOUL = "seoul"
    BUSAN = "busan"
    DAEGU = "daegu"
    INCHEON = "incheon"
    GWANGJU = "gwangju"
    DAEJEON = "daejeon"
    ULSAN = "ulsan"
    SEJONG = "sejong"
    GYEONGGI = "gyeonggi"
    GANGWON = "gangwon"
    NORTH_CHUNGCHEONG = "north-chungcheong"
    SOUTH_CHUNGCHEONG = "south-chungcheong"
    NORTH_JEOLLA = "north-jeolla"
    SOUTH_JEOLLA = "south-jeolla"
    NORTH_GYEONGSANG = "north-gyeongsang"
    SOUTH_GYEONGSANG = "south-gyeongsang"
    JEJU = "jeju"


PROVINCE_LABELS: Final[LanguageLabels] = {
    Province.SEOUL: {"ko": "서울특별시", "en": "Seoul"},
    Province.BUSAN: {"ko": "부산광역시", "en": "Busan"},
    Province.DAEGU: {"ko": "대구광역시", "en": "Daegu"},
    Province.INCHEON: {"ko": "인천광역시", "en": "Incheon"},
    Province.GWANGJU: {"ko": "광주광역시", "en": "Gwangju"},
    Province.DAEJEON: {"ko": "대전광역시", "en": "Daejeon"},
    Province.ULSAN: {"ko": "울산광역시", "en": "Ulsan"},
    Province.SEJONG: {"ko": "세종특별자치시", "en": "Sejong"},
    Province.GYEONGGI: {"ko": "경기도", "en": "Gyeonggi"},
    Province.GANGWON: {"ko": "강원특별자치도", "en": "Gangwon"},
    Province.NORTH_CHUNGCHEONG: {"ko": "충청북도", "en": "North Chungcheong"},
    Province.SOUTH_CHUNGCHEONG: {"ko": "충청남도", "en": "South Chungcheong"},
    Province.NORTH_JEOLLA: {"ko": "전북특별자치도", "en": "Jeonbuk (North Jeolla)"},
    Province.SOUTH_JEOLLA: {"ko": "전라남도", "en": "South Jeolla"},
    Province.NORTH_GYEONGSANG: {"ko": "경상북도", "en": "North Gyeongsang"},
    Province.SOUTH_GYEONGSANG: {"ko": "경상남도", "en": "South Gyeongsang"},
    Province.JEJU: {"ko": "제주특별자치도", "en": "Jeju"},
}
PROVINCES: Final = tuple(p.value for p in Province)

# NGSI-LD operations a solution performs on an entity type.
ACCESS_MODES: Final = ("read", "write", "subscribe", "temporal")
ATTRIBUTE_TYPES: Final = ("Property", "Relationship", "GeoProperty")
DATAHUB_APIS: Final = ("ngsi-ld",)

# Deployment kinds, with their labels, checks and install commands: registry/spec/deploy.py DEPLOY_KINDS.
ARCHITECTURES: Final = ("amd64", "arm64", "armv7", "ppc64le", "s390x")

# Keep-a-Changelog sections.
CHANGE_KINDS: Final = ("added", "changed", "deprecated", "removed", "fixed", "security")

# The licence of a published solution must be OSI-approved, or the EUPL (which
# the European Commission recommends for public-sector software; EUPL-1.1/1.2
# are OSI-approved as well). license-expression ships no OSI flag, so this is a
# snapshot of the SPDX License List 3.29 entries marked "isOsiApproved": true.
# Update it when the SPDX list changes.
OSI_APPROVED_LICENSES: Final = frozenset(
    """
    0BSD AAL AFL-1.1 AFL-1.2 AFL-2.0 AFL-2.1 AFL-3.0 AGPL-3.0 AGPL-3.0-only
    AGPL-3.0-or-later ALGLIB-Documentation APL-1.0 APSL-1.0 APSL-1.1 APSL-1.2
    APSL-2.0 Apache-1.1 Apache-2.0 Artistic-1.0 Artistic-1.0-Perl Artistic-1.0-cl8
    Artistic-2.0 BSD-1-Clause BSD-2-Clause BSD-2-Clause-Patent BSD-3-Clause
    BSD-3-Clause-LBNL BSD-3-Clause-Open-MPI BSD-ask-to-endorse BSL-1.0 BlueOak-1.0.0
    CAL-1.0 CAL-1.0-Combined-Work-Exception CATOSL-1.1 CDDL-1.0 CDDL-1.1 CECILL-2.1
    CERN-OHL-P-2.0 CERN-OHL-S-2.0 CERN-OHL-W-2.0 CNRI-Python
    CNRI-Python-GPL-Compatible CPAL-1.0 CPL-1.0 CUA-OPL-1.0 ECL-1.0 ECL-2.0 EFL-1.0
    EFL-2.0 EPL-1.0 EPL-2.0 EUDatagrid EUPL-1.1 EUPL-1.2 Entessa Fair Frameworx-1.0
    GPL-2.0 GPL-2.0+ GPL-2.0-only GPL-2.0-or-later GPL-3.0 GPL-3.0+ GPL-3.0-only
    GPL-3.0-or-later GPL-3.0-with-GCC-exception HPND ICU IPA IPL-1.0 ISC Intel Jam
    LGPL-2.0 LGPL-2.0+ LGPL-2.0-only LGPL-2.0-or-later LGPL-2.1 LGPL-2.1+
    LGPL-2.1-only LGPL-2.1-or-later LGPL-3.0 LGPL-3.0+ LGPL-3.0-only
    LGPL-3.0-or-later LPL-1.0 LPL-1.02 LPPL-1.3c LiLiQ-P-1.1 LiLiQ-R-1.1
    LiLiQ-Rplus-1.1 MIT MIT-0 MIT-Modern-Variant MPL-1.0 MPL-1.1 MPL-2.0
    MPL-2.0-no-copyleft-exception MS-PL MS-RL MirOS Motosoto MulanPSL-2.0 Multics
    NASA-1.3 NCSA NGPL NPOSL-3.0 NTP Naumen Nokia OCLC-2.0 OFL-1.1 OFL-1.1-RFN
    OFL-1.1-no-RFN OGTSL OLDAP-2.8 OLFL-1.3 OSC-1.0 OSET-PL-2.1 OSL-1.0 OSL-2.0
    OSL-2.1 OSL-3.0 PHP-3.0 PHP-3.01 PostgreSQL Python-2.0 Python-2.0.1 QPL-1.0
    RPL-1.1 RPL-1.5 RPSL-1.0 RSCPL SISSL SPL-1.0 SimPL-2.0 Sleepycat UCL-1.0 UPL-1.0
    Unicode-3.0 Unicode-DFS-2016 Unlicense VSL-1.0 W3C W3C-20150513 Watcom-1.0
    WordNet Xnet ZPL-2.0 ZPL-2.1 Zlib curl wxWindows
    """.split()
)
EUPL_LICENSES: Final = frozenset({"EUPL-1.0", "EUPL-1.1", "EUPL-1.2"})
ACCEPTED_LICENSES: Final = OSI_APPROVED_LICENSES | EUPL_LICENSES


def localized(texts: object, language: str) -> str:
    """A text block ({"ko": …, "en": …}) in ``language``, else in another supported language, else any;
    a plain value is its own text."""
    if not isinstance(texts, dict):
        return "" if texts is None else str(texts)
    for key in (language, *LANGUAGES):
        if texts.get(key):
            return str(texts[key])
    return next((str(text) for text in texts.values() if text), "")


def label(labels: LanguageLabels, key: str, language: str = "ko") -> str:
    """Display label of ``key`` in ``language`` (falls back to the other language, then the key)."""
    return localized(labels.get(key), language) or key
