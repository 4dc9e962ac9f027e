"""Checks that catch what a diff hides: licence texts, binaries and blobs, secrets, insecure Python
and unpinned or invalid deploy files, each a named check with pass / warn / fail and findings that
point at lines of the release's files.

Every check is a plain function of the package's files (read in memory from the archive) and its
manifest, with no Flask and no database: the registry runs them as jobs after an upload
(registry/review/checks.py records them) and `solreg check` runs them on the built archive. Nothing from a package is executed: the
scanners that want files on disk (detect-secrets, bandit, reuse) get a temporary directory with the
members written as plain, non-executable data. Each check has a budget of seconds and bytes; a check
that runs out stops reading and reports "timed_out" with what it found so far (a "fail" found before
stays "fail"), one that does not come back within its seconds at all is "timed_out" without findings,
and one that raises is "error" with the exception's one line (`run_code_check`).

Sentences are stored as their English msgid with parameters and translated when shown
(registry/ops/wording.py `check_summary`), so a reviewer reads them in the language they chose.
"""

from __future__ import annotations

import functools
import importlib
import json
import posixpath
import re
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import yaml

from registry.spec.archive import ArchiveContents, ArchiveLimits, read_archive
from registry.spec.members import FileEntry, ReleaseFiles, decode, entries_of, is_generated
from registry.spec.spdxlicensing import spdx_licensing

SECONDS: Final = 20.0  # per check
BYTES: Final = 64 * 1024 * 1024  # read per check
MINIFIED_BYTES: Final = 100 * 1024
LONG_LINE: Final = 1000  # a JS/CSS line longer than this is a minified bundle
FINDINGS_KEPT: Final = 200  # per check; the rest are counted
STATUS_ORDER: Final = {"pass": 0, "warn": 1, "fail": 2}
GRACE: Final = 1.0  # seconds past its budget a check may take to notice it ran out, before it is abandoned


def _l(msgid: str) -> str:
    """Marks a sentence for the catalogue; it is stored in English and translated when shown."""
    return msgid


@dataclass(frozen=True)
class Finding:
    path: str
    line: int | None
    message: str  # the tool's own words (a secret's type, a bandit test): never the secret itself
    severity: str = "warn"  # warn | fail


@dataclass
class CheckResult:
    name: str
    status: str
    sentence: str
    params: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        return self.sentence % self.params

    def details(self) -> dict[str, Any]:
        """As a Check row stores it: the sentence and its parameters (translated when shown), the findings."""
        return {"sentence": self.sentence, "params": self.params, "findings": [asdict(f) for f in self.findings],
                **self.extra}


class Budget:
    """Seconds and bytes a check may spend; `files` stops yielding once either is used up."""

    def __init__(self, seconds: float = SECONDS, max_bytes: int = BYTES) -> None:
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds
        self.left = max_bytes
        self.exhausted = False

    def files(self, entries: Iterable[FileEntry], cost: Callable[[FileEntry], int] = lambda e: e.size
              ) -> Iterator[FileEntry]:
        """The entries while seconds and bytes last; `cost` is what looking at one reads (all of it unless
        said otherwise: a check that only sniffs a file's first bytes is charged those)."""
        for entry in entries:
            charge = cost(entry)
            if self.out_of_time() or charge > self.left:
                self.exhausted = True
                return
            self.left -= charge
            yield entry

    def out_of_time(self) -> bool:
        if time.monotonic() > self.deadline:
            self.exhausted = True
        return self.exhausted


@dataclass
class CodeInput:
    """What the checks read: the members, the kept bytes, the manifest and the provenance's commit."""

    files: ReleaseFiles
    manifest: dict
    commit: str | None = None
    heads: dict[str, bytes] = field(default_factory=dict)  # every member's first bytes, kept or not
    reuse_coverage: list[int] = field(default_factory=lambda: [0, 0])  # own files asked, of all own files
    _workdir: tempfile.TemporaryDirectory | None = None
    _written: set[str] = field(default_factory=set)

    def text(self, path: str) -> str | None:
        data = self.files.contents.get(path)
        decoded = decode(data) if data is not None else None
        return decoded[0] if decoded else None

    def texts(self, budget: Budget, keep: Callable[[str], bool] = lambda _: True) -> Iterator[tuple[FileEntry, str]]:
        """The text files, the package's own before the vendored and generated ones, so a budget that
        runs out leaves the latter unread."""
        entries = sorted((e for e in self.files.entries if e.kind == "text" and keep(e.path)), key=lambda e: e.generated)
        for entry in budget.files(entries):
            text = self.text(entry.path)
            if text is not None:
                yield entry, text

    def materialise(self, paths: Iterable[str]) -> Path:
        """The kept members among `paths` written as plain data (mode 0644) under one temporary
        directory, each once, for the scanners that read files; returns that directory. Only what a
        scanner is about to read is written: a 20,000-file package need not be copied whole."""
        if self._workdir is None:
            self._workdir = tempfile.TemporaryDirectory(prefix="solreg-checks-")
        root = Path(self._workdir.name)
        for path in paths:
            if path in self._written:
                continue
            data = self.files.contents.get(path)
            if data is None:
                continue
            target = root / path  # paths are normalised by the archive reader: no "..", no "/"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            self._written.add(path)
        return root

    @property
    def workdir(self) -> Path:
        """Every kept member written as plain data (see `materialise`)."""
        return self.materialise(self.files.contents)

    def close(self) -> None:
        if self._workdir is not None:
            self._workdir.cleanup()


