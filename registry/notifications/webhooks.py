"""Outbound webhooks: where they may go, how they are signed, and the guarded transport that sends them.

A webhook URL is chosen by an organization owner, so it is hostile input: it must not let anyone make
the registry call its own network (loopback, private ranges, cloud metadata). The same rules run when
the URL is saved and when it is used; delivery resolves the name once, vets every address and connects
to a vetted address itself, so a name that answers differently a second time (DNS rebinding) gets
nowhere. Signatures follow the Standard Webhooks scheme (docs/webhooks.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
import secrets
import socket
import ssl
import time
from dataclasses import dataclass
from http.client import HTTPConnection
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _

from registry.errors import InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_URL = 500  # the column's length
DEFAULT_PORTS = {"https": 443, "http": 80}
# Names that are never public (RFC 6761, RFC 6762, RFC 8375, ICANN's .internal), refused before any lookup.
INTERNAL_NAMES = ("localhost", "local", "internal", "home.arpa")
LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
SECRET_PREFIX = "whsec_"


class Refused(InvalidInput):
    """A webhook URL the registry will not call; always about the field webhook_url."""

    def __init__(self, detail: str):
        super().__init__(detail, field="webhook_url")


class Unresolvable(Refused):
    pass


@dataclass(frozen=True)
class AllowList:
    """REGISTRY_WEBHOOK_ALLOWED_HOSTS: host names and CIDRs the operator lets webhooks reach though internal."""

    names: frozenset[str]
    networks: tuple[IPNetwork, ...]

    @classmethod
    def parse(cls, setting: str) -> AllowList:
        names, networks = set(), []
        for entry in filter(None, (e.strip() for e in setting.split(","))):
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                # Anything else is a name; a mistyped CIDR then matches nothing, which fails closed.
                names.add(entry.lower().removesuffix("."))
        return cls(frozenset(names), tuple(networks))

    def allows(self, host: str, address: IPAddress) -> bool:
        return host in self.names or any(address in network for network in self.networks)


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # lower-case, no trailing dot, IDNA-encoded; an IP literal without brackets
    port: int
    path: str  # path and query, as sent in the request line
    addresses: tuple[IPAddress, ...]


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast; an IPv4 address inside IPv6 (mapped, 6to4) is judged as itself."""
    if isinstance(address, ipaddress.IPv6Address) and (embedded := address.ipv4_mapped or address.sixtofour):
        return is_public(embedded)
    # is_global already excludes private, loopback, link-local (169.254.169.254), shared (100.64/10),
    # unique-local (fd00:ec2::254), unspecified and documentation ranges.
    return address.is_global and not (address.is_multicast or address.is_reserved
                                      or (address.version == 6 and address.is_site_local))


def allow_list() -> AllowList:
    return AllowList.parse(current_app.config.get("WEBHOOK_ALLOWED_HOSTS") or "")


def _parse(url: str) -> tuple[str, str, int, str, IPAddress | None]:
    """Scheme, host, port, path and the host's IP if it is a literal; refuses every spelling trick."""
    try:
        parts = urlsplit(url)
        port = parts.port
        # Only the host may be written in Korean (or any script): it is sent IDNA-encoded.
        host = (parts.hostname or "").removesuffix(".").encode("idna").decode("ascii")
    except (ValueError, UnicodeError):  # a port that is no number, broken [brackets], a bad IDN label
        raise Refused(_("The webhook URL has no valid host name or port.")) from None
    if len(url) > MAX_URL or not (parts.path + parts.query + parts.fragment).isascii() or any(c.isspace() or not c.isprintable() for c in url):
        raise Refused(_("The webhook URL must be a plain https:// address of at most %(max)d characters.",
                        max=MAX_URL))
    if parts.scheme not in DEFAULT_PORTS or not parts.netloc:
        raise Refused(_("The webhook URL must start with https://."))
    if "@" in parts.netloc:  # http://good@127.0.0.1 goes to 127.0.0.1
        raise Refused(_("The webhook URL must not contain a user name or password."))
    port = DEFAULT_PORTS[parts.scheme] if port is None else port
    if not host or not 0 < port < 65536 or "%" in host:  # '%': an IPv6 zone id names a local interface
        raise Refused(_("The webhook URL has no valid host name or port."))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        return parts.scheme, host, port, path, ipaddress.ip_address(host)
    except ValueError:
        pass
    if _is_legacy_ipv4(host):
        raise Refused(_("Write the IP address %(host)s in the usual dotted form, e.g. 203.0.113.7.", host=host))
    if len(host) > 253 or not all(LABEL.match(label) for label in host.split(".")):
        raise Refused(_("The webhook URL has no valid host name or port."))
    return parts.scheme, host, port, path, None


