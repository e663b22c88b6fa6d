# Copyright (c) mvp_platform.infra contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one home of every value rule the roles and playbooks check (no Ansible imports).

Each rule is a predicate that never raises: a value of the wrong type is simply not valid.
The test plugins in plugins/test/ are thin wrappers over these functions, so a role's preflight
says ``value is mvp_platform.infra.docker_name`` instead of repeating a pattern.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.mvp_platform.infra.plugins.module_utils import _database_url

# Docker object names (containers, volumes, networks, compose projects' resources).
_DOCKER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_COMPOSE_PROJECT = re.compile(r"[a-z0-9][a-z0-9_-]*")
# An image tag, which is also the rule for a release version (it becomes the tag).
_IMAGE_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
# An image repository: optional registry host[:port], then lower-case path components.
_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_REGISTRY = rf"(?:{_HOST_LABEL}(?:\.{_HOST_LABEL})*(?::[0-9]{{1,5}})?/)"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_REF = re.compile(
    rf"(?P<repo>{_REGISTRY}?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?"
)
_DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_TLD = re.compile(r"[a-z][a-z0-9-]{0,61}[a-z0-9]|[a-z]{2,63}")
_ABS_PATH = re.compile(r"/\S*")
_BACKUP_STAMP = re.compile(r"[0-9]{8}T[0-9]{6}Z")
_URL_PATH = re.compile(r"/[A-Za-z0-9/._~-]*")
_EMAIL = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\".]+")
_LINUX_USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
_SQL_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
# Prometheus' duration syntax: units in descending order, each at most once, e.g. 1h30m.
_DURATION = re.compile(r"(?:[0-9]+y)?(?:[0-9]+w)?(?:[0-9]+d)?(?:[0-9]+h)?(?:[0-9]+m)?(?:[0-9]+s)?(?:[0-9]+ms)?")
_PLACEHOLDER = re.compile(r"change-?me", re.IGNORECASE)

# Addresses that are reachable only inside an organisation's networks: RFC 1918, the shared
# (carrier-grade NAT) range that VPN overlays such as Tailscale use, and IPv6 unique-local.
PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)
LOOPBACK_NETWORKS = tuple(ipaddress.ip_network(n) for n in ("127.0.0.0/8", "::1/128"))


def _text(value) -> str | None:
    """The value as text when it is a string (booleans and numbers are not names)."""
    return value if isinstance(value, str) else None


def _full(pattern: re.Pattern, value) -> bool:
    text = _text(value)
    return text is not None and pattern.fullmatch(text) is not None


def docker_name(value) -> bool:
    """A Docker container, volume or network name."""
    return _full(_DOCKER_NAME, value)


def compose_project(value) -> bool:
    """A Docker Compose project name (lower case; letters, digits, '_' and '-')."""
    return _full(_COMPOSE_PROJECT, value)


