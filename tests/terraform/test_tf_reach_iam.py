"""`reachability.cluster.authentication` tells IAM from RBAC (issue 24) with a real CLI on the emulator:
a replication group whose user group holds a user with IAM authentication is `iam`, one whose user
group holds password users only is `rbac`, and `no-authentication` fires for neither."""

from __future__ import annotations

CONFIG = """
data "elasticache_reachability" "iam" {
  replication_group_id = "iam-redis"
}
data "elasticache_reachability" "rbac" {
  replication_group_id = "rbac-redis"
}
output "authentication" {
  value = {
    iam  = data.elasticache_reachability.iam.reachability.cluster.authentication
    rbac = data.elasticache_reachability.rbac.reachability.cluster.authentication
  }
}
output "findings" {
  value = concat(
    [for f in data.elasticache_reachability.iam.reachability.findings : "${f.id} ${f.subject}"],
    [for f in data.elasticache_reachability.rbac.reachability.findings : "${f.id} ${f.subject}"],
  )
}
"""


def rbac_world(emu) -> None:
    ec, w = emu.elasticache, emu.world
    ec.create_user(UserId="default-ug", UserName="default", Engine="redis", AccessString="off -@all",
                   NoPasswordRequired=True)
    ec.create_user(UserId="app-iam", UserName="app-iam", Engine="redis", AccessString="on ~* +@all",
                   AuthenticationMode={"Type": "iam"})
    ec.create_user(UserId="app-pw", UserName="app-pw", Engine="redis", AccessString="on ~* +@all",
                   Passwords=["a-password-of-16-chars"])
    ec.create_user_group(UserGroupId="ug-iam", Engine="redis", UserIds=["default-ug", "app-iam"])
    ec.create_user_group(UserGroupId="ug-pw", Engine="redis", UserIds=["default-ug", "app-pw"])
    for rg, ug in (("iam-redis", "ug-iam"), ("rbac-redis", "ug-pw")):
        ec.create_replication_group(
            ReplicationGroupId=rg, ReplicationGroupDescription=rg, Engine="redis",
            CacheNodeType="cache.t3.micro", NumCacheClusters=1, Port=6379,
            CacheSubnetGroupName=w["subnet_group"], TransitEncryptionEnabled=True, UserGroupIds=[ug])


def test_iam_user_group_is_iam_and_password_user_group_is_rbac(ws):
    rbac_world(ws.emulator)
    ug = ws.emulator.elasticache.describe_user_groups(UserGroupId="ug-iam")["UserGroups"][0]
    assert ug["UserIds"] == ["default-ug", "app-iam"] and ug["ReplicationGroups"] == ["iam-redis"], ug
    ws.write(CONFIG)
    ws.run("apply", "-auto-approve", "-no-color", "-input=false", check=True)
    out = ws.outputs()
    assert out["authentication"] == {"iam": "iam", "rbac": "rbac"}, out
    assert not any(f.startswith("no-authentication") for f in out["findings"]), out
