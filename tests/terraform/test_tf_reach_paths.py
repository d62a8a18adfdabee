"""`reachability.sources[].path` as AWS routes it (issue 24) with the real CLIs on the emulator: the route
tables of the cluster's subnets (DescribeRouteTables) and the VPC's transit gateway attachments
(DescribeTransitGatewayVpcAttachments) decide it. A CIDR routed to an attached transit gateway is
`transit_gateway`; a group of another account (`<account>/<sg-id>`) behind an active peering connection
whose CIDR is routed through it is `peering`, with its account and VPC; the same group without the route,
or the CIDR once the attachments cannot be read (AccessDenied), is `unknown`, never a failure."""

from __future__ import annotations

import json
import urllib.request

PEER_ACCOUNT = "210987654321"
PEER_GROUP = "sg-0a1b2c3d4e5f60718"
PEER_CIDR = "10.250.0.0/16"
TGW_ROUTE = "10.80.0.0/16"
VIA_TGW = "10.80.1.0/24"
ADDR = "elasticache_access.paths"
SOURCE = f"{PEER_ACCOUNT}/{PEER_GROUP}"


def routed_world(emu) -> dict:
    """Beside the seeded world: a transit gateway the VPC is attached to, a peering connection to another
    account's VPC holding PEER_GROUP, and routes to both on the route table of the cluster's subnets."""
    ec2, w = emu.ec2, emu.world
    tgw = ec2.create_transit_gateway(Description="hub")["TransitGateway"]["TransitGatewayId"]
    att = ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw, VpcId=w["vpc_id"],
                                                    SubnetIds=w["subnet_ids"][:1])["TransitGatewayVpcAttachment"]
    assert att["State"] == "available", att
    # an active peering connection to another account's VPC (tests/emulator/README.md, /_emulator/peering)
    spec = {"vpc_id": w["vpc_id"], "peer_account_id": PEER_ACCOUNT, "peer_group_ids": [PEER_GROUP],
            "peer_cidr": PEER_CIDR}
    req = urllib.request.Request(emu.url + "/_emulator/peering", method="POST", data=json.dumps(spec).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        pcx = json.loads(r.read())
    tables = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": w["subnet_ids"]}])
    # the seeded subnets have no table of their own: the VPC's main table routes them
    assert not tables["RouteTables"], tables
    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [w["vpc_id"]]},
                                              {"Name": "association.main", "Values": ["true"]}])
    rtb = main["RouteTables"][0]["RouteTableId"]
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock=TGW_ROUTE, TransitGatewayId=tgw)
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock=PEER_CIDR,
                     VpcPeeringConnectionId=pcx["vpc_peering_connection_id"])
    return {"tgw": tgw, "rtb": rtb, "pcx": pcx["vpc_peering_connection_id"], "peer_vpc": pcx["peer_vpc_id"]}


CONFIG = """
resource "elasticache_access" "paths" {{
  name = "paths"
  cluster {{
    replication_group_id = "{rg}"
  }}
  create_client_security_group = false
  client_security_group_ids    = ["{source}"]
  allowed_cidr_blocks          = ["{cidr}"]
}}
"""


def by_reference(ws) -> dict:
    reach = ws.resource_state(ADDR)["reachability"]
    return {s["reference"]: s for s in reach["sources"] if s["managed"]}


def refresh(ws) -> None:
    ws.run("apply", "-refresh-only", "-auto-approve", "-no-color", "-input=false", check=True)


def fields(s: dict) -> dict:
    return {k: s[k] for k in ("kind", "account", "vpc", "path")}


def test_transit_gateway_and_cross_account_peering_paths_come_from_the_route_tables(ws):
    emu, w = ws.emulator, ws.emulator.world
    m = routed_world(emu)
    emu.configure(require_peering=True)
    ws.write(CONFIG.format(rg=w["replication_group_id"], source=SOURCE, cidr=VIA_TGW))
    ws.apply()
    refresh(ws)
    got = {ref: fields(s) for ref, s in by_reference(ws).items()}
    assert got == {
        VIA_TGW: {"kind": "cidr", "account": None, "vpc": None, "path": "transit_gateway"},
        PEER_GROUP: {"kind": "security_group", "account": PEER_ACCOUNT, "vpc": m["peer_vpc"], "path": "peering"},
    }, got
    assert ws.plan_exit().returncode == 0, "a refreshed reachability must not make a diff"

    # The route through the peering connection is gone: the connection alone carries nothing.
    emu.ec2.delete_route(RouteTableId=m["rtb"], DestinationCidrBlock=PEER_CIDR)
    refresh(ws)
    got = {ref: fields(s) for ref, s in by_reference(ws).items()}
    assert got[PEER_GROUP] == {"kind": "security_group", "account": PEER_ACCOUNT, "vpc": m["peer_vpc"],
                               "path": "unknown"}, got
    assert got[VIA_TGW]["path"] == "transit_gateway", got
    assert ws.plan_exit().returncode == 0


def test_denied_transit_gateway_describes_leave_the_path_unknown_with_a_warning(ws):
    emu, w = ws.emulator, ws.emulator.world
    routed_world(emu)
    ws.write(CONFIG.format(rg=w["replication_group_id"], source=SOURCE, cidr=VIA_TGW))
    ws.apply()
    emu.fault(service="ec2", action="DescribeTransitGatewayVpcAttachments", code="UnauthorizedOperation",
              status=403, count=50, message="You are not authorized to perform this operation.")
    refresh(ws)  # never a failure
    log = (ws.dir / "terraform-warnings.log").read_text(errors="replace")
    src = by_reference(ws)
    assert src[VIA_TGW]["path"] == "unknown", src
    # the peering is decided by the route tables, which were read
    assert src[PEER_GROUP]["path"] == "peering", src
    assert "ec2:DescribeTransitGatewayVpcAttachments" in log, log[-3000:]
