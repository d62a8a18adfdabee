"""Tests of the emulator's AWS realism, part 1: the configuration endpoint and the launcher's defaults,
then the EC2 behaviours (realism_ec2.py), each shown on and off: eventual consistency, the rules quota
per address family with prefix-list weights, prefix-list existence, the filter-value limit and peered
group references. The launcher's defaults turn all of it on (``REALISTIC``); the ``emulator`` fixture
turns it off, and each test switches on what it shows."""

from __future__ import annotations

import json
import os
import time

import pytest
from botocore.exceptions import ClientError

from harness import start_emulator
from realism_config import OFF, REALISTIC
from launcher_support import (  # noqa: F401  (fixtures: emulator, ec2, ec, net)
    PEER_ACCOUNT, client, control, ec, ec2, emulator, error_code, http, ingress_rules, net, pair,
)

DELAY = 0.6


def cidr_rules(n, v6=False, port=6379, start=0):
    key, name = ("Ipv6Ranges", "CidrIpv6") if v6 else ("IpRanges", "CidrIp")
    ranges = [{name: f"fd00:{i:x}::/64" if v6 else f"10.{i // 250}.{i % 250}.0/24"} for i in range(start, start + n)]
    return [{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, key: ranges}]


def prefix_rule(pl_id, port=6379):
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "PrefixListIds": [{"PrefixListId": pl_id}]}


# ----------------------------------------------------------------------------------------
# the configuration
# ----------------------------------------------------------------------------------------
def test_config_defaults_are_realistic_and_a_reset_restores_them(emulator):
    got = control(emulator, "GET", "/_emulator/config")
    assert got["patched"] is True and got["defaults"] == REALISTIC
    assert got["defaults"]["consistency_delay"] == 2.0 and got["defaults"]["modify_window"] == 3.0
    assert all(v for k, v in got["defaults"].items() if isinstance(v, bool))
    # the fixture turned it all off for this test
    assert got["config"]["consistency_delay"] == 0 and got["config"]["modify_window"] == 0
    changed = emulator.configure(modify_window=1.5, enforce_rule_quota=True, quotas={"L-2AFB9258": 8})
    assert changed["modify_window"] == 1.5 and changed["enforce_rule_quota"] is True
    assert changed["quotas"] == {"L-2AFB9258": 8, "L-0EA8095F": 60}
    control(emulator, "POST", "/_emulator/reset")
    assert control(emulator, "GET", "/_emulator/config")["config"] == got["defaults"]


@pytest.mark.parametrize("body", [
    {"no_such_switch": True}, {"modify_window": "3"}, {"filter_limit": 1}, {"snapshotting": "rg-1"},
    {"quotas": {"L-2AFB9258": 17}}, {"quotas": {"L-2AFB9258": 10, "L-0EA8095F": 101}}, {"quotas": {"L-X": 1}},
])
def test_config_rejects_what_it_does_not_know(emulator, body):
    status, raw = http(emulator, "POST", "/_emulator/config", body, {"Content-Type": "application/json"})
    assert status == 400 and json.loads(raw)["ok"] is False
    assert control(emulator, "GET", "/_emulator/config")["config"]["modify_window"] == 0


def _defaults_of(args, env=None):
    old = os.environ.pop("EMULATOR_CONFIG", None)
    if env is not None:
        os.environ["EMULATOR_CONFIG"] = env
    try:
        emu = start_emulator(args)
    finally:
        os.environ.pop("EMULATOR_CONFIG", None)
        if old is not None:
            os.environ["EMULATOR_CONFIG"] = old
    return emu, json.loads(http(emu, "GET", "/_emulator/config")[1])["defaults"]


def test_launcher_defaults_from_flags_and_environment():
    emu, defaults = _defaults_of(["--config", json.dumps({"filter_limit": False})],
                                 env=json.dumps({"modify_window": 0.25}))
    try:
        assert defaults["modify_window"] == 0.25 and defaults["consistency_delay"] == 2.0
        assert defaults["require_peering"] is True and defaults["filter_limit"] is False
        emu.configure(modify_window=0)
        http(emu, "POST", "/_emulator/reset", b"{}")
        assert emu.config() == defaults
    finally:
        assert emu.stop() == 0
    for args, env in ((["--no-realism"], None), ([], "off"), (["--config", "off"], "realistic"), (["--vanilla"], None)):
        emu, defaults = _defaults_of(args, env)
        try:
            assert defaults == OFF, (args, env)
        finally:
            assert emu.stop() == 0
    emu, defaults = _defaults_of(["--no-realism"], env="realistic")
    try:
        assert defaults == REALISTIC
    finally:
        assert emu.stop() == 0


