# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the healthcheck probe model: no network, no sleeping (fake clock)."""

from __future__ import annotations

import contextlib
import datetime
import http.client
import json
import socket
import ssl
import sys
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

try:
    from ansible_collections.mvp_platform.infra.plugins.module_utils import _healthcheck as hc
except ImportError:  # plain pytest from a clone: the tree is linked under .ansible/collections
    sys.path.insert(0, str(Path(__file__).resolve().parents[4] / ".ansible" / "collections"))
    from ansible_collections.mvp_platform.infra.plugins.module_utils import _healthcheck as hc

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)

codes = st.integers(min_value=100, max_value=599)


def http_check(**overrides):
    spec = {"name": "api", "url": "http://127.0.0.1:8080/health"}
    spec.update(overrides)
    return hc.build_check(spec)


def https_check(**overrides):
    return http_check(url="https://app.example.test/health", **overrides)


# ---------------------------------------------------------------------------------------------
# Status codes
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ((200, 299),)),
        (200, ((200, 200),)),
        ("204", ((204, 204),)),
        ("200-399", ((200, 399),)),
        (" 200 - 204 ", ((200, 204),)),
        ("2xx", ((200, 299),)),
        ("3XX", ((300, 399),)),
        ("200,204, 301-302", ((200, 200), (204, 204), (301, 302))),
        ([200, "301-302", "4xx"], ((200, 200), (301, 302), (400, 499))),
        ([204, 200, 200], ((200, 200), (204, 204))),
    ],
)
def test_parse_status_spec(value, expected):
    assert hc.parse_status_spec(value).ranges == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("399-200", "start 399 is greater than end 200"),
        ("99", "invalid status code"),
        (600, "must be between 100 and 599"),
        ("200-700", "must be between 100 and 599"),
        ("abc", "use a code (200), a range (200-399) or a class (2xx)"),
        ("200,,204", "invalid status code ''"),
        ([], "must not be empty"),
        (True, "invalid status code True"),
        (200.5, "expected an integer or a string"),
        ("6xx", "invalid status code"),
    ],
)
def test_parse_status_spec_rejects(value, message):
    with pytest.raises(hc.CheckConfigError, match=None) as info:
        hc.parse_status_spec(value)
    assert message in str(info.value)


@given(lo=codes, hi=codes, status=codes)
def test_status_range_matches_exactly_its_members(lo, hi, status):
    if lo > hi:
        with pytest.raises(hc.CheckConfigError):
            hc.parse_status_spec(f"{lo}-{hi}")
        return
    assert hc.parse_status_spec(f"{lo}-{hi}").matches(status) == (lo <= status <= hi)


@given(members=st.lists(codes, min_size=1, max_size=8), status=codes)
def test_status_list_matches_exactly_its_members(members, status):
    assert hc.parse_status_spec(members).matches(status) == (status in members)


@given(
    tokens=st.lists(
        st.one_of(codes, st.tuples(codes, codes).map(lambda t: f"{min(t)}-{max(t)}"), st.sampled_from(["2xx", "5xx"])),
        min_size=1,
        max_size=6,
    )
)
def test_status_describe_round_trips(tokens):
    spec = hc.parse_status_spec(tokens)
    again = hc.parse_status_spec(spec.describe())
    for status in range(100, 600):
        assert again.matches(status) == spec.matches(status)


@given(value=st.one_of(st.integers(), st.text(max_size=12)))
def test_status_parser_only_raises_config_errors(value):
    try:
        spec = hc.parse_status_spec(value)
    except hc.CheckConfigError:
        return
    assert all(100 <= lo <= hi <= 599 for lo, hi in spec.ranges)


# ---------------------------------------------------------------------------------------------
# JSON path and value comparison
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "segments"),
    [
        ("status", ("status",)),
        ("checks.db.status", ("checks", "db", "status")),
        ("items[0].name", ("items", "0", "name")),
        ("$.items.1", ("items", "1")),
        (".a", ("a",)),
    ],
)
def test_parse_json_path(path, segments):
    assert hc.parse_json_path(path) == segments


@pytest.mark.parametrize("path", ["", "  ", "a..b", "a.", "$"])
def test_parse_json_path_rejects(path):
    with pytest.raises(hc.CheckConfigError):
        hc.parse_json_path(path)


