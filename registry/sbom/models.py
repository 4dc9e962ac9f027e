"""What an SBOM says is inside a release, and what is known to be wrong with it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.db import db, one_of, utcnow


class LicenseVerdict(StrEnum):
    """Best to worst (registry/sbom/licenses.py); a policy rule's action is one of them too."""

    ALLOW = "allow"
    WARN = "warn"
    REVIEW = "review"  # a person must look; the only choice besides the others for unknown licences
    DENY = "deny"


class Severity(StrEnum):
    """Worst first, as the registry rates OSV records (registry/sbom/osv.py)."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    UNKNOWN = "unknown"


class PolicyRuleKind(StrEnum):
    LICENSE = "license"  # the subject is an SPDX id
    CATEGORY = "category"  # the subject is a licence category


class Component(db.Model):
    __tablename__ = "components"

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), index=True)
    bom_ref: Mapped[str | None] = mapped_column(String(500))
    type: Mapped[str] = mapped_column(String(32), default="library")
    group: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300), index=True)
    version: Mapped[str | None] = mapped_column(String(200))
    purl: Mapped[str | None] = mapped_column(String(1000), index=True)
    # purl without version, so "which releases use any version of X" is one indexed lookup.
    purl_base: Mapped[str | None] = mapped_column(String(1000), index=True)
    licenses: Mapped[list] = mapped_column(default=list)
    license_expression: Mapped[str | None] = mapped_column(Text)
    license_verdict: Mapped[str | None] = mapped_column(String(16))
    hashes: Mapped[dict] = mapped_column(default=dict)
    supplier: Mapped[str | None] = mapped_column(String(300))
    parent_ref: Mapped[str | None] = mapped_column(String(500))
    # OSV ecosystem and normalised package name derived from the purl: the key into VulnerabilityPackage.
    ecosystem: Mapped[str | None] = mapped_column(String(64))
    package_name: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (Index("ix_components_ecosystem_package_name", "ecosystem", "package_name"),
                      one_of("license_verdict", LicenseVerdict))


class ComponentDependency(db.Model):
    __tablename__ = "component_dependencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), index=True)
    ref: Mapped[str] = mapped_column(String(500))
    depends_on: Mapped[str] = mapped_column(String(500))


class Vulnerability(db.Model):
    """One OSV record, upserted by id and `modified`."""

    __tablename__ = "vulnerabilities"
    __table_args__ = (one_of("severity", Severity),)

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    modified: Mapped[datetime]
    aliases: Mapped[list] = mapped_column(default=list)
    summary: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str | None] = mapped_column(String(16))
    record: Mapped[dict] = mapped_column(default=dict)


class VulnerabilityAlias(db.Model):
    """Every id a stored record is also known by (its aliases, and ids of duplicates folded into it)."""

    __tablename__ = "vulnerability_aliases"
    __table_args__ = (UniqueConstraint("vulnerability_id", "alias"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vulnerability_id: Mapped[str] = mapped_column(ForeignKey("vulnerabilities.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str] = mapped_column(String(100), index=True)


class VulnerabilityPackage(db.Model):
    """Index of the packages an OSV record affects, to match components without scanning all records."""

    __tablename__ = "vulnerability_packages"

    id: Mapped[int] = mapped_column(primary_key=True)
    vulnerability_id: Mapped[str] = mapped_column(ForeignKey("vulnerabilities.id", ondelete="CASCADE"), index=True)
    ecosystem: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    # The record's `affected` entries for this package only, so matching never loads whole records.
    affected: Mapped[list] = mapped_column(default=list)

    __table_args__ = (
        UniqueConstraint("vulnerability_id", "ecosystem", "name"),
        Index("ix_vulnerability_packages_ecosystem_name", "ecosystem", "name"),
    )


class Finding(db.Model):
    __tablename__ = "findings"
    __table_args__ = (UniqueConstraint("component_id", "vulnerability_id"), one_of("severity", Severity))

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), index=True)
    component_id: Mapped[int] = mapped_column(ForeignKey("components.id", ondelete="CASCADE"))
    vulnerability_id: Mapped[str] = mapped_column(ForeignKey("vulnerabilities.id", ondelete="CASCADE"))
    severity: Mapped[str | None] = mapped_column(String(16))
    fixed_versions: Mapped[list] = mapped_column(default=list)
    vex_state: Mapped[str | None] = mapped_column(String(32))
    vex_justification: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    component: Mapped["Component"] = relationship()
    vulnerability: Mapped[Vulnerability] = relationship()


class VexStatement(db.Model):
    """What the release's own SBOM says about a vulnerability (CycloneDX `vulnerabilities[].analysis`)."""

    __tablename__ = "vex_statements"

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), index=True)
    vulnerability_ref: Mapped[str] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(32))
    justification: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")
    # bom-refs of the components the statement is about; empty means every component.
    affects: Mapped[list] = mapped_column(default=list)


class LicensePolicyRule(db.Model):
    __tablename__ = "license_policy_rules"
    __table_args__ = (UniqueConstraint("kind", "subject"), one_of("kind", PolicyRuleKind),
                      one_of("action", LicenseVerdict))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(8))
