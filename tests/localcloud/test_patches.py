"""The patch manifest: every moto patch declared once, checked against the installed moto before anything is
patched, and the local cloud refuses to start when a patch no longer fits."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from localcloud import patch_stamp, patches
from localcloud.patches import Patch, PatchError

ROOT = Path(__file__).resolve().parents[2]


def test_the_manifest_is_written_for_the_moto_that_requirements_in_pins():
    pin = re.search(r"^moto\[server\]==(\S+)$", (ROOT / "requirements.in").read_text(), re.M)
    assert pin is not None and pin.group(1) == patches.MOTO_VERSION


def test_every_declared_patch_fits_the_installed_moto():
    assert patches.problems(patches.PATCHES, patches.MOTO_VERSION) == []


def test_every_fix_module_is_in_the_manifest():
    fix_modules = {p.stem for p in (ROOT / "localcloud" / "fixes").glob("*.py")} - {"__init__"}
    legacy = {name for name in fix_modules if name.startswith("cfn_")}  # the engine replaces these
    assert set(patches.fixes()) == fix_modules - legacy


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """A module to patch (``fake_target``) and a package of fixes (``fake_fixes``), importable for one test."""
    monkeypatch.setattr(patch_stamp, "CACHE", tmp_path / "cache")
    (tmp_path / "fake_target.py").write_text("class Thing:\n    def method(self, a):\n        return a\n")
    package = tmp_path / "fake_fixes"
    package.mkdir()
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith(("fake_target", "fake_fixes"))]:
        monkeypatch.delitem(sys.modules, name)

    def fix(name: str, body: str) -> None:
        (package / f"{name}.py").write_text(
            "from localcloud.patches import install\nimport fake_target\n\ndef apply():\n"
            + textwrap.indent(body, "    ")
        )

    return fix


def _patch(fix: str = "good", target: str = "fake_target:Thing.method", signature: str = "(self, a)") -> Patch:
    return Patch(target, fix, "a test patch", signature)


def _apply(*manifest: Patch) -> None:
    patches.apply(manifest, package="fake_fixes", lazy=())


def test_a_fitting_patch_is_installed(fake):
    fake("good", 'install(fake_target.Thing, "method", lambda self, a: a * 2)')
    _apply(_patch())
    import fake_target

    assert fake_target.Thing().method(2) == 4


def test_a_missing_target_is_refused(fake):
    found = patches.problems([_patch(target="fake_target:Thing.renamed")], patches.MOTO_VERSION)
    assert found == ["fake_target:Thing.renamed (patched by good) does not exist in this moto."]


def test_a_changed_signature_is_refused(fake):
    found = patches.problems([_patch(signature="(self, a, b=None)")], patches.MOTO_VERSION)
    assert found == [
        "fake_target:Thing.method (patched by good) now takes (self, a); the patch was written for (self, a, b=None)."
    ]


def test_two_patches_on_one_attribute_are_refused(fake):
    found = patches.problems([_patch("first"), _patch("second")], patches.MOTO_VERSION)
    assert found == ["fake_target:Thing.method is patched by 2 patches (first, second): one attribute, one patch."]


def test_another_moto_version_is_refused():
    found = patches.problems([], "5.3.0")
    assert found == [
        "moto 5.3.0 is installed, but the local cloud's patches were written for moto 5.2.5 (the pin in "
        "requirements.in): run `uv pip install -r requirements.txt`."
    ]


def test_a_refused_manifest_patches_nothing(fake):
    fake("good", 'install(fake_target.Thing, "method", lambda self, a: a * 2)')
    with pytest.raises(PatchError, match=r"will not start(.|\n)*now takes \(self, a\)"):
        _apply(_patch(signature="(self)"))
    import fake_target

    assert fake_target.Thing().method(2) == 2


def test_an_undeclared_patch_is_refused(fake):
    fake("good", 'install(fake_target.Thing, "method", lambda self, a: a)\ninstall(fake_target, "Thing", None)')
    with pytest.raises(PatchError, match=re.escape("fake_target.Thing is patched but not declared in the manifest")):
        _apply(_patch())


def test_a_declared_patch_that_is_never_installed_is_refused(fake):
    fake("good", "pass")
    with pytest.raises(PatchError, match="declared for good, which never installed it"):
        _apply(_patch())


def test_a_deferred_fix_whose_target_changed_refuses_the_start_not_its_first_use(fake):
    """Issue 7 item 2: the local cloud refuses to *start* when a target's signature changed, deferred fixes too."""
    fake("later", 'install(fake_target.Thing, "method", lambda self, a: a)')
    with pytest.raises(PatchError, match=r"will not start(.|\n)*now takes \(self, a\)"):
        patches.apply([_patch("later", signature="(self)")], package="fake_fixes", lazy=(), later={"later"})


def test_a_stamped_check_trusts_the_same_files_and_an_edited_target_is_checked_again(fake, tmp_path):
    later = [_patch("later")]
    patches.apply(later, package="fake_fixes", lazy=(), later={"later"})  # checks, imports fake_target, stamps
    del sys.modules["fake_target"]
    patches.apply(later, package="fake_fixes", lazy=(), later={"later"})
    assert "fake_target" not in sys.modules  # the stamp stood for the check: nothing imported

    (tmp_path / "fake_target.py").write_text("class Thing:\n    def method(self, a, b):\n        return a\n")
    with pytest.raises(PatchError, match=re.escape("now takes (self, a, b)")):
        patches.apply(later, package="fake_fixes", lazy=(), later={"later"})


def test_patching_outside_the_manifest_check_is_refused(fake):
    import fake_target

    with pytest.raises(PatchError, match=re.escape("only by localcloud.patches.apply")):
        patches.install(fake_target.Thing, "method", None)


REFUSALS = """
import importlib.metadata, json
real = importlib.metadata.version
importlib.metadata.version = lambda name: "9.9.9" if name == "moto" else real(name)
import localcloud
from localcloud import patches
from localcloud.lazy_packages import LazyPackage
from moto.s3.responses import S3Response

def refusal():
    try:
        with localcloud.start():
            return "started"
    except patches.PatchError as error:
        return str(error)

before = S3Response._get_checksum
found = {"another moto": [refusal(), S3Response._get_checksum is before]}
importlib.metadata.version = real
patches.LAZY_PACKAGES = (LazyPackage("moto.core", ("patch_client",), (), "stale"),)
# A start that was not refused left its patches in, and a second start checks nothing again.
refused = found["another moto"][0] != "started"
found["stale deferral"] = refusal() if refused else "not tried: the start on another moto was not refused"
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def refused() -> dict:
    """One whole process, as a user meets it, tries two starts that must be refused: on another moto, then (the
    right moto again) with a package deferral (localcloud.lazy_packages) that no longer fits moto's source. The
    second is tried only once the first was refused (one process instead of two: ~0.35 s of CPU)."""
    done = subprocess.run([sys.executable, "-c", REFUSALS], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_local_cloud_refuses_to_start_on_another_moto(refused):
    """start() raises PatchError with the fix, and moto stays unpatched."""
    message, unpatched = refused["another moto"]
    assert "moto 9.9.9 is installed, but the local cloud's patches were written for moto 5.2.5" in message
    assert unpatched


def test_a_deferral_that_no_longer_fits_refuses_the_start(refused):
    """From tests/localcloud/test_lazy_packages.py."""
    message = refused["stale deferral"]
    assert "will not start" in message and "moto.core/__init__ now defines" in message