def test_resolve_json_path():
    doc = {"a": {"b": [{"c": 1}, {"c": None}]}, "flag": False}
    assert hc.resolve_json_path(doc, ("a", "b", "0", "c")) == 1
    assert hc.resolve_json_path(doc, ("a", "b", "1", "c")) is None
    assert hc.resolve_json_path(doc, ("flag",)) is False
    assert hc.resolve_json_path(doc, ("a", "b", "2")) is hc._MISSING
    assert hc.resolve_json_path(doc, ("a", "x")) is hc._MISSING
    assert hc.resolve_json_path(doc, ("a", "b", "c")) is hc._MISSING
    assert hc.resolve_json_path(doc, ("flag", "x")) is hc._MISSING


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10))
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
keys = st.text(alphabet="abcdefghij_-", min_size=1, max_size=6)


@given(segments=st.lists(keys, min_size=1, max_size=5), value=json_values)
def test_resolve_finds_what_was_put(segments, value):
    doc = value
    for segment in reversed(segments):
        doc = {segment: doc}
    assert hc.resolve_json_path(doc, hc.parse_json_path(".".join(segments))) == value


@given(value=json_values)
def test_json_value_equals_itself_and_its_json_text(value):
    assert hc.json_value_equals(value, value)
    if not isinstance(value, str):
        assert hc.json_value_equals(value, json.dumps(value, sort_keys=True))


@pytest.mark.parametrize(
    ("actual", "expected", "equal"),
    [
        ("ok", "ok", True),
        (True, "true", True),
        (3, "3", True),
        (True, 1, False),
        (1, True, False),
        (False, 0, False),
        ("3", 3, False),
        ("ok", "OK", False),
        ({"a": 1}, {"a": 1}, True),
        (1.0, 1, True),
    ],
)
def test_json_value_equals(actual, expected, equal):
    assert hc.json_value_equals(actual, expected) is equal


# ---------------------------------------------------------------------------------------------
# Building and validating checks
# ---------------------------------------------------------------------------------------------


def test_build_http_check_defaults():
    check = http_check()
    assert check.kind == "http"
    assert (check.host, check.port, check.path, check.scheme) == ("127.0.0.1", 8080, "/health", "http")
    assert check.method == "GET"
    assert check.status.describe() == "200-299"
    assert check.timeout == hc.DEFAULT_TIMEOUT
    assert dict(check.headers)["User-Agent"] == hc.USER_AGENT
    assert check.target == "GET http://127.0.0.1:8080/health"


def test_build_http_check_details():
    check = hc.build_check(
        {
            "name": "x",
            "type": "http",
            "url": "https://user:p%40ss@[::1]/a?b=1",
            "method": "post",
            "body": {"k": [1]},
            "headers": {"X-Num": 5, "User-Agent": "me"},
        }
    )
    headers = dict(check.headers)
    assert (check.host, check.port, check.path) == ("::1", 443, "/a?b=1")
    assert check.method == "POST"
    assert check.body == b'{"k": [1]}'
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Num"] == "5"
    assert headers["User-Agent"] == "me"
    assert headers["Authorization"] == "Basic dXNlcjpwQHNz"  # user:p@ss


