"""End-to-end tests of the Pulumi resource provider, driven through Pulumi's own generated stubs
(`pulumi.runtime.proto`) the way the engine drives it, against the AWS emulator. Outcomes are checked
with boto3 against the emulator, not only with the provider's answers."""

from __future__ import annotations

import copy
import json
import re
import uuid

import grpc
import jsonschema
import pytest
from google.protobuf import empty_pb2
from google.rpc import status_pb2
from pulumi.runtime.proto import plugin_pb2, provider_pb2

from pulumi_harness import (SECRET_SIG, SIG_KEY, TOKEN, UNKNOWN, configure, python_metaschema, secret,
                            start_plugin, to_dict, to_struct, urn)

Kind = provider_pb2.PropertyDiff.Kind
Diff = provider_pb2.DiffResponse


# --- helpers: one engine step each ------------------------------------------------------------

def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def check(stub, name: str, news: dict, olds: dict | None = None, **kw) -> provider_pb2.CheckResponse:
    return stub.Check(provider_pb2.CheckRequest(urn=urn(name), name=name, type=TOKEN, olds=to_struct(olds or {}),
                                                news=to_struct(news), **kw))


def checked(stub, name: str, news: dict, olds: dict | None = None) -> dict:
    resp = check(stub, name, news, olds)
    assert not resp.failures, [(f.property, f.reason) for f in resp.failures]
    return to_dict(resp.inputs)


def create(stub, name: str, inputs: dict, preview: bool = False) -> provider_pb2.CreateResponse:
    return stub.Create(provider_pb2.CreateRequest(urn=urn(name), name=name, type=TOKEN,
                                                  properties=to_struct(inputs), preview=preview, timeout=300))


def diff(stub, name: str, rid: str, outputs: dict, news: dict, old_inputs: dict) -> provider_pb2.DiffResponse:
    return stub.Diff(provider_pb2.DiffRequest(id=rid, urn=urn(name), name=name, type=TOKEN, olds=to_struct(outputs),
                                              news=to_struct(news), old_inputs=to_struct(old_inputs)))


def update(stub, name: str, rid: str, outputs: dict, news: dict, old_inputs: dict, preview: bool = False):
    return stub.Update(provider_pb2.UpdateRequest(id=rid, urn=urn(name), name=name, type=TOKEN,
                                                  olds=to_struct(outputs), news=to_struct(news),
                                                  old_inputs=to_struct(old_inputs), preview=preview, timeout=300))


def read(stub, name: str, rid: str, outputs: dict | None = None, inputs: dict | None = None):
    req = provider_pb2.ReadRequest(id=rid, urn=urn(name), name=name, type=TOKEN)
    if outputs is not None:
        req.properties.CopyFrom(to_struct(outputs))
    if inputs is not None:
        req.inputs.CopyFrom(to_struct(inputs))
    return stub.Read(req)


def delete(stub, name: str, rid: str, outputs: dict, inputs: dict) -> None:
    stub.Delete(provider_pb2.DeleteRequest(id=rid, urn=urn(name), name=name, type=TOKEN,
                                           properties=to_struct(outputs), old_inputs=to_struct(inputs), timeout=300))


class Access:
    """One created access: its inputs, id and outputs as the engine would record them."""

    def __init__(self, stub, name: str, news: dict) -> None:
        self.stub, self.name = stub, name
        self.inputs = checked(stub, name, news)
        resp = create(stub, name, self.inputs)
        assert resp.id, "a real Create must answer an id"
        self.id = resp.id
        self.outputs = to_dict(resp.properties)

    def delete(self) -> None:
        delete(self.stub, self.name, self.id, self.outputs, self.inputs)


@pytest.fixture
def accesses(stub):
    """Creates accesses for a test and deletes what is left of them afterwards."""
    made: list[Access] = []

    def make(news: dict, name: str | None = None) -> Access:
        a = Access(stub, name or unique("acc"), news)
        made.append(a)
        return a

    yield make
    for a in made:
        try:
            a.delete()
        except grpc.RpcError:
            pass


def init_failed(err: grpc.RpcError) -> provider_pb2.ErrorResourceInitFailed | None:
    raw = dict(err.trailing_metadata() or ()).get("grpc-status-details-bin")
    if raw is None:
        return None
    for detail in status_pb2.Status.FromString(raw).details:
        if detail.Is(provider_pb2.ErrorResourceInitFailed.DESCRIPTOR):
            out = provider_pb2.ErrorResourceInitFailed()
            detail.Unpack(out)
            return out
    return None




