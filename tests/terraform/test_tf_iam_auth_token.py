"""The ephemeral resource `elasticache_iam_auth_token` with the real CLI (Terraform 1.10+; older CLIs
skip, naming the version): the documented example (examples/terraform/iam-auth-token/main.tf) hands
the token to a client's environment through a provisioner; the client receives the token botocore's
presigner makes for the same credentials, Region, names and time, and neither the saved plan, the
state, nor the TF_LOG=trace output of the plan and the apply holds the token, the secret key or the
session token. Bad arguments stop the plan at their lines before anything is signed."""

from __future__ import annotations

import datetime
import io
import os
import zipfile
from pathlib import Path

import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tf_harness import REGION, ROOT, Workspace, line_of

EXAMPLE = ROOT / "examples" / "terraform" / "iam-auth-token" / "main.tf"
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "SeCrEt/Key+that-must-not-leak-0123456789"
SESSION_TOKEN = "SeSsIoN+token/that-must-not-leak=="


def need_ephemeral(ws: Workspace) -> None:
    if not ws.tf.at_least(1, 10):
        pytest.skip(f"Terraform {ws.tf.label} has no ephemeral resources (1.10+)")


def botocore_token(token: str, cache: str, user: str) -> str:
    """The token botocore's SigV4QueryAuth makes for these names, at the X-Amz-Date of `token`."""
    stamp = token.split("X-Amz-Date=", 1)[1].split("&", 1)[0]
    at = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ")
    original = botocore.auth.get_current_datetime
    botocore.auth.get_current_datetime = lambda *a, **k: at
    try:
        request = AWSRequest(method="GET", url=f"http://{cache}/?Action=connect&User={user}")
        creds = Credentials(ACCESS_KEY, SECRET_KEY, SESSION_TOKEN)
        botocore.auth.SigV4QueryAuth(creds, "elasticache", REGION, expires=900).add_auth(request)
    finally:
        botocore.auth.get_current_datetime = original
    return request.url[len("http://"):]


def saved_plan_texts(path: Path) -> dict[str, bytes]:
    """The saved plan as bytes, and each member of its zip archive uncompressed."""
    raw = path.read_bytes()
    out = {"tfplan": raw}
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        for name in z.namelist():
            out[f"tfplan:{name}"] = z.read(name)
    return out


def test_the_token_reaches_the_client_and_no_plan_state_or_log(ws, tmp_path):
    need_ephemeral(ws)
    (ws.dir / "main.tf").write_text(EXAMPLE.read_text())
    ws.env = {**ws.env, "TF_LOG": "trace", "AWS_ACCESS_KEY_ID": ACCESS_KEY,
              "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_SESSION_TOKEN": SESSION_TOKEN,
              "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    received = tmp_path / "received-token"
    args = ["-var", "replication_group_id=Orders-Cache", "-var", "user_id=app",
            "-var", f"client_command=printf '%s' \"$REDISCLI_AUTH\" > '{received}'"]
    plan = ws.run("plan", "-no-color", "-input=false", "-out=tfplan", *args, check=True)
    assert "ephemeral.elasticache_iam_auth_token.app: Opening complete" in plan.stdout, plan.stdout[-2000:]
    assert not received.exists(), "the client ran at plan time"
    apply = ws.run("apply", "-no-color", "-input=false", "-auto-approve", "tfplan", check=True)
    assert "output suppressed due to ephemeral value in config" in apply.stdout, apply.stdout[-2000:]

    token = received.read_text()
    # What reached the client is the token botocore makes, for the name as ElastiCache stores it.
    assert token == botocore_token(token, "orders-cache", "app"), token
    assert token.startswith("orders-cache/?Action=connect&User=app&X-Amz-Algorithm=AWS4-HMAC-SHA256&")
    assert "X-Amz-Security-Token=" in token and "&X-Amz-Expires=900&" in token
    signature = token.rsplit("X-Amz-Signature=", 1)[1]
    assert len(signature) == 64

    places: dict[str, bytes] = {
        "plan output (TF_LOG=trace)": plan.output.encode(),
        "apply output (TF_LOG=trace)": apply.output.encode(),
        "state": (ws.dir / "terraform.tfstate").read_bytes(),
        **saved_plan_texts(ws.dir / "tfplan"),
    }
    assert b"provider.terraform-provider-elasticache" in places["plan output (TF_LOG=trace)"]
    secrets = {"token": token, "signature": signature, "secret key": SECRET_KEY,
               "session token": SESSION_TOKEN, "session token (encoded)": SESSION_TOKEN.replace("+", "%2B")}
    for where, text in places.items():
        for what, value in secrets.items():
            assert value.encode() not in text, f"the {what} is in the {where}"


def test_bad_arguments_stop_the_plan_at_their_lines(ws):
    need_ephemeral(ws)
    ws.env = {**ws.env, "TF_LOG": "debug"}
    text = ws.write("""\
        ephemeral "elasticache_iam_auth_token" "two" {
          replication_group_id  = "orders"
          serverless_cache_name = "sessions"
          user_id               = "app"
        }

        ephemeral "elasticache_iam_auth_token" "user" {
          serverless_cache_name = "sessions"
          user_id               = "9app"
        }
        """)
    second_cache = line_of(text, 'serverless_cache_name = "sessions"')
    bad_user = line_of(text, '"9app"')
    r = ws.run("plan", "-no-color", "-input=false")
    assert r.returncode == 1, r
    assert "Two caches named" in r.output and f"main.tf line {second_cache}" in r.output, r
    assert "Invalid user id" in r.output and f"main.tf line {bad_user}" in r.output, r
    assert "signed an IAM auth token" not in r.output