def _is_legacy_ipv4(host: str) -> bool:
    """0x7f000001, 2130706433, 017700000001, 127.1: the resolver reads these as IPv4 addresses."""
    try:
        socket.inet_aton(host)
    except OSError:
        return False
    return True


def _resolve(host: str, port: int) -> tuple[IPAddress, ...]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Unresolvable(_("The host name %(host)s cannot be resolved.", host=host)) from None
    # A scoped IPv6 answer comes as 'fe80::1%eth0'; the scope does not change which rules apply.
    return tuple(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos))


def vet(url: str, allowed: AllowList) -> Target:
    """The target of `url` with every address it resolves to now, each one allowed; else Refused."""
    scheme, host, port, path, literal = _parse(url)
    listed = host in allowed.names
    if literal is None and not listed and (host in INTERNAL_NAMES or host.endswith(
            tuple(f".{name}" for name in INTERNAL_NAMES))):
        raise Refused(_("%(host)s is an internal name; webhooks go only to public addresses unless the operator "
                        "allows the host.", host=host))
    addresses = (literal,) if literal else _resolve(host, port)
    for address in addresses:
        if not (allowed.allows(host, address) or is_public(address)):
            raise Refused(_("%(host)s is an internal address (%(address)s); webhooks go only to public addresses "
                            "unless the operator allows the host.", host=host, address=address))
    # Plain http is for the operator's own network only; across the internet the body must be private.
    if scheme == "http" and not all(allowed.allows(host, address) for address in addresses):
        raise Refused(_("Use https:// for this webhook; plain http is only for hosts the operator allows."))
    return Target(scheme, host, port, path, addresses)


def check_url(url: str) -> None:
    """The save-time check: refuse what delivery would refuse. A name that does not resolve yet is accepted,
    since delivery resolves and checks again."""
    try:
        vet(url, allow_list())
    except Unresolvable:
        pass


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def _signing_key(secret: str) -> bytes:
    # Secrets chosen by owners before Standard Webhooks signing sign with their raw bytes.
    return base64.b64decode(secret[len(SECRET_PREFIX):]) if secret.startswith(SECRET_PREFIX) else secret.encode()


def signed_headers(secret: str, message_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{message_id}.{timestamp}.".encode() + body
    signature = base64.b64encode(hmac.new(_signing_key(secret), signed, hashlib.sha256).digest()).decode()
    return {"Content-Type": "application/json", "User-Agent": "smart-city-registry-webhook",
            "webhook-id": message_id, "webhook-timestamp": str(timestamp), "webhook-signature": f"v1,{signature}"}


def _timeout() -> float:
    return float(current_app.config["WEBHOOK_TIMEOUT"])  # REGISTRY_WEBHOOK_TIMEOUT, per try, in the worker


def _connect(target: Target) -> socket.socket:
    """A TCP connection to one of the vetted addresses, made here so no second name lookup can happen."""
    error: OSError = OSError(f"no address for {target.host}")
    for address in target.addresses:
        sock = socket.socket(socket.AF_INET6 if address.version == 6 else socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(_timeout())
        try:
            sock.connect((str(address), target.port))
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error


def post(url: str, secret: str, message_id: str, body: bytes) -> int:
    """POST one signed delivery through the guarded transport; returns the HTTP status (redirects are not
    followed). Raises Refused, OSError (ssl errors included) or http.client.HTTPException."""
    target = vet(url, allow_list())
    sock = _connect(target)
    if target.scheme == "https":
        # Certificate and SNI for the name in the URL, though the socket was opened to an address.
        sock = ssl.create_default_context().wrap_socket(sock, server_hostname=target.host)
    connection = HTTPConnection(target.host, target.port, timeout=_timeout())
    connection.sock = sock  # the Host header still names target.host
    try:
        connection.request("POST", target.path, body=body, headers=signed_headers(secret, message_id, body))
        return connection.getresponse().status
    finally:
        connection.close()
