"""Sessions made by ``pipeline.aws`` parse botocore's JSON data once per process, not once per session.

A fresh ``boto3.Session`` re-reads endpoints.json and each service model (tens of milliseconds each); the tasks
and the tests make many sessions, so that parsing was most of the suite's CPU.
"""

from __future__ import annotations

import botocore.loaders
import pytest

from pipeline import aws


@pytest.fixture
def parsed_files(monkeypatch):
    """The data files botocore parses from now on (its JSONFileLoader reads each one it does not have cached)."""
    seen: list[str] = []
    real = botocore.loaders.JSONFileLoader.load_file

    def load_file(self, file_path):
        seen.append(file_path)
        return real(self, file_path)

    monkeypatch.setattr(botocore.loaders.JSONFileLoader, "load_file", load_file)
    return seen


def _client(service: str):
    session = aws.new_session(region_name="us-east-1", **aws.LOCAL_CREDENTIALS)
    return session.client(service, endpoint_url="http://127.0.0.1:9", config=aws.CLIENT_CONFIG)


def test_a_second_session_parses_no_data_file_again(parsed_files):
    _client("cloudformation")  # the process's first one may parse its model (unless an earlier test did)
    parsed_files.clear()
    client = _client("cloudformation")
    assert parsed_files == []
    assert client.meta.region_name == "us-east-1"
    assert client.meta.endpoint_url == "http://127.0.0.1:9"


def test_sessions_keep_their_own_region_and_credentials():
    east = aws.new_session(region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="a")
    west = aws.new_session(region_name="eu-west-1", aws_access_key_id="b", aws_secret_access_key="b")
    assert (east.region_name, west.region_name) == ("us-east-1", "eu-west-1")
    assert (east.get_credentials().access_key, west.get_credentials().access_key) == ("a", "b")
    search_paths = east._session.get_component("data_loader").search_paths
    assert len(search_paths) == len(set(search_paths)), "boto3's data path is added once, not once per session"


def test_local_regions_are_botocores_regions_computed_once(parsed_files):
    regions = aws.local_regions()
    parsed_files.clear()
    assert aws.local_regions() is regions
    assert parsed_files == []
    assert {"us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1"} <= regions
    assert "xx-fake-1" not in regions
