# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Probe model and evaluation for the ``mvp_platform.infra.healthcheck`` module.

Pure Python, standard library only (``cryptography`` is used when importable), no Ansible
imports, so that the logic can be unit-tested with plain pytest.

Layers, each usable on its own:

* ``build_checks()`` turns the module's ``checks`` option into validated ``Check`` objects
  (raises ``CheckConfigError`` with a message naming the check and the problem).
* ``observe()`` performs one network probe and returns a raw ``Observation``
  (status, body, latency, certificate expiry, transport error).
* ``evaluate()`` is pure: it compares an ``Observation`` against a ``Check`` and returns a
  ``CheckResult`` (name, ok, status, latency_ms, cert_days_left, error).
* ``run_round()`` probes all checks concurrently with a thread pool.
* ``wait_for_health()`` repeats rounds until ``success_threshold`` consecutive all-healthy
  rounds were seen or ``wait_timeout`` has passed. Clock and sleep are injectable.
* ``failure_message()`` names each failing check and why.

Certificate expiry is read from the DER certificate the peer presented
(``SSLSocket.getpeercert(binary_form=True)``), which is available even when verification is
off. The DER is parsed with ``cryptography`` when it is importable; otherwise (or when
``cryptography`` cannot parse it) a small DER walker in this file reads ``notAfter`` from
``tbsCertificate.validity``. The walker only needs the fixed X.509 structure (RFC 5280
section 4.1), so it has no dependency on private ``ssl`` helpers or temporary files.
"""

from __future__ import annotations

import base64
import datetime
import http.client
import json
import os
import re
import socket
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import unquote, urlsplit

try:
    from cryptography import x509 as _x509

    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - depends on the target's Python packages
    _x509 = None
    HAS_CRYPTOGRAPHY = False

CHECK_TYPES = ("http", "tcp")
DEFAULT_STATUS = "200-299"
DEFAULT_TIMEOUT = 5.0
MAX_BODY_BYTES = 1024 * 1024
MAX_WORKERS = 32
USER_AGENT = "mvp_platform.infra.healthcheck"

_UTC = datetime.timezone.utc
_METHOD_RE = re.compile(r"^[A-Z][A-Z0-9_-]*$")
_STATUS_TOKEN_RE = re.compile(r"^(?:(?P<lo>\d{3})(?:\s*-\s*(?P<hi>\d{3}))?|(?P<cls>[1-5])[xX]{2})$")
_HTTP_ONLY = (
    "url",
    "headers",
    "body",
    "status_code",
    "body_regex",
    "json_path",
    "json_equals",
    "ca_path",
    "min_cert_days",
)
_MISSING = object()


class CheckConfigError(ValueError):
    """A check or a wait parameter is invalid; the message is meant for the user."""


class CertificateParseError(ValueError):
    """The peer certificate could not be parsed."""


# ---------------------------------------------------------------------------------------------
# Expected status codes
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusSpec:
    """A set of accepted HTTP status codes, as inclusive ranges."""

    ranges: tuple[tuple[int, int], ...]

    def matches(self, status: int) -> bool:
        return any(lo <= status <= hi for lo, hi in self.ranges)

    def describe(self) -> str:
        return ", ".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in self.ranges)


def _parse_status_token(token: Any) -> tuple[int, int]:
    if isinstance(token, bool):
        raise CheckConfigError(f"invalid status code {token!r}")
    if isinstance(token, int):
        lo = hi = token
    elif isinstance(token, str):
        match = _STATUS_TOKEN_RE.match(token.strip())
        if not match:
            raise CheckConfigError(
                f"invalid status code {token!r}: use a code (200), a range (200-399) or a class (2xx)"
            )
        if match.group("cls"):
            lo = int(match.group("cls")) * 100
            hi = lo + 99
        else:
            lo = int(match.group("lo"))
            hi = int(match.group("hi") or lo)
    else:
        raise CheckConfigError(f"invalid status code {token!r}: expected an integer or a string")
    for code in (lo, hi):
        if not 100 <= code <= 599:
            raise CheckConfigError(f"invalid status code {code} in {token!r}: must be between 100 and 599")
    if lo > hi:
        raise CheckConfigError(f"invalid status range {token!r}: start {lo} is greater than end {hi}")
    return lo, hi


def parse_status_spec(value: Any) -> StatusSpec:
    """Parse an int, a string (``"200"``, ``"200-399"``, ``"2xx"``, comma-separated) or a list."""
    if value is None:
        value = DEFAULT_STATUS
    items = value if isinstance(value, (list, tuple)) else [value]
    tokens: list[Any] = []
    for item in items:
        if isinstance(item, str):
            tokens.extend(item.split(","))
        else:
            tokens.append(item)
    if not tokens:
        raise CheckConfigError("status_code must not be empty")
    ranges = sorted({_parse_status_token(token) for token in tokens})
    return StatusSpec(ranges=tuple(ranges))


# ---------------------------------------------------------------------------------------------
# JSON path
# ---------------------------------------------------------------------------------------------


def parse_json_path(path: str) -> tuple[str, ...]:
    """Split ``a.b[0].c`` or ``a.b.0.c`` into segments; a leading ``$.`` or ``.`` is ignored."""
    if not isinstance(path, str) or not path.strip():
        raise CheckConfigError("json_path must be a non-empty string")
    text = path.strip()
    if text.startswith("$"):
        text = text[1:]
    text = re.sub(r"\[(\d+)\]", r".\1", text).lstrip(".")
    segments = tuple(text.split("."))
    if not text or any(segment == "" for segment in segments):
        raise CheckConfigError(f"invalid json_path {path!r}: empty segment")
    return segments


def resolve_json_path(document: Any, segments: tuple[str, ...]) -> Any:
    """Return the value at ``segments`` or ``_MISSING``. Lists are indexed by integer segments."""
    current = document
    for segment in segments:
        if isinstance(current, dict):
            if segment not in current:
                return _MISSING
            current = current[segment]
        elif isinstance(current, list) and segment.isdigit():
            index = int(segment)
            if index >= len(current):
                return _MISSING
            current = current[index]
        else:
            return _MISSING
    return current


def json_value_equals(actual: Any, expected: Any) -> bool:
    """Equality, where a string ``expected`` also matches the JSON text of a non-string value.

    So ``"true"`` matches ``true``, ``"3"`` matches ``3`` (handy with ``key=value`` arguments).
    ``True`` never equals ``1`` here, unlike in Python.
    """
    if isinstance(actual, bool) != isinstance(expected, bool):
        if isinstance(expected, str):
            return json.dumps(actual) == expected
        return False
    if actual == expected:
        return True
    if isinstance(expected, str) and not isinstance(actual, str):
        return json.dumps(actual, sort_keys=True) == expected
    return False


# ---------------------------------------------------------------------------------------------
# Check model and validation
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    name: str
    kind: str
    timeout: float = DEFAULT_TIMEOUT
    max_latency_ms: float | None = None
    # http
    url: str | None = None
    scheme: str | None = None
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    status: StatusSpec | None = None
    body_regex: re.Pattern | None = None
    json_path: tuple[str, ...] | None = None
    json_equals: Any = _MISSING
    validate_certs: bool = True
    ca_path: str | None = None
    min_cert_days: float | None = None
    path: str = "/"
    # tcp, and the connection target of http checks
    host: str | None = None
    port: int | None = None

    @property
    def target(self) -> str:
        if self.kind == "http":
            return f"{self.method} {self.url}"
        return f"tcp {_host_port(self.host, self.port)}"


def _host_port(host: str | None, port: int | None) -> str:
    if host and ":" in host:
        return f"[{host}]:{port}"
    return f"{host}:{port}"


def _positive_number(label: str, value: Any, allow_zero: bool = False) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CheckConfigError(f"{label} must be a number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise CheckConfigError(f"{label} must be {'zero or ' if allow_zero else ''}greater than zero, got {value!r}")
    return value


def _check_kind(spec: dict[str, Any]) -> str:
    kind = spec.get("type")
    if kind is None:
        if spec.get("url") is not None:
            return "http"
        if spec.get("host") is not None or spec.get("port") is not None:
            return "tcp"
        raise CheckConfigError("set url for an http check, or host and port for a tcp check")
    if kind not in CHECK_TYPES:
        raise CheckConfigError(f"type must be one of {', '.join(CHECK_TYPES)}, got {kind!r}")
    return kind


def _tcp_fields(spec: dict[str, Any]) -> dict[str, Any]:
    misplaced = [key for key in _HTTP_ONLY if spec.get(key) is not None]
    if misplaced:
        raise CheckConfigError(f"{', '.join(misplaced)} only apply to http checks")
    host, port = spec.get("host"), spec.get("port")
    if not host or port is None:
        raise CheckConfigError("a tcp check needs host and port")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise CheckConfigError(f"port must be between 1 and 65535, got {port!r}")
    return {"host": str(host), "port": port}


def _url_fields(url: Any) -> dict[str, Any]:
    if not isinstance(url, str) or not url:
        raise CheckConfigError("an http check needs url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise CheckConfigError(f"invalid url {url!r}: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise CheckConfigError(f"url {url!r} must start with http:// or https://")
    if not parts.hostname:
        raise CheckConfigError(f"url {url!r} has no host")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    headers = []
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        headers.append(("Authorization", "Basic " + base64.b64encode(credentials).decode("ascii")))
    return {
        "url": url,
        "scheme": scheme,
        "host": parts.hostname,
        "port": port or (443 if scheme == "https" else 80),
        "path": path,
        "_url_headers": headers,
    }


def _body_and_headers(spec: dict[str, Any], url_headers: list[tuple[str, str]]) -> dict[str, Any]:
    raw_headers = spec.get("headers") or {}
    if not isinstance(raw_headers, dict):
        raise CheckConfigError("headers must be a mapping of header names to values")
    headers = dict(url_headers)
    for key, value in raw_headers.items():
        if value is None:
            raise CheckConfigError(f"header {key!r} has no value")
        headers[str(key)] = value if isinstance(value, str) else json.dumps(value)
    lower = {key.lower() for key in headers}
    body = spec.get("body")
    if body is None:
        body_bytes = None
    elif isinstance(body, (dict, list)):
        body_bytes = json.dumps(body).encode("utf-8")
        if "content-type" not in lower:
            headers["Content-Type"] = "application/json"
    else:
        body_bytes = str(body).encode("utf-8")
    if "user-agent" not in lower:
        headers["User-Agent"] = USER_AGENT
    return {"headers": tuple(headers.items()), "body": body_bytes}


def _tls_fields(spec: dict[str, Any], https: bool) -> dict[str, Any]:
    validate = spec.get("validate_certs")
    fields: dict[str, Any] = {"validate_certs": True if validate is None else bool(validate)}
    ca_path = spec.get("ca_path")
    if ca_path is not None:
        if not https:
            raise CheckConfigError("ca_path only applies to https urls")
        if not fields["validate_certs"]:
            raise CheckConfigError("ca_path has no effect with validate_certs=false; remove one of them")
        if not os.path.isfile(ca_path):
            raise CheckConfigError(f"ca_path {ca_path!r} is not a readable file")
        fields["ca_path"] = ca_path
    min_days = _positive_number("min_cert_days", spec.get("min_cert_days"), allow_zero=True)
    if min_days is not None and not https:
        raise CheckConfigError("min_cert_days only applies to https urls")
    fields["min_cert_days"] = min_days
    return fields


def _http_fields(spec: dict[str, Any]) -> dict[str, Any]:
    for key in ("host", "port"):
        if spec.get(key) is not None:
            raise CheckConfigError(f"{key} only applies to tcp checks; an http check takes its target from url")
    fields = _url_fields(spec.get("url"))
    fields.update(_body_and_headers(spec, fields.pop("_url_headers")))

    method = str(spec.get("method") or "GET").upper()
    if not _METHOD_RE.match(method):
        raise CheckConfigError(f"invalid method {spec.get('method')!r}")
    fields["method"] = method
    fields["status"] = parse_status_spec(spec.get("status_code"))

    regex = spec.get("body_regex")
    if regex is not None:
        try:
            fields["body_regex"] = re.compile(regex)
        except re.error as exc:
            raise CheckConfigError(f"invalid body_regex {regex!r}: {exc}") from exc

    if spec.get("json_path") is not None:
        fields["json_path"] = parse_json_path(spec["json_path"])
        if spec.get("json_equals") is not None:
            fields["json_equals"] = spec["json_equals"]
    elif spec.get("json_equals") is not None:
        raise CheckConfigError("json_equals needs json_path")

    fields.update(_tls_fields(spec, https=fields["scheme"] == "https"))
    return fields


def build_check(spec: dict[str, Any]) -> Check:
    """Validate one entry of the ``checks`` option; errors name the check."""
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip():
        raise CheckConfigError("every check needs a non-empty name")
    try:
        kind = _check_kind(spec)
        fields = _tcp_fields(spec) if kind == "tcp" else _http_fields(spec)
        timeout = _positive_number("timeout", spec.get("timeout"))
        max_latency = _positive_number("max_latency_ms", spec.get("max_latency_ms"))
    except CheckConfigError as exc:
        raise CheckConfigError(f"check {name!r}: {exc}") from None
    return Check(
        name=name,
        kind=kind,
        timeout=float(timeout if timeout is not None else DEFAULT_TIMEOUT),
        max_latency_ms=max_latency,
        **fields,
    )


def build_checks(specs: Any) -> list[Check]:
    if not isinstance(specs, list) or not specs:
        raise CheckConfigError("checks must be a non-empty list")
    checks = []
    for index, spec in enumerate(specs):
        if not isinstance(spec, dict):
            raise CheckConfigError(f"checks[{index}] must be a mapping")
        checks.append(build_check(spec))
    seen: set[str] = set()
    for check in checks:
        if check.name in seen:
            raise CheckConfigError(f"check names must be unique; {check.name!r} is used more than once")
        seen.add(check.name)
    return checks


def validate_wait(wait_timeout: Any, interval: Any, success_threshold: Any) -> None:
    _positive_number("wait_timeout", wait_timeout, allow_zero=True)
    _positive_number("interval", interval)
    if isinstance(success_threshold, bool) or not isinstance(success_threshold, int) or success_threshold < 1:
        raise CheckConfigError(f"success_threshold must be an integer of at least 1, got {success_threshold!r}")
    if success_threshold > 1 and not wait_timeout:
        raise CheckConfigError(
            f"success_threshold={success_threshold} needs several rounds; set wait_timeout greater than 0"
        )


# ---------------------------------------------------------------------------------------------
# Certificates
# ---------------------------------------------------------------------------------------------


def _der_element(data: bytes, pos: int) -> tuple[int, int, int]:
    """Return (tag, content start, content end) of the DER element at ``pos``."""
    if pos + 2 > len(data):
        raise CertificateParseError("truncated DER")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise CertificateParseError("unsupported DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    end = pos + length
    if end > len(data):
        raise CertificateParseError("truncated DER")
    return tag, pos, end


def _parse_asn1_time(tag: int, raw: bytes) -> datetime.datetime:
    text = raw.decode("ascii")
    if not text.endswith("Z"):
        raise CertificateParseError(f"unsupported time {text!r}")
    if tag == 0x17:  # UTCTime, YYMMDDHHMMSSZ; RFC 5280: YY >= 50 means 19YY
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    elif tag != 0x18:  # GeneralizedTime, YYYYMMDDHHMMSSZ
        raise CertificateParseError(f"unexpected time tag 0x{tag:02x}")
    return datetime.datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=_UTC)


def der_not_after(der: bytes) -> datetime.datetime:
    """Read ``notAfter`` from a DER X.509 certificate with the standard library only."""
    try:
        tag, start, cert_end = _der_element(der, 0)  # Certificate
        if tag != 0x30:
            raise CertificateParseError("not a certificate")
        tag, pos, tbs_end = _der_element(der, start)  # tbsCertificate
        if tag != 0x30 or tbs_end > cert_end:
            raise CertificateParseError("no tbsCertificate")
        tag, start, end = _der_element(der, pos)
        if tag == 0xA0:  # [0] version, optional
            pos = end
        for field_name in ("serialNumber", "signature", "issuer"):
            tag, start, pos = _der_element(der, pos)
            if tag not in (0x02, 0x30):
                raise CertificateParseError(f"unexpected {field_name}")
        tag, pos, validity_end = _der_element(der, pos)
        if tag != 0x30 or validity_end > tbs_end:
            raise CertificateParseError("no validity")
        tag, start, pos = _der_element(der, pos)  # notBefore
        tag, start, end = _der_element(der, pos)  # notAfter
        return _parse_asn1_time(tag, der[start:end])
    except (IndexError, ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, CertificateParseError):
            raise
        raise CertificateParseError(str(exc)) from exc


def cert_not_after(der: bytes) -> datetime.datetime:
    """``notAfter`` of a DER certificate: ``cryptography`` when importable, else ``der_not_after``."""
    if HAS_CRYPTOGRAPHY:
        try:
            cert = _x509.load_der_x509_certificate(der)
            not_after = getattr(cert, "not_valid_after_utc", None)
            if not_after is None:  # cryptography < 42
                not_after = cert.not_valid_after.replace(tzinfo=_UTC)
            return not_after
        except Exception:  # noqa: S110 - fall back to the DER walker below
            pass
    return der_not_after(der)


# ---------------------------------------------------------------------------------------------
# Probing
# ---------------------------------------------------------------------------------------------


@dataclass
class Observation:
    """What one probe saw; no judgement yet."""

    status: int | None = None
    body: bytes | None = None
    body_truncated: bool = False
    charset: str | None = None
    latency_ms: float | None = None
    cert_not_after: datetime.datetime | None = None
    cert_error: str | None = None
    error: str | None = None


@dataclass
class CheckResult:
    name: str
    type: str
    target: str
    ok: bool
    status: int | None = None
    latency_ms: float | None = None
    cert_days_left: float | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "target": self.target,
            "ok": self.ok,
            "status": self.status,
            "latency_ms": self.latency_ms,
            "cert_days_left": self.cert_days_left,
            "error": self.error,
        }


def ssl_context(check: Check) -> ssl.SSLContext:
    if check.validate_certs:
        return ssl.create_default_context(cafile=check.ca_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # validate_certs=false was asked for explicitly
    return context


def describe_error(exc: BaseException, check: Check) -> str:
    """A short, user-facing reason for a transport failure."""
    reasons: list[tuple[type[BaseException], Callable[[Any], str]]] = [
        (
            ssl.SSLCertVerificationError,
            lambda e: f"TLS certificate verification failed: {e.verify_message or e.reason or e}",
        ),
        (ssl.SSLError, lambda e: f"TLS error: {e.reason or e}"),
        (socket.timeout, lambda e: f"timed out after {check.timeout:g} s"),
        (TimeoutError, lambda e: f"timed out after {check.timeout:g} s"),
        (ConnectionRefusedError, lambda e: "connection refused"),
        (socket.gaierror, lambda e: f"cannot resolve host {check.host}: {e.strerror or e}"),
        (
            http.client.HTTPException,
            lambda e: f"invalid HTTP response: {e.__class__.__name__}{': ' + str(e) if str(e) else ''}",
        ),
        (OSError, lambda e: e.strerror or str(e) or e.__class__.__name__),
    ]
    for exc_type, describe in reasons:
        if isinstance(exc, exc_type):
            return describe(exc)
    return f"{exc.__class__.__name__}: {exc}"


def _observe_http(check: Check, obs: Observation) -> None:
    if check.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            check.host, check.port, timeout=check.timeout, context=ssl_context(check)
        )
    else:
        conn = http.client.HTTPConnection(check.host, check.port, timeout=check.timeout)
    try:
        conn.connect()
        if check.scheme == "https":
            der = conn.sock.getpeercert(binary_form=True)
            if der:
                try:
                    obs.cert_not_after = cert_not_after(der)
                except CertificateParseError as exc:
                    obs.cert_error = f"cannot read the peer certificate: {exc}"
            else:
                obs.cert_error = "the server presented no certificate"
        conn.request(check.method, check.path, body=check.body, headers=dict(check.headers))
        response = conn.getresponse()
        obs.status = response.status
        obs.charset = response.headers.get_content_charset()
        data = response.read(MAX_BODY_BYTES + 1)
        obs.body_truncated = len(data) > MAX_BODY_BYTES
        obs.body = data[:MAX_BODY_BYTES]
    finally:
        conn.close()


def _observe_tcp(check: Check) -> None:
    sock = socket.create_connection((check.host, check.port), timeout=check.timeout)
    sock.close()


def observe(check: Check, clock: Callable[[], float] = time.perf_counter) -> Observation:
    """Probe ``check`` once over the network. Never raises for network problems."""
    obs = Observation()
    start = clock()
    try:
        if check.kind == "http":
            _observe_http(check, obs)
        else:
            _observe_tcp(check)
    except Exception as exc:  # every failure becomes the check's error
        obs.error = describe_error(exc, check)
    obs.latency_ms = round((clock() - start) * 1000.0, 1)
    return obs


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------


def _decode_body(obs: Observation) -> str:
    try:
        return (obs.body or b"").decode(obs.charset or "utf-8", errors="replace")
    except LookupError:  # unknown charset
        return (obs.body or b"").decode("utf-8", errors="replace")


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _json_problem(check: Check, text: str, truncated: bool) -> str | None:
    if truncated:
        return f"response body is larger than {MAX_BODY_BYTES} bytes; not parsed as JSON"
    try:
        document = json.loads(text)
    except ValueError:
        return "response body is not valid JSON"
    segments = check.json_path or ()
    path = ".".join(segments)
    value = resolve_json_path(document, segments)
    if value is _MISSING:
        return f"JSON field {path} is missing"
    if check.json_equals is not _MISSING and not json_value_equals(value, check.json_equals):
        return f"JSON field {path} is {_short(value)}, expected {_short(check.json_equals)}"
    return None


def _http_problems(check: Check, obs: Observation) -> list[str]:
    problems = []
    if obs.status is not None and check.status is not None and not check.status.matches(obs.status):
        problems.append(f"status {obs.status} not in {check.status.describe()}")
    if check.body_regex is not None or check.json_path is not None:
        text = _decode_body(obs)
        if check.body_regex is not None and not check.body_regex.search(text):
            problems.append(f"body does not match {check.body_regex.pattern!r}")
        if check.json_path is not None:
            problem = _json_problem(check, text, obs.body_truncated)
            if problem:
                problems.append(problem)
    return problems


def evaluate(check: Check, obs: Observation, now: datetime.datetime) -> CheckResult:
    """Judge an observation against its check. Pure: no I/O, time comes in as ``now``."""
    problems: list[str] = []
    if obs.error:
        problems.append(obs.error)
    elif check.kind == "http":
        problems.extend(_http_problems(check, obs))
    if not obs.error and check.max_latency_ms is not None and (obs.latency_ms or 0) > check.max_latency_ms:
        problems.append(f"latency {obs.latency_ms:g} ms exceeds max_latency_ms {check.max_latency_ms:g}")

    days_left = None
    if obs.cert_not_after is not None:
        days_left = (obs.cert_not_after - now).total_seconds() / 86400.0
        if check.min_cert_days is not None and days_left < check.min_cert_days:
            expiry = obs.cert_not_after.astimezone(_UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            if days_left < 0:
                problems.append(f"certificate expired {-days_left:.2f} days ago ({expiry})")
            else:
                problems.append(
                    f"certificate expires in {days_left:.2f} days ({expiry}), "
                    f"less than min_cert_days {check.min_cert_days:g}"
                )
        days_left = round(days_left, 2)
    elif check.min_cert_days is not None and not obs.error:
        problems.append(obs.cert_error or "no certificate expiry could be read")

    return CheckResult(
        name=check.name,
        type=check.kind,
        target=check.target,
        ok=not problems,
        status=obs.status,
        latency_ms=obs.latency_ms,
        cert_days_left=days_left,
        error="; ".join(problems) or None,
    )


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(_UTC)


def probe(check: Check) -> CheckResult:
    """Observe and evaluate one check."""
    return evaluate(check, observe(check), utcnow())


def run_round(checks: list[Check], probe_fn: Callable[[Check], CheckResult] = probe) -> list[CheckResult]:
    """Probe every check concurrently; results keep the order of ``checks``."""
    if len(checks) == 1:
        return [probe_fn(checks[0])]
    with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(checks))) as pool:
        return list(pool.map(probe_fn, checks))


# ---------------------------------------------------------------------------------------------
# Waiting
# ---------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    healthy: bool
    results: list[CheckResult]
    rounds: int
    elapsed: float
    consecutive_ok: int
    success_threshold: int
    wait_timeout: float
    history: list[bool] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "checks": [result.as_dict() for result in self.results],
            "rounds": self.rounds,
            "elapsed": round(self.elapsed, 3),
        }


def wait_for_health(
    round_fn: Callable[[], list[CheckResult]],
    *,
    wait_timeout: float = 0,
    interval: float = 2,
    success_threshold: int = 1,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Run rounds until ``success_threshold`` consecutive all-healthy rounds, or the timeout.

    The first round starts at once; later rounds start ``interval`` seconds after the previous
    one ended, and a last round is run at the deadline (``wait_timeout`` after the start), so
    the total time can exceed ``wait_timeout`` by at most one round's duration.
    ``wait_timeout=0`` means a single round.
    """
    validate_wait(wait_timeout, interval, success_threshold)
    start = clock()
    deadline = start + wait_timeout
    rounds = 0
    streak = 0
    history: list[bool] = []
    while True:
        results = round_fn()
        rounds += 1
        round_ok = all(result.ok for result in results)
        history.append(round_ok)
        streak = streak + 1 if round_ok else 0
        if streak >= success_threshold:
            break
        remaining = deadline - clock()
        if remaining <= 0:
            break
        sleep(min(interval, remaining))
    return Outcome(
        healthy=streak >= success_threshold,
        results=results,
        rounds=rounds,
        elapsed=clock() - start,
        consecutive_ok=streak,
        success_threshold=success_threshold,
        wait_timeout=wait_timeout,
        history=history,
    )


