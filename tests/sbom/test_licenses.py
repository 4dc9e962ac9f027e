import pytest

from registry.sbom.licenses import DEFAULT_POLICY, Policy, category, evaluate, evaluate_expression, normalize_entry


@pytest.mark.parametrize("name, spdx", [
    ("Apache License 2.0", "Apache-2.0"),
    ("Apache License, Version 2.0", "Apache-2.0"),
    ("The Apache Software License, Version 2.0", "Apache-2.0"),
    ("MIT License", "MIT"),
    ("BSD", "BSD-3-Clause"),
    ("License :: OSI Approved :: BSD License", "BSD-3-Clause"),
    ("License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)", "MPL-2.0"),
    ("Eclipse Public License - v 2.0", "EPL-2.0"),
    ("MIT", "MIT"),  # an SPDX id written in the name field
])
def test_alias_names(name, spdx):
    assert normalize_entry({"name": name}) == spdx


def test_deprecated_ids_are_normalised():
    assert normalize_entry({"id": "GPL-2.0"}) == "GPL-2.0-only"
    assert normalize_entry({"expression": "GPL-2.0+ OR MIT"}) == "GPL-2.0-or-later OR MIT"


@pytest.mark.parametrize("entry", [{"id": "NOASSERTION"}, {"expression": "NONE"}, {"expression": "MIT AND ((("}])
def test_no_usable_licence(entry):
    assert normalize_entry(entry) is None


@pytest.mark.parametrize("expression, verdict", [
    ("MIT", "allow"),
    ("LGPL-2.1-only", "allow"),
    ("GPL-3.0-only", "warn"),
    ("AGPL-3.0-only", "warn"),
    ("BUSL-1.1", "deny"),
    ("SSPL-1.0", "deny"),
    ("LicenseRef-Proprietary", "deny"),
    ("LicenseRef-acme-eula", "review"),
    # OR: the best option
    ("GPL-3.0-only OR MIT", "allow"),
    ("SSPL-1.0 OR AGPL-3.0-only", "warn"),
    ("LicenseRef-acme-eula OR Apache-2.0", "allow"),
    # AND: the worst
    ("MIT AND GPL-3.0-only", "warn"),
    ("MIT AND LicenseRef-acme-eula", "review"),
    ("GPL-3.0-only AND LicenseRef-acme-eula", "review"),
    ("Apache-2.0 AND Elastic-2.0", "deny"),
    ("(MIT OR SSPL-1.0) AND (GPL-2.0-only OR BUSL-1.1)", "warn"),
    # a linking exception makes GPL weak copyleft
    ("GPL-2.0-only WITH Classpath-exception-2.0", "allow"),
])
def test_default_policy_table(expression, verdict):
    assert evaluate_expression(expression).verdict == verdict


def test_missing_licence_needs_review():
    result = evaluate([])
    assert (result.expression, result.verdict) == (None, "review")


def test_unknown_name_needs_review_and_keeps_the_name():
    result = evaluate([{"name": "SEE LICENSE IN LICENSE.txt"}])
    assert result.verdict == "review"
    assert result.categories == ("unknown",)
    assert "LICENSE.txt" in result.expression


def test_several_entries_all_apply():
    result = evaluate([{"id": "MIT"}, {"id": "AGPL-3.0-only"}])
    assert result.expression == "MIT AND AGPL-3.0-only"
    assert result.verdict == "warn"
    assert result.categories == ("permissive", "network-copyleft")


def test_categories():
    assert category("apache-2.0") == "permissive"
    assert category("MPL-2.0") == "weak-copyleft"
    assert category("AGPL-3.0-or-later") == "network-copyleft"
    assert category("Commons-Clause") == "source-available"
    assert category("Frobnicate-1.0") == "unknown"


def test_rules_override_categories_and_defaults():
    policy = Policy.from_rules([("category", "strong-copyleft", "deny"), ("license", "GPL-2.0-only", "allow"),
                                ("category", "unknown", "deny")])
    assert evaluate_expression("GPL-3.0-only", policy).verdict == "deny"
    assert evaluate_expression("GPL-2.0-only", policy).verdict == "allow"
    assert evaluate_expression("LicenseRef-x", policy).verdict == "deny"
    # categories without a rule keep the default
    assert evaluate_expression("AGPL-3.0-only", policy).verdict == DEFAULT_POLICY["network-copyleft"]