def test_build_tcp_check_and_inference():
    check = hc.build_check({"name": "db", "host": "::1", "port": 5432})
    assert check.kind == "tcp"
    assert check.target == "tcp [::1]:5432"
    assert hc.build_check({"name": "w", "url": "http://h/"}).kind == "http"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"name": "a", "type": "http"}, "check 'a': an http check needs url"),
        ({"name": "a"}, "set url for an http check, or host and port for a tcp check"),
        ({"name": "a", "type": "tcp", "host": "h"}, "a tcp check needs host and port"),
        ({"name": "a", "type": "tcp", "host": "h", "port": 0}, "port must be between 1 and 65535"),
        ({"name": "a", "type": "tcp", "host": "h", "port": 1, "url": "http://h/"}, "url only apply to http"),
        ({"name": "a", "type": "tcp", "host": "h", "port": 1, "body_regex": "x"}, "body_regex only apply"),
        ({"name": "a", "url": "http://h/", "host": "h"}, "host only applies to tcp checks"),
        ({"name": "a", "type": "udp", "url": "http://h/"}, "type must be one of http, tcp"),
        ({"name": "a", "url": "ftp://h/"}, "must start with http:// or https://"),
        ({"name": "a", "url": "http:///x"}, "has no host"),
        ({"name": "a", "url": "http://h:99999/"}, "invalid url"),
        ({"name": "a", "url": "http://h/", "status_code": "500-400"}, "start 500 is greater than end 400"),
        ({"name": "a", "url": "http://h/", "body_regex": "("}, "invalid body_regex '('"),
        ({"name": "a", "url": "http://h/", "json_equals": "ok"}, "json_equals needs json_path"),
        ({"name": "a", "url": "http://h/", "json_path": "a..b"}, "invalid json_path"),
        ({"name": "a", "url": "http://h/", "min_cert_days": 3}, "min_cert_days only applies to https"),
        ({"name": "a", "url": "http://h/", "ca_path": "/etc/hosts"}, "ca_path only applies to https"),
        (
            {"name": "a", "url": "https://h/", "ca_path": "/etc/hosts", "validate_certs": False},
            "ca_path has no effect with validate_certs=false",
        ),
        ({"name": "a", "url": "https://h/", "ca_path": "/nonexistent/ca.pem"}, "is not a readable file"),
        ({"name": "a", "url": "https://h/", "min_cert_days": -1}, "min_cert_days must be zero or greater"),
        ({"name": "a", "url": "http://h/", "timeout": 0}, "timeout must be greater than zero"),
        ({"name": "a", "url": "http://h/", "max_latency_ms": -5}, "max_latency_ms must be greater than zero"),
        ({"name": "a", "url": "http://h/", "method": "GE T"}, "invalid method"),
        ({"name": "a", "url": "http://h/", "headers": ["x"]}, "headers must be a mapping"),
        ({"name": "a", "url": "http://h/", "headers": {"X": None}}, "header 'X' has no value"),
        ({"name": ""}, "every check needs a non-empty name"),
    ],
)
def test_build_check_rejects(spec, message):
    with pytest.raises(hc.CheckConfigError) as info:
        hc.build_check(spec)
    assert message in str(info.value)


def test_build_checks_rejects_duplicates_and_empty():
    with pytest.raises(hc.CheckConfigError, match="used more than once"):
        hc.build_checks([{"name": "a", "url": "http://h/"}, {"name": "a", "host": "h", "port": 1}])
    with pytest.raises(hc.CheckConfigError, match="non-empty list"):
        hc.build_checks([])
    with pytest.raises(hc.CheckConfigError, match=r"checks\[0\] must be a mapping"):
        hc.build_checks(["x"])


@pytest.mark.parametrize(
    ("wait_timeout", "interval", "threshold", "message"),
    [
        (-1, 1, 1, "wait_timeout must be zero or greater"),
        (10, 0, 1, "interval must be greater than zero"),
        (10, 1, 0, "success_threshold must be an integer of at least 1"),
        (0, 1, 2, "set wait_timeout greater than 0"),
    ],
)
def test_validate_wait(wait_timeout, interval, threshold, message):
    with pytest.raises(hc.CheckConfigError) as info:
        hc.validate_wait(wait_timeout, interval, threshold)
    assert message in str(info.value)


# ---------------------------------------------------------------------------------------------
# Evaluation (pure)
# ---------------------------------------------------------------------------------------------


def test_evaluate_healthy_http():
    obs = hc.Observation(status=200, body=b'{"status": "ok"}', latency_ms=12.0)
    result = hc.evaluate(http_check(json_path="status", json_equals="ok", max_latency_ms=100), obs, NOW)
    assert result.ok
    assert result.error is None
    assert (result.status, result.latency_ms, result.cert_days_left) == (200, 12.0, None)


@pytest.mark.parametrize(
    ("overrides", "obs", "error"),
    [
        ({}, hc.Observation(status=503, body=b"", latency_ms=1), "status 503 not in 200-299"),
        ({"status_code": [200, 204]}, hc.Observation(status=201, latency_ms=1), "status 201 not in 200, 204"),
        (
            {"body_regex": "^OK$"},
            hc.Observation(status=200, body=b"NOT OK", latency_ms=1),
            "body does not match '^OK$'",
        ),
        ({"json_path": "status"}, hc.Observation(status=200, body=b"<html>", latency_ms=1), "not valid JSON"),
        ({"json_path": "db.ok"}, hc.Observation(status=200, body=b'{"db": {}}', latency_ms=1), "db.ok is missing"),
        (
            {"json_path": "status", "json_equals": "ok"},
            hc.Observation(status=200, body=b'{"status": "degraded"}', latency_ms=1),
            "JSON field status is 'degraded', expected 'ok'",
        ),
        (
            {"json_path": "status"},
            hc.Observation(status=200, body=b"{}", body_truncated=True, latency_ms=1),
            "not parsed as JSON",
        ),
        ({"max_latency_ms": 100}, hc.Observation(status=200, latency_ms=250.5), "latency 250.5 ms exceeds"),
        ({}, hc.Observation(error="connection refused", latency_ms=0.3), "connection refused"),
    ],
)
def test_evaluate_http_failures(overrides, obs, error):
    result = hc.evaluate(http_check(**overrides), obs, NOW)
    assert not result.ok
    assert result.error == error or error in result.error