def line_of(text: str | None, pattern: str) -> int | None:
    """The 1-based line of the first match of a regular expression, if any."""
    if text is None:
        return None
    match = re.search(pattern, text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _kept(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.severity != "fail", f.path, f.line or 0))[:FINDINGS_KEPT]


# --- licence files ----------------------------------------------------------------------------

LICENSE_NAME = re.compile(r"^(LICEN[CS]E|COPYING)(\.[A-Za-z0-9.-]+)?$|^LICENSES/[A-Za-z0-9.+-]+\.txt$", re.IGNORECASE)
# Not the SPDX texts (no offline package ships them; `reuse` and `license-expression` carry only the
# list): each licence is told by its title near the top and a phrase of its body, after folding case,
# punctuation and whitespace. Order matters: the first family that matches names the text.
FINGERPRINTS: Final = (
    ("AGPL-3.0", "gnu affero general public license version 3", "remote network interaction"),
    ("LGPL-3.0", "gnu lesser general public license version 3", "additional permissions"),
    ("LGPL-2.1", "gnu lesser general public license version 2 1", "terms and conditions for copying"),
    ("GPL-3.0", "gnu general public license version 3", "terms and conditions"),
    ("GPL-2.0", "gnu general public license version 2", "terms and conditions for copying"),
    ("Apache-2.0", "apache license version 2 0", "grant of patent license"),
    ("MPL-2.0", "mozilla public license version 2 0", "covered software"),
    ("EUPL-1.2", "european union public licence v 1 2", "the licensor hereby grants you"),
    ("BSD-3-Clause", "redistribution and use in source and binary forms", "neither the name of"),
    ("BSD-2-Clause", "redistribution and use in source and binary forms", "this software is provided by"),
    ("MIT", "permission is hereby granted free of charge to any person obtaining a copy",
     "the above copyright notice and this permission notice shall be included"),
)
TITLE_CHARS: Final = 400


