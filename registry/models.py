"""Every model in one import, for Alembic autogenerate and the shell."""

from registry.accounts.models import ApiToken, Membership, Organization, SigningKey, User  # noqa: F401
from registry.audit.models import AuditEvent  # noqa: F401
from registry.catalog.models import Adoption, DataHubProfile, Subscription  # noqa: F401
from registry.events import EventOutbox  # noqa: F401
from registry.jobs.runs import ScheduledRun  # noqa: F401
from registry.notifications.models import MailOptOut, Notification, OutboxEmail, WebhookDelivery  # noqa: F401
from registry.releases.models import (  # noqa: F401
    Artifact,
    Check,
    DataHubRequirement,
    DeployTarget,
    Release,
    ReleaseFileIndex,
    Solution,
)
from registry.review.models import Review, ReviewReason, ReviewReminder  # noqa: F401
from registry.sbom.models import (  # noqa: F401
    Component,
    ComponentDependency,
    Finding,
    LicensePolicyRule,
    Vulnerability,
    VulnerabilityPackage,
)
from registry.transparency.models import (  # noqa: F401
    Checkpoint,
    Cosignature,
    LogLeaf,
    MirrorCheckpoint,
    MirrorLeaf,
    MirrorOrigin,
    Witness,
)
