"""The multihost scenario's four hosts, shared by its test modules."""

import testinfra

ADDR = {"proxy": "10.77.0.10", "app1": "10.77.0.11", "app2": "10.77.0.12", "db": "10.77.0.13"}


def node(name: str):
    """The testinfra host mvp-mh-<name> (proxy, app1, app2, db)."""
    return testinfra.get_host(f"docker://mvp-mh-{name}")


def sh(name: str, cmd: str, ok: bool = True):
    """cmd on mvp-mh-<name>; with ok (the default) it must succeed."""
    result = node(name).run(cmd)
    if ok:
        assert result.rc == 0, f"{name}: {cmd}\nrc={result.rc}\n{result.stdout}\n{result.stderr}"
    return result
