"""The Pulumi YAML program in examples/pulumi/ cannot run here (no pulumi CLI), so this test does what
`pulumi up` and `pulumi destroy` would do with it: it reads the program, resolves its configuration,
checks every property and output reference against the provider's schema, then configures the
provider from the program's provider resource and runs each `elasticache:index:Access` through Check,
preview, Create, Diff and Delete against the emulator."""

from __future__ import annotations

import json
import os
import re

import yaml
from pulumi.runtime.proto import provider_pb2

from pulumi_harness import ROOT, TOKEN, start_plugin, to_dict, to_struct, urn

EXAMPLE = os.path.join(ROOT, "examples", "pulumi", "Pulumi.yaml")
REF = re.compile(r"\$\{([^}.]+)(?:\.([^}]+))?\}")


DEFAULT_EGRESS = {("egress", "-1", -1, -1, "0.0.0.0/0")}


def all_rules(emulator, gid) -> set:
    rules = emulator.ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [gid]}])["SecurityGroupRules"]
    out = [("egress" if r["IsEgress"] else "ingress", r["IpProtocol"], r.get("FromPort"), r.get("ToPort"),
            r.get("CidrIpv4") or r.get("CidrIpv6") or r.get("PrefixListId")
            or (r.get("ReferencedGroupInfo") or {}).get("GroupId")) for r in rules]
    assert len(out) == len(set(out)), f"duplicate rules in {gid}: {out}"
    return set(out)


def load_program() -> dict:
    with open(EXAMPLE, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def resolve(value, config: dict):
    """Substitutes `${configKey}`; resource references are left for the caller."""
    if isinstance(value, dict):
        return {k: resolve(v, config) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, config) for v in value]
    if isinstance(value, str):
        m = REF.fullmatch(value)
        if m and m.group(2) is None and m.group(1) in config:
            return config[m.group(1)]
    return value


def test_example_program_matches_the_schema_and_runs_through_the_provider(stub, emulator):
    program = load_program()
    assert program["runtime"] == "yaml"
    assert program["plugins"]["providers"][0]["name"] == "elasticache"
    schema = json.loads(stub.GetSchema(provider_pb2.GetSchemaRequest()).schema)
    access_schema = schema["resources"][TOKEN]

    config = {k: v.get("default") for k, v in program["config"].items()}
    config["appSecurityGroupId"] = emulator.seed["app_security_group_id"]
    resources = program["resources"]
    accesses = {n: r for n, r in resources.items() if r["type"] in (TOKEN, "elasticache:Access")}
    assert accesses, "the example uses the resource"
    providers = {n: r for n, r in resources.items() if r["type"] == "pulumi:providers:elasticache"}

    for name, r in accesses.items():
        unknown = set(r["properties"]) - set(access_schema["inputProperties"])
        assert not unknown, f"{name}: not input properties: {unknown}"
    for expr in program["outputs"].values():
        m = REF.fullmatch(expr)
        assert m and m.group(1) in accesses and m.group(2) in access_schema["properties"], expr
    for r in providers.values():
        assert set(r["properties"]) <= set(schema["provider"]["inputProperties"])

    p = start_plugin([])
    try:
        (prov,) = providers.values()
        prov_inputs = resolve(prov["properties"], config)
        checked = p.stub.CheckConfig(provider_pb2.CheckRequest(news=to_struct(prov_inputs)))
        assert not checked.failures
        # The example targets AWS; the test points the same provider at the emulator.
        args = dict(prov_inputs, endpoints={"ec2": emulator.url, "elasticache": emulator.url,
                                           "servicequotas": emulator.url}, maxRetries=2)
        p.stub.Configure(provider_pb2.ConfigureRequest(args=to_struct(args), acceptSecrets=True))

        for name, r in accesses.items():
            news = resolve(r["properties"], config)
            resp = p.stub.Check(provider_pb2.CheckRequest(urn=urn(name), name=name, news=to_struct(news)))
            assert not resp.failures, [(f.property, f.reason) for f in resp.failures]
            inputs = to_dict(resp.inputs)
            preview = to_dict(p.stub.Create(provider_pb2.CreateRequest(
                urn=urn(name), properties=to_struct(inputs), preview=True)).properties)
            assert preview["vpcId"] == emulator.seed["vpc_id"]
            created = p.stub.Create(provider_pb2.CreateRequest(urn=urn(name), properties=to_struct(inputs)))
            out = to_dict(created.properties)
            try:
                assert out["tagsAll"] == {"managed-by": "pulumi", "team": "platform"}
                assert out["clusterEndpoint"]
                assert set(out["ingressRuleIds"]) == {out["clientSecurityGroupId"], config["appSecurityGroupId"],
                                                      "10.42.0.0/16"}
                rg = emulator.elasticache.describe_replication_groups(
                    ReplicationGroupId=config["replicationGroupId"])["ReplicationGroups"][0]
                member = emulator.elasticache.describe_cache_clusters(
                    CacheClusterId=rg["MemberClusters"][0])["CacheClusters"][0]
                assert created.id in {g["SecurityGroupId"] for g in member["SecurityGroups"]}
                # Exactly the declared rules, nothing wider (docs/resources/access.md: the groups keep
                # only AWS's default egress rule).
                port = rg["NodeGroups"][0]["PrimaryEndpoint"]["Port"]
                client = out["clientSecurityGroupId"]
                want = {("ingress", "tcp", port, port, s) for s in (client, config["appSecurityGroupId"], "10.42.0.0/16")}
                assert all_rules(emulator, created.id) == want | DEFAULT_EGRESS
                assert all_rules(emulator, client) == DEFAULT_EGRESS
                again = p.stub.Check(provider_pb2.CheckRequest(urn=urn(name), name=name, olds=to_struct(inputs),
                                                               news=to_struct(news)))
                d = p.stub.Diff(provider_pb2.DiffRequest(id=created.id, urn=urn(name), olds=created.properties,
                                                         news=again.inputs, old_inputs=to_struct(inputs)))
                assert d.changes == provider_pb2.DiffResponse.DIFF_NONE
            finally:
                p.stub.Delete(provider_pb2.DeleteRequest(id=created.id, urn=urn(name), properties=created.properties,
                                                         old_inputs=to_struct(inputs)))
            assert emulator.groups_named(inputs["name"]) == []
    finally:
        assert p.stop() == 0
