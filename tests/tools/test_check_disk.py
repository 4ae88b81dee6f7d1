"""scripts/check_disk.sh: the virtualenv build stops early, naming the disk, when it is short."""

import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_disk.sh"


def _run(directory, need_gib):
    return subprocess.run(
        ["bash", str(SCRIPT), str(directory), str(need_gib)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_enough_space_passes_silently(tmp_path):
    result = _run(tmp_path, 0)
    assert result.returncode == 0
    assert result.stderr == ""


def test_short_disk_fails_naming_directory_and_need(tmp_path):
    result = _run(tmp_path, 10**9)
    assert result.returncode == 1
    assert str(tmp_path) in result.stderr
    assert "needs about 1000000000 GiB" in result.stderr
    assert "VENV=" in result.stderr


def test_missing_arguments_is_a_usage_error():
    result = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "usage" in result.stderr
