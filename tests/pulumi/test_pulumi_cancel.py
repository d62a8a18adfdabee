"""Pulumi's Cancel ends an operation that is waiting on AWS within a second: here a Create whose
CreateSecurityGroup is throttled on every attempt, so the SDK is retrying with backoff (the call in
flight is abandoned, not waited out). The state is still true: nothing was made, so the Create
reports a plain failure and the emulator holds no group of the access. A separate plugin process,
because Cancel is for good."""

from __future__ import annotations

import threading
import time
import uuid

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import provider_pb2

import emulator_fixture  # tests/common
from pulumi_harness import TOKEN, configure, start_plugin, to_struct, urn


def create_calls(emulator) -> int:
    import json
    import urllib.request

    with urllib.request.urlopen(emulator.url + "/_emulator/calls", timeout=10) as r:
        return sum(c["action"] == "CreateSecurityGroup" for c in json.loads(r.read())["calls"])


def test_cancel_ends_a_create_the_sdk_is_retrying_within_a_second(emulator):
    p = start_plugin([])
    try:
        configure(p.stub, emulator, maxRetries=20)
        name = f"cancel-{uuid.uuid4().hex[:8]}"
        inputs = {"vpcId": emulator.seed["vpc_id"], "name": name}
        emulator_fixture.reset_calls(emulator.url)
        emulator.fault(service="ec2", action="CreateSecurityGroup", code="RequestLimitExceeded", status=503,
                       count=1000, after=0)
        outcome = {}

        def run():
            try:
                p.stub.Create(provider_pb2.CreateRequest(urn=urn(name), name=name, type=TOKEN,
                                                         properties=to_struct(inputs), timeout=600))
                outcome["error"] = None
            except grpc.RpcError as e:
                outcome["error"] = e
            outcome["at"] = time.monotonic()

        t = threading.Thread(target=run)
        t.start()
        deadline = time.monotonic() + 30
        while create_calls(emulator) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert create_calls(emulator) >= 2, "the SDK did not retry the throttled call"
        assert t.is_alive(), outcome
        cancelled_at = time.monotonic()
        p.stub.Cancel(empty_pb2.Empty())
        t.join(timeout=10)
        assert not t.is_alive(), "Create still running 10 s after Cancel"
        took = outcome["at"] - cancelled_at
        assert took < 1.0, f"Create returned {took:.2f} s after Cancel"
        err = outcome["error"]
        assert err is not None and "cancel" in err.details().lower(), err
        # Nothing was made, and the failure says so (no partial state for the engine to record).
        assert emulator.groups_named(name) == []
        assert err.code() == grpc.StatusCode.FAILED_PRECONDITION, (err.code(), err.details())
    finally:
        emulator.clear_faults()
        rc = p.stop()
    assert rc == 0, p.stderr()[-3000:]