def test_settle_ends_the_consistency_windows(emulator, ec2, net):
    emulator.configure(consistency_delay=30)
    new = ec2.create_security_group(GroupName=f"settled-{net['n']}", Description="s", VpcId=net["vpc"])["GroupId"]
    with pytest.raises(ClientError) as exc:
        ec2.describe_security_groups(GroupIds=[new])
    assert error_code(exc) == "InvalidGroup.NotFound"
    assert emulator.settle() == 1
    assert ec2.describe_security_groups(GroupIds=[new])["SecurityGroups"][0]["GroupId"] == new


# ----------------------------------------------------------------------------------------
# 1. eventual consistency
# ----------------------------------------------------------------------------------------
def test_new_group_is_invisible_to_other_calls_during_the_window(emulator, ec2, net):
    emulator.configure(consistency_delay=DELAY)
    new = ec2.create_security_group(GroupName=f"young-{net['n']}", Description="y", VpcId=net["vpc"])["GroupId"]
    calls = {
        "describe by id": lambda: ec2.describe_security_groups(GroupIds=[new]),
        "authorize": lambda: ec2.authorize_security_group_ingress(GroupId=new, IpPermissions=cidr_rules(1)),
        "reference": lambda: ec2.authorize_security_group_ingress(GroupId=net["cluster_sg"],
                                                                  IpPermissions=[pair(new)]),
        "tags": lambda: ec2.create_tags(Resources=[new], Tags=[{"Key": "k", "Value": "v"}]),
        "delete": lambda: ec2.delete_security_group(GroupId=new),
    }
    for what, call in calls.items():
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "InvalidGroup.NotFound", what
    by_filter = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [net["vpc"]]}])["SecurityGroups"]
    assert new not in {g["GroupId"] for g in by_filter} and net["cluster_sg"] in {g["GroupId"] for g in by_filter}
    time.sleep(DELAY)
    assert ec2.describe_security_groups(GroupIds=[new])["SecurityGroups"][0]["GroupId"] == new
    ec2.authorize_security_group_ingress(GroupId=net["cluster_sg"], IpPermissions=[pair(new)])
    ec2.create_tags(Resources=[new], Tags=[{"Key": "k", "Value": "v"}])


def test_new_rule_is_invisible_during_the_window(emulator, ec2, net):
    sg = net["cluster_sg"]
    emulator.configure(consistency_delay=DELAY)
    rules = ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=cidr_rules(2))["SecurityGroupRules"]
    ids = [r["SecurityGroupRuleId"] for r in rules]
    assert ingress_rules(ec2, sg) == []
    for call in (lambda: ec2.describe_security_group_rules(SecurityGroupRuleIds=ids[:1]),
                 lambda: ec2.revoke_security_group_ingress(GroupId=sg, SecurityGroupRuleIds=ids[1:])):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "InvalidSecurityGroupRuleId.NotFound"
    time.sleep(DELAY)
    assert sorted(r["SecurityGroupRuleId"] for r in ingress_rules(ec2, sg)) == sorted(ids)
    ec2.revoke_security_group_ingress(GroupId=sg, SecurityGroupRuleIds=ids)


def test_without_a_delay_everything_is_visible_at_once(emulator, ec2, net):
    new = ec2.create_security_group(GroupName=f"now-{net['n']}", Description="n", VpcId=net["vpc"])["GroupId"]
    rules = ec2.authorize_security_group_ingress(GroupId=new, IpPermissions=cidr_rules(1))["SecurityGroupRules"]
    assert ec2.describe_security_groups(GroupIds=[new])["SecurityGroups"]
    assert [r["SecurityGroupRuleId"] for r in ingress_rules(ec2, new)] == [rules[0]["SecurityGroupRuleId"]]
    ec2.revoke_security_group_ingress(GroupId=new, SecurityGroupRuleIds=[rules[0]["SecurityGroupRuleId"]])
    ec2.delete_security_group(GroupId=new)


