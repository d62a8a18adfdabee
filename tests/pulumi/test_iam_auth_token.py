"""The function `elasticache:index:getIamAuthToken` through Pulumi's own gRPC stubs, as the engine
calls it: the token comes back as a secret, is the token botocore's presigner makes for the same
credentials, Region, names and time, and appears in none of the engine's Log calls; bad arguments
are check failures at their camelCase properties; the package schema declares the function."""

from __future__ import annotations

import datetime
import json

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from pulumi.runtime.proto import provider_pb2

from pulumi_harness import REGION, SECRET_SIG, SIG_KEY, to_dict, to_struct

FUNCTION = "elasticache:index:getIamAuthToken"


def botocore_token(token: str, cache: str, user: str, serverless: bool) -> str:
    """botocore's SigV4QueryAuth token for these names at the X-Amz-Date of `token`, with the
    credentials the plugin runs with (pulumi_harness.plugin_env)."""
    stamp = token.split("X-Amz-Date=", 1)[1].split("&", 1)[0]
    at = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ")
    original = botocore.auth.get_current_datetime
    botocore.auth.get_current_datetime = lambda *a, **k: at
    try:
        query = f"Action=connect&User={user}" + ("&ResourceType=ServerlessCache" if serverless else "")
        request = AWSRequest(method="GET", url=f"http://{cache}/?{query}")
        auth = botocore.auth.SigV4QueryAuth(Credentials("testing", "testing"), "elasticache", REGION, expires=900)
        auth.add_auth(request)
    finally:
        botocore.auth.get_current_datetime = original
    return request.url[len("http://"):]


def invoke(stub, args: dict) -> provider_pb2.InvokeResponse:
    return stub.Invoke(provider_pb2.InvokeRequest(tok=FUNCTION, args=to_struct(args)))


def test_the_token_is_a_secret_and_never_in_the_engine_log(stub, fake_engine):
    r = invoke(stub, {"serverlessCacheName": "Sessions", "userId": "app"})
    assert not r.failures, r.failures
    ret = to_dict(getattr(r, "return"))
    secret = ret["token"]
    assert isinstance(secret, dict) and secret.get(SIG_KEY) == SECRET_SIG, ret
    token = secret["value"]
    assert token == botocore_token(token, "sessions", "app", serverless=True), token
    assert ret["serverlessCacheName"] == "Sessions" and ret["userId"] == "app"
    assert ret["expiresAt"].endswith("Z") and "replicationGroupId" not in ret

    r = invoke(stub, {"replicationGroupId": "orders", "userId": "App"})
    rg_token = to_dict(getattr(r, "return"))["token"]["value"]
    assert rg_token == botocore_token(rg_token, "orders", "app", serverless=False), rg_token

    hits = fake_engine.wait_for(lambda e: "signed an IAM auth token" in e.message)
    assert hits, [e.message for e in fake_engine.logs][-10:]
    assert any("replication group orders" in e.message for e in fake_engine.wait_for(
        lambda e: "signed an IAM auth token" in e.message and "orders" in e.message))
    with fake_engine.lock:
        messages = [e.message for e in fake_engine.logs]
    for t in (token, rg_token):
        signature = t.rsplit("X-Amz-Signature=", 1)[1]
        assert not [m for m in messages if signature in m or t in m]


def test_bad_arguments_are_failures_at_their_properties(stub):
    r = invoke(stub, {"replicationGroupId": "orders", "serverlessCacheName": "sessions", "userId": "app"})
    assert not r.HasField("return")
    assert [f.property for f in r.failures] == ["serverlessCacheName"]
    assert "Two caches named" in r.failures[0].reason
    r = invoke(stub, {"replicationGroupId": "orders_cache", "userId": "app user"})
    assert [f.property for f in r.failures] == ["replicationGroupId", "userId"]


def test_the_schema_declares_the_function_with_a_secret_token(stub):
    schema = json.loads(stub.GetSchema(provider_pb2.GetSchemaRequest()).schema)
    f = schema["functions"][FUNCTION]
    assert f["inputs"]["required"] == ["userId"]
    assert f["outputs"]["properties"]["token"] == {**f["outputs"]["properties"]["token"], "secret": True}
    assert f["outputs"]["properties"]["token"]["type"] == "string"
