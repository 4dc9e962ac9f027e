"""What people read on the web, in their language, for things the services record in English.

Services keep English (the API's `detail`, a check's stored `summary`, audit action codes): API
clients and logs read those. The web shows the sentences made here instead: check summaries are
rebuilt from the check's details, audit actions become sentences, and the service errors people
meet on forms are matched to a translated sentence (`MESSAGES`). Text with no match is shown as it
is, except English in the Korean interface, which becomes a Korean sentence for its HTTP status.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from registry.web import reader_locale

HANGUL = re.compile("[\uac00-\ud7a3]")

VERDICTS = {"allow": _l("allowed"), "warn": _l("warning"), "review": _l("needs review"), "deny": _l("denied")}
SEVERITIES = {"critical": _l("critical"), "high": _l("high"), "medium": _l("medium"), "low": _l("low"),
              "unknown": _l("unknown severity")}
CHECK_NAMES = {"manifest": _l("Manifest"), "archive": _l("Archive"), "datahub": _l("Data hub"),
               "deploy": _l("Deployment"), "provenance": _l("Provenance"), "dependencies": _l("Dependencies"),
               "licenses": _l("Licences"), "vulnerabilities": _l("Vulnerabilities"),
               "license-files": _l("Licence files"), "blobs": _l("Binaries and blobs"), "secrets": _l("Secrets"),
               "secure-coding": _l("Secure coding"), "deploy-files": _l("Deployment files")}

EVENTS = {
    "adoption.record": _l("A city recorded a deployment"),
    "datahub.profile": _l("Data hub profile saved"),
    "key.register": _l("Signing key registered"),
    "key.revoke": _l("Signing key revoked"),
    "license_policy.changed": _l("Licence policy changed"),
    "log.witness_add": _l("Transparency log witness added"),
    "log.backfill": _l("Changes from before the transparency log were logged"),
    "org.create": _l("Organisation created"),
    "org.member_add": _l("Member added to the organisation"),
    "org.webhook": _l("Alert webhook changed"),
    "release.unyank": _l("Release restored"),
    "release.upload": _l("Release uploaded"),
    "release.yank": _l("Release yanked"),
    "review.approve": _l("Review: approved"),
    "review.first_approval": _l("Review: first of two approvals"),
    "review.request_changes": _l("Review: changes requested"),
    "review.reject": _l("Review: rejected"),
    "check.rerun": _l("Check run again"),
    "review_reason.create": _l("Review reason added"),
    "solution.state": _l("Solution state changed"),
    "token.create": _l("API token created"),
    "token.revoke": _l("API token revoked"),
    "user.create": _l("User created"),
    "user.recovery_code_used": _l("Recovery code used to sign in"),
    "user.two_factor_enable": _l("Two-factor sign-in turned on"),
}

# English service details (as raised in registry/*/service.py, fit.py, adoption.py) -> sentences
# for people; named groups become the sentence's placeholders.
MESSAGES: list[tuple[re.Pattern[str], Any]] = [(re.compile(pattern + r"\Z", re.S), text) for pattern, text in [
    (r"no solution named '(?P<name>.*)'", _l("There is no solution named %(name)s.")),
    (r"(?P<name>\S+) has no version '(?P<version>.*)'", _l("%(name)s has no version %(version)s.")),
    (r"no release with id (?P<id>\d+)", _l("There is no release number %(id)s.")),
    (r"only reviewers can review releases", _l("Only reviewers can review releases.")),
    (r"reasons must be a list of reason ids|unknown or retired reason id\(s\): (?P<ids>.*)",
     _l("Choose the reasons from the list.")),
    (r"say what has to change: a comment is required to request changes or reject",
     _l("Say what has to change: a comment is required to request changes or reject.")),
    (r"the comment is longer than (?P<n>\d+) characters", _l("The comment is longer than %(n)s characters.")),
    (r"you belong to (?P<org>.*), which published this release; another reviewer has to review it",
     _l("You belong to %(org)s, which published this release: another reviewer has to review it.")),
    (r"you already approved this first release; a second, different reviewer must approve it",
     _l("You already approved this first release: a second, different reviewer must approve it.")),
    (r"this release is (?P<state>.*), not waiting for review", _l("This release is no longer waiting for review.")),
    (r"you do not hold this release's claim", _l("You do not hold this release's claim.")),
    (r"checks are still running: (?P<names>.*); approve once they have finished",
     _l("Checks are still running (%(names)s): approve once they have finished.")),
    (r"the check (?P<name>\S+) is (?P<status>\S+); only a check that failed, timed out or could not run is run again",
     _l("Only a check that failed, timed out or could not run can be run again.")),
    (r"no check named '(?P<name>.*)' runs as a job; choose one of (?P<choices>.*)",
     _l("There is no check named %(name)s that can be run again.")),
    (r"not JSON \(.*\); upload what your broker returns for GET /ngsi-ld/v1/types\?details=true",
     _l("This is not JSON. Upload what your broker returns for GET /ngsi-ld/v1/types?details=true.")),
    (r"not an NGSI-LD entity type document: .*",
     _l("This is not an NGSI-LD entity type document: upload an EntityTypeList, a list of EntityType or "
        "EntityTypeInfo objects, or a data-model list.")),
    (r"the document lists no entity types", _l("The document lists no entity types.")),
    (r"the document is larger than (?P<n>\d+) MB", _l("The document is larger than %(n)s MB.")),
    (r"more than (?P<n>\d+) entity types", _l("The document lists more than %(n)s entity types.")),
    (r"(?P<name>.*) lists more than (?P<n>\d+) attributes", _l("%(name)s lists more than %(n)s attributes.")),
    (r"entity types must be JSON objects or names|EntityType\.attributeNames must be a list"
     r"|EntityTypeInfo\.attributeDetails must be a list|attributes of .* must be a list"
     r"|EntityTypeList\.typeList must be a list of type names|an entity type entry has no 'type'; .*"
     r"|.* must be non-empty text, not .*",
     _l("An entry of the document is not an NGSI-LD entity type with its attributes.")),
    (r"access must be a list of .*", _l("Choose how the solution may use your data hub: read, write, subscribe or temporal.")),
    (r"line (?P<line>\d+): the entity type '(?P<name>.*)' must be one word or a URI",
     _l("Line %(line)s: the entity type %(name)s must be one word or a URI.")),
    (r"list at least one entity type, one per line: .*",
     _l("List at least one entity type, one per line, e.g. OffStreetParking: availableSpotNumber, location.")),
    (r"NGSI-LD spec version must look like 1\.8\.1, not .*", _l("Write the NGSI-LD version like 1.8.1.")),
    (r"only members of (?P<org>.*) can do this", _l("Only members of %(org)s can do this.")),
    (r"only owners of (?P<org>.*) can do this", _l("Only owners of %(org)s can do this.")),
    (r"(?P<org>.*) is not a municipality; only municipalities record deployments and data hubs",
     _l("%(org)s is not a municipality: only municipalities record deployments and data hubs.")),
    (r"(?P<field>\S+) must be a date like 2024-05-31", _l("Write the date like 2024-05-31.")),
    (r"unknown stage '.*'; choose one of .*", _l("Choose piloting, in production or retired.")),
    (r"(?P<name>\S+) (?P<version>\S+) is not published", _l("%(name)s %(version)s is not published.")),
    (r"the deployment date is in the future", _l("The deployment date is in the future.")),
    (r"sign in to follow a solution", _l("Sign in to follow a solution.")),
    (r"unknown \S+ '(?P<value>.*)'; choose (?:one of|from) (?P<choices>.*)",
     _l("Unknown value %(value)s; choose from: %(choices)s.")),
    (r"(?P<facet>\S+) values are at most (?P<n>\d+) characters", _l("A filter value is at most %(n)s characters.")),
    (r"year must be a number like 2023, not .*", _l("Write the year as a number, like 2023.")),
    (r"only the owning organization or an admin can change a solution's state",
     _l("Only members of the organization that publishes it, or an admin, can change a solution's state.")),
    (r"(?P<name>\S+) is mirrored read-only from (?P<origin>.*); change it there",
     _l("%(name)s is a read-only copy from %(origin)s: change it there.")),
    (r"unknown solution state '.*'; choose one of .*", _l("Choose deprecate, archive or reactivate.")),
    (r"a solution cannot go from (?P<from>\S+) to (?P<to>\S+)",
     _l("The solution cannot go from its current state to the one chosen; reload the page to see its state.")),
    (r"no solution named '(?P<name>.*)' to succeed \S+",
     _l("There is no solution named %(name)s to name as successor.")),
    (r"only a deprecated solution names a successor", _l("Only a deprecation names a successor.")),
    (r"(?P<name>\S+) cannot be its own successor", _l("%(name)s cannot be its own successor.")),
    (r"the successor (?P<name>\S+) is (?P<state>\S+); name an active solution",
     _l("The successor %(name)s is not active itself: choose an active solution.")),
    (r"the successor (?P<name>\S+) has no published release to move to",
     _l("The successor %(name)s has no published release yet to move to.")),
    (r"the reason must be one line of text without control characters",
     _l("Write the reason on one line, without control characters.")),
    (r"the reason is longer than (?P<n>\d+) characters", _l("The reason is longer than %(n)s characters.")),
]]

# Errors whose stable code says more to people than their detail (written for operators).
BY_CODE = {"storage-unavailable": _l("The registry cannot reach its file storage right now; try again in a few "
                                     "minutes. It has been logged.")}

FALLBACK = {400: _l("The request could not be used; check what you entered."),
            401: _l("Please sign in first."), 403: _l("You may not do this."),
            404: _l("The page you asked for does not exist."), 409: _l("This conflicts with the current state; reload and try again."),
            413: _l("The upload is too large."), 422: _l("The upload could not be processed."),
            429: _l("Too many requests; wait a minute and try again."),
            503: _l("The registry cannot do this right now; try again in a few minutes.")}


def people_message(detail: str, status: int = 400, code: str | None = None) -> str:
    """The sentence people read for a service error `detail` (English), in the current language."""
    if code in BY_CODE:
        return str(BY_CODE[code])
    text = str(detail or "")
    for pattern, sentence in MESSAGES:
        match = pattern.match(text)
        if match:
            return str(sentence) % match.groupdict() if match.groupdict() else str(sentence)
    if reader_locale() != "ko" or HANGUL.search(text):
        return text  # already in the reader's language (a form's own message, a translated one)
    return str(FALLBACK.get(status) or _("Something went wrong; it has been logged."))


def check_name(name: str) -> str:
    return str(CHECK_NAMES.get(name) or name)


def json_text(value: Any) -> str:
    """JSON as people read it: Korean and ">=" as themselves, not \\uXXXX escapes."""
    import json

    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def event_sentence(action: str) -> str:
    return str(EVENTS.get(action) or action)


def verdict_label(verdict: str | None) -> str:
    return str(VERDICTS.get(verdict or "review") or verdict)


def _counts(counts: dict[str, int], labels: dict[str, Any]) -> str:
    return ", ".join(f"{labels.get(k, k)} {n}" for k, n in counts.items() if n)


def check_summary(check) -> str:
    """A check's summary in the reader's language, rebuilt from its details (the stored summary is English)."""
    d: dict[str, Any] = check.details or {}
    if "sentence" in d:  # code checks (registry/spec/codechecks.py) store their msgid and its parameters
        return _(d["sentence"], **d.get("params", {}))
    name, status = check.name, check.status
    if status == "running":
        return _("Running; the result appears here when the check has finished.")
    if name == "manifest":
        n = len(d.get("problems") or [])
        return ngettext("%(num)d warning in solution.yaml", "%(num)d warnings in solution.yaml", n) if n \
            else _("solution.yaml is valid")
    if name == "archive" and "files" in d:
        return _("%(files)s files, %(size)s bytes unpacked; no links, devices or unsafe paths",
                 files=d["files"], size=f"{d.get('unpacked_bytes', 0):,}")
    if name == "datahub":
        if d.get("unknown"):
            return _("%(num)s entity types or attributes are not in the catalogue", num=len(d["unknown"]))
        return _("%(num)s entity types, all known to the catalogue", num=len(d.get("entity_types") or []))
    if name == "deploy":
        kinds = sorted({t.get("kind", "?") for t in d.get("targets") or []})
        return _("Deployment files present and readable: %(kinds)s", kinds=", ".join(kinds)) if kinds \
            else _("No deployment targets declared")
    if name == "provenance":
        if not d:
            return _("No provenance statement: the build cannot be traced to a commit")
        commit = (d.get("commit") or "")[:12]
        if not d.get("signed"):
            return _("Unsigned provenance: %(repo)s @ %(tag)s (%(commit)s)", repo=d.get("repository"),
                     tag=d.get("tag"), commit=commit)
        return _("Signed by %(signer)s; built from %(tag)s (%(commit)s)", signer=d.get("signer"), tag=d.get("tag"),
                 commit=commit)
    if name == "dependencies":
        if d.get("unresolved"):
            return _("%(num)s dependencies have no matching published version", num=len(d["unresolved"]))
        return _("All dependencies resolve to published versions") if status == "pass" else str(check.summary)
    if name == "licenses" and "counts" in d:
        return _("Licences: %(counts)s", counts=_counts(d["counts"], VERDICTS)) if any(d["counts"].values()) \
            else _("No components")
    if name == "vulnerabilities" and "counts" in d:
        active = sum(d["counts"].values())
        if active:
            return _("%(num)s known vulnerabilities (%(counts)s)", num=active, counts=_counts(d["counts"], SEVERITIES))
        suppressed = d.get("suppressed_by_vex") or 0
        return _("No known vulnerabilities (%(num)s not applicable by VEX)", num=suppressed) if suppressed \
            else _("No known vulnerabilities")
    return str(check.summary)


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items() if v not in (None, "", [], {}))
    if isinstance(value, list):
        return "; ".join(_plain(v) for v in value)
    return "—" if value is None else str(value)


def detail_rows(details: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """A check's details as label/lines rows people can read (no JSON escapes such as \\u003e)."""
    rows = []
    for key, value in details.items():
        if value in ([], {}):
            continue
        lines = [_plain(v) for v in value] if isinstance(value, list) and any(isinstance(v, dict) for v in value) \
            else [_plain(value)]
        rows.append((key.replace("_", " "), lines))
    return rows