# --- schema and plugin info -------------------------------------------------------------------

def test_get_schema_validates_against_pulumis_metaschema(stub):
    schema = json.loads(stub.GetSchema(provider_pb2.GetSchemaRequest(version=0)).schema)
    validator_cls = jsonschema.validators.validator_for(python_metaschema())
    validator = validator_cls(python_metaschema())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(schema)]
    assert not errors, errors
    access = schema["resources"][TOKEN]
    assert schema["name"] == "elasticache"
    assert access["inputProperties"]["vpcId"]["replaceOnChanges"] is True
    assert access["inputProperties"]["port"]["type"] == "integer"
    assert "ingressRuleIds" in access["properties"] and "ingressRuleIds" not in access["inputProperties"]
    assert access["inputProperties"]["cluster"]["$ref"] == "#/types/elasticache:index:AccessCluster"
    # The validator does reject a broken schema (the check is not vacuous).
    broken = copy.deepcopy(schema)
    broken["resources"]["elasticache:index:Access"]["inputProperties"]["port"]["type"] = "int"
    assert list(validator.iter_errors(broken))


def test_plugin_info_reports_a_semver(stub):
    version = stub.GetPluginInfo(empty_pb2.Empty()).version
    assert re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?", version), version


# --- Check --------------------------------------------------------------------------------------

def test_check_rejects_bad_inputs_with_property_paths(stub):
    resp = check(stub, "bad", {
        "vpcId": "vpc-xyz",
        "port": 70000,
        "allowedCidrBlocks": ["10.0.0.0/33", "0.0.0.0/0"],
        "clientSecurityGroupIds": ["sg-1"],
        "tags": {"aws:owner": "me"},
    })
    by_path = {f.property: f.reason for f in resp.failures}
    for path in ["vpcId", "port", "allowedCidrBlocks[0]", "allowedCidrBlocks[1]", "clientSecurityGroupIds[0]",
                 'tags["aws:owner"]']:
        assert path in by_path, (path, by_path)
    assert "allowPublicCidrs: true" in by_path["allowedCidrBlocks[1]"], by_path
    nested = check(stub, "bad", {"cluster": {"replicationGroupId": "no_underscores!"}})
    assert "cluster.replicationGroupId" in {f.property for f in nested.failures}
    typed = check(stub, "bad", {"vpcId": "vpc-0123456789abcdef0", "port": 6379.5, "colour": "red"})
    assert {"port", "colour"} <= {f.property for f in typed.failures}


def test_check_auto_names_stably_and_normalizes(stub, emulator):
    vpc = emulator.seed["vpc_id"]
    first = checked(stub, "cache", {"vpcId": vpc, "port": "6380", "allowedCidrBlocks": ["10.1.2.3/16", "10.0.0.0/8"]})
    assert re.fullmatch(r"cache-[a-z0-9]{7}", first["name"]), first
    assert first["port"] == 6380
    assert first["allowedCidrBlocks"] == ["10.0.0.0/8", "10.1.0.0/16"]
    again = checked(stub, "cache", {"vpcId": vpc}, olds=first)
    assert again["name"] == first["name"]
    explicit = checked(stub, "cache", {"vpcId": vpc, "name": "mine"}, olds=first)
    assert explicit["name"] == "mine"
    prefixed = checked(stub, "cache", {"vpcId": vpc, "namePrefix": "mine-"}, olds=first)
    assert "name" not in prefixed


def test_check_warnings_reach_the_engine_log(stub, fake_engine, emulator):
    name = unique("many")
    # a block with host bits set: a warning of validation (the rule quota is the plan's, issue 23)
    resp = check(stub, name, {"vpcId": emulator.seed["vpc_id"], "allowedCidrBlocks": ["10.1.2.3/16"]})
    assert not resp.failures
    hits = fake_engine.wait_for(lambda e: e.urn == urn(name) and e.severity == 2 and "canonical" in e.message)
    assert hits, [(e.severity, e.urn, e.message) for e in fake_engine.logs][-10:]


# --- Create -------------------------------------------------------------------------------------

