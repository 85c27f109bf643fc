"""A local cloud removes the code directories that dead runs left behind (issue 8: a kill -9 left 191 MB), and
never one whose local cloud still runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from localcloud import code_dirs

ROOT = Path(__file__).resolve().parents[2]
HOLDER = """
import sys, time
from localcloud import code_dirs
held = code_dirs.claim(sys.argv[1])
open(held.path + "/code.bin", "wb").write(b"x" * 1024)
print(held.path, flush=True)
time.sleep(600)
"""


def _holder(root: Path) -> tuple[subprocess.Popen, Path]:
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(root)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    return process, Path(process.stdout.readline().strip())


def test_the_directory_of_a_killed_run_is_removed_and_a_running_ones_kept(tmp_path):
    dead, dead_dir = _holder(tmp_path)
    alive, alive_dir = _holder(tmp_path)
    try:
        os.kill(dead.pid, signal.SIGKILL)
        dead.wait(timeout=30)
        assert dead_dir.is_dir()  # what a kill -9 leaves
        assert code_dirs.remove_abandoned(str(tmp_path)) == [str(dead_dir)]
        assert not dead_dir.exists()
        assert alive_dir.is_dir()
    finally:
        alive.kill()
        alive.wait(timeout=30)


def test_directories_that_are_not_a_local_clouds_are_left_alone(tmp_path):
    stranger = tmp_path / (code_dirs.PREFIX + "not-ours")
    stranger.mkdir()
    assert code_dirs.remove_abandoned(str(tmp_path)) == []
    assert stranger.is_dir()


def test_starting_a_local_cloud_removes_what_a_killed_one_left(tmp_path):
    dead, dead_dir = _holder(tmp_path)
    os.kill(dead.pid, signal.SIGKILL)
    dead.wait(timeout=30)
    probe = (
        "import glob, localcloud\n"
        "with localcloud.start():\n"
        f"    print(len(glob.glob({str(tmp_path)!r} + '/{code_dirs.PREFIX}*')))\n"
    )
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # the start's default temp dir
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"  # while it ran: its own directory only
    assert not dead_dir.exists()
    assert not any(tmp_path.glob(code_dirs.PREFIX + "*"))  # and its own went when it stopped