# ----------------------------------------------------------------------------------------
# 5. rules per group and prefix lists
# ----------------------------------------------------------------------------------------
def test_rule_quota_counts_each_address_family_on_its_own(emulator, ec2, net):
    sg = net["cluster_sg"]
    emulator.configure(enforce_rule_quota=True)
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=cidr_rules(60))
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=cidr_rules(60, v6=True))
    for perms in (cidr_rules(1, start=60), cidr_rules(1, v6=True, start=60), [pair(net["client_sg"])]):
        with pytest.raises(ClientError) as exc:
            ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=perms)
        assert error_code(exc) == "RulesPerSecurityGroupLimitExceeded"
        assert exc.value.response["Error"]["Message"] == "The maximum number of rules per security group has been reached."
    assert len(ingress_rules(ec2, sg)) == 120
    emulator.configure(quotas={"L-0EA8095F": 61})
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[pair(net["client_sg"])])  # one of each
    # outbound rules have a budget of their own (quota now 61): the default egress rule plus 60 more
    ec2.authorize_security_group_egress(GroupId=net["client_sg"], IpPermissions=cidr_rules(60))


def test_without_the_quota_moto_counts_both_families_together(emulator, ec2, net):
    sg = net["cluster_sg"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=cidr_rules(60))
    with pytest.raises(ClientError) as exc:
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=cidr_rules(1, v6=True))
    assert error_code(exc) == "RulesPerSecurityGroupLimitExceeded"


def test_a_prefix_list_costs_its_max_entries_in_its_family(emulator, ec2, net):
    sg = net["cluster_sg"]
    pl4 = ec2.create_managed_prefix_list(PrefixListName="four", MaxEntries=40, AddressFamily="IPv4",
                                         Entries=[{"Cidr": "10.9.0.0/16"}])["PrefixList"]["PrefixListId"]
    pl4b = ec2.create_managed_prefix_list(PrefixListName="four-b", MaxEntries=40,
                                          AddressFamily="IPv4")["PrefixList"]["PrefixListId"]
    pl6 = ec2.create_managed_prefix_list(PrefixListName="six", MaxEntries=50,
                                         AddressFamily="IPv6")["PrefixList"]["PrefixListId"]
    # off: two lists of 40 are two rules
    ec2.authorize_security_group_ingress(GroupId=net["client_sg"], IpPermissions=[prefix_rule(pl4), prefix_rule(pl4b)])
    emulator.configure(enforce_rule_quota=True)
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[prefix_rule(pl4)])  # 40 IPv4
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[prefix_rule(pl6)])  # 50 IPv6
    with pytest.raises(ClientError) as exc:  # 80 IPv4 > 60
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[prefix_rule(pl4b)])
    assert error_code(exc) == "RulesPerSecurityGroupLimitExceeded"
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=cidr_rules(10, v6=True))  # 60 IPv6
    with pytest.raises(ClientError) as exc:  # a group reference costs one IPv6 rule too
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[pair(net["client_sg"])])
    assert error_code(exc) == "RulesPerSecurityGroupLimitExceeded"
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=cidr_rules(20))  # 60 IPv4
    assert len(ingress_rules(ec2, sg)) == 32


def test_an_unknown_prefix_list_is_not_found(emulator, ec2, net):
    ec2.authorize_security_group_ingress(GroupId=net["client_sg"], IpPermissions=[prefix_rule("pl-0123abcd")])
    emulator.configure(require_prefix_lists=True)
    with pytest.raises(ClientError) as exc:
        ec2.authorize_security_group_ingress(GroupId=net["cluster_sg"], IpPermissions=[prefix_rule("pl-0badbad0")])
    assert error_code(exc) == "InvalidPrefixListId.NotFound"
    assert "pl-0badbad0" in exc.value.response["Error"]["Message"]
    assert ingress_rules(ec2, net["cluster_sg"]) == []


def test_service_quotas_serves_the_emulators_values(emulator):
    quotas = client(emulator, "service-quotas")

    def value(code):
        return quotas.get_service_quota(ServiceCode="vpc", QuotaCode=code)["Quota"]["Value"]

    assert (value("L-2AFB9258"), value("L-0EA8095F")) == (5.0, 60.0)
    emulator.configure(quotas={"L-2AFB9258": 16, "L-0EA8095F": 62})
    assert (value("L-2AFB9258"), value("L-0EA8095F")) == (16.0, 62.0)