def failure_message(outcome: Outcome) -> str:
    """Name each failing check of the last round and why."""
    failing = [result for result in outcome.results if not result.ok]
    where = f"after {outcome.rounds} round{'s' if outcome.rounds != 1 else ''} in {outcome.elapsed:.2f} s"
    if outcome.wait_timeout:
        where += f" (wait_timeout {outcome.wait_timeout:g} s)"
    if not failing:
        return (
            f"Not healthy {where}: all checks passed in the last round, but only {outcome.consecutive_ok} "
            f"consecutive healthy round(s) of the {outcome.success_threshold} required were seen"
        )
    details = "; ".join(f"{result.name} ({result.target}): {result.error}" for result in failing)
    return f"{len(failing)} of {len(outcome.results)} checks failed {where}: {details}"


def run(
    specs: Any,
    *,
    wait_timeout: float = 0,
    interval: float = 2,
    success_threshold: int = 1,
    probe_fn: Callable[[Check], CheckResult] = probe,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Validate everything, then wait for health. Raises ``CheckConfigError`` on bad input."""
    checks = build_checks(specs)
    validate_wait(wait_timeout, interval, success_threshold)
    return wait_for_health(
        lambda: run_round(checks, probe_fn),
        wait_timeout=wait_timeout,
        interval=interval,
        success_threshold=success_threshold,
        clock=clock,
        sleep=sleep,
    )
