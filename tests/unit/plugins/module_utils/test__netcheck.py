"""address_in_networks: the lockout guards rely on it never saying 'outside' for an inside address."""

import ipaddress

import pytest
from _program import load
from hypothesis import given
from hypothesis import strategies as st

N = load("_netcheck")


@pytest.mark.parametrize(
    ("address", "networks", "expected"),
    [
        ("10.81.0.1", ["10.81.0.0/24"], True),
        ("10.82.0.20", ["10.81.0.0/24"], False),
        ("10.81.0.7", ["198.51.100.0/24", "10.81.0.5/24"], True),  # host bits ignored
        ("192.0.2.10", ["192.0.2.10"], True),  # a bare address is a /32
        ("::ffff:10.81.0.3", ["10.81.0.0/24"], True),  # IPv4-mapped counts as IPv4
        ("2001:db8:100::5", ["2001:db8:100::/48"], True),
        ("2001:db8:200::5", ["2001:db8:100::/48", "10.0.0.0/8"], False),
        ("10.1.2.3", ["::/0"], False),  # the other family never matches
        ("10.1.2.3", [], False),
    ],
)
def test_examples(address, networks, expected):
    assert N.address_in_networks(address, networks) is expected


@pytest.mark.parametrize(("address", "networks"), [("10.0.0.300", ["10.0.0.0/8"]), ("10.0.0.1", ["10.0.0.0/33"])])
def test_malformed_input_raises(address, networks):
    with pytest.raises(ValueError):
        N.address_in_networks(address, networks)


@given(st.ip_addresses(v=4), st.integers(min_value=0, max_value=32))
def test_an_address_is_always_inside_every_network_built_around_it(ip, prefix):
    net = ipaddress.ip_network(f"{ip}/{prefix}", strict=False)
    assert N.address_in_networks(str(ip), [str(net)])
    assert N.address_in_networks(str(ip), ["203.0.113.0/24", str(net)])


@given(st.ip_addresses(v=4), st.ip_addresses(v=4), st.integers(min_value=0, max_value=32))
def test_agrees_with_ipaddress(ip, base, prefix):
    net = ipaddress.ip_network(f"{base}/{prefix}", strict=False)
    assert N.address_in_networks(str(ip), [str(net)]) is (ip in net)
