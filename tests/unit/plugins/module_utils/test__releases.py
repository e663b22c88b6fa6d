"""Which releases a host keeps (plugins/module_utils/_releases.py): the rollback targets and the
images pruning may remove are read from one rule."""

from __future__ import annotations

from ansible_collections.mvp_platform.infra.plugins.module_utils._releases import prunable_images, retained_releases
from hypothesis import given
from hypothesis import strategies as st

LOG = [
    {"version": "1.0", "result": "success"},
    {"version": "1.1", "result": "failed"},
    {"version": "1.2", "result": "success"},
    {"version": "1.0", "result": "success"},  # a rollback to 1.0 records it again
    {"version": "1.3", "result": "success"},
]


def test_newest_first_each_once():
    assert retained_releases(LOG, 5) == ["1.3", "1.0", "1.2"]
    assert retained_releases(LOG, 2) == ["1.3", "1.0"]
    assert retained_releases([], 3) == []
    assert retained_releases(None, 3) == []


def test_prunable_images():
    refs = ["mvp/backend:1.0", "mvp/backend:1.1", "mvp/backend:<none>", "reg:5000/mvp/frontend:0.9", "mvp/backend:1.2"]
    assert prunable_images(refs, ["1.0", "1.2"], ["reg:5000/mvp/frontend:0.9"]) == ["mvp/backend:1.1"]


records = st.lists(
    st.fixed_dictionaries(
        {"version": st.sampled_from(["1", "2", "3", "4", "5", "6"]), "result": st.sampled_from(["success", "failed"])}
    )
)


@given(records, st.integers(min_value=0, max_value=8))
def test_retained_properties(log, keep):
    kept = retained_releases(log, keep)
    successes = [r["version"] for r in log if r["result"] == "success"]
    assert len(kept) <= keep and len(set(kept)) == len(kept)
    assert set(kept) <= set(successes)
    if keep and successes:
        assert kept[0] == successes[-1]  # the newest success always comes first
    # newest first: each kept version's last success is later than the next one's
    last = {v: i for i, v in enumerate(successes)}
    assert [last[v] for v in kept] == sorted((last[v] for v in kept), reverse=True)


@given(records, st.integers(min_value=1, max_value=8))
def test_pruning_never_removes_a_retained_release(log, keep):
    kept = retained_releases(log, keep)
    refs = [f"mvp/backend:{r['version']}" for r in log]
    assert not any(ref.split(":")[1] in kept for ref in prunable_images(refs, kept, []))
