"""Deferred package ``__init__``s (``localcloud.lazy_packages``, declared in ``localcloud.patches.LAZY_PACKAGES``):
a submodule imports without its package's ``__init__``, the first use of one of the package's own names runs it,
and a declaration that no longer matches the installed source is refused before anything starts."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from localcloud import lazy_packages, patches
from localcloud.lazy_packages import LazyPackage

ROOT = Path(__file__).resolve().parents[2]
INIT = 'import sys\nsys.modules["fakepkg_ran"] = sys\nfrom .heavy import make\nTITLE = "fake"\nthing = make()\n'


@pytest.fixture
def fakepkg(tmp_path, monkeypatch):
    """A package whose ``__init__`` leaves a marker in ``sys.modules`` when it runs, importable for one test."""
    package = tmp_path / "fakepkg"
    package.mkdir()
    (package / "__init__.py").write_text(INIT)
    (package / "heavy.py").write_text("def make():\n    return 'made'\n")
    (package / "light.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith("fakepkg")]:
        monkeypatch.delitem(sys.modules, name)
    yield package
    for name in [m for m in sys.modules if m.startswith("fakepkg")]:
        del sys.modules[name]


DECLARED = LazyPackage("fakepkg", ("sys", "make", "thing"), (("TITLE", "fake"),), "a test deferral")


def test_every_deferral_fits_the_installed_moto():
    assert lazy_packages.problems(patches.LAZY_PACKAGES) == []


def test_a_submodule_and_a_constant_do_not_run_the_init_and_a_deferred_name_does(fakepkg):
    assert lazy_packages.defer(DECLARED)
    import fakepkg.light

    assert (fakepkg.light.VALUE, fakepkg.TITLE) == (1, "fake")
    assert "fakepkg_ran" not in sys.modules and "fakepkg.heavy" not in sys.modules
    from fakepkg import thing

    assert thing == "made" and "fakepkg_ran" in sys.modules
    assert "__getattr__" not in vars(sys.modules["fakepkg"])  # from now on it is the plain package


def test_a_stand_in_runs_the_init_when_called_and_then_is_the_real_one(fakepkg):
    declared = LazyPackage("fakepkg", ("sys", "thing"), (("TITLE", "fake"),), "", stand_ins=("make",))
    lazy_packages.defer(declared)
    from fakepkg import make  # what ``from boto3 import Session`` at start-up gets

    assert "fakepkg_ran" not in sys.modules
    assert make() == "made" and "fakepkg_ran" in sys.modules
    assert sys.modules["fakepkg"].make is sys.modules["fakepkg.heavy"].make


def test_an_already_imported_package_is_left_alone(fakepkg):
    import fakepkg

    assert not lazy_packages.defer(DECLARED)
    assert sys.modules["fakepkg"] is fakepkg


def test_a_name_the_init_does_not_define_is_an_attribute_error(fakepkg):
    lazy_packages.defer(DECLARED)
    import fakepkg

    with pytest.raises(AttributeError, match="has no attribute 'missing'"):
        fakepkg.missing  # noqa: B018
    assert "fakepkg_ran" not in sys.modules


def test_an_init_that_defines_other_names_is_refused(fakepkg):
    (fakepkg / "__init__.py").write_text(INIT + "extra = 1\n")
    assert lazy_packages.problems([DECLARED]) == [
        "fakepkg/__init__ now defines ['TITLE', 'extra', 'make', 'sys', 'thing']; the deferral was written for "
        "['TITLE', 'make', 'sys', 'thing']."
    ]
    assert "fakepkg" not in sys.modules  # checked by reading the source, never by importing it


def test_a_constant_with_another_value_is_refused(fakepkg):
    (fakepkg / "__init__.py").write_text(INIT.replace('"fake"', '"changed"'))
    assert lazy_packages.problems([DECLARED]) == ["fakepkg.TITLE is now 'changed'; the deferral gives 'fake'."]


def test_a_constant_imported_from_a_sibling_is_read_there(fakepkg):
    (fakepkg / "heavy.py").write_text("ACCOUNT = '000000000000'\ndef make():\n    return 'made'\n")
    (fakepkg / "__init__.py").write_text(INIT.replace("import make", "import make, ACCOUNT"))
    declared = LazyPackage("fakepkg", DECLARED.deferred, (*DECLARED.constants, ("ACCOUNT", "123456789012")), "")
    assert lazy_packages.problems([declared]) == ["fakepkg.ACCOUNT is now '000000000000'; the deferral gives "
                                                  "'123456789012'."]  # fmt: skip


def test_a_submodule_the_init_imports_is_one_of_its_names(fakepkg):
    """``import requests`` binds ``requests.exceptions`` because the ``__init__`` imports it: with the ``__init__``
    deferred, using that name runs it, and the submodule is there as it would have been."""
    lazy_packages.defer(DECLARED)
    import fakepkg

    assert "fakepkg_ran" not in sys.modules
    assert fakepkg.heavy.make() == "made" and "fakepkg_ran" in sys.modules


SESSION = "import fakepkg.heavy\nimport sys\nsys.modules['fakepkg_session_ran'] = sys\nclass Session:\n    pass\n"


def test_a_plain_module_runs_its_body_at_its_first_use_and_its_parent_gets_what_it_imported(fakepkg):
    """``botocore.session``'s case: ``from botocore.session import Session`` at start-up gets a stand-in; code that
    relied on the module's ``import botocore.client`` binding ``botocore.client`` still finds it."""
    (fakepkg / "__init__.py").write_text("")
    (fakepkg / "session.py").write_text(SESSION)
    declared = LazyPackage("fakepkg.session", ("*",), (), "", stand_ins=("Session",))
    assert lazy_packages.problems([declared]) == []
    assert lazy_packages.resolve(declared) == (("Session", "fakepkg", "sys"), ("heavy",))
    assert lazy_packages.defer(declared)
    import fakepkg
    from fakepkg.session import Session

    assert "fakepkg_session_ran" not in sys.modules and "fakepkg.heavy" not in sys.modules
    assert fakepkg.heavy.make() == "made"  # the parent's name runs the module's body, which imported it
    assert "fakepkg_session_ran" in sys.modules and isinstance(Session(), sys.modules["fakepkg.session"].Session)
    assert "__getattr__" not in vars(fakepkg)