def image_tag(value) -> bool:
    """An image tag; release versions follow the same rule because they become the tag."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        value = str(value)
    return _full(_IMAGE_TAG, value)


def split_image_ref(value) -> dict | None:
    """{'repository', 'tag', 'digest'} of an image reference, or None when it is not one."""
    text = _text(value)
    if text is None or len(text) > 255:
        return None
    m = _IMAGE_REF.fullmatch(text)
    if not m:
        return None
    first, _sep, rest = m.group("repo").partition("/")
    # As Docker reads it: the first component names a registry only with a dot, a port or as
    # localhost; otherwise it is a path component, which must be lower case.
    if rest and not ("." in first or ":" in first or first == "localhost") and first != first.lower():
        return None
    return {"repository": m.group("repo"), "tag": m.group("tag") or "", "digest": m.group("digest") or ""}


def image_ref(value, pinned: bool = False) -> bool:
    """An image reference; pinned=True also requires an explicit tag other than latest, or a digest."""
    parts = split_image_ref(value)
    if parts is None:
        return False
    if pinned:
        return bool(parts["digest"]) or parts["tag"] not in ("", "latest")
    return True


def dns_name(value, fqdn: bool = False) -> bool:
    """A host or domain name (RFC 1123 labels, lower case, at most 253 characters).

    fqdn=True also requires a top-level domain (at least two labels, the last not numeric):
    the rule for names a public certificate is issued for.
    """
    text = _text(value)
    if text is None or not 0 < len(text) <= 253:
        return False
    labels = text.split(".")
    if not all(_DNS_LABEL.fullmatch(label) for label in labels):
        return False
    if fqdn:
        return len(labels) >= 2 and _TLD.fullmatch(labels[-1]) is not None
    return True


def ip_address(value) -> bool:
    """An IPv4 or IPv6 address (no prefix length)."""
    text = _text(value)
    if text is None:
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def cidr(value, bare: bool = False) -> bool:
    """A network with prefix length (host bits may be set); bare=True also accepts a plain address."""
    text = _text(value)
    if text is None:
        return False
    if "/" not in text:
        return bare and ip_address(text)
    address, _sep, prefix = text.partition("/")
    if not prefix.isdigit() or prefix != str(int(prefix)) or not ip_address(address):
        return False
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


def _in(value, networks, bare: bool = True) -> bool:
    text = _text(value)
    if text is None or not cidr(text, bare=bare):
        return False
    net = ipaddress.ip_network(text, strict=False)
    return any(net.version == n.version and net.subnet_of(n) for n in networks)


def private_address(value, loopback: bool = False) -> bool:
    """An address (or network) inside the private ranges (loopback=True: or loopback)."""
    return _in(value, PRIVATE_NETWORKS + (LOOPBACK_NETWORKS if loopback else ()))


def loopback_address(value) -> bool:
    """127.0.0.0/8 or ::1 (also the name localhost)."""
    return value == "localhost" or _in(value, LOOPBACK_NETWORKS)


def port(value) -> bool:
    """A TCP/UDP port number 1-65535 (an int, or a string of digits as the inventory may hold)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return isinstance(value, int) and 1 <= value <= 65535


def host_port(value) -> bool:
    """host:port, the host a name or an address (IPv6 in brackets)."""
    text = _text(value)
    if text is None or ":" not in text:
        return False
    host, _sep, number = text.rpartition(":")
    if not port(number):
        return False
    if host.startswith("[") and host.endswith("]"):
        return ip_address(host[1:-1]) and ":" in host
    if ":" in host:  # an IPv6 address needs its brackets here
        return False
    return ip_address(host) or dns_name(host)


def postgres_url(value) -> bool:
    """A postgres:// or postgresql:// URL with a host and a database name."""
    text = _text(value)
    if text is None or any(c.isspace() for c in text):
        return False
    try:
        _database_url.parse_database_url(text)
    except ValueError:
        return False
    return True


def http_url(value) -> bool:
    """An http:// or https:// URL with a host (name or address, optional port) and no white space."""
    text = _text(value)
    if text is None or any(c.isspace() for c in text):
        return False
    scheme, sep, rest = text.partition("://")
    if not sep or scheme not in ("http", "https"):
        return False
    authority = rest.split("/", 1)[0].split("?", 1)[0]
    if authority.startswith("[") and authority.endswith("]"):
        return ":" in authority and ip_address(authority[1:-1])
    if ":" in authority:  # a port (an IPv6 address needs its brackets)
        return host_port(authority.lower())
    return ip_address(authority) or dns_name(authority.lower())


def backup_id(value, kinds=("full", "incr")) -> bool:
    """A backup id of the backup job, <UTC time YYYYMMDDTHHMMSSZ>-<kind>, kind one of kinds."""
    text = _text(value)
    if text is None:
        return False
    stamp, sep, kind = text.partition("-")
    return bool(sep) and kind in kinds and _full(_BACKUP_STAMP, stamp)


def url_path(value) -> bool:
    """A URL path starting with / made of unreserved characters (safe to write into nginx config)."""
    return _full(_URL_PATH, value)