# ----------------------------------------------------------------------------------------
# 6. filters
# ----------------------------------------------------------------------------------------
def test_more_than_200_filter_values_is_filter_limit_exceeded(emulator, ec2, net):
    values = [f"sg-{i:017x}" for i in range(150)]
    filters = [{"Name": "group-id", "Values": values}, {"Name": "vpc-id", "Values": [net["vpc"]] * 51}]
    ec2.describe_security_groups(Filters=filters)  # off
    emulator.configure(filter_limit=True)
    for call in (ec2.describe_security_groups, ec2.describe_security_group_rules):
        with pytest.raises(ClientError) as exc:
            call(Filters=filters)
        assert error_code(exc) == "FilterLimitExceeded"
        assert exc.value.response["Error"]["Message"] == \
            "The maximum number of filter values specified on a single call is 200"
    filters[1]["Values"] = [net["vpc"]] * 50
    ec2.describe_security_group_rules(Filters=filters)  # 200 is allowed


# ----------------------------------------------------------------------------------------
# 7. peered references
# ----------------------------------------------------------------------------------------
def _as_peer(c):
    c.meta.events.register("before-send.ec2.*", lambda request, **_: request.headers.__setitem__(
        "x-moto-account-id", PEER_ACCOUNT))
    return c


def test_a_peer_accounts_group_needs_an_active_peering_connection(emulator, ec2, net):
    peer = _as_peer(client(emulator, "ec2"))
    peer_vpc = peer.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    peer_sg = peer.create_security_group(GroupName="peer", Description="p", VpcId=peer_vpc)["GroupId"]
    sg = net["cluster_sg"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[pair(peer_sg, user_id=PEER_ACCOUNT)])  # off
    emulator.configure(require_peering=True)
    for perm in (pair(peer_sg, port=6380, user_id=PEER_ACCOUNT), pair("sg-0123456789abcdef0", user_id=PEER_ACCOUNT)):
        with pytest.raises(ClientError) as exc:
            ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[perm])
        assert error_code(exc) == "InvalidGroup.NotFound"
    pcx = ec2.create_vpc_peering_connection(VpcId=net["vpc"], PeerVpcId=peer_vpc, PeerOwnerId=PEER_ACCOUNT)
    pcx_id = pcx["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    with pytest.raises(ClientError) as exc:  # pending acceptance is not active
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[pair(peer_sg, port=6380, user_id=PEER_ACCOUNT)])
    assert exc.value.response["Error"]["Message"] == "You have specified two resources that belong to different networks."
    peer.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx_id)
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[pair(peer_sg, port=6380, user_id=PEER_ACCOUNT)])
    refs = {(r["ReferencedGroupInfo"]["GroupId"], r["FromPort"]) for r in ingress_rules(ec2, sg)}
    assert refs == {(peer_sg, 6379), (peer_sg, 6380)}


def test_the_peering_endpoint_registers_groups_of_another_account(emulator, ec2, net):
    emulator.configure(require_peering=True)
    fake = "sg-0123456789abcdef0"
    with pytest.raises(ClientError):
        ec2.authorize_security_group_ingress(GroupId=net["cluster_sg"], IpPermissions=[pair(fake, user_id=PEER_ACCOUNT)])
    got = emulator.peering(vpc_id=net["vpc"], peer_account_id=PEER_ACCOUNT, peer_group_ids=[fake])
    assert got["peer_group_ids"] == [fake] and got["vpc_peering_connection_id"].startswith("pcx-")
    described = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[got["vpc_peering_connection_id"]])
    assert described["VpcPeeringConnections"][0]["Status"]["Code"] == "active"
    ec2.authorize_security_group_ingress(GroupId=net["cluster_sg"], IpPermissions=[pair(fake, user_id=PEER_ACCOUNT)])
    # a group of this account in another VPC needs peering as well
    other_vpc = ec2.create_vpc(CidrBlock="10.78.0.0/16")["Vpc"]["VpcId"]
    other = ec2.create_security_group(GroupName="other", Description="o", VpcId=other_vpc)["GroupId"]
    with pytest.raises(ClientError) as exc:
        ec2.authorize_security_group_ingress(GroupId=net["cluster_sg"], IpPermissions=[pair(other)])
    assert error_code(exc) == "InvalidGroup.NotFound"
    status, _ = http(emulator, "POST", "/_emulator/peering", {"vpc_id": net["vpc"]}, {"Content-Type": "application/json"})
    assert status == 400