def _fold(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def identify_license(text: str) -> str | None:
    """The licence family a text is, by fingerprint (see FINGERPRINTS), or None when none fits."""
    folded = _fold(text)
    for family, title, body in FINGERPRINTS:
        # A title is looked for at the top only: the GPL's own text names the AGPL in section 13.
        at_top = title in folded[:TITLE_CHARS] if family not in ("BSD-3-Clause", "BSD-2-Clause", "MIT") else title in folded
        if at_top and body in folded:
            return family
    return None


def license_family(spdx_id: str) -> str:
    """GPL-3.0-or-later, GPL-3.0-only and GPL-3.0+ are all the GPL-3.0 text."""
    return re.sub(r"(-only|-or-later|\+)$", "", spdx_id)


def declared_licenses(expression: str) -> list[str]:
    keys = spdx_licensing().license_keys(expression)
    return [k for k in keys if "exception" not in k.lower()]


def check_licenses(code: CodeInput, budget: Budget) -> CheckResult:
    expression = str((code.manifest.get("legal") or {}).get("license") or "")
    manifest_line = Finding("solution.yaml", line_of(code.text("solution.yaml"), r"^\s*license:"),
                            f"license: {expression}", "fail")
    texts = [e for e in code.files.entries if LICENSE_NAME.match(e.path)]
    if not texts:
        return CheckResult("license-files", "fail", _l("The declared licence %(license)s has no licence text in the "
                                                  "package (LICENSE, COPYING or LICENSES/<id>.txt)."),
                           {"license": expression}, [manifest_line])
    found = {e.path: identify_license(code.text(e.path) or "") for e in budget.files(texts)}
    findings = []
    missing = []
    for spdx_id in declared_licenses(expression):
        family = license_family(spdx_id)
        # A licence we have no fingerprint of cannot be told apart; REUSE lint still speaks for it.
        if family not in found.values() and any(family == f for f, _t, _b in FINGERPRINTS):
            missing.append(spdx_id)
    for path, family in found.items():
        if family is None:
            findings.append(Finding(path, 1, "licence text not recognised", "warn"))
        elif missing:
            findings.append(Finding(path, 1, f"this is the {family} text", "fail"))
    findings += _reuse_findings(code, budget)
    if missing:
        return CheckResult("license-files", "fail", _l("No text of the declared licence %(license)s: the licence "
                                                  "file(s) hold %(found)s."),
                           {"license": ", ".join(missing),
                            "found": ", ".join(sorted({f or "?" for f in found.values()}))},
                           _kept([manifest_line, *findings]), {"identified": found, "reuse_files": code.reuse_coverage})
    if findings:
        return CheckResult("license-files", "warn", _l("The licence text of %(license)s is there; %(n)s file(s) lack "
                                                  "licence information or a text is not recognised (REUSE)."),
                           {"license": expression, "n": len(findings)}, _kept(findings),
                           {"identified": found, "reuse_files": code.reuse_coverage})
    return CheckResult("license-files", "pass", _l("The licence text of %(license)s is in the package and every file "
                                              "has licence information (REUSE)."),
                       {"license": expression}, extra={"identified": found, "reuse_files": code.reuse_coverage})


REUSE_CONFIG = re.compile(r"^(REUSE\.toml|\.reuse/dep5|LICENSES/.*)$|\.license$")
REUSE_IGNORED_DIRS: Final = frozenset({".git", ".hg", ".sl", "LICENSES", ".reuse"})


def _reuse_findings(code: CodeInput, budget: Budget) -> list[Finding]:
    """REUSE lint, file by file within the budget: the package's own files without licence
    information are a warning, not a failure. Vendored and generated files (node_modules, dist, lock
    files, see members.is_generated) are not asked: they carry their projects' licences, which the
    SBOM declares, and in a large package they are most of the files."""
    from reuse.covered_files import is_path_ignored
    from reuse.project import Project

    if budget.out_of_time():
        return []
    own = [e.path for e in code.files.entries if not e.generated and e.path in code.files.contents
           and not REUSE_CONFIG.search(e.path) and not LICENSE_NAME.match(e.path)]
    root = code.materialise(p for p in code.files.contents if REUSE_CONFIG.search(p))
    project = Project.from_directory(root)
    findings = []
    code.reuse_coverage = [0, len(own)]
    for path in own:
        if budget.out_of_time():
            break
        code.reuse_coverage[0] += 1
        code.materialise([path])
        if is_path_ignored(root / path) or set(path.split("/")[:-1]) & REUSE_IGNORED_DIRS:
            continue
        if not any(info.spdx_expressions for info in project.reuse_info_of(root / path)):
            findings.append(Finding(path, 1, "no SPDX licence information (REUSE)", "warn"))
    return findings


# --- binaries and blobs -------------------------------------------------------------------------

EXECUTABLE_MAGIC: Final = ((b"\x7fELF", "ELF executable"), (b"MZ", "Windows (PE) executable"),
                           (b"\xfe\xed\xfa\xce", "Mach-O executable"), (b"\xfe\xed\xfa\xcf", "Mach-O executable"),
                           (b"\xce\xfa\xed\xfe", "Mach-O executable"), (b"\xcf\xfa\xed\xfe", "Mach-O executable"))
COMPILED_SUFFIXES: Final = (".pyc", ".pyo", ".class", ".o", ".obj", ".a", ".so", ".dylib", ".dll", ".exe", ".lib",
                            ".wasm", ".jar", ".war")
NESTED_ARCHIVE: Final = "archive"
BUNDLE_SUFFIXES: Final = (".js", ".mjs", ".cjs", ".css")


def _blob_cost(entry: FileEntry) -> int:
    """A file is told by its first bytes; only a large script or stylesheet is read whole (its lines)."""
    return entry.size if entry.path.lower().endswith(BUNDLE_SUFFIXES) and entry.size > MINIFIED_BYTES else 8


def check_blobs(code: CodeInput, budget: Budget) -> CheckResult:
    findings = []
    for entry in budget.files(code.files.entries, _blob_cost):
        data = code.files.contents.get(entry.path)
        # A member too large to keep is still told by its first bytes: a 30 MB executable is one too.
        head = data[:8] if data is not None else code.heads.get(entry.path, b"")[:8]
        lower = entry.path.lower()
        magic = next((label for m, label in EXECUTABLE_MAGIC if head.startswith(m)), None)
        if magic and not (magic.startswith("Windows") and entry.kind == "text"):  # "MZ" also starts text
            findings.append(Finding(entry.path, None, magic, "fail"))
        elif lower.endswith(COMPILED_SUFFIXES) or head.startswith(b"\xca\xfe\xba\xbe"):
            findings.append(Finding(entry.path, None, "compiled object", "warn"))
        elif entry.kind == NESTED_ARCHIVE:
            findings.append(Finding(entry.path, None, "archive inside the archive", "warn"))
        elif lower.endswith(BUNDLE_SUFFIXES) and entry.size > MINIFIED_BYTES and (
                ".min." in lower or data is None or max(map(len, data.splitlines()), default=0) > LONG_LINE):
            findings.append(Finding(entry.path, None, "minified bundle", "warn"))
        if entry.executable and not (data or b"").startswith(b"#!") and not magic:
            findings.append(Finding(entry.path, None, "executable bit on a file that is not a script", "warn"))
    # The provenance names the commit but not its tree: without the repository, files that were not in
    # git at that commit cannot be told apart, so this part is skipped and the reason recorded.
    git = {"commit": code.commit, "tree_compared": False,
           "reason": "the provenance names the commit but carries no file list" if code.commit
           else "no provenance: the commit is unknown"}
    status = max((f.severity for f in findings), key=STATUS_ORDER.get, default="pass")
    counts = Counter(f.message for f in findings)
    if not findings:
        return CheckResult("blobs", "pass", _l("No executables, compiled objects, nested archives or minified "
                                               "bundles."), extra={"git": git})
    return CheckResult("blobs", status, _l("%(n)s file(s) a reviewer cannot read as source: %(kinds)s."),
                       {"n": len(findings), "kinds": ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))},
                       _kept(findings), {"git": git})