def abs_path(value) -> bool:
    """An absolute path without white space."""
    return _full(_ABS_PATH, value)


def safe_dir(value, forbidden=("/",)) -> bool:
    """An absolute path a role may own: not one of forbidden (system directories), no '..'."""
    if not abs_path(value):
        return False
    normal = value.rstrip("/") or "/"
    return normal not in {f.rstrip("/") or "/" for f in forbidden} and ".." not in normal.split("/")


def size(value, units=("k", "m", "g"), unit_required: bool = False) -> bool:
    """A whole number followed by one of units (each program has its own unit letters)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return not unit_required and value >= 0
    text = _text(value)
    if not text:
        return False
    number = text.rstrip("".join(set("".join(units))))
    unit = text[len(number) :]
    if not number.isdigit():
        return False
    return unit in units or (not unit and not unit_required)


def duration(value) -> bool:
    """A Prometheus/systemd style duration such as 30s, 5m or 1h30m (not empty)."""
    text = _text(value)
    return bool(text) and _DURATION.fullmatch(text) is not None


def email(value) -> bool:
    """An e-mail address with a domain part that has a dot."""
    return _full(_EMAIL, value)


def linux_user(value) -> bool:
    """A portable Linux user or group name."""
    return _full(_LINUX_USER, value)


def sql_identifier(value) -> bool:
    """A PostgreSQL role or database name that needs no quoting."""
    return _full(_SQL_IDENTIFIER, value)


def placeholder_secret(value) -> bool:
    """True when a secret still holds the CHANGE-ME placeholder of the vault examples (or is empty)."""
    if value is None:
        return True
    text = str(value)
    return not text.strip() or _PLACEHOLDER.search(text) is not None


def weak_secret(value, min_length: int = 16, weak=(), user: str = "") -> bool:
    """A placeholder, shorter than min_length, a well-known password, or the user name itself."""
    if placeholder_secret(value):
        return True
    text = str(value)
    lowered = text.lower()
    return len(text) < min_length or lowered in {w.lower() for w in weak} or (bool(user) and lowered == user.lower())


# What each rule means, for the messages of rule_errors; and one value each rule refuses, which
# the generated bad-input test (tests/roles/test_argument_specs.py) feeds to every option.
DESCRIPTIONS = {
    "abs_path": "an absolute path without white space",
    "backup_id": "a backup id like 20260131T021500Z-full",
    "cidr": "an IP network with a prefix length, e.g. 10.0.0.0/8",
    "dns_name": "a lower-case DNS name",
    "compose_project": "a Compose project name (lower-case letters, digits, '_', '-')",
    "docker_name": "a Docker name (letters, digits, '_', '.', '-'; not starting with '_', '.' or '-')",
    "duration": "a duration such as 30s, 5m or 1h30m",
    "email": "an e-mail address",
    "host_port": "host:port (an IPv6 address in brackets)",
    "http_url": "an http(s)://host[:port][/path] URL",
    "image_ref": "an image reference [registry/]path[:tag]",
    "image_tag": "an image tag (letters, digits, '_', '.', '-'; at most 128 characters)",
    "ip_address": "an IP address",
    "linux_user": "a Linux user name (lower case, at most 32 characters)",
    "loopback_address": "a loopback address",
    "port": "a port number from 1 to 65535",
    "postgres_url": "a postgresql://user:password@host:port/database URL",
    "private_address": "a private address (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7)",
    "safe_dir": "an absolute path that is not a system directory",
    "size": "a size: a whole number and a unit",
    "url_path": "a URL path starting with / (letters, digits, '/', '.', '_', '~', '-')",
    "sql_identifier": "a PostgreSQL name (letters, digits, '_'; not starting with a digit)",
}
INVALID_SAMPLES = {
    "abs_path": "relative/path",
    "backup_id": "last-tuesday",
    "cidr": "10.0.0.0/33",
    "dns_name": "Not_A-Name",
    "compose_project": "Bad_Project",
    "docker_name": "-bad name",
    "duration": "5 minutes",
    "email": "not-an-address",
    "host_port": "no-port",
    "http_url": "ftp://x",
    "image_ref": "Bad Image",
    "image_tag": "bad tag",
    "ip_address": "300.1.2.3",
    "linux_user": "Bad User",
    "loopback_address": "192.0.2.1",
    "port": 70000,
    "postgres_url": "mysql://db/x",
    "private_address": "192.0.2.1",
    "safe_dir": "/",
    "size": "12 parsecs",
    "sql_identifier": "1-bad",
    "url_path": "/api; return 200",
}


def normalise_rule(rule) -> dict:
    """A rule as written in a role's vars: a test name, or {test, args, min, max, elements, empty_ok}."""
    if isinstance(rule, str):
        rule = {"test": rule}
    if not isinstance(rule, dict):
        raise TypeError(f"a rule is a test name or a mapping, not {rule!r}")
    unknown = set(rule) - {"test", "args", "min", "max", "elements", "empty_ok", "hint"}
    if unknown:
        raise ValueError(f"unknown rule keys {sorted(unknown)}")
    if "test" in rule and rule["test"] not in DESCRIPTIONS:
        raise ValueError(f"unknown rule test {rule['test']!r}")
    return rule


