"""Deferred package ``__init__``s (``localcloud.lazy_packages``, declared in ``localcloud.patches.LAZY_PACKAGES``):
a submodule imports without its package's ``__init__``, the first use of one of the package's own names runs it,
and a declaration that no longer matches the installed source is refused before anything starts."""

from __future__ import annotations

import dataclasses
import importlib.machinery
import sys
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
    sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "package", "").startswith("fakepkg")]


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


def test_importing_a_submodule_that_is_not_light_runs_the_init_first_and_gets_the_module_it_imported(fakepkg):
    """``requests``' case: ``requests.structures`` imports without the ``__init__``, but ``requests.adapters``
    imported directly (moto's decorator layer does) must come after the ``__init__``'s warning filters."""
    (fakepkg / "other.py").write_text("import sys\nRAN_FIRST = 'fakepkg_ran' in sys.modules\n")
    lazy_packages.defer(dataclasses.replace(DECLARED, light=("light",)))
    import fakepkg.light

    assert "fakepkg_ran" not in sys.modules
    import fakepkg.heavy  # the __init__ imports it: this import gets that very module, with its own spec

    assert "fakepkg_ran" in sys.modules and fakepkg.heavy is sys.modules["fakepkg.heavy"]
    assert isinstance(fakepkg.heavy.__spec__.loader, importlib.machinery.SourceFileLoader)
    import fakepkg.other  # one the __init__ does not import: imported as usual, after it

    assert fakepkg.other.RAN_FIRST


def test_importing_any_submodule_first_runs_the_init_unless_it_is_light(fakepkg):
    (fakepkg / "other.py").write_text("import sys\nRAN_FIRST = 'fakepkg_ran' in sys.modules\n")
    lazy_packages.defer(dataclasses.replace(DECLARED, light=("light",)))
    import fakepkg.other

    assert fakepkg.other.RAN_FIRST and fakepkg.thing == "made"


def test_a_light_submodule_that_is_gone_is_refused(fakepkg):
    declared = dataclasses.replace(DECLARED, light=("light", "gone"))
    assert lazy_packages.problems([declared]) == ["fakepkg.gone (light: imported without the __init__) is not there."]


def test_a_missing_package_is_refused():
    missing = LazyPackage("no_such_package_here", (), (), "")
    assert lazy_packages.problems([missing]) == ["no_such_package_here (deferred) is not an installed package."]


# That a real start's first S3 request imports none of the deferred packages is in test_lazy_services.py, whose one
# fresh process checks everything a start imports; that a deferral which no longer fits refuses the start is in
# test_patches.py, whose one process sees each refusal.