# --- secrets ----------------------------------------------------------------------------------

# Detectors that guess (by keyword or entropy) warn; those that recognise a key's format fail.
GUESSING_DETECTORS: Final = frozenset({"Secret Keyword", "Base64 High Entropy String", "Hex High Entropy String"})
# detect-secrets keeps its settings (the active plugins) in one global: two scans at once in one process
# (threaded workers) would switch each other's plugins off and find nothing. One scan at a time.
_DETECT_SECRETS = threading.Lock()


def check_secrets(code: CodeInput, budget: Budget) -> CheckResult:
    from detect_secrets import SecretsCollection
    from detect_secrets.settings import default_settings

    findings, scanned = [], 0
    root = code.materialise(())
    texts = sum(1 for e in code.files.entries if e.kind == "text")
    with _DETECT_SECRETS, default_settings():
        secrets = SecretsCollection(root=str(root))
        for entry, _text in code.texts(budget):
            code.materialise([entry.path])
            secrets.scan_file(entry.path)
            scanned += 1
        for path, secret in secrets:
            severity = "warn" if secret.type in GUESSING_DETECTORS else "fail"
            findings.append(Finding(path, secret.line_number, secret.type, severity))
    extra = {"scanned": scanned, "text_files": texts}
    if not findings:
        return CheckResult("secrets", "pass", _l("No committed credentials or private keys found (detect-secrets)."),
                           extra=extra)
    status = max((f.severity for f in findings), key=STATUS_ORDER.get)
    return CheckResult("secrets", status, _l("%(n)s possible secret(s) committed: %(types)s (detect-secrets)."),
                       {"n": len(findings), "types": ", ".join(sorted({f.message for f in findings}))},
                       _kept(findings), extra)


# --- secure coding ----------------------------------------------------------------------------

# Files per bandit run, so the budget is looked at between runs: bandit takes tens of milliseconds a
# file (more on a busy machine), and a run must not overshoot the budget by more than GRACE.
BANDIT_BATCH: Final = 10


def _test_file(path: str) -> bool:
    name = posixpath.basename(path)
    return "tests" in path.split("/")[:-1] or name.startswith("test_") or name == "conftest.py"


def check_secure_coding(code: CodeInput, budget: Budget) -> CheckResult:
    """bandit over the Python files: high severity with high confidence fails, anything else warns.
    Asserts in tests (B101) are how tests are written, not a finding."""
    from bandit.core import config, manager

    paths = [e.path for e in budget.files(e for e in code.files.entries if e.path.endswith(".py")
                                          and e.path in code.files.contents and not e.generated)]
    findings, scanned, per_file = [], 0, 0.0
    while scanned < len(paths):
        if budget.out_of_time():  # also marks the result as cut short
            break
        left = budget.deadline - time.monotonic()
        # As many files as the time left allows at the pace so far, so the last run ends near the deadline.
        size = max(1, min(BANDIT_BATCH, int(left / per_file))) if per_file else 2
        batch = paths[scanned:scanned + size]
        began = time.monotonic()
        root = code.materialise(batch)
        bandit = manager.BanditManager(config.BanditConfig(), "file", quiet=True)
        bandit.discover_files([str(root / p) for p in batch])
        bandit.run_tests()
        scanned += len(batch)
        per_file = (time.monotonic() - began) / len(batch)
        for issue in bandit.get_issue_list():
            path = str(Path(issue.fname).relative_to(root))
            if issue.test_id == "B101" and _test_file(path):
                continue
            severity = "fail" if (issue.severity, issue.confidence) == ("HIGH", "HIGH") else "warn"
            findings.append(Finding(path, issue.lineno, f"{issue.test_id} {issue.severity.lower()}: {issue.text}",
                                    severity))
    counts = Counter(f.message.split(" ", 2)[1].rstrip(":") for f in findings)
    by_severity = {s: counts.get(s, 0) for s in ("high", "medium", "low")}
    extra = {"severity": by_severity, "scanned": scanned, "python_files": len(paths)}
    if not findings:
        return CheckResult("secure-coding", "pass", _l("bandit found nothing in %(files)s Python file(s)."),
                           {"files": len(paths)}, extra=extra)
    status = max((f.severity for f in findings), key=STATUS_ORDER.get)
    return CheckResult("secure-coding", status, _l("bandit: %(high)s high, %(medium)s medium, %(low)s low "
                                                   "severity finding(s) in %(files)s Python file(s)."),
                       {**by_severity, "files": len(paths)}, _kept(findings), extra)