def test_preview_create_with_unknown_vpc_returns_known_outputs_and_unknowns(stub):
    name = unique("prev")
    inputs = checked(stub, name, {"vpcId": UNKNOWN, "description": "preview"})
    assert inputs["vpcId"] == UNKNOWN
    resp = create(stub, name, inputs, preview=True)
    out = to_dict(resp.properties)
    assert resp.id == ""
    assert out["vpcId"] == UNKNOWN
    assert out["clusterSecurityGroupId"] == UNKNOWN
    assert out["ingressRuleIds"] == UNKNOWN
    assert out["port"] == 6379
    assert out["name"] == inputs["name"]
    assert out["description"] == "preview"
    assert out["unmanagedIngress"] == []


def test_create_then_same_inputs_diff_none_then_delete_leaves_nothing(stub, emulator, fake_engine):
    seed = emulator.seed
    name = unique("basic")
    a = Access(stub, name, {"vpcId": seed["vpc_id"], "description": "app to cache",
                            "clientSecurityGroupIds": [seed["app_security_group_id"]],
                            "allowedCidrBlocks": ["10.42.0.0/16"], "tags": {"team": "cache"}})
    out = a.outputs
    assert a.id == out["clusterSecurityGroupId"]
    # What AWS holds: both groups, and the rules on the cluster group.
    sg_name = a.inputs["name"]
    groups = {g["GroupName"]: g for g in emulator.groups_named(sg_name)}
    assert set(groups) == {f"{sg_name}-cluster", f"{sg_name}-clients"}
    assert groups[f"{sg_name}-cluster"]["GroupId"] == a.id
    assert groups[f"{sg_name}-clients"]["GroupId"] == out["clientSecurityGroupId"]
    rules = emulator.ingress_rules(a.id)
    sources = {r.get("ReferencedGroupInfo", {}).get("GroupId") or r.get("CidrIpv4") for r in rules}
    assert sources == {out["clientSecurityGroupId"], seed["app_security_group_id"], "10.42.0.0/16"}
    assert all(r["FromPort"] == 6379 and r["ToPort"] == 6379 and r["IpProtocol"] == "tcp" for r in rules)
    assert set(out["ingressRuleIds"]) == sources
    assert {r["SecurityGroupRuleId"] for r in rules} == set(out["ingressRuleIds"].values())
    assert out["tagsAll"]["team"] == "cache"
    assert out["ownerId"]
    assert "id" not in out
    # The engine heard about it (Log RPC), attached to this resource.
    assert fake_engine.wait_for(lambda e: e.urn == urn(name) and "security group" in e.message)

    # Same inputs: nothing to do.
    news = checked(stub, name, {"vpcId": seed["vpc_id"], "description": "app to cache",
                                "clientSecurityGroupIds": [seed["app_security_group_id"]],
                                "allowedCidrBlocks": ["10.42.0.0/16"], "tags": {"team": "cache"}}, olds=a.inputs)
    d = diff(stub, name, a.id, out, news, a.inputs)
    assert d.changes == Diff.DIFF_NONE, d
    assert not d.replaces and not d.detailedDiff

    a.delete()
    assert emulator.groups_named(sg_name) == []
    assert emulator.ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [a.id, out["clientSecurityGroupId"]]}])["SecurityGroupRules"] == []
    gone = read(stub, name, a.id, out, a.inputs)
    assert gone.id == ""


def test_port_change_is_an_in_place_update(stub, emulator, accesses):
    vpc = emulator.seed["vpc_id"]
    a = accesses({"vpcId": vpc, "allowedCidrBlocks": ["10.42.1.0/24"]})
    news = checked(stub, a.name, {"vpcId": vpc, "allowedCidrBlocks": ["10.42.1.0/24"], "port": 6380}, olds=a.inputs)
    d = diff(stub, a.name, a.id, a.outputs, news, a.inputs)
    assert d.changes == Diff.DIFF_SOME
    assert list(d.replaces) == []
    assert d.detailedDiff["port"].kind == Kind.UPDATE
    assert d.detailedDiff["port"].inputDiff
    assert "port" in d.diffs
    preview = to_dict(update(stub, a.name, a.id, a.outputs, news, a.inputs, preview=True).properties)
    assert preview["port"] == 6380 and preview["clusterSecurityGroupId"] == a.id
    out = to_dict(update(stub, a.name, a.id, a.outputs, news, a.inputs).properties)
    assert out["port"] == 6380
    assert out["clusterSecurityGroupId"] == a.id
    rules = emulator.ingress_rules(a.id)
    assert rules and all(r["FromPort"] == 6380 and r["ToPort"] == 6380 for r in rules)
    assert {r["SecurityGroupRuleId"] for r in rules} == set(out["ingressRuleIds"].values())
    a.inputs, a.outputs = news, out
    again = diff(stub, a.name, a.id, out, news, news)
    assert again.changes == Diff.DIFF_NONE