def test_evaluate_reports_every_problem():
    check = http_check(body_regex="healthy", max_latency_ms=10)
    result = hc.evaluate(check, hc.Observation(status=500, body=b"boom", latency_ms=20), NOW)
    assert result.error == (
        "status 500 not in 200-299; body does not match 'healthy'; latency 20 ms exceeds max_latency_ms 10"
    )


def test_evaluate_transport_error_skips_content_checks():
    check = http_check(body_regex="x", max_latency_ms=1)
    result = hc.evaluate(check, hc.Observation(error="timed out after 5 s", latency_ms=5000), NOW)
    assert result.error == "timed out after 5 s"


def test_evaluate_body_charset():
    check = http_check(body_regex="caf\u00e9")
    body = "caf\u00e9".encode("latin-1")
    assert hc.evaluate(check, hc.Observation(status=200, body=body, charset="latin-1", latency_ms=1), NOW).ok
    assert hc.evaluate(check, hc.Observation(status=200, body=body, charset="bogus", latency_ms=1), NOW).error


@pytest.mark.parametrize(
    ("days", "min_days", "ok", "error"),
    [
        (30, 14, True, None),
        (30, None, True, None),
        (2, 7, False, "certificate expires in 2.00 days (2026-03-03T12:00:00Z), less than min_cert_days 7"),
        (-1.5, 0, False, "certificate expired 1.50 days ago"),
        (0.5, 0, True, None),
    ],
)
def test_evaluate_certificate_days(days, min_days, ok, error):
    obs = hc.Observation(status=200, latency_ms=1, cert_not_after=NOW + datetime.timedelta(days=days))
    result = hc.evaluate(https_check(min_cert_days=min_days), obs, NOW)
    assert result.ok is ok
    assert result.cert_days_left == round(days, 2)
    if error:
        assert error in result.error


def test_evaluate_certificate_days_unknown():
    result = hc.evaluate(https_check(min_cert_days=1), hc.Observation(status=200, latency_ms=1), NOW)
    assert result.error == "no certificate expiry could be read"
    obs = hc.Observation(status=200, latency_ms=1, cert_error="cannot read the peer certificate: bad")
    assert hc.evaluate(https_check(min_cert_days=1), obs, NOW).error == "cannot read the peer certificate: bad"


def test_evaluate_tcp():
    check = hc.build_check({"name": "db", "type": "tcp", "host": "127.0.0.1", "port": 5432, "max_latency_ms": 50})
    assert hc.evaluate(check, hc.Observation(latency_ms=3), NOW).as_dict() == {
        "name": "db",
        "type": "tcp",
        "target": "tcp 127.0.0.1:5432",
        "ok": True,
        "status": None,
        "latency_ms": 3,
        "cert_days_left": None,
        "error": None,
    }
    assert "exceeds max_latency_ms 50" in hc.evaluate(check, hc.Observation(latency_ms=51), NOW).error


# ---------------------------------------------------------------------------------------------
# Transport error descriptions (no network)
# ---------------------------------------------------------------------------------------------


def _verification_error():
    exc = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    exc.verify_message = "certificate has expired"
    return exc


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (_verification_error(), "TLS certificate verification failed: certificate has expired"),
        (ConnectionRefusedError(111, "Connection refused"), "connection refused"),
        (socket.timeout("timed out"), "timed out after 2.5 s"),
        (TimeoutError(), "timed out after 2.5 s"),
        (socket.gaierror(-2, "Name or service not known"), "cannot resolve host 127.0.0.1: Name or service not known"),
        (http.client.RemoteDisconnected("Remote end closed connection"), "invalid HTTP response: RemoteDisconnected"),
        (OSError(113, "No route to host"), "No route to host"),
        (ValueError("weird"), "ValueError: weird"),
    ],
)
def test_describe_error(exc, message):
    assert message in hc.describe_error(exc, http_check(timeout=2.5))


