"""Handlers deployed (as ``app.py``) by the local Lambda runtime tests, each probing one Lambda behaviour.

Standard library only at import: boto3 costs a cold start ~0.2 s of CPU, and only ``waits_for_gate`` needs it.
"""

import json
import logging
import os
import subprocess
import time

LAMBDA_ENV = (
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_LOG_FORMAT",
    "_HANDLER",
    "AWS_ENDPOINT_URL",
    "GREETING",
)


def echo(event, context):
    print(f"echo {json.dumps(event)}")
    return {
        "event": event,
        "env": {name: os.environ.get(name) for name in LAMBDA_ENV},
        "request_id": context.aws_request_id,
        "function_name": context.function_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }


def raises(event, context):
    raise ValueError("boom: " + str(event.get("why", "no reason")))


def sleeps(event, context):
    print("going to sleep")
    time.sleep(float(event.get("seconds", 30)))
    return "woke up"


def silent(event, context):
    return None


def chatty(event, context):
    for number in range(int(event["lines"])):
        print(f"line {number:05d} " + "x" * 90)
    return "done"


def json_logging(event, context):
    logging.getLogger().info("structured hello %s", event.get("n"))
    print("plain print stays text")
    return "ok"


def s3_record(event, context):
    """One line per S3 record, with the whole event after a marker, so tests can read it back from the logs."""
    for record in event.get("Records", []):
        print(f"S3EVENT {record['s3']['object']['key']}")
    print("EVENTJSON " + json.dumps(event))


def fails_always(event, context):
    print("attempt for " + context.aws_request_id)
    raise RuntimeError("this function always fails")


def waits_for_gate(event, context):
    """Wait until the test writes ``gate/open`` in the triggering bucket: proves the trigger already returned."""
    bucket = event["Records"][0]["s3"]["bucket"]["name"] if "Records" in event else event["bucket"]
    import boto3  # here, not at the top: every other handler's cold start stays cheap

    s3 = boto3.client("s3")
    print("GATE waiting")
    for _ in range(100):
        if s3.list_objects_v2(Bucket=bucket, Prefix="gate/open").get("KeyCount"):
            print("GATE opened after the trigger returned")
            return "released"
        time.sleep(0.05)
    print("GATE never opened")
    return "stuck"


def pids(event, context):
    """Its own pid and a child's: both must end when the local cloud stops."""
    child = subprocess.Popen(["sleep", "300"])
    return {"pid": os.getpid(), "child": child.pid}


def exits(event, context):
    print("leaving abruptly")
    os._exit(3)