def test_name_change_is_a_replace_that_creates_the_new_access_first(stub, emulator, accesses):
    vpc = emulator.seed["vpc_id"]
    old = accesses({"vpcId": vpc, "name": unique("old")})
    new_name = unique("new")
    news = checked(stub, old.name, {"vpcId": vpc, "name": new_name}, olds=old.inputs)
    d = diff(stub, old.name, old.id, old.outputs, news, old.inputs)
    assert d.changes == Diff.DIFF_SOME
    assert "name" in d.replaces
    assert d.detailedDiff["name"].kind == Kind.UPDATE_REPLACE
    assert not d.deleteBeforeReplace
    # The engine creates the replacement, then deletes the old access.
    resp = create(stub, old.name, news)
    assert resp.id and resp.id != old.id
    replacement = to_dict(resp.properties)
    assert {g["GroupName"] for g in emulator.groups_named(new_name)} == {f"{new_name}-cluster", f"{new_name}-clients"}
    assert len(emulator.groups_named(news["name"])) == 2 and len(emulator.groups_named(old.inputs["name"])) == 2
    old.delete()
    assert emulator.groups_named(old.inputs["name"]) == []
    old.id, old.inputs, old.outputs = resp.id, news, replacement  # the fixture now cleans up the new one


def test_read_after_out_of_band_revoke_shows_drift_and_update_repairs_it(stub, emulator, accesses):
    vpc = emulator.seed["vpc_id"]
    a = accesses({"vpcId": vpc, "allowedCidrBlocks": ["10.42.7.0/24"]})
    rule_id = a.outputs["ingressRuleIds"]["10.42.7.0/24"]
    emulator.ec2.revoke_security_group_ingress(GroupId=a.id, SecurityGroupRuleIds=[rule_id])
    emulator.ec2.authorize_security_group_ingress(GroupId=a.id, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6379,
        "IpRanges": [{"CidrIp": "10.99.0.0/16", "Description": "added by hand"}]}])

    r = read(stub, a.name, a.id, a.outputs, a.inputs)
    assert r.id == a.id
    refreshed = to_dict(r.properties)
    assert "10.42.7.0/24" not in refreshed["ingressRuleIds"]
    assert [u["source"] for u in refreshed["unmanagedIngress"]] == ["10.99.0.0/16"]
    assert to_dict(r.inputs) == a.inputs

    d = diff(stub, a.name, a.id, refreshed, a.inputs, a.inputs)
    assert d.changes == Diff.DIFF_SOME and not d.replaces
    out = to_dict(update(stub, a.name, a.id, refreshed, a.inputs, a.inputs).properties)
    assert "10.42.7.0/24" in out["ingressRuleIds"]
    cidrs = {x.get("CidrIpv4") for x in emulator.ingress_rules(a.id)}
    assert "10.42.7.0/24" in cidrs
    a.outputs = out


def test_import_through_read_returns_inputs(stub, emulator, accesses):
    seed = emulator.seed
    a = accesses({"vpcId": seed["vpc_id"], "description": "imported",
                  "clientSecurityGroupIds": [seed["app_security_group_id"]], "port": 6390})
    r = read(stub, "imported", a.id)
    assert r.id == a.id
    props, inputs = to_dict(r.properties), to_dict(r.inputs)
    assert props["clusterSecurityGroupId"] == a.id
    assert props["clientSecurityGroupId"] == a.outputs["clientSecurityGroupId"]
    assert props["ingressRuleIds"] == a.outputs["ingressRuleIds"]
    assert inputs["vpcId"] == seed["vpc_id"]
    assert inputs["name"] == a.inputs["name"]
    assert inputs["port"] == 6390
    assert inputs["description"] == "imported"
    assert inputs["clientSecurityGroupIds"] == [seed["app_security_group_id"]]
    assert "ingressRuleIds" not in inputs
    # The imported inputs, checked again with the program's inputs, need no change.
    news = checked(stub, "imported", a.inputs, olds=inputs)
    assert diff(stub, "imported", r.id, props, news, inputs).changes == Diff.DIFF_NONE


