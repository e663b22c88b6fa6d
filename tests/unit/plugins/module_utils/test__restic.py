"""restic's answer to `cat config` (plugins/module_utils/_restic.py), as restic 0.14 (Debian 12) and
0.18 (Debian 13) print it (both captured from the packaged binaries)."""

from __future__ import annotations

import pytest
from ansible_collections.mvp_platform.infra.plugins.module_utils._restic import repository_state
from hypothesis import given
from hypothesis import strategies as st

NO_REPO_0_14 = (
    "Fatal: unable to open config file: stat /tmp/r/config: no such file or directory\n"
    "Is there a repository at the following location?\n/tmp/r\n"
)
NO_REPO_0_18 = (
    "Fatal: repository does not exist: unable to open config file: stat /tmp/r/config: no such file or directory\n"
    "Is there a repository at the following location?\n/tmp/r\n"
)
NO_REPO_S3_0_14 = (
    "Fatal: unable to open config file: Stat: The specified key does not exist.\n"
    "Is there a repository at the following location?\ns3:http://mvp-pf-s3:8333/mvp-backups/mvp/production\n"
)
BAD_KEY = "Fatal: wrong password or no key found\n"


@pytest.mark.parametrize(
    ("rc", "stderr", "state"),
    [
        (0, "", "found"),
        (1, NO_REPO_0_14, "absent"),
        (1, NO_REPO_S3_0_14, "absent"),
        (10, NO_REPO_0_18, "absent"),
        (1, BAD_KEY, "wrong_password"),
        (12, BAD_KEY, "wrong_password"),
        (1, "Fatal: unable to open config file: Get ...: dial tcp: connection refused\n", "error"),
        (1, "", "error"),
        (3, NO_REPO_0_14, "error"),  # another failure that happens to print the hint
        ("10", None, "absent"),
    ],
)
def test_repository_state(rc, stderr, state):
    assert repository_state(rc, stderr) == state


@given(st.integers(min_value=2, max_value=255).filter(lambda n: n not in (10, 12)), st.text())
def test_other_exit_codes_are_errors_whatever_the_message(rc, stderr):
    assert repository_state(rc, stderr) == "error"


@pytest.mark.parametrize("rc", [None, "x", [1]])
def test_a_non_numeric_exit_code_is_refused(rc):
    with pytest.raises(ValueError, match="exit code must be a number"):
        repository_state(rc, "")
