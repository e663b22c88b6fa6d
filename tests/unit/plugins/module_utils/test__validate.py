"""The value rules (plugins/module_utils/_validate.py): tables of accepted and refused values,
and hypothesis properties for the rules that must always hold (never raise, agree with Python's
own parsers)."""

from __future__ import annotations

import ipaddress

import pytest
from ansible_collections.mvp_platform.infra.plugins.module_utils import _validate as V
from hypothesis import given
from hypothesis import strategies as st

ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(),
    st.lists(st.text()),
    st.dictionaries(st.text(), st.text()),
)
RULES = [*V.DESCRIPTIONS, "placeholder_secret", "weak_secret"]


@pytest.mark.parametrize(
    ("rule", "good", "bad"),
    [
        ("docker_name", ["mvp-data", "mvp_data.pgdata", "A1"], ["", "-x", "a b", "a/b", 5, None]),
        ("image_tag", ["1.4.2", "v2", "main_2026-12-01", 3, "a" * 128], ["", ".x", "-x", "a" * 129, "1 2", True]),
        (
            "dns_name",
            ["db1", "mvp.localhost", "a-b.example.com", "x" * 63],
            ["", "A.com", "-a.com", "a..b", "x" * 64, "a_b.com", 1],
        ),
        ("ip_address", ["10.0.0.1", "::1", "fd00::5"], ["10.0.0.0/8", "300.1.1.1", "", "host"]),
        (
            "cidr",
            ["10.0.0.0/8", "10.1.2.3/24", "::/0", "fd00::/8"],
            ["10.0.0.0/33", "10.0.0.1", "10.0.0.0/", "10.0.0.0/08", "x/8"],
        ),
        (
            "private_address",
            ["10.1.2.3", "172.16.0.1", "192.168.1.0/24", "100.64.1.1", "fd12::1"],
            ["8.8.8.8", "127.0.0.1", "172.32.0.1", "10.0.0.0/7", "fe80::1"],
        ),
        ("loopback_address", ["127.0.0.1", "127.5.5.5", "::1", "localhost"], ["10.0.0.1", "::2", ""]),
        ("port", [1, 22, 65535, "8443"], [0, 65536, -1, "ssh", "", True, 22.0, None]),
        ("host_port", ["127.0.0.1:9100", "[::1]:9100", "db.internal:5432"], ["127.0.0.1", "::1:9100", "a:0", ":80"]),
        ("abs_path", ["/opt/mvp", "/"], ["opt", "", "/a b", None]),
        ("duration", ["30s", "5m", "1h30m", "2w", "100ms"], ["", "5", "m5", "5m1h", "1.5h"]),
        ("email", ["ops@example.com", "a.b+c@mail.example.org"], ["ops@localhost", "ops", "a b@c.d", "<a@b.c>"]),
        ("linux_user", ["deploy", "_svc", "a-b_c"], ["Deploy", "1abc", "", "a" * 33]),
        ("sql_identifier", ["mvp", "Mvp_1", "_x"], ["1mvp", "mvp-db", "", "a" * 64]),
        (
            "http_url",
            ["https://s3.example.com", "http://10.0.0.5:8333/x", "https://[fd00::5]:9000/p?q=1", "http://[::1]/"],
            [
                "ftp://x",
                "https://",
                "https://a b",
                "s3.example.com",
                "https://x:0",
                "http://-x/",
                "http://fd00::5",
                None,
            ],
        ),
        (
            "backup_id",
            ["20260131T021500Z-full", "20261201T000000Z-incr"],
            ["last-tuesday", "20260131T021500Z-files", "20260131T0215Z-full", "20260131T021500Z", "", 1],
        ),
    ],
)
def test_rule_table(rule, good, bad):
    check = getattr(V, rule)
    for value in good:
        assert check(value), f"{rule} refused {value!r}"
    for value in bad:
        assert not check(value), f"{rule} accepted {value!r}"


def test_dns_name_fqdn_requires_a_top_level_domain():
    assert V.dns_name("platform.example.com", fqdn=True)
    assert V.dns_name("mvp.localhost", fqdn=True)
    assert not V.dns_name("localhost", fqdn=True)
    assert not V.dns_name("10.0.0.1", fqdn=True)  # the last label is numeric: an address, not a name
    assert V.dns_name("10.0.0.1")  # as a plain host name it is made of valid labels


def test_cidr_bare_accepts_plain_addresses():
    assert V.cidr("192.0.2.1", bare=True)
    assert not V.cidr("192.0.2.1")
    assert not V.cidr("192.0.2.300", bare=True)


@pytest.mark.parametrize(
    ("ref", "pinned"),
    [
        ("postgres:17", True),
        ("local/mvp-backend:1.4.2", True),
        ("registry.example.com:5000/team/mvp-backend:1.4.2", True),
        ("mvp-backend", False),
        ("mvp-backend:latest", False),
        ("mvp-backend@sha256:" + "a" * 64, True),
        ("mvp-backend:latest@sha256:" + "b" * 64, True),
    ],
)
def test_image_ref(ref, pinned):
    assert V.image_ref(ref)
    assert V.image_ref(ref, pinned=True) is pinned


@pytest.mark.parametrize("ref", ["", "Upper/x:1", "x:", "x:-1", "x@sha256:12", "a//b:1", " x:1", "x:1 "])
def test_image_ref_refuses(ref):
    assert not V.image_ref(ref)


def test_split_image_ref():
    assert V.split_image_ref("reg:5000/a/b:1.2@sha256:" + "c" * 64) == {
        "repository": "reg:5000/a/b",
        "tag": "1.2",
        "digest": "sha256:" + "c" * 64,
    }


