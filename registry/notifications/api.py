"""The webhook delivery log of an organization, for its owners' tokens."""

from registry.accounts import service as accounts
from registry.accounts.auth import current_token
from registry.accounts.service import require_member
from registry.errors import Forbidden
from registry.notifications import deliveries
from registry.web import api_bp as bp


@bp.get("/orgs/<slug>/webhook/deliveries")
def webhook_deliveries(slug: str):
    token = current_token()
    org = accounts.get_org(slug)
    accounts.require_scope(token, "read")
    if token.org_id != org.id:
        raise Forbidden(f"this token belongs to another organization than {org.slug}")
    require_member(token.user, org, owner=True)
    return {"deliveries": [deliveries.as_json(d) for d in deliveries.log_of(org)],
            "disabled_at": org.webhook_disabled_at.isoformat() if org.webhook_disabled_at else None}
