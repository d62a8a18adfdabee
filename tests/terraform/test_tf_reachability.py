"""`reachability` (issue 24) with the real CLIs on the emulator: a mixed access (its own client group, an
existing group carried by two network interfaces, a group in a peered VPC, a private CIDR in that VPC, a
public CIDR with `allow_public_cidrs`, a prefix list, and a rule added by hand) gives, in `terraform show
-json`, the known part in the plan and the exact object after apply and refresh, with an empty plan after
each; the findings fire and clear; the data source reads a cluster this provider did not make, and the
`check` example warns on its findings. No credential reaches the object or the output."""

from __future__ import annotations

import json
import re

import jsonschema

from tf_harness import ROOT, changes

ADDR = "elasticache_access.mixed"
PUBLIC = "203.0.113.0/24"
PEER_CIDR = "10.50.0.0/16"
IN_PEER = "10.50.1.0/24"
PL_ENTRY = "10.70.0.0/16"
HAND = "10.42.0.0/16"
SECRET = "testing"


def mixed_world(emu) -> dict:
    """Beside the seeded world: a group on two network interfaces, a peered VPC with a group (and the
    route to it), and a prefix list."""
    ec2, w = emu.ec2, emu.world
    app2 = ec2.create_security_group(GroupName="app2", Description="two instances", VpcId=w["vpc_id"])["GroupId"]
    for subnet in w["subnet_ids"]:
        ec2.create_network_interface(SubnetId=subnet, Groups=[app2])
    peer_vpc = ec2.create_vpc(CidrBlock=PEER_CIDR)["Vpc"]["VpcId"]
    peer_sg = ec2.create_security_group(GroupName="peer-app", Description="peered app", VpcId=peer_vpc)["GroupId"]
    pcx = ec2.create_vpc_peering_connection(VpcId=w["vpc_id"], PeerVpcId=peer_vpc)["VpcPeeringConnection"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx["VpcPeeringConnectionId"])
    # the route that carries the peering (the cluster's subnets use the VPC's main table): without it the
    # path is `unknown` (test_tf_reach_paths.py)
    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [w["vpc_id"]]},
                                              {"Name": "association.main", "Values": ["true"]}])
    ec2.create_route(RouteTableId=main["RouteTables"][0]["RouteTableId"], DestinationCidrBlock=PEER_CIDR,
                     VpcPeeringConnectionId=pcx["VpcPeeringConnectionId"])
    pl = ec2.create_managed_prefix_list(PrefixListName="office", MaxEntries=5, AddressFamily="IPv4",
                                        Entries=[{"Cidr": PL_ENTRY}])["PrefixList"]["PrefixListId"]
    return {"app2": app2, "peer_vpc": peer_vpc, "peer_sg": peer_sg, "pl": pl}


def config(w: dict, m: dict, cidrs: list[str]) -> str:
    return f"""
        resource "elasticache_access" "mixed" {{
          name = "mixed"
          cluster {{
            replication_group_id = "{w["replication_group_id"]}"
          }}
          client_security_group_ids = ["{m["app2"]}", "{m["peer_sg"]}"]
          allowed_cidr_blocks       = {json.dumps(cidrs)}
          allow_public_cidrs        = true
          allowed_prefix_list_ids   = ["{m["pl"]}"]
        }}
        """


def ids(f: list[dict]) -> list[tuple]:
    return [(x["id"], x["subject"]) for x in f]


def enis_with(emu, group: str) -> int:
    return len(emu.ec2.describe_network_interfaces(Filters=[{"Name": "group-id", "Values": [group]}])["NetworkInterfaces"])