def test_safe_dir():
    assert V.safe_dir("/opt/mvp", ["/", "/opt"])
    for bad in ["/", "/opt/", "/opt", "/opt/../etc", "relative"]:
        assert not V.safe_dir(bad, ["/", "/opt"])


def test_secrets():
    for placeholder in [None, "", "  ", "CHANGE-ME", "vault-changeme-1", "ChangeMe"]:
        assert V.placeholder_secret(placeholder)
        assert V.weak_secret(placeholder)
    assert not V.placeholder_secret("s3cr3t")
    assert V.weak_secret("short", min_length=16)
    assert V.weak_secret("postgres" * 3, min_length=8, weak=["POSTGRESPOSTGRESPOSTGRES"])
    assert V.weak_secret("mvpmvpmvpmvpmvpmvp", min_length=8, user="MVPMVPMVPMVPMVPMVP")
    assert not V.weak_secret("x" * 32, min_length=16, weak=["postgres"], user="mvp")


@pytest.mark.parametrize("rule", RULES)
@given(value=ANY)
def test_rules_never_raise(rule, value):
    assert getattr(V, rule)(value) in (True, False)


@given(st.ip_addresses(), st.integers(min_value=0, max_value=128))
def test_cidr_agrees_with_ipaddress(address, prefix):
    text = f"{address}/{prefix}"
    try:
        ipaddress.ip_network(text, strict=False)
        expected = True
    except ValueError:
        expected = False
    assert V.cidr(text) is expected


@given(st.ip_addresses())
def test_private_address_matches_the_documented_ranges(address):
    expected = any(address.version == n.version and address in n for n in V.PRIVATE_NETWORKS)
    assert V.private_address(str(address)) is expected
    assert V.ip_address(str(address))


@given(st.integers())
def test_port_range(number):
    assert V.port(number) is (1 <= number <= 65535)
    assert V.port(str(number)) is (1 <= number <= 65535)


@given(st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?){0,4}", fullmatch=True))
def test_generated_dns_names_are_valid(name):
    assert V.dns_name(name)
    assert not V.dns_name(name.upper()) or name == name.upper()
    assert not V.dns_name(name + ".")  # an empty last label


def test_size():
    assert V.size("20m", unit_required=True) and V.size("20") and V.size(512)
    assert not V.size("20", unit_required=True) and not V.size("20M") and not V.size("m") and not V.size("")
    assert V.size("512MB", units=["B", "KB", "MB", "GB"]) and not V.size("512XB", units=["B", "KB", "MB"])


def test_every_rule_has_a_description_and_a_refused_sample():
    assert set(V.DESCRIPTIONS) == set(V.INVALID_SAMPLES)
    for name, sample in V.INVALID_SAMPLES.items():
        assert not getattr(V, name)(sample), name
        assert V.check_value(sample, name).startswith("must be")


@pytest.mark.parametrize(
    "rule", ["port", {"min": 1, "max": 100}, {"min": 0}, {"test": "cidr", "elements": True}, {"test": "dns_name"}]
)
def test_invalid_sample_is_refused(rule):
    assert V.check_value(V.invalid_sample(rule), rule)


def test_rule_errors_name_the_variable_and_the_value():
    rules = {"a_port": "port", "a_count": {"min": 1, "max": 5}, "a_bip": {"test": "cidr", "empty_ok": True}}
    assert V.rule_errors({"a_port": 22, "a_count": 3, "a_bip": ""}, rules) == []
    errors = V.rule_errors({"a_port": 70000, "a_count": "x", "a_bip": "10.0.0.0/33"}, rules)
    assert errors == [
        "a_port=70000 must be a port number from 1 to 65535",
        "a_count='x' must be a number from 1 to 5",
        "a_bip='10.0.0.0/33' must be an IP network with a prefix length, e.g. 10.0.0.0/8",
    ]
    assert V.rule_errors({"a": ["10.0.0.0/8", "x"]}, {"a": {"test": "cidr", "elements": True}}) == [
        "a=['10.0.0.0/8', 'x'] must be a list of an IP network with a prefix length, e.g. 10.0.0.0/8 (not 'x')"
    ]


def test_rule_errors_strict_and_unresolved():
    rules = {"a_port": "port", "a_count": {"min": 1, "max": 5}, "a_bip": {"test": "cidr", "empty_ok": True}}
    # Not strict (the filter): a missing variable is None, which an empty_ok rule accepts.
    assert V.rule_errors({"a_port": 22, "a_count": 3}, rules) == []
    errors = V.rule_errors({"a_count": 9}, rules, unresolved={"a_bip": "cannot be read: 'x' is undefined"}, strict=True)
    assert errors == [
        "a_port is not defined",
        "a_count=9 must be a number from 1 to 5",
        "a_bip cannot be read: 'x' is undefined",
    ]


def test_settings_failure_is_one_message_naming_the_role():
    assert V.settings_failure([], "redis") is None
    assert V.settings_failure(["a=1 must be x", "b=2 must be y"], "redis") == (
        "Invalid redis settings: a=1 must be x; b=2 must be y."
    )
    assert V.settings_failure(["a=1 must be x"]) == "Invalid settings: a=1 must be x."


def test_bad_rules_are_refused():
    with pytest.raises(ValueError):
        V.normalise_rule({"test": "nonsense"})
    with pytest.raises(ValueError):
        V.normalise_rule({"maximum": 3})
    with pytest.raises(TypeError):
        V.normalise_rule(5)


@given(st.integers(), st.integers(min_value=-1000, max_value=1000), st.integers(min_value=0, max_value=1000))
def test_range_rule(value, low, width):
    rule = {"min": low, "max": low + width}
    assert (V.check_value(value, rule) is None) is (low <= value <= low + width)