def _number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return float(value) if "." in value else int(value)
        except ValueError:
            return None
    return None


def check_value(value, rule) -> str | None:
    """Why value breaks rule (what it must be), or None when it is valid."""
    rule = normalise_rule(rule)
    if rule.get("empty_ok") and value in ("", None, []):
        return None
    items = value if rule.get("elements") else [value]
    if rule.get("elements") and not isinstance(value, list):
        return "must be a list"
    for item in items:
        if "test" in rule:
            test = globals()[rule["test"]]
            if not test(item, **(rule.get("args") or {})):
                what = rule.get("hint") or DESCRIPTIONS[rule["test"]]
                return f"must be {'a list of ' if rule.get('elements') else ''}{what}" + (
                    f" (not {item!r})" if rule.get("elements") else ""
                )
        if "min" in rule or "max" in rule:
            number = _number(item)
            low, high = rule.get("min"), rule.get("max")
            if number is None or (low is not None and number < low) or (high is not None and number > high):
                bounds = (
                    f"from {low} to {high}"
                    if low is not None and high is not None
                    else (f"at least {low}" if low is not None else f"at most {high}")
                )
                return f"must be a number {bounds}"
    return None


def rule_errors(values: dict, rules: dict, unresolved: dict | None = None, strict: bool = False) -> list:
    """One message per variable of values that breaks its rule: 'name=value must be ...'.

    unresolved: {name: why} for variables whose value could not be read (e.g. a template error);
    strict: a variable missing from values is an error ('name is not defined'), not None.
    """
    errors = []
    for name, rule in rules.items():
        if unresolved and name in unresolved:
            errors.append(f"{name} {unresolved[name]}")
        elif strict and name not in values:
            errors.append(f"{name} is not defined")
        else:
            problem = check_value(values.get(name), rule)
            if problem:
                errors.append(f"{name}={values.get(name)!r} {problem}")
    return errors


def settings_failure(errors: list, role: str = "") -> str | None:
    """The message of a role's failed settings check ('Invalid <role> settings: a; b.'), or None."""
    if not errors:
        return None
    return f"Invalid {role + ' ' if role else ''}settings: {'; '.join(errors)}."


def invalid_sample(rule):
    """A value rule refuses (for generated bad-input tests), or None when it has none."""
    rule = normalise_rule(rule)
    if "max" in rule:
        sample = rule["max"] + 1
    elif "min" in rule:
        sample = rule["min"] - 1
    elif "test" in rule:
        sample = INVALID_SAMPLES[rule["test"]]
    else:
        return None
    return [sample] if rule.get("elements") else sample