# --- deploy files -----------------------------------------------------------------------------

YAML_SUFFIXES: Final = (".yaml", ".yml")
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def image_status(reference: str) -> tuple[str, str] | None:
    """None for an image pinned by digest; else the severity and why."""
    if DIGEST.search(reference):
        return None
    name = reference.rsplit("/", 1)[-1]
    tag = name.split(":", 1)[1] if ":" in name else None
    if tag is None or tag == "latest":
        return "fail", f"image {reference}: {'the latest tag' if tag else 'no tag'} (pin a version and a digest)"
    if "{{" in reference or "${" in reference:
        return "warn", f"image {reference}: set at deploy time"
    return "warn", f"image {reference}: no digest"


def _nodes(node: yaml.Node, path: tuple = ()) -> Iterator[tuple[tuple, yaml.Node]]:
    """Every node of a YAML document with its path of keys and indexes."""
    yield path, node
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _nodes(value, (*path, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _nodes(item, (*path, index))


def _documents(text: str) -> list[yaml.Node]:
    return [d for d in yaml.compose_all(text, Loader=yaml.SafeLoader) if d is not None]


def _target_files(code: CodeInput, target: dict) -> list[FileEntry]:
    base = str(target.get("path") or "").strip("/")
    return [e for e in code.files.entries if (e.path == base or e.path.startswith(base + "/"))
            and e.path.endswith(YAML_SUFFIXES) and "/templates/" not in f"/{e.path}"]


def _kube_version(target: dict) -> str | None:
    match = re.search(r"(\d+\.\d+)(\.\d+)?", str(target.get("kubeVersion") or ""))
    return match.group(0) if match else None


def check_deploy_files(code: CodeInput, budget: Budget) -> CheckResult:
    findings: list[Finding] = []
    checked = compose_files = 0
    for target in (code.manifest.get("deploy") or {}).get("targets") or []:
        kind = target.get("kind")
        rules = KIND_FINDINGS.get(kind)
        if rules is None:  # the validator refuses such a kind; a mirrored release may still carry one
            findings.append(Finding(str(target.get("path") or ""), None, f"deployment kind {kind!r} has no checks here"))
            continue
        for entry in budget.files(_target_files(code, target)):
            text = code.text(entry.path)
            if text is None:
                continue
            checked += 1
            compose_files += kind == "compose"
            try:
                documents = _documents(text)
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                findings.append(Finding(entry.path, mark.line + 1 if mark else None, "not valid YAML", "fail"))
                continue
            for document in documents:
                findings += rules(entry, document, target)
    extra = {"compose_schema": COMPOSE_SPEC_SOURCE} if compose_files else {}
    if not findings:
        if compose_files:
            return CheckResult("deploy-files", "pass", _l("%(n)s deploy file(s) valid, %(compose)s of them against "
                                                          "the Compose specification; every image pinned by digest."),
                               {"n": checked, "compose": compose_files}, extra=extra)
        return CheckResult("deploy-files", "pass", _l("%(n)s deploy file(s) valid; every image pinned by digest."),
                           {"n": checked})
    status = max((f.severity for f in findings), key=STATUS_ORDER.get)
    off_spec = sorted({f.path for f in findings if f.message.endswith(COMPOSE_SPEC_LABEL)})
    if off_spec:
        return CheckResult("deploy-files", status, _l("%(n)s problem(s) in %(files)s deploy file(s); %(compose)s "
                                                      "compose file(s) break the Compose specification."),
                           {"n": len(findings), "files": checked, "compose": len(off_spec)}, _kept(findings), extra)
    return CheckResult("deploy-files", status, _l("%(n)s problem(s) in %(files)s deploy file(s): unpinned images "
                                                  "or invalid manifests."),
                       {"n": len(findings), "files": checked}, _kept(findings), extra)


def _image_findings(path: str, document: yaml.Node, references: Iterable[tuple[yaml.Node, str]]) -> list[Finding]:
    findings = []
    for node, reference in references:
        problem = image_status(reference)
        if problem:
            findings.append(Finding(path, node.start_mark.line + 1, problem[1], problem[0]))
    return findings


def _image_keys(document: yaml.Node) -> Iterator[tuple[yaml.Node, str]]:
    """Images as compose files and Kubernetes objects name them: any `image:` value."""
    for keys, node in _nodes(document):
        if keys and keys[-1] == "image" and isinstance(node, yaml.ScalarNode):
            yield node, node.value


def _helm_values_images(document: yaml.Node) -> Iterator[tuple[yaml.Node, str]]:
    """Images as Helm values name them: `image.repository` with its sibling `tag`."""
    for keys, node in _nodes(document):
        if keys[-2:] == ("image", "repository") and isinstance(node, yaml.ScalarNode):
            tag = next((v for k, v in _nodes(document) if k == (*keys[:-1], "tag")), None)
            yield node, f"{node.value}:{tag.value}" if isinstance(tag, yaml.ScalarNode) and tag.value else node.value


def _missing_keys(path: str, document: yaml.Node, keys: tuple[str, ...]) -> list[Finding]:
    present = {k.value for k, _v in document.value} if isinstance(document, yaml.MappingNode) else set()
    return [Finding(path, document.start_mark.line + 1, f"{key} is missing", "fail") for key in keys
            if key not in present]


def _helm_findings(entry: FileEntry, document: yaml.Node, target: dict) -> list[Finding]:
    findings = _image_findings(entry.path, document, _helm_values_images(document))
    if entry.name == "Chart.yaml":
        findings += _missing_keys(entry.path, document, ("apiVersion", "name", "version"))
    return findings


def _compose_findings(entry: FileEntry, document: yaml.Node, target: dict) -> list[Finding]:
    path = entry.path
    findings = _image_findings(path, document, _image_keys(document))
    services = next((v for k, v in _nodes(document) if k == ("services",)), None)
    if not isinstance(services, yaml.MappingNode):
        return [*findings, Finding(path, document.start_mark.line + 1, "no services mapping", "fail")]
    for name, service in services.value:
        keys = {k.value for k, _v in service.value} if isinstance(service, yaml.MappingNode) else set()
        if not keys & {"image", "build"}:
            findings.append(Finding(path, name.start_mark.line + 1, f"service {name.value}: neither image nor build",
                                    "fail"))
    return findings + _compose_schema_findings(path, document)


# The Compose specification's JSON schema (compose-spec/compose-spec `schema/compose-spec.json`,
# Apache-2.0), kept as data because no Python package ships a current one: this is the copy the npm
# package dclint 3.1.0 ships, byte for byte the upstream file at commit 58a2548 (2025-07-21).
# registry/spec/data/SOURCES.md says how to refresh it.
COMPOSE_SPEC_PATH: Final = Path(__file__).with_name("data") / "compose-spec.json"
COMPOSE_SPEC_SOURCE: Final = "Compose specification schema, compose-spec/compose-spec 58a2548 (2025-07-21)"
COMPOSE_SPEC_LABEL: Final = "(Compose specification)"
SCHEMA_ERRORS_KEPT: Final = 20  # per document: past a few, the rest repeat one mistake


@functools.cache
def _compose_validator() -> Any:
    from jsonschema import Draft7Validator

    return Draft7Validator(json.loads(COMPOSE_SPEC_PATH.read_text(encoding="utf-8")))


def _line_at(document: yaml.Node, keys: tuple) -> int | None:
    """The line of the value at `keys`, else of its nearest parent (a path through a YAML merge key
    has no node of its own)."""
    lines = {k: n.start_mark.line + 1 for k, n in _nodes(document)}
    return next((lines[keys[:end]] for end in range(len(keys), -1, -1) if keys[:end] in lines), None)


def _key_line(document: yaml.Node, keys: tuple, key: str) -> int | None:
    """The line of the key `key` in the mapping at `keys` (where a misspelt key is to be shown)."""
    parent = next((n for k, n in _nodes(document) if k == keys), None)
    if isinstance(parent, yaml.MappingNode):
        line = next((k.start_mark.line + 1 for k, _v in parent.value if k.value == key), None)
        if line is not None:
            return line
    return _line_at(document, keys)


def _unexpected_keys(instance: dict, schema: dict) -> list[str]:
    """The keys `additionalProperties: false` refused: neither a property nor matching a pattern (`x-`)."""
    known, patterns = schema.get("properties") or {}, schema.get("patternProperties") or {}
    return sorted(str(k) for k in instance if k not in known and not any(re.search(p, str(k)) for p in patterns))


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _compose_schema_findings(path: str, document: yaml.Node) -> list[Finding]:
    from jsonschema.exceptions import best_match

    data = yaml.safe_load(yaml.serialize(document))
    errors = sorted(_compose_validator().iter_errors(data), key=lambda e: [str(k) for k in e.absolute_path])
    findings = []
    for error in errors[:SCHEMA_ERRORS_KEPT]:
        # A oneOf (a port as a number, a string or a mapping) says only "not valid under any of the given
        # schemas"; its closest branch says what is wrong, or, when every branch wants another type, the types.
        error = best_match([error]) or error
        keys = tuple(error.absolute_path)
        where = ".".join(map(str, keys)) or "(top level)"
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            for key in _unexpected_keys(error.instance, error.schema):
                findings.append(Finding(path, _key_line(document, keys, key),
                                        f"{where}: unknown key {key!r} {COMPOSE_SPEC_LABEL}", "fail"))
            continue
        message = error.message
        if error.validator in ("oneOf", "anyOf") and error.context and all(
                c.validator == "type" and not c.relative_path for c in error.context):
            wanted = " or ".join(sorted({str(t) for c in error.context for t in _as_list(c.validator_value)}))
            message = f"{error.instance!r} is not of type {wanted}"
        findings.append(Finding(path, _line_at(document, keys), f"{where}: {message} {COMPOSE_SPEC_LABEL}", "fail"))
    if len(errors) > SCHEMA_ERRORS_KEPT:
        findings.append(Finding(path, None, f"{len(errors) - SCHEMA_ERRORS_KEPT} more error(s) {COMPOSE_SPEC_LABEL}",
                                "fail"))
    return findings


@functools.cache
def _kube_versions() -> tuple[str, ...]:
    from kubernetes_validate.utils import all_versions

    return tuple(all_versions())


@functools.cache
def _kube_definitions(schema_dir: str, desired: str) -> Any:
    from kubernetes_validate.utils import schema_contents

    return schema_contents(f"kubernetes-json-schema/{schema_dir}/_definitions.json", desired)


@functools.cache
def _kube_validator(schema_dir: str, kind: str, api_version: str, desired: str) -> Any:
    from jsonschema.validators import Draft202012Validator
    from kubernetes_validate.utils import schema_contents
    from referencing import Registry, Resource

    schema = schema_contents(f"kubernetes-json-schema/{schema_dir}/{kind}-{api_version}.json", desired)
    registry = Resource.from_contents(_kube_definitions(schema_dir, desired)) @ (
        Resource.from_contents(schema) @ Registry())
    return Draft202012Validator(schema, registry=registry)


def _kube_validate(data: dict, desired: str) -> None:
    """kubernetes_validate.validate(data, desired, strict=True), with its schemas loaded once per process:
    it parses the version's whole _definitions.json (megabytes) on every call, a second a manifest on a
    busy machine, so a package with a few dozen manifests ran out of its budget. Same choice of schema
    version, same exceptions."""
    import jsonschema
    import kubernetes_validate
    from kubernetes_validate.utils import major_minor

    desired = desired.removeprefix("v")
    versions = _kube_versions()
    if major_minor(desired) > versions[-1]:  # compared as the library compares them
        raise kubernetes_validate.VersionNotSupportedError(version=major_minor(desired))
    version = [v for v in versions if major_minor(v) <= major_minor(desired)][-1]
    api_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", data["apiVersion"])
    try:
        validator = _kube_validator(f"v{version}-local-strict", data["kind"].lower(), api_version, desired)
    except FileNotFoundError:
        raise kubernetes_validate.SchemaNotFoundError(version=major_minor(desired), kind=data["kind"],
                                                      api_version=data["apiVersion"]) from None
    try:
        validator.validate(data)
    except jsonschema.ValidationError as exc:
        raise kubernetes_validate.ValidationError(exc, version=major_minor(version)) from None


def _kubernetes_findings(entry: FileEntry, document: yaml.Node, target: dict) -> list[Finding]:
    import kubernetes_validate

    path, version = entry.path, _kube_version(target)
    findings = _image_findings(path, document, _image_keys(document))
    data = yaml.safe_load(yaml.serialize(document))
    if not isinstance(data, dict) or not data.get("apiVersion") or not data.get("kind"):
        return [*findings, Finding(path, document.start_mark.line + 1, "not a Kubernetes object (apiVersion and kind)",
                                   "fail")]
    try:
        _kube_validate(data, version or _kube_versions()[-1])
    except kubernetes_validate.ValidationError as exc:
        keys = tuple(exc.absolute_path)
        # An unknown field is reported at its parent; the field named in the message is the line to show.
        unknown = re.search(r"'([^']+)' was unexpected", exc.message)
        line = next((n.start_mark.line + 1 for k, n in _nodes(document) if k == keys + ((unknown.group(1),)
                                                                                         if unknown else ())), None)
        line = line or next((n.start_mark.line + 1 for k, n in _nodes(document) if k == keys), None)
        where = ".".join(map(str, keys)) or data["kind"]
        findings.append(Finding(path, line, f"{where}: {exc.message} (Kubernetes {exc.version})", "fail"))
    except kubernetes_validate.SchemaNotFoundError:
        findings.append(Finding(path, document.start_mark.line + 1,
                                f"no schema for {data['apiVersion']} {data['kind']}", "warn"))
    except kubernetes_validate.VersionNotSupportedError:
        findings.append(Finding(path, None, f"Kubernetes {version} is newer than the schemas known offline", "warn"))
    return findings


def _vm_findings(entry: FileEntry, document: yaml.Node, target: dict) -> list[Finding]:
    return []  # cloud-init files and playbooks name no images to pin and have no schema known offline


# What check_deploy_files reads in each deployment kind's YAML files, keyed by the kinds of
# registry/spec/deploy.py DEPLOY_KINDS (tests/review/test_codechecks.py keeps the two equal).
KIND_FINDINGS: Final[dict[str, Callable[[FileEntry, yaml.Node, dict], list[Finding]]]] = {
    "helm": _helm_findings,
    "compose": _compose_findings,
    "kubernetes": _kubernetes_findings,
    "vm": _vm_findings,
}


# --- running ---------------------------------------------------------------------------------

CHECKS: Final[dict[str, Callable[[CodeInput, Budget], CheckResult]]] = {
    "license-files": check_licenses,
    "blobs": check_blobs,
    "secrets": check_secrets,
    "secure-coding": check_secure_coding,
    "deploy-files": check_deploy_files,
}


# The libraries each check loads: imported before its budget starts, since loading them is the
# process's cost, not the package's (jsonschema alone compiles its URI grammars at import, seconds on
# a busy machine).
LIBRARIES: Final[dict[str, tuple[str, ...]]] = {
    "license-files": ("license_expression", "reuse.project", "reuse.covered_files"),
    "secrets": ("detect_secrets", "detect_secrets.settings"),
    "secure-coding": ("bandit.core.manager", "bandit.core.config"),
    "deploy-files": ("jsonschema", "kubernetes_validate", "referencing"),
}


def one_line(exc: BaseException) -> str:
    """An exception as one sentence: its type and the first line of its message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300]}" if text else type(exc).__name__


def run_code_check(name: str, code: CodeInput, seconds: float = SECONDS, max_bytes: int = BYTES,
                   check: Callable[[CodeInput, Budget], CheckResult] | None = None) -> CheckResult:
    """One check within its budget, never raising: "timed_out" when it ran out of seconds or bytes (or
    did not come back at all within `seconds` + GRACE; its thread is then left to end by itself), "error"
    with the exception's one line when it raised."""
    check = check or CHECKS[name]
    for module in LIBRARIES.get(name, ()):
        importlib.import_module(module)  # once per process, before the clock starts
    budget = Budget(seconds, max_bytes)
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = check(code, budget)
        except Exception as exc:  # reported as the check's result, never raised into the upload or the job
            outcome["error"] = exc

    thread = threading.Thread(target=work, name=f"check-{name}", daemon=True)
    thread.start()
    thread.join(seconds + GRACE)
    timed_out = {"seconds": seconds, "bytes": max_bytes}
    if thread.is_alive():
        return CheckResult(name, "timed_out", _l("Timed out: no result within %(seconds)s s."),
                           {"seconds": _number(seconds)}, extra={"timed_out": timed_out})
    if "error" in outcome:
        return CheckResult(name, "error", _l("The check failed to run: %(error)s"),
                           {"error": one_line(outcome["error"])})
    result = outcome["result"]
    if budget.exhausted:
        result.extra["timed_out"] = timed_out
        if result.status != "fail":
            result.status = "timed_out"
            result.sentence, result.params = _l("Timed out after %(seconds)s s or %(mb)s MB; the files read "
                                                "so far gave %(n)s finding(s)."), {
                "seconds": _number(seconds), "mb": max_bytes // 2**20, "n": len(result.findings)}
    return result


def _number(seconds: float) -> int | float:
    return int(seconds) if float(seconds).is_integer() else round(seconds, 2)


def run_code_checks(code: CodeInput, seconds: float = SECONDS, max_bytes: int = BYTES) -> list[CheckResult]:
    """Every code check in turn, each within its own budget; the temporary copy is removed afterwards."""
    try:
        return [run_code_check(name, code, seconds, max_bytes) for name in CHECKS]
    finally:
        code.close()


def read_for_checks(open_source: Callable[[], Any], limits: ArchiveLimits) -> ArchiveContents:
    """The archive read for the code checks (`open_source()` gives it from its start, as a context
    manager): the package's own files kept first, then the vendored and generated ones with what is
    left of the limit on kept bytes. In one pass, what comes first (web/node_modules/ before
    web/src/) would use up the limit and leave the package's own files in no check. The second pass
    is read only when there are vendored files and room left for them."""
    with open_source() as source:
        contents = read_archive(source, limits, keep=lambda path: not is_generated(path))
    spare = limits.max_kept_total_bytes - sum(map(len, contents.files.values()))
    if spare > 0 and any(is_generated(m.path) and m.size <= limits.max_kept_file_bytes for m in contents.members):
        with open_source() as source:
            vendored = read_archive(source, replace(limits, max_kept_total_bytes=spare), keep=is_generated)
        contents.files.update(vendored.files)
    return contents


def code_input(contents: ArchiveContents, manifest: dict, commit: str | None = None) -> CodeInput:
    """What the checks read, from an archive read by registry/spec/archive.py."""
    return CodeInput(ReleaseFiles(entries_of(contents), contents.files), manifest, commit,
                     {m.path: m.head for m in contents.members})
