"""Which remembered setter passes still stand, and which woken automations run first."""

from __future__ import annotations

import pytest

from tagpilot.api.meta import NamespacedName
from tagpilot.core.changes import Change, ChangeRecord, ChangeSet, ObjectIdentity
from tagpilot.core.setters import PolicyTarget, TreeResult, UnknownMarker, apply_setters
from tagpilot.ports import ObjectKey
from tagpilot.reconcile.update_memory import (
    Chosen,
    KnownPass,
    Selection,
    UpdateMemory,
    known_pass,
    run_first,
    setter_keys,
)

APP = PolicyTarget("registry.example.com/app", "1.0.0")
DB = PolicyTarget("registry.example.com/db", "2.0.0")
TABLE = {"ns:app": APP, "ns:db": DB}
PASS = TreeResult(named=frozenset({"ns:app:tag"}))
WITH_UNKNOWN = TreeResult(
    named=frozenset({"ns:app", "ns:typo"}),
    unknown=(UnknownMarker("deploy.yaml", 3, "ns:typo", "did you mean 'ns:app'?"),),
)


@pytest.mark.parametrize(
    ("tree", "base", "path", "table", "holds"),
    [
        pytest.param(PASS, "c1", "./", TABLE, True, id="same inputs"),
        pytest.param(PASS, "c2", "./", TABLE, False, id="another base commit"),
        pytest.param(PASS, "c1", "apps", TABLE, False, id="another update path"),
        pytest.param(PASS, "c1", "./", TABLE | {"ns:db": APP}, True, id="an unnamed policy moved"),
        pytest.param(PASS, "c1", "./", {"ns:db": DB}, False, id="a named policy lost its image"),
        pytest.param(
            PASS, "c1", "./", TABLE | {"ns:app": DB}, False, id="a policy named by field moved"
        ),
        pytest.param(
            PASS, "c1", "./", TABLE | {"ns:web": APP}, True, id="a new policy, no unknown marker"
        ),
        pytest.param(
            WITH_UNKNOWN,
            "c1",
            "./",
            TABLE | {"ns:web": APP},
            False,
            id="a new policy changes an unknown marker's hint",
        ),
        pytest.param(
            WITH_UNKNOWN,
            "c1",
            "./",
            TABLE | {"ns:typo": DB},
            False,
            id="the unknown marker's policy appears",
        ),
    ],
)
def test_a_remembered_pass_stands_only_while_every_input_it_read_is_equal(
    tree: TreeResult, base: str, path: str, table: dict[str, PolicyTarget], holds: bool
) -> None:
    known = known_pass("c1", "./", TABLE, tree)
    assert known is not None
    assert known.holds(base, path, table) is holds


def test_a_pass_that_changed_something_is_not_remembered() -> None:
    change = Change("app:0.9.0", "app:1.0.0", "ns:app")
    record = ChangeRecord("deploy.yaml", ObjectIdentity("v1", "Pod", "app", ""), change)
    tree = TreeResult(changes=ChangeSet.of([record]), named=frozenset({"ns:app"}))
    assert known_pass("c1", "./", TABLE, tree) is None


@pytest.mark.parametrize(
    ("setter", "keys"),
    [
        pytest.param("ns:app", ("ns:app",), id="the whole reference"),
        pytest.param("ns:app:tag", ("ns:app:tag", "ns:app"), id="the tag"),
        pytest.param("ns:app:digest", ("ns:app:digest", "ns:app"), id="the digest"),
        pytest.param("ns:app:size", ("ns:app:size",), id="an unknown field"),
    ],
)
def test_a_setter_reads_its_own_key_and_its_policy_s(setter: str, keys: tuple[str, ...]) -> None:
    assert setter_keys(setter) == keys


def test_the_setters_report_every_setter_their_markers_name() -> None:
    text = (
        'a: app:0.1 # {"$imagepolicy": "ns:app"}\n'
        'b: "1.0" # {"$imagepolicy": "ns:db:tag"}\n'
        'c: x # {"$imagepolicy": "ns:gone"}\n'
        "d: plain\n"
    )
    result = apply_setters(text, "f.yaml", TABLE)
    assert result.named == {"ns:app", "ns:db:tag", "ns:gone"}


def test_automations_with_a_marker_for_the_policy_run_first() -> None:
    keys = [ObjectKey("ImageUpdateAutomation", "ns", name) for name in ("a", "b", "c", "d")]
    memory = UpdateMemory()
    memory.passes[keys[0]] = _remembered("ns:db")
    memory.passes[keys[2]] = _remembered("ns:app")
    order = run_first(memory, NamespacedName("ns", "app"), keys)
    assert [key.name for key in order] == ["c", "b", "d", "a"]


def _remembered(*named: str) -> KnownPass:
    known = known_pass("c1", "", TABLE, TreeResult(named=frozenset(named)))
    assert known is not None
    return known


def test_reads_of_selections_no_automation_makes_any_more_are_forgotten() -> None:
    memory = UpdateMemory()
    key = ObjectKey("ImageUpdateAutomation", "ns", "a")
    memory.selections[key] = Selection({}, None, ("app",))
    memory.keep_chosen(("ns", ("app", "db")), Chosen(1, {}, {}))
    memory.keep_chosen(("ns", ("app",)), Chosen(2, {}, {}))
    assert list(memory.chosen) == [("ns", ("app",))]
