"""Fast checks for the JSON Schema formats `iri` and `iri-reference` (RFC 3987), as compiled patterns.

jsonschema checks these formats with rfc3987-syntax, an Earley parser that takes ~40 ms per
URL: an npm SBOM with 4,500 external references took three minutes. The grammar of RFC 3987 is
regular, so it is written out here as one regular expression per rule, built from the RFC's
ABNF names. Every repetition is over characters that cannot also start the next part, so the
match is linear in the length of the value, hostile values included.

Where the reference parser departs from the RFC we follow the RFC (tests/sbom/test_formats.py
lists each such case): it lacks the supplementary planes of `ucschar` and `iprivate`
(U+10000 and above) and the shortened IPv6 forms such as `[::1]`.
"""

from __future__ import annotations

import re
from typing import Callable

_UCSCHAR = (
    "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef"
    "\U00010000-\U0001fffd\U00020000-\U0002fffd\U00030000-\U0003fffd\U00040000-\U0004fffd"
    "\U00050000-\U0005fffd\U00060000-\U0006fffd\U00070000-\U0007fffd\U00080000-\U0008fffd"
    "\U00090000-\U0009fffd\U000a0000-\U000afffd\U000b0000-\U000bfffd\U000c0000-\U000cfffd"
    "\U000d0000-\U000dfffd\U000e1000-\U000efffd"
)
_IPRIVATE = "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
_UNRESERVED = r"A-Za-z0-9\-._~"
_SUB_DELIMS = r"!$&'()*+,;="
_PCT = r"%[0-9A-Fa-f]{2}"


def _chars(extra: str) -> str:
    """`iunreserved / pct-encoded / sub-delims` plus `extra` characters."""
    return f"(?:[{_UNRESERVED}{_UCSCHAR}{_SUB_DELIMS}{extra}]|{_PCT})"


_IPCHAR = _chars(":@")
_ISEGMENT = f"{_IPCHAR}*"
_ISEGMENT_NZ = f"{_IPCHAR}+"
_ISEGMENT_NZ_NC = f"{_chars('@')}+"
_IPATH_ABEMPTY = f"(?:/{_ISEGMENT})*"
_IPATH_ABSOLUTE = f"/(?:{_ISEGMENT_NZ}(?:/{_ISEGMENT})*)?"
_IPATH_ROOTLESS = f"{_ISEGMENT_NZ}(?:/{_ISEGMENT})*"
_IPATH_NOSCHEME = f"{_ISEGMENT_NZ_NC}(?:/{_ISEGMENT})*"

_H16 = "[0-9A-Fa-f]{1,4}"
_DEC_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
_IPV4 = rf"{_DEC_OCTET}(?:\.{_DEC_OCTET}){{3}}"
_LS32 = f"(?:{_H16}:{_H16}|{_IPV4})"


def _h16s(at_most: int) -> str:
    """`[ *at_most( h16 ":" ) h16 ]`, the part before `::` in RFC 3986's IPv6address."""
    return f"(?:(?:{_H16}:){{0,{at_most}}}{_H16})?" if at_most >= 0 else ""


_IPV6 = "(?:" + "|".join([
    f"(?:{_H16}:){{6}}{_LS32}",
    f"::(?:{_H16}:){{5}}{_LS32}",
    f"{_h16s(0)}::(?:{_H16}:){{4}}{_LS32}",
    f"{_h16s(1)}::(?:{_H16}:){{3}}{_LS32}",
    f"{_h16s(2)}::(?:{_H16}:){{2}}{_LS32}",
    f"{_h16s(3)}::{_H16}:{_LS32}",
    f"{_h16s(4)}::{_LS32}",
    f"{_h16s(5)}::{_H16}",
    f"{_h16s(6)}::",
]) + ")"
_IPVFUTURE = rf"v[0-9A-Fa-f]+\.[{_UNRESERVED}{_SUB_DELIMS}:]+"
_IP_LITERAL = rf"\[(?:{_IPV6}|{_IPVFUTURE})\]"
# IPv4address is also an ireg-name, so the host needs no rule of its own for it.
_IHOST = f"(?:{_IP_LITERAL}|{_chars('')}*)"
_IAUTHORITY = f"(?:{_chars(':')}*@)?{_IHOST}(?::[0-9]*)?"

_SCHEME = r"[A-Za-z][A-Za-z0-9+\-.]*"
_IQUERY = f"(?:\\?(?:{_IPCHAR}|[/?{_IPRIVATE}])*)?"
_IFRAGMENT = f"(?:#(?:{_IPCHAR}|[/?])*)?"
_IHIER_PART = f"(?://{_IAUTHORITY}{_IPATH_ABEMPTY}|{_IPATH_ABSOLUTE}|{_IPATH_ROOTLESS}|)"
_IRELATIVE_PART = f"(?://{_IAUTHORITY}{_IPATH_ABEMPTY}|{_IPATH_ABSOLUTE}|{_IPATH_NOSCHEME}|)"

_IRI = f"{_SCHEME}:{_IHIER_PART}{_IQUERY}{_IFRAGMENT}"
_IRELATIVE_REF = f"{_IRELATIVE_PART}{_IQUERY}{_IFRAGMENT}"

IRI = re.compile(_IRI)
IRI_REFERENCE = re.compile(f"(?:{_IRI}|{_IRELATIVE_REF})")


def is_iri(value: object) -> bool:
    return not isinstance(value, str) or IRI.fullmatch(value) is not None


def is_iri_reference(value: object) -> bool:
    return not isinstance(value, str) or IRI_REFERENCE.fullmatch(value) is not None


# The formats whose stock check is too slow for SBOMs, with the check used instead. The others
# (date-time, uri, idn-email, ...) are regular expressions or simple tests already.
FAST_FORMATS: dict[str, Callable[[object], bool]] = {"iri": is_iri, "iri-reference": is_iri_reference}
