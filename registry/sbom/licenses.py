"""Licence policy: normalise what an SBOM says about a component's licence, put it in a
category, and judge it against the registry's policy.

Verdicts, from best to worst: allow < warn < review < deny. In an SPDX expression
``A OR B`` gets the best verdict of its options (the user may choose), ``A AND B`` the
worst (both apply). Several licence entries on one component are combined with AND (the
conservative reading). A missing or unreadable licence is "review": a person must look.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Mapping

from boolean.boolean import AND, OR, Expression
from license_expression import ExpressionError, LicenseSymbol, LicenseWithExceptionSymbol

from registry.sbom.models import LicenseVerdict, PolicyRuleKind
from registry.spec.spdxlicensing import spdx_licensing

VERDICTS = tuple(LicenseVerdict)
ACTIONS = (LicenseVerdict.ALLOW, LicenseVerdict.WARN, LicenseVerdict.DENY)  # "review" only for unknown licences
CATEGORIES = ("permissive", "weak-copyleft", "strong-copyleft", "network-copyleft",
              "source-available", "proprietary", "unknown")

# Used when the admin has set no rule for a category (docs/sbom.md has this table).
DEFAULT_POLICY: dict[str, str] = {
    "permissive": "allow",
    "weak-copyleft": "allow",
    "strong-copyleft": "warn",
    "network-copyleft": "warn",
    "source-available": "deny",
    "proprietary": "deny",
    "unknown": "review",
}

_CATEGORY_IDS: dict[str, tuple[str, ...]] = {
    "permissive": (
        "0BSD", "AFL-2.1", "AFL-3.0", "Apache-1.0", "Apache-1.1", "Apache-2.0", "Artistic-2.0", "BlueOak-1.0.0",
        "BSD-1-Clause", "BSD-2-Clause", "BSD-2-Clause-Patent", "BSD-3-Clause", "BSD-3-Clause-Clear",
        "BSD-4-Clause", "BSL-1.0", "CC0-1.0", "CC-BY-3.0", "CC-BY-4.0", "curl", "ECL-2.0", "EFL-2.0",
        "FSFAP", "HPND", "ICU", "IJG", "ISC", "JSON", "Libpng", "libpng-2.0", "MIT", "MIT-0", "MIT-CMU",
        "MulanPSL-2.0", "NCSA", "OpenSSL", "PHP-3.0", "PHP-3.01", "PostgreSQL", "PSF-2.0", "Python-2.0",
        "Python-2.0.1", "Ruby", "Unicode-3.0", "Unicode-DFS-2016", "Unlicense", "UPL-1.0", "W3C",
        "W3C-20150513", "WTFPL", "X11", "Zlib", "zlib-acknowledgement", "ZPL-2.0", "ZPL-2.1", "BSD-Source-Code",
    ),
    "weak-copyleft": (
        "CDDL-1.0", "CDDL-1.1", "CPL-1.0", "EPL-1.0", "EPL-2.0", "EUPL-1.1", "EUPL-1.2", "LGPL-2.0-only",
        "LGPL-2.0-or-later", "LGPL-2.1-only", "LGPL-2.1-or-later", "LGPL-3.0-only", "LGPL-3.0-or-later",
        "MPL-1.1", "MPL-2.0", "MPL-2.0-no-copyleft-exception", "MS-RL", "OSL-3.0", "CECILL-C", "CC-BY-SA-4.0",
        "CC-BY-SA-3.0", "ODbL-1.0", "LGPLLR", "IPL-1.0", "APSL-2.0", "Ms-PL", "CPAL-1.0", "OFL-1.1",
    ),
    "strong-copyleft": (
        "GPL-1.0-only", "GPL-1.0-or-later", "GPL-2.0-only", "GPL-2.0-or-later", "GPL-3.0-only",
        "GPL-3.0-or-later", "CECILL-2.1", "EUPL-1.0", "Sleepycat", "QPL-1.0", "CC-BY-SA-2.0", "RPL-1.5",
    ),
    "network-copyleft": ("AGPL-1.0-only", "AGPL-1.0-or-later", "AGPL-3.0-only", "AGPL-3.0-or-later", "OSL-1.0"),
    "source-available": (
        "BUSL-1.1", "SSPL-1.0", "Elastic-2.0", "Commons-Clause", "PolyForm-Noncommercial-1.0.0",
        "PolyForm-Small-Business-1.0.0", "CC-BY-NC-4.0", "CC-BY-NC-SA-4.0", "CC-BY-NC-ND-4.0", "CC-BY-ND-4.0",
        "LicenseRef-scancode-commons-clause", "LicenseRef-scancode-elastic-license-v2",
    ),
    "proprietary": ("LicenseRef-Proprietary", "LicenseRef-scancode-proprietary-license", "LicenseRef-Commercial"),
}
CATEGORY_OF: dict[str, str] = {sid.lower(): cat for cat, ids in _CATEGORY_IDS.items() for sid in ids}

# Linking exceptions that make a strong-copyleft licence behave like a weak one for reusers.
_LINKING_EXCEPTIONS = {"classpath-exception-2.0", "gcc-exception-3.1", "gcc-exception-2.0", "llvm-exception",
                       "openjdk-assembly-exception-1.0", "universal-foss-exception-1.0"}

# Licence *names* that generators write instead of SPDX ids (PyPI classifiers, Maven POM names,
# npm "license" strings). Keys are compared after _name_key(); values are SPDX expressions.
# "BSD" alone is ambiguous; mapping it to BSD-3-Clause keeps the category (permissive) right.
NAME_ALIASES: dict[str, str] = {
    "apache": "Apache-2.0", "apache 2": "Apache-2.0", "apache 2.0": "Apache-2.0", "apache2": "Apache-2.0",
    "apache license": "Apache-2.0", "apache license 2.0": "Apache-2.0", "apache license version 2.0": "Apache-2.0",
    "apache software license": "Apache-2.0", "the apache license version 2.0": "Apache-2.0",
    "the apache software license version 2.0": "Apache-2.0", "asl 2.0": "Apache-2.0",
    "mit": "MIT", "mit license": "MIT", "the mit license": "MIT", "expat": "MIT", "mit no attribution": "MIT-0",
    "bsd": "BSD-3-Clause", "bsd license": "BSD-3-Clause", "new bsd license": "BSD-3-Clause",
    "bsd 3-clause": "BSD-3-Clause", "bsd 3-clause license": "BSD-3-Clause", "revised bsd license": "BSD-3-Clause",
    "the bsd license": "BSD-3-Clause", "bsd 2-clause": "BSD-2-Clause", "simplified bsd license": "BSD-2-Clause",
    "bsd 2-clause license": "BSD-2-Clause", "isc license": "ISC", "isc license (iscl)": "ISC",
    "python software foundation license": "PSF-2.0", "psf": "PSF-2.0",
    "mozilla public license 2.0": "MPL-2.0", "mozilla public license 2.0 (mpl 2.0)": "MPL-2.0",
    "eclipse public license 1.0": "EPL-1.0", "eclipse public license 2.0": "EPL-2.0",
    "eclipse public license - v 2.0": "EPL-2.0", "eclipse public license v2.0": "EPL-2.0",
    "gnu general public license v2 (gplv2)": "GPL-2.0-only", "gnu general public license v3 (gplv3)": "GPL-3.0-only",
    "gnu general public license v2 or later (gplv2+)": "GPL-2.0-or-later",
    "gnu general public license v3 or later (gplv3+)": "GPL-3.0-or-later",
    "gnu lesser general public license v2 (lgplv2)": "LGPL-2.0-only",
    "gnu lesser general public license v3 (lgplv3)": "LGPL-3.0-only",
    "gnu lesser general public license v2 or later (lgplv2+)": "LGPL-2.0-or-later",
    "gnu lesser general public license v3 or later (lgplv3+)": "LGPL-3.0-or-later",
    "gnu library or lesser general public license (lgpl)": "LGPL-2.1-or-later",
    "gnu affero general public license v3": "AGPL-3.0-only",
    "gnu affero general public license v3 or later (agplv3+)": "AGPL-3.0-or-later",
    "gpl": "GPL-2.0-or-later", "lgpl": "LGPL-2.1-or-later",
    "common development and distribution license 1.0": "CDDL-1.0", "cddl 1.1": "CDDL-1.1",
    "the unlicense": "Unlicense", "the unlicense (unlicense)": "Unlicense", "public domain": "Unlicense",
    "boost software license 1.0": "BSL-1.0", "zlib license": "Zlib", "zlib/libpng license": "Zlib",
    "server side public license": "SSPL-1.0", "elastic license 2.0": "Elastic-2.0",
    "business source license 1.1": "BUSL-1.1", "proprietary": "LicenseRef-Proprietary",
    "commercial": "LicenseRef-Commercial", "other/proprietary license": "LicenseRef-Proprietary",
}
_CLASSIFIER_PREFIX = re.compile(r"^license\s*::\s*(?:osi approved\s*::\s*)?", re.IGNORECASE)
_NOT_A_LICENCE = {"noassertion", "none", "unknown", "unlicensed", "see license", "see license in license"}


@dataclass(frozen=True)
class LicenseEvaluation:
    expression: str | None  # the normalised SPDX expression, None when nothing usable was stated
    verdict: str  # allow | warn | review | deny
    categories: tuple[str, ...]  # category of every licence mentioned


def _name_key(name: str) -> str:
    key = _CLASSIFIER_PREFIX.sub("", name.strip()).lower()
    return re.sub(r"[\s,]+", " ", key).strip()


@lru_cache(maxsize=20_000)
def _parse(expression: str) -> Expression | None:
    try:
        parsed = spdx_licensing().parse(expression, validate=False, strict=False)
    except (ExpressionError, Exception):  # the library raises several unrelated types on garbage
        return None
    return parsed


def normalize_entry(entry: Mapping[str, str]) -> str | None:
    """One CycloneDX licence entry ({id}, {name} or {expression}) as an SPDX expression, or None."""
    text = (entry.get("expression") or entry.get("id") or "").strip()
    if not text and entry.get("name"):
        name = entry["name"]
        text = NAME_ALIASES.get(_name_key(name), "")
        if not text:
            # Some generators put an SPDX id or expression in the name field.
            parsed = _parse(name.strip())
            if parsed is not None and not spdx_licensing().unknown_license_keys(parsed):
                text = name.strip()
            else:
                return f"LicenseRef-unknown-{re.sub(r'[^A-Za-z0-9.]+', '-', name.strip()).strip('-')[:60]}"
    if not text or text.lower() in _NOT_A_LICENCE:
        return None
    parsed = _parse(text)
    return None if parsed is None else str(parsed)


def category(license_key: str) -> str:
    return CATEGORY_OF.get(license_key.lower(), "unknown")


def _symbol_category(symbol: LicenseSymbol | LicenseWithExceptionSymbol) -> str:
    if isinstance(symbol, LicenseWithExceptionSymbol):
        base = category(symbol.license_symbol.key)
        if base == "strong-copyleft" and symbol.exception_symbol.key.lower() in _LINKING_EXCEPTIONS:
            return "weak-copyleft"
        return base
    return category(symbol.key)


@dataclass(frozen=True)
class Policy:
    """Actions per SPDX id (override) and per category; missing categories fall back to DEFAULT_POLICY."""

    by_license: Mapping[str, str]
    by_category: Mapping[str, str]

    @classmethod
    def from_rules(cls, rules: Iterable[tuple[str, str, str]]) -> Policy:
        """From (kind, subject, action) triples, as stored in LicensePolicyRule."""
        by_license, by_category = {}, dict(DEFAULT_POLICY)
        for kind, subject, action in rules:
            if kind == PolicyRuleKind.LICENSE:
                by_license[subject.lower()] = action
            elif kind == PolicyRuleKind.CATEGORY:
                by_category[subject] = action
        return cls(by_license, by_category)

    def judge_symbol(self, symbol: LicenseSymbol | LicenseWithExceptionSymbol) -> str:
        key = (symbol.license_symbol.key if isinstance(symbol, LicenseWithExceptionSymbol) else symbol.key).lower()
        if key in self.by_license:
            return self.by_license[key]
        return self.by_category.get(_symbol_category(symbol), "review")


DEFAULT = Policy.from_rules([])


def _rank(verdict: str) -> int:
    return VERDICTS.index(verdict)


def _judge(node: Expression, policy: Policy) -> str:
    if isinstance(node, (LicenseSymbol, LicenseWithExceptionSymbol)):
        return policy.judge_symbol(node)
    verdicts = [_judge(arg, policy) for arg in node.args]
    if isinstance(node, OR):
        return min(verdicts, key=_rank)
    if isinstance(node, AND):
        return max(verdicts, key=_rank)
    return "review"


def _symbols(node: Expression) -> list[LicenseSymbol | LicenseWithExceptionSymbol]:
    if isinstance(node, (LicenseSymbol, LicenseWithExceptionSymbol)):
        return [node]
    return [s for arg in node.args for s in _symbols(arg)]


def combine(entries: Iterable[Mapping[str, str]]) -> str | None:
    """All of a component's licence entries as one SPDX expression (AND), or None if none is usable."""
    parts = [p for p in (normalize_entry(e) for e in entries) if p]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return " AND ".join(f"({p})" if " " in p else p for p in dict.fromkeys(parts))


def evaluate_expression(expression: str | None, policy: Policy = DEFAULT) -> LicenseEvaluation:
    if not expression:
        return LicenseEvaluation(None, "review", ())
    parsed = _parse(expression)
    if parsed is None:
        return LicenseEvaluation(expression, "review", ("unknown",))
    categories = tuple(dict.fromkeys(_symbol_category(s) for s in _symbols(parsed)))
    return LicenseEvaluation(str(parsed), _judge(parsed, policy), categories)


def evaluate(entries: Iterable[Mapping[str, str]], policy: Policy = DEFAULT) -> LicenseEvaluation:
    """Judge a component's CycloneDX licence entries."""
    return evaluate_expression(combine(entries), policy)


def load_policy() -> Policy:
    """The policy stored in the database (LicensePolicyRule rows) over the defaults."""
    from sqlalchemy import select

    from registry.db import db
    from registry.sbom.models import LicensePolicyRule

    rows = db.session.execute(select(LicensePolicyRule.kind, LicensePolicyRule.subject, LicensePolicyRule.action))
    return Policy.from_rules(rows)