def test_observe_never_raises(monkeypatch):
    def boom(*_args, **_kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(hc.socket, "create_connection", boom)
    ticks = iter([10.0, 10.25])
    check = hc.build_check({"name": "db", "host": "127.0.0.1", "port": 1})
    obs = hc.observe(check, clock=lambda: next(ticks))
    assert (obs.error, obs.latency_ms) == ("connection refused", 250.0)


# ---------------------------------------------------------------------------------------------
# Certificates: the DER walker agrees with cryptography
# ---------------------------------------------------------------------------------------------


def _make_cert_der(not_after):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "healthcheck.test")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.datetime(2020, 1, 1, tzinfo=UTC))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


@pytest.mark.parametrize(
    "not_after",
    [
        datetime.datetime(2026, 3, 3, 12, 0, 0, tzinfo=UTC),  # UTCTime
        datetime.datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC),  # last UTCTime year
        datetime.datetime(2051, 6, 1, 0, 0, 0, tzinfo=UTC),  # GeneralizedTime
    ],
)
def test_cert_not_after_both_parsers(monkeypatch, not_after):
    der = _make_cert_der(not_after)
    assert hc.der_not_after(der) == not_after
    assert hc.cert_not_after(der) == not_after
    monkeypatch.setattr(hc, "HAS_CRYPTOGRAPHY", False)
    assert hc.cert_not_after(der) == not_after


@pytest.mark.parametrize("der", [b"", b"\x30", b"\x02\x01\x00", b"\x30\x84\xff\xff\xff\xff", b"\x30\x03\x30\x01\x00"])
def test_der_not_after_rejects_garbage(der):
    with pytest.raises(hc.CertificateParseError):
        hc.der_not_after(der)


@settings(max_examples=200)
@given(der=st.binary(max_size=64))
def test_der_walker_only_raises_parse_errors(der):
    with contextlib.suppress(hc.CertificateParseError):
        hc.der_not_after(der)


def test_ssl_context_modes():
    assert hc.ssl_context(https_check()).verify_mode == ssl.CERT_REQUIRED
    insecure = hc.ssl_context(https_check(validate_certs=False))
    assert insecure.verify_mode == ssl.CERT_NONE
    assert not insecure.check_hostname


# ---------------------------------------------------------------------------------------------
# Rounds and waiting, with a fake clock
# ---------------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        assert seconds > 0
        self.sleeps.append(seconds)
        self.now += seconds


def scripted_rounds(clock, script, duration=0.5):
    """A round function returning rounds whose health follows ``script`` (then repeats the last)."""
    starts = []

    def round_fn():
        starts.append(clock.now)
        ok = script[min(len(starts) - 1, len(script) - 1)]
        clock.now += duration
        return [
            hc.CheckResult(name="api", type="http", target="GET http://x/", ok=True, status=200, latency_ms=1),
            hc.CheckResult(
                name="db",
                type="tcp",
                target="tcp x:5432",
                ok=ok,
                latency_ms=1,
                error=None if ok else "connection refused",
            ),
        ]

    return round_fn, starts


def test_single_round_when_wait_timeout_is_zero():
    clock = FakeClock()
    round_fn, _starts = scripted_rounds(clock, [False])
    outcome = hc.wait_for_health(round_fn, wait_timeout=0, interval=1, clock=clock, sleep=clock.sleep)
    assert (outcome.healthy, outcome.rounds, clock.sleeps) == (False, 1, [])
    assert outcome.elapsed == 0.5


def test_waits_until_healthy():
    clock = FakeClock()
    round_fn, starts = scripted_rounds(clock, [False, False, True])
    outcome = hc.wait_for_health(round_fn, wait_timeout=30, interval=2, clock=clock, sleep=clock.sleep)
    assert outcome.healthy
    assert outcome.rounds == 3
    assert outcome.history == [False, False, True]
    assert [s - starts[0] for s in starts] == [0, 2.5, 5.0]
    assert outcome.elapsed == 5.5


def test_success_threshold_needs_consecutive_rounds():
    clock = FakeClock()
    round_fn, _starts = scripted_rounds(clock, [True, False, True, True, True])
    outcome = hc.wait_for_health(
        round_fn, wait_timeout=60, interval=1, success_threshold=3, clock=clock, sleep=clock.sleep
    )
    assert outcome.healthy
    assert outcome.rounds == 5
    assert outcome.consecutive_ok == 3