def test_fault_mid_create_answers_resource_init_failed_with_the_created_id(stub, emulator):
    name = unique("fault")
    inputs = checked(stub, name, {"vpcId": emulator.seed["vpc_id"], "allowedCidrBlocks": ["10.42.3.0/24"]})
    emulator.fault(service="ec2", action="AuthorizeSecurityGroupIngress", code="InternalError", status=500,
                   count=10, after=0)
    try:
        with pytest.raises(grpc.RpcError) as exc:
            create(stub, name, inputs)
    finally:
        emulator.clear_faults()
    detail = init_failed(exc.value)
    assert detail is not None, (exc.value.code(), exc.value.details())
    sg_name = inputs["name"]
    groups = {g["GroupName"]: g["GroupId"] for g in emulator.groups_named(sg_name)}
    assert detail.id == groups[f"{sg_name}-cluster"]
    props = to_dict(detail.properties)
    assert props["clusterSecurityGroupId"] == detail.id
    assert props.get("clientSecurityGroupId") == groups.get(f"{sg_name}-clients")
    assert detail.reasons and any("InternalError" in r for r in detail.reasons)
    # The engine records the partial access; a later Delete removes everything that was made.
    delete(stub, name, detail.id, props, inputs)
    assert emulator.groups_named(sg_name) == []


def test_secret_inputs_keep_their_outputs_secret(stub, emulator):
    name = unique("sec")
    vpc = emulator.seed["vpc_id"]
    news = {"vpcId": vpc, "description": secret("hush"), "allowedCidrBlocks": secret(["10.42.9.0/24"]),
            "tags": secret({"k": "v"})}
    inputs = to_dict(check(stub, name, news).inputs)
    assert inputs["description"] == secret("hush")
    assert inputs["allowedCidrBlocks"] == secret(["10.42.9.0/24"])
    preview = to_dict(create(stub, name, inputs, preview=True).properties)
    assert preview["description"] == secret("hush")
    assert preview["ingressRuleIds"][SIG_KEY] == SECRET_SIG
    real = create(stub, name, inputs)
    out = to_dict(real.properties)
    try:
        assert out["description"] == secret("hush")
        assert out["tags"] == secret({"k": "v"})
        assert out["tagsAll"][SIG_KEY] == SECRET_SIG and out["tagsAll"]["value"]["k"] == "v"
        assert out["ingressRuleIds"][SIG_KEY] == SECRET_SIG and "10.42.9.0/24" in out["ingressRuleIds"]["value"]
        assert out["clusterSecurityGroupId"] == real.id  # not derived from a secret
        refreshed = to_dict(read(stub, name, real.id, out, inputs).properties)
        assert refreshed["ingressRuleIds"][SIG_KEY] == SECRET_SIG
    finally:
        delete(stub, name, real.id, out, inputs)
    assert emulator.groups_named(inputs["name"]) == []


def test_access_for_a_replication_group_reads_vpc_and_port_and_attaches(stub, emulator, accesses):
    seed = emulator.seed
    news = {"cluster": {"replicationGroupId": seed["replication_group_id"]}, "attachToCluster": True}
    name = unique("rg")
    inputs = checked(stub, name, news)
    preview = to_dict(create(stub, name, inputs, preview=True).properties)
    assert preview["vpcId"] == seed["vpc_id"]
    assert preview["port"] == seed["redis_port"]
    a = accesses(news, name=name)
    members = emulator.elasticache.describe_cache_clusters(
        CacheClusterId=seed["redis_member_clusters"][0])["CacheClusters"][0]
    assert a.id in {g["SecurityGroupId"] for g in members["SecurityGroups"]}
    a.delete()
    members = emulator.elasticache.describe_cache_clusters(
        CacheClusterId=seed["redis_member_clusters"][0])["CacheClusters"][0]
    assert a.id not in {g["SecurityGroupId"] for g in members["SecurityGroups"]}
    assert emulator.groups_named(a.inputs["name"]) == []


# --- provider configuration ------------------------------------------------------------------

