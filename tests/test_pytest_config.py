"""How the README's test command runs: pytest-xdist from pyproject.toml, ``-n auto`` as tests/conftest.py sets it,
and the files handed to the workers longest first (tests/file_order.py)."""

from __future__ import annotations

import os
import tomllib
from types import SimpleNamespace

import file_order

from pipeline.config import ROOT


def test_pyproject_runs_the_suite_on_xdist_keeping_each_file_on_one_worker():
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "-n auto" in options["addopts"] and "--dist loadfile" in options["addopts"]
    assert options["testpaths"] == ["tests"]


def test_auto_is_one_worker_more_than_the_cores(pytestconfig, monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_AUTO_NUM_WORKERS", raising=False)
    workers = pytestconfig.hook.pytest_xdist_auto_num_workers(config=pytestconfig)
    assert workers == len(os.sched_getaffinity(0)) + 1


def test_xdists_own_variable_still_decides(pytestconfig, monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_AUTO_NUM_WORKERS", "5")
    assert pytestconfig.hook.pytest_xdist_auto_num_workers(config=pytestconfig) == 5


def test_files_are_handed_out_in_collection_order():
    """xdist's default would queue the files with most tests first: the order tests/file_order.py sets must hold."""
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "--no-loadscope-reorder" in options["addopts"].split()


def _items(*nodeids: str) -> list[SimpleNamespace]:
    return [SimpleNamespace(nodeid=nodeid) for nodeid in nodeids]


def test_the_longest_files_go_first_each_files_tests_together_and_in_order():
    items = _items("a.py::t1", "a.py::t2", "b.py::t1", "c.py::t1", "c.py::t2", "c.py::t3", "d.py::t1", "e.py::t1")
    seconds = {"b.py": 9.0, "d.py": 2.5, "a.py": 1.0}
    ordered = [item.nodeid for item in file_order.longest_first(items, seconds)]
    # Known files by their seconds; then the unknown ones, most tests first (xdist's own order for them).
    assert ordered == ["b.py::t1", "d.py::t1", "a.py::t1", "a.py::t2", "c.py::t1", "c.py::t2", "c.py::t3", "e.py::t1"]


def test_without_figures_the_order_is_xdists_most_tests_first():
    items = _items("a.py::t1", "b.py::t1", "b.py::t2", "c.py::t1")
    ordered = [item.nodeid for item in file_order.longest_first(items, {})]
    assert ordered == ["b.py::t1", "b.py::t2", "a.py::t1", "c.py::t1"]


class _Cache(dict):
    def get(self, key, default):  # pytest's Cache.get(key, default)
        return super().get(key, default)

    def set(self, key, value):
        self[key] = value


def test_a_run_records_each_files_seconds_and_keeps_the_other_files_figures():
    cache = _Cache({file_order.KEY: {"old.py": 4.0, "a.py": 9.0}})
    recorder = file_order.Recorder(cache)
    for nodeid, seconds in (("a.py::t1", 0.5), ("a.py::t1", 1.0), ("a.py::t2", 0.25), ("b.py::t1", 2.0)):
        recorder.pytest_runtest_logreport(SimpleNamespace(nodeid=nodeid, duration=seconds))
    recorder.pytest_sessionfinish()
    assert cache[file_order.KEY] == {"old.py": 4.0, "a.py": 1.75, "b.py": 2.0}


def test_a_corrupt_record_counts_as_no_figures():
    assert file_order.kept_seconds(_Cache({file_order.KEY: ["not", "a", "mapping"]})) == {}
    cache = _Cache({file_order.KEY: {"a.py": "slow", "b.py": True, "c.py": 3}})
    assert file_order.kept_seconds(cache) == {"c.py": 3.0}


def test_without_pytests_cache_plugin_the_suite_runs_in_collection_order(pytestconfig):
    """``pytest -p no:cacheprovider`` gives a config without ``cache``: the order hooks step aside, never crash."""
    top = ROOT / "tests" / "conftest.py"
    (conftest,) = [p for p in pytestconfig.pluginmanager.get_plugins() if getattr(p, "__file__", None) == str(top)]
    config = SimpleNamespace(pluginmanager=None)  # no ``cache`` attribute, as without the cacheprovider plugin
    items = _items("tests/b.py::t", "tests/a.py::t")
    conftest.pytest_configure(config)
    conftest.pytest_collection_modifyitems(config, items)
    assert [item.nodeid for item in items] == ["tests/b.py::t", "tests/a.py::t"]


def test_a_fresh_clone_orders_by_the_committed_figures_and_a_run_of_its_own_wins(monkeypatch, tmp_path):
    seed = tmp_path / "file_seconds.json"
    seed.write_text('{"a.py": 5.0, "b.py": 1.0}')
    monkeypatch.setattr(file_order, "SEED", seed)
    items = _items("b.py::t", "a.py::t", "c.py::t")
    assert [i.nodeid for i in file_order.longest_first(items, file_order.seconds(_Cache()))] == [
        "a.py::t",
        "b.py::t",
        "c.py::t",
    ]
    ran = _Cache({file_order.KEY: {"b.py": 9.0}})
    assert next(i.nodeid for i in file_order.longest_first(items, file_order.seconds(ran))) == "b.py::t"
    assert file_order.seconds(None) == {"a.py": 5.0, "b.py": 1.0}  # -p no:cacheprovider: the committed figures


def test_an_unreadable_seed_counts_as_no_figures(tmp_path):
    assert file_order.seed_seconds(tmp_path / "missing.json") == {}
    (tmp_path / "bad.json").write_text("{not json")
    assert file_order.seed_seconds(tmp_path / "bad.json") == {}
    (tmp_path / "list.json").write_text("[1, 2]")
    assert file_order.seed_seconds(tmp_path / "list.json") == {}


def test_the_committed_figures_name_test_files_of_this_checkout():
    """tests/file_seconds.json is what CI's fresh clone orders by: most of its files must still exist."""
    figures = file_order.seed_seconds()
    existing = [name for name in figures if (ROOT / name).is_file()]
    assert len(figures) > 50 and len(existing) >= 0.9 * len(figures)