def test_times_out_with_a_last_round_at_the_deadline():
    clock = FakeClock()
    round_fn, starts = scripted_rounds(clock, [False], duration=1)
    outcome = hc.wait_for_health(round_fn, wait_timeout=10, interval=3, clock=clock, sleep=clock.sleep)
    assert not outcome.healthy
    assert [s - starts[0] for s in starts] == [0, 4, 8, 10]
    assert clock.sleeps == [3, 3, 1]
    assert outcome.rounds == 4
    assert outcome.elapsed == 11
    message = hc.failure_message(outcome)
    assert message == (
        "1 of 2 checks failed after 4 rounds in 11.00 s (wait_timeout 10 s): db (tcp x:5432): connection refused"
    )


def test_failure_message_when_threshold_not_reached():
    clock = FakeClock()
    round_fn, _starts = scripted_rounds(clock, [False, False, True], duration=1)
    outcome = hc.wait_for_health(
        round_fn, wait_timeout=5, interval=2, success_threshold=2, clock=clock, sleep=clock.sleep
    )
    assert not outcome.healthy
    assert outcome.results[1].ok
    assert "all checks passed in the last round, but only 1 consecutive healthy round(s) of the 2 required" in (
        hc.failure_message(outcome)
    )


@settings(max_examples=300)
@given(
    script=st.lists(st.booleans(), min_size=1, max_size=30),
    wait_timeout=st.integers(min_value=0, max_value=40),
    interval=st.integers(min_value=1, max_value=5),
    duration=st.sampled_from([0.0, 0.25, 1.0, 3.0]),
    threshold=st.integers(min_value=1, max_value=4),
)
def test_wait_rules_always_hold(script, wait_timeout, interval, duration, threshold):
    if threshold > 1 and wait_timeout == 0:
        with pytest.raises(hc.CheckConfigError):
            hc.wait_for_health(lambda: [], wait_timeout=0, interval=interval, success_threshold=threshold)
        return
    clock = FakeClock()
    round_fn, starts = scripted_rounds(clock, script, duration=duration)
    start = clock.now
    outcome = hc.wait_for_health(
        round_fn,
        wait_timeout=wait_timeout,
        interval=interval,
        success_threshold=threshold,
        clock=clock,
        sleep=clock.sleep,
    )
    # No round starts after the deadline, and rounds never overlap or start early.
    assert all(s <= start + wait_timeout for s in starts)
    assert all(b - a >= duration for a, b in zip(starts, starts[1:]))
    assert outcome.rounds == len(starts) == len(outcome.history)
    # Healthy exactly when the threshold was reached, and the run stopped at that round.
    streak = 0
    for index, ok in enumerate(outcome.history):
        streak = streak + 1 if ok else 0
        if streak >= threshold:
            assert outcome.healthy
            assert index == outcome.rounds - 1
            break
    else:
        assert not outcome.healthy
        # Gave up only once the deadline had passed.
        assert clock.now >= start + wait_timeout
        assert hc.failure_message(outcome)
    assert outcome.elapsed <= wait_timeout + duration


def test_run_round_is_concurrent_and_keeps_order():
    checks = hc.build_checks([{"name": f"c{i}", "host": "127.0.0.1", "port": 1000 + i} for i in range(8)])
    barrier = threading.Barrier(len(checks), timeout=5)

    def probe(check):
        barrier.wait()  # only passes when all checks are being probed at the same time
        return hc.CheckResult(name=check.name, type="tcp", target=check.target, ok=True)

    results = hc.run_round(checks, probe)
    assert [r.name for r in results] == [c.name for c in checks]


def test_run_validates_then_waits():
    clock = FakeClock()
    calls = []

    def probe(check):
        calls.append(check.name)
        return hc.CheckResult(name=check.name, type="tcp", target=check.target, ok=len(calls) > 2)

    outcome = hc.run(
        [{"name": "db", "host": "127.0.0.1", "port": 5432}],
        wait_timeout=10,
        interval=1,
        success_threshold=2,
        probe_fn=probe,
        clock=clock,
        sleep=clock.sleep,
    )
    assert outcome.healthy
    assert outcome.as_dict()["rounds"] == 4
    assert outcome.as_dict()["checks"][0]["name"] == "db"
    with pytest.raises(hc.CheckConfigError, match="set wait_timeout greater than 0"):
        hc.run([{"name": "db", "host": "h", "port": 1}], success_threshold=2, probe_fn=probe)