def test_a_stand_in_the_module_no_longer_defines_is_refused(fakepkg):
    (fakepkg / "session.py").write_text(SESSION.replace("class Session", "class Other"))
    declared = LazyPackage("fakepkg.session", ("*",), (), "", stand_ins=("Session",))
    assert lazy_packages.problems([declared]) == [
        "fakepkg.session no longer defines ['Session']; the deferral gives stand-ins for them."
    ]


def test_a_stamped_start_reads_no_source_and_an_edited_init_is_checked_again(fakepkg, tmp_path, monkeypatch):
    """The deferrals' check parses each package's source; a clean check is stamped with what it found, and a start
    against the same files trusts it. An ``__init__`` edited since is checked, and refused, at the next start."""
    from localcloud import patch_stamp

    monkeypatch.setattr(patch_stamp, "CACHE", tmp_path / "cache")
    patches.apply((), lazy=[DECLARED])  # checks, stamps, defers
    del sys.modules["fakepkg"]

    def no_parsing(path):
        raise AssertionError(f"parsed {path}")

    with monkeypatch.context() as parsing:
        parsing.setattr(lazy_packages, "_tree", no_parsing)
        patches.apply((), lazy=[DECLARED])
    import fakepkg

    assert "fakepkg_ran" not in sys.modules and fakepkg.heavy.make() == "made"  # the stamp's names deferred it
    del sys.modules["fakepkg"]
    with open(f"{fakepkg.__path__[0]}/__init__.py", "a") as init:
        init.write("extra = 1\n")
    with pytest.raises(patches.PatchError, match="fakepkg/__init__ now defines"):
        patches.apply((), lazy=[DECLARED])


def test_a_missing_package_is_refused():
    missing = LazyPackage("no_such_package_here", (), (), "")
    assert lazy_packages.problems([missing]) == ["no_such_package_here (deferred) is not an installed package."]


PROBE = """
import json, sys, urllib.error, urllib.request, localcloud
heavy = ("responses", "moto.core.models", "moto.cloudformation.models", "boto3.session", "s3transfer",
         "moto.awslambda.models", "moto.logs.models", "botocore.client", "botocore.waiter")
with localcloud.start() as endpoint:
    urllib.request.urlopen(endpoint + "/", timeout=30).read()  # S3 ListBuckets
    found = {"served": [m for m in heavy if m in sys.modules]}
    import moto.core.models  # reads botocore.client, which botocore.session's (deferred) import binds
    try:  # an error answer names its code from botocore's service list (botocore.session.Session)
        urllib.request.urlopen(endpoint + "/no-such-bucket", timeout=30)
    except urllib.error.HTTPError as error:
        found["error"] = [error.code, b"<Code>NoSuchBucket</Code>" in error.read()]
    from moto import mock_aws
    from moto.core import patch_client
    import boto3
    found["real"] = [callable(mock_aws), callable(patch_client), "mock_aws" in vars(sys.modules["moto"]),
                     type(boto3.Session()).__module__]
    lambda_client = boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1",
                                 aws_access_key_id="a", aws_secret_access_key="b")
    found["lambda"] = lambda_client.list_functions()["Functions"]
    from moto.awslambda.models import LambdaFunction
    from localcloud.fixes import lambda_invoke
    found["patched"] = LambdaFunction.invoke.__module__ == lambda_invoke.__name__
print(json.dumps(found))
"""


def test_a_local_cloud_serves_s3_with_only_what_s3_needs_and_the_rest_works_when_asked_for():
    """A first S3 request imports neither moto's decorator API (``responses``, ``moto.core.models``), boto3's
    resource layer, botocore's client layer, nor moto's Lambda or Logs; an error answer, moto's decorator module,
    ``from moto import mock_aws`` and ``boto3.Session`` afterwards are
    the real ones, and the first Lambda request loads Lambda with its fixes installed. (The deferred fixes'
    targets are checked once per moto install and stamped; the probe starts from a stamped checkout.)"""
    from localcloud import fixes, patches

    assert patches.deferred_problems(tuple(p for p in patches.PATCHES if p.fix in fixes.DEFERRED)) == []
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "served": [],
        "error": [404, True],
        "real": [True, True, True, "boto3.session"],
        "lambda": [],
        "patched": True,
    }


def test_a_deferral_that_no_longer_fits_refuses_the_start():
    probe = textwrap.dedent(
        """
        from localcloud import patches
        from localcloud.lazy_packages import LazyPackage
        patches.LAZY_PACKAGES = (LazyPackage("moto.core", ("patch_client",), (), "stale"),)
        import localcloud
        try:
            with localcloud.start():
                raise SystemExit("started")
        except patches.PatchError as error:
            print(error)
        """
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "will not start" in done.stdout and "moto.core/__init__ now defines" in done.stdout