def expected(emu, m: dict, st: dict, hand_rule: str) -> dict:
    """The exact object after a refresh, built from what the emulator holds."""
    w = emu.world
    cg, client, own = st["cluster_security_group_id"], st["client_security_group_id"], st["owner_id"]
    rid = st["ingress_rule_ids"]
    base = {"managed": True, "public": False, "account": None, "vpc": None, "path": "unknown", "from_port": 6379,
            "to_port": 6379, "protocol": "tcp", "network_interfaces": None, "entries": None, "on_group": cg}

    def src(kind, ref, **kw):
        return {**base, "kind": kind, "reference": ref, "rule_id": rid.get(ref), **kw}

    default = w["default_security_group_id"]
    sources = [
        src("security_group", client, account=own, vpc=w["vpc_id"], path="same_vpc", network_interfaces=0),
        src("security_group", m["app2"], account=own, vpc=w["vpc_id"], path="same_vpc", network_interfaces=2),
        src("security_group", m["peer_sg"], account=own, vpc=m["peer_vpc"], path="peering", network_interfaces=0),
        src("cidr", IN_PEER, vpc=m["peer_vpc"], path="peering"),
        src("cidr", PUBLIC, public=True),
        src("prefix_list", m["pl"], entries=[PL_ENTRY]),
        src("cidr", HAND, managed=False, rule_id=hand_rule, vpc=w["vpc_id"], path="same_vpc", to_port=6380),
    ]
    rg = w["replication_group_id"]
    findings = [("no-authentication", rg), ("no-transit-encryption", rg), ("public-source", PUBLIC),
                ("wide-port-range", HAND)]
    # The cluster's other group (the VPC's default group the seeded cluster uses): each of its rules
    # that covers the port, whoever made it.
    for r in emu.ingress(default):
        if r["IpProtocol"] != "-1" and not (r.get("FromPort", -1) <= 6379 <= r.get("ToPort", -1)):
            continue
        ref = r.get("ReferencedGroupInfo", {}).get("GroupId") or r.get("CidrIpv4")
        kind = "security_group" if ref.startswith("sg-") else "cidr"
        extra = (dict(account=own, vpc=w["vpc_id"], path="same_vpc", network_interfaces=enis_with(emu, ref))
                 if kind == "security_group" else {})
        sources.append(src(kind, ref, managed=False, on_group=default, rule_id=r["SecurityGroupRuleId"],
                           from_port=r.get("FromPort", -1), to_port=r.get("ToPort", -1), protocol=r["IpProtocol"], **extra))
        if r["IpProtocol"] == "-1" or (r.get("FromPort"), r.get("ToPort")) != (6379, 6379):
            findings.append(("wide-port-range", ref))
    kinds_first = {"cidr": 0, "prefix_list": 1, "security_group": 2}
    sources.sort(key=lambda s: (s["on_group"], s["reference"] != client or not s["managed"],
                                kinds_first[s["kind"]], s["reference"], s["rule_id"]))
    return {"port": 6379, "schema_version": 1, "sources": sources,
            "cluster": {"id": rg, "kind": "replication_group", "engine": "redis", "transit_encryption": False,
                        "authentication": "none"},
            "findings": sorted(findings)}


SCHEMA = json.loads((ROOT / "sdk-schemas" / "jsonschema" / "reachability.schema.json").read_text())


def assert_exact(reach: dict, want: dict) -> None:
    jsonschema.validate(reach, SCHEMA)
    got = {**reach, "findings": ids(reach["findings"])}
    assert got == want, json.dumps({"got": got, "want": want}, indent=1, default=str)
    for f in reach["findings"]:
        assert f["subject"] in f["message"] and f["severity"] in ("critical", "high", "medium", "low"), f


