"""Replacement through Pulumi's stubs: Diff answers deleteBeforeReplace when a replacement would
collide with the access it replaces (a fixed `name`: the new `<name>-cluster` in the same VPC as the
old one), and create-first otherwise; each answer is then followed the way the engine follows it."""

from __future__ import annotations

import pytest

from pulumi_harness import UNKNOWN, to_dict
from test_provider import Diff, accesses, checked, create, diff, unique  # noqa: F401 - accesses is a fixture


@pytest.mark.parametrize("naming", ["name", "namePrefix", "autoname"])
def test_a_replacement_deletes_first_only_when_the_name_is_fixed(stub, emulator, accesses, naming):
    vpc = emulator.seed["vpc_id"]
    base = {"vpcId": vpc, "allowedCidrBlocks": ["10.42.11.0/24"]}
    if naming == "name":
        base["name"] = unique("fixed")
    elif naming == "namePrefix":
        base["namePrefix"] = unique("gen") + "-"
    fixed = naming == "name"
    old = accesses(base)
    old_name = old.inputs["name"] if "name" in old.inputs else old.outputs["name"]

    # A replacement the provider plans (the VPC is not known yet, as in a preview).
    moving = checked(stub, old.name, {**base, "vpcId": UNKNOWN}, olds=old.inputs)
    planned = diff(stub, old.name, old.id, old.outputs, moving, old.inputs)
    assert "vpcId" in planned.replaces, planned
    assert planned.deleteBeforeReplace is fixed, planned

    # A change the provider makes in place, which a program's replaceOnChanges turns into a
    # replacement: the engine then uses this same answer.
    changed = {**base, "description": "replaced on change"}
    news = checked(stub, old.name, changed, olds=old.inputs)
    d = diff(stub, old.name, old.id, old.outputs, news, old.inputs)
    assert d.changes == Diff.DIFF_SOME and list(d.replaces) == [], d
    assert d.deleteBeforeReplace is fixed, d

    # The engine's replacement: Check again without the old inputs, then delete first or create
    # first as Diff said. Either way it must succeed.
    fresh = checked(stub, old.name, changed)
    if d.deleteBeforeReplace:
        old.delete()
        resp = create(stub, old.name, fresh)
    else:
        resp = create(stub, old.name, fresh)
        old.delete()
    assert resp.id and resp.id != old.id
    out = to_dict(resp.properties)
    new_name = out["name"]
    assert (new_name == old_name) is fixed, (old_name, new_name)
    groups = {g["GroupName"]: g["GroupId"] for g in emulator.groups_named(new_name)}
    assert groups == {f"{new_name}-cluster": resp.id, f"{new_name}-clients": out["clientSecurityGroupId"]}
    if not fixed:
        assert emulator.groups_named(old_name) == []
    old.id, old.inputs, old.outputs = resp.id, fresh, out  # the fixture now cleans up the new one
