"""The test plugins are the module_utils rules, under their documented names, callable by Jinja."""

from pathlib import Path

import yaml
from ansible_collections.mvp_platform.infra.plugins.module_utils import _validate
from ansible_collections.mvp_platform.infra.plugins.test.rules import TestModule as Rules
from jinja2 import Environment

TEST_DIR = Path(__file__).resolve().parents[4] / "plugins" / "test"


def test_every_test_is_documented_and_every_doc_is_a_test():
    tests = Rules().tests()
    docs = {p.stem for p in TEST_DIR.glob("*.yml")}
    assert set(tests) == docs
    for name, func in tests.items():
        assert func is getattr(_validate, name)
        doc = yaml.safe_load((TEST_DIR / f"{name}.yml").read_text())
        assert doc["DOCUMENTATION"]["name"] == name
        assert set(doc["DOCUMENTATION"]["options"]) - {"_input"} <= set(func.__code__.co_varnames)


def test_tests_work_in_jinja():
    env = Environment(autoescape=False)  # noqa: S701 - renders expressions, not HTML
    env.tests.update(Rules().tests())

    def render(expr):
        return env.from_string("{{ " + expr + " }}").render()

    assert render("'10.0.0.0/8' is cidr") == "True"
    assert render("'10.0.0.1' is cidr(bare=true)") == "True"
    assert render("'x' is dns_name(fqdn=true)") == "False"
    assert render("'app:latest' is image_ref(pinned=true)") == "False"
    assert render("'pw' is weak_secret(8, ['pw'], 'u')") == "True"