def test_mixed_access_plan_apply_refresh_gives_the_exact_object(ws):
    emu, w = ws.emulator, ws.emulator.world
    m = mixed_world(emu)
    ws.write(config(w, m, [IN_PEER, PUBLIC]))
    _, plan = ws.plan_json()
    assert changes(plan) == {ADDR: ["create"]}
    after = plan["resource_changes"][0]["change"]["after"]["reachability"]
    unknown = plan["resource_changes"][0]["change"]["after_unknown"]["reachability"]
    # Known in the plan: the port, the posture, what each declared source is, and their findings.
    assert (after["schema_version"], after["port"]) == (1, 6379)
    assert after["cluster"] == {"id": "demo-redis", "kind": "replication_group", "engine": "redis",
                                "transit_encryption": False, "authentication": "none"}
    assert ids(after["findings"]) == [("no-authentication", "demo-redis"), ("no-transit-encryption", "demo-redis"),
                                      ("public-source", PUBLIC)]
    # (An unknown value is absent from `after` and true in `after_unknown`.)
    planned = [(s["kind"], s.get("reference"), s["managed"], s.get("public")) for s in after["sources"]]
    assert planned == [("security_group", None, True, False), ("cidr", IN_PEER, True, False),
                       ("cidr", PUBLIC, True, True), ("prefix_list", m["pl"], True, None),
                       ("security_group", min(m["app2"], m["peer_sg"]), True, False),
                       ("security_group", max(m["app2"], m["peer_sg"]), True, False)], planned
    assert all(s.get("rule_id") is None for s in after["sources"])
    assert all(u["rule_id"] is True for u in unknown["sources"]), unknown
    assert unknown["sources"][0]["reference"] is True and after["sources"][0]["network_interfaces"] == 0

    ws.apply()
    st = ws.resource_state(ADDR)
    assert [s["kind"] for s in st["reachability"]["sources"]] == [k for k, *_ in planned]
    assert ws.plan_exit().returncode == 0
    # A rule added by hand, on the cluster group, wider than the port.
    hand = emu.ec2.authorize_security_group_ingress(
        GroupId=st["cluster_security_group_id"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6380, "IpRanges": [{"CidrIp": HAND}]}],
    )["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    r = ws.run("apply", "-refresh-only", "-auto-approve", "-no-color", "-input=false", check=True)
    assert SECRET not in r.output
    st = ws.resource_state(ADDR)
    assert_exact(st["reachability"], expected(emu, m, st, hand))
    assert ws.plan_exit().returncode == 0, "a refreshed reachability must not make a diff"
    state_text = (ws.dir / "terraform.tfstate").read_text()
    assert SECRET not in state_text and "AKIA" not in state_text


def test_findings_fire_and_clear(ws):
    emu, w = ws.emulator, ws.emulator.world
    m = mixed_world(emu)
    ws.write(config(w, m, ["0.0.0.0/0"]))
    _, plan = ws.plan_json()
    found = ids(plan["resource_changes"][0]["change"]["after"]["reachability"]["findings"])
    assert ("open-to-world", "0.0.0.0/0") in found and not any(i == "public-source" for i, _ in found), found
    ws.apply()
    # A network ACL of the cluster's subnets that denies the port from the peered CIDR.
    ws.write(config(w, m, [IN_PEER]))
    ws.apply()
    acl = emu.ec2.describe_network_acls(
        Filters=[{"Name": "association.subnet-id", "Values": w["subnet_ids"][:1]}])["NetworkAcls"][0]["NetworkAclId"]
    emu.ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=50, Protocol="6", RuleAction="deny",
                                     Egress=False, CidrBlock=PEER_CIDR, PortRange={"From": 6379, "To": 6379})
    ws.run("apply", "-refresh-only", "-auto-approve", "-no-color", "-input=false", check=True)
    found = ids(ws.resource_state(ADDR)["reachability"]["findings"])
    assert ("nacl-denies-port", IN_PEER) in found and ("open-to-world", "0.0.0.0/0") not in found, found
    emu.ec2.delete_network_acl_entry(NetworkAclId=acl, RuleNumber=50, Egress=False)
    ws.run("apply", "-refresh-only", "-auto-approve", "-no-color", "-input=false", check=True)
    found = ids(ws.resource_state(ADDR)["reachability"]["findings"])
    assert not any(i == "nacl-denies-port" for i, _ in found), found
    assert ws.plan_exit().returncode == 0


def test_data_source_on_a_cluster_this_provider_did_not_make(ws):
    emu, w = ws.emulator, ws.emulator.world
    # A group made by hand (no provider tag) on the seeded cluster: the app group and a public range.
    legacy = emu.ec2.create_security_group(GroupName="legacy-cache", Description="by hand",
                                           VpcId=w["vpc_id"])["GroupId"]
    emu.ec2.authorize_security_group_ingress(GroupId=legacy, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6379,
         "UserIdGroupPairs": [{"GroupId": w["app_security_group_id"]}], "IpRanges": [{"CidrIp": "198.51.100.0/24"}]}])
    emu.elasticache.modify_replication_group(ReplicationGroupId=w["replication_group_id"], ApplyImmediately=True,
                                             SecurityGroupIds=[w["default_security_group_id"], legacy])
    example = (ROOT / "examples" / "terraform" / "reachability-check" / "main.tf").read_text()
    example = example.split('provider "elasticache" {}', 1)[1]
    if ws.tf.at_least(1, 5):
        ws.write(example)
    else:
        # Terraform before 1.5 has no check blocks: the data source alone.
        ws.write(re.sub(r'check "[^"]+" \{.*?\n\}\n', "", example, flags=re.S))
    r = ws.run("apply", "-auto-approve", "-no-color", "-input=false",
               f"-var=replication_group_id={w['replication_group_id']}", check=True)
    out = ws.outputs()
    assert out["sources"] == ["cidr 198.51.100.0/24 on %s (public)" % legacy,
                              "security_group %s on %s" % (w["app_security_group_id"], legacy)], out
    assert out["findings"] == ["no-authentication demo-redis", "no-transit-encryption demo-redis",
                               "public-source 198.51.100.0/24"], out
    if ws.tf.at_least(1, 5):
        assert "public-source (high) 198.51.100.0/24" in r.output, r.output
        assert "no-transit-encryption (high) demo-redis" in r.output, r.output
    assert SECRET not in r.output