def test_check_config_and_diff_config(stub, emulator):
    bad = stub.CheckConfig(provider_pb2.CheckRequest(
        urn="urn:pulumi:test::p::pulumi:providers:elasticache::default",
        news=to_struct({"region": "US East", "maxRetries": "0", "version": "0.1.0"})))
    assert {f.property for f in bad.failures} == {"region", "maxRetries"}
    good = stub.CheckConfig(provider_pb2.CheckRequest(news=to_struct(
        {"region": "us-east-1", "endpoints": json.dumps({"ec2": emulator.url}), "version": "0.1.0"})))
    assert not good.failures
    same = stub.DiffConfig(provider_pb2.DiffRequest(olds=to_struct({"region": "us-east-1"}),
                                                    news=to_struct({"region": "us-east-1"})))
    assert same.changes == Diff.DIFF_NONE
    moved = stub.DiffConfig(provider_pb2.DiffRequest(olds=to_struct({"region": "us-east-1", "maxRetries": 2}),
                                                     news=to_struct({"region": "eu-west-1", "maxRetries": 3})))
    assert moved.changes == Diff.DIFF_SOME
    assert list(moved.replaces) == ["region"]
    assert moved.detailedDiff["maxRetries"].kind == Kind.UPDATE


def test_plugin_starts_without_engine_address_and_takes_legacy_variables(emulator):
    p = start_plugin([])
    try:
        p.stub.Attach(plugin_pb2.PluginAttach(address="127.0.0.1:1"))
        resp = p.stub.Configure(provider_pb2.ConfigureRequest(variables={
            "elasticache:config:region": "us-east-1",
            "elasticache:config:endpoints": json.dumps({"ec2": emulator.url, "elasticache": emulator.url,
                                                        "servicequotas": emulator.url}),
            "elasticache:config:maxRetries": "2",
        }, acceptSecrets=True))
        assert resp.supportsPreview
        r = read(p.stub, "nothing", "sg-0123456789abcdef0", {"vpcId": emulator.seed["vpc_id"], "name": "x"},
                 {"vpcId": emulator.seed["vpc_id"], "name": "x"})
        assert r.id == ""
        p.stub.Cancel(empty_pb2.Empty())
    finally:
        assert p.stop() == 0


def test_engine_address_given_only_as_the_argument_receives_the_logs(emulator, fake_engine):
    """Engines that predate the Handshake RPC pass their address only as the last argument."""
    p = start_plugin([fake_engine.address])
    try:
        configure(p.stub, emulator)
        name = unique("argonly")
        resp = check(p.stub, name, {"vpcId": emulator.seed["vpc_id"], "allowedCidrBlocks": ["10.1.2.3/16"]})
        assert not resp.failures
        hits = fake_engine.wait_for(lambda e: e.urn == urn(name) and e.severity == 2 and "canonical" in e.message)
        assert hits, [(e.severity, e.urn, e.message) for e in fake_engine.logs][-10:]
    finally:
        assert p.stop() == 0


def test_unconfigured_provider_refuses_real_operations_but_previews(emulator):
    p = start_plugin(["-v=1"])
    try:
        name = unique("unconf")
        inputs = checked(p.stub, name, {"vpcId": emulator.seed["vpc_id"]})
        out = to_dict(create(p.stub, name, inputs, preview=True).properties)
        assert out["clusterSecurityGroupId"] == UNKNOWN and out["tagsAll"] == UNKNOWN
        with pytest.raises(grpc.RpcError) as exc:
            create(p.stub, name, inputs)
        assert exc.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert emulator.groups_named(inputs["name"]) == []
        configure(p.stub, emulator)
    finally:
        assert p.stop() == 0


def test_sigterm_right_after_the_port_line_always_stops_the_plugin():
    """The engine may stop a plugin as soon as it has read the port: the signal streams are registered
    before the port line, so a SIGTERM sent at once is never missed (a missed one left it hanging)."""
    import select
    import signal
    import subprocess

    from pulumi_harness import plugin_env, provider_binary

    binary = provider_binary()
    for i in range(150):
        p = subprocess.Popen([binary], env=plugin_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             stdin=subprocess.DEVNULL, text=True)
        try:
            ready, _, _ = select.select([p.stdout], [], [], 10)
            assert ready and p.stdout.readline().strip().isdigit(), f"start {i}: no port line within 10 s"
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pytest.fail(f"start {i}: still running 5 s after SIGTERM")
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
