"""``set_threads_per_process``: an equal share of the cores per local process, unless the user set
``OMP_NUM_THREADS`` or the run has a single process."""

import pytest
import torch

from i2v_plugin.engine import launch


@pytest.fixture
def threads(monkeypatch):
    """Restores torch's thread count; starts without OMP_NUM_THREADS (restored afterwards)."""
    before = torch.get_num_threads()
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    yield monkeypatch
    torch.set_num_threads(before)


@pytest.mark.parametrize(("cores", "processes", "expected"), [(8, 4, 2), (8, 3, 2), (2, 4, 1)])
def test_each_process_gets_its_share_of_the_cores(threads, cores, processes, expected):
    threads.setattr(launch, "available_cores", lambda: cores)
    message = launch.set_threads_per_process(processes)
    assert torch.get_num_threads() == expected
    assert launch.os.environ["OMP_NUM_THREADS"] == str(expected)  # for child processes
    assert (
        message == f"Threads per process: {expected} ({cores} cores / {processes} local processes)"
    )


def test_user_setting_and_single_process_are_left_alone(threads):
    threads.setattr(launch, "available_cores", lambda: 8)
    torch.set_num_threads(3)
    threads.setenv("OMP_NUM_THREADS", "3")
    assert launch.set_threads_per_process(4) == "Threads per process: 3 (OMP_NUM_THREADS=3)"
    threads.delenv("OMP_NUM_THREADS")
    assert launch.set_threads_per_process(1).startswith("Threads per process: 3 (single process")
    assert torch.get_num_threads() == 3 and "OMP_NUM_THREADS" not in launch.os.environ
