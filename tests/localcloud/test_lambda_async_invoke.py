"""Lambda's asynchronous invocation as AWS documents it: per-function queues and one event invoke config."""

from __future__ import annotations

from fixtures_lambda.functions import count, create_function, invoke, wait_for_logs

from localcloud import runtime


def group_of(name: str) -> str:
    return f"/aws/lambda/{name}"


def test_a_slow_function_only_delays_its_own_events(client):
    """Ordering, not a stopwatch: the quick function's event is handled while every slow event still sleeps."""
    slow = create_function(client, "sleeps", Timeout=30)
    quick = create_function(client, "silent")
    busy = runtime.active()._concurrency + 2  # more than every dispatcher a shared pool would have
    for _ in range(busy):
        invoke(client, slow["FunctionName"], {"seconds": 20}, InvocationType="Event")
    wait_for_logs(client, group_of(slow["FunctionName"]), lambda m: count(m, "going to sleep") >= 1)

    invoke(client, quick["FunctionName"], InvocationType="Event")
    messages = wait_for_logs(client, group_of(quick["FunctionName"]), lambda m: count(m, "REPORT") >= 1, timeout=15)
    assert count(messages, "REPORT") == 1
    # Behind a shared queue the quick event would wait for a slow one to end (20 s); none has ended yet.
    slow_messages = wait_for_logs(client, group_of(slow["FunctionName"]), lambda m: True)
    assert count(slow_messages, "REPORT") == 0


def test_an_event_invoke_answers_202_with_the_request_id_of_the_invocation(client):
    """Lambda API Reference, Invoke: ``Event`` answers 202 at once, and its ``x-amzn-RequestId`` is the invocation's
    request id (the one its START and REPORT lines name)."""
    fn = create_function(client, "silent")
    answer = invoke(client, fn["FunctionName"], InvocationType="Event")
    request_id = answer["ResponseMetadata"]["HTTPHeaders"].get("x-amzn-requestid")
    assert answer["StatusCode"] == 202 and request_id and answer["ResponseMetadata"]["RequestId"] == request_id
    messages = wait_for_logs(client, group_of(fn["FunctionName"]), lambda m: count(m, "REPORT") >= 1)
    assert any(m.startswith(f"START RequestId: {request_id} ") for m in messages)
    assert any(m.startswith(f"REPORT RequestId: {request_id}\t") for m in messages)


def test_update_merges_into_the_one_event_invoke_config_that_get_and_the_runtime_use(client):
    fn = create_function(client, "fails_always")
    name = fn["FunctionName"]
    lam = client("lambda")
    queue_url = client("sqs").create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    queue_arn = client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    lam.update_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnFailure": {"Destination": queue_arn}}
    )

    config = lam.get_function_event_invoke_config(FunctionName=name)
    assert config["MaximumRetryAttempts"] == 0  # kept: Update changes only what it is given
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == queue_arn
    assert len(lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"]) == 1

    invoke(client, name, InvocationType="Event")
    # The failure record reaches the destination after the last attempt: by then a replaced config (two retries
    # by default) would have started the function three times.
    received = client("sqs").receive_message(QueueUrl=queue_url, WaitTimeSeconds=20).get("Messages", [])
    assert len(received) == 1
    messages = wait_for_logs(client, group_of(name), lambda m: count(m, "REPORT") >= 1)
    assert count(messages, "START RequestId: ") == 1


def test_put_replaces_the_whole_event_invoke_config(client):
    fn = create_function(client, "silent")
    lam = client("lambda")
    lam.put_function_event_invoke_config(FunctionName=fn["FunctionName"], MaximumRetryAttempts=1)
    lam.put_function_event_invoke_config(FunctionName=fn["FunctionName"], MaximumEventAgeInSeconds=120)

    config = lam.get_function_event_invoke_config(FunctionName=fn["FunctionName"])
    assert config["MaximumEventAgeInSeconds"] == 120
    assert "MaximumRetryAttempts" not in config
    assert config["FunctionArn"] == f"{fn['FunctionArn']}:$LATEST"
