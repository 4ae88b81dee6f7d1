"""Two-stream loader properties: exact batch mix, items from the right stream, seeded and
resumable streams (a resumed stream continues exactly, whatever the worker count)."""

import itertools

import numpy as np
import pytest

from i2v_plugin.data.loader import TrainStream, TwoStreamLoader


def tag_mapper(d):
    """Returns the dict with a random draw, so augmentation seeding is observable."""
    return {**d, "draw": float(np.random.rand())}


def stream(name, size, batch, workers=0, seed=3):
    dicts = [{"stream": name, "index": i} for i in range(size)]
    return TrainStream(dicts, tag_mapper, total_batch_size=batch, num_workers=workers, seed=seed)


def take(loader, n):
    return list(itertools.islice(iter(loader), n))


def test_every_batch_has_the_configured_mix_from_the_right_streams():
    loader = TwoStreamLoader(stream("labeled", 7, 3), stream("unlabeled", 5, 2))
    for batch in take(loader, 20):
        assert [d["stream"] for d in batch] == ["labeled"] * 3 + ["unlabeled"] * 2


def test_each_stream_covers_its_dataset_every_epoch():
    labeled = take(stream("labeled", 6, 2), 3)  # one epoch of 6 items
    assert sorted(d["index"] for batch in labeled for d in batch) == list(range(6))


def test_resumed_stream_continues_exactly():
    full = take(stream("s", 9, 2), 8)
    resumed = stream("s", 9, 2)
    resumed.set_start_iter(5)
    assert take(resumed, 3) == full[5:]


@pytest.mark.parametrize("workers", [1, 2])
def test_stream_content_does_not_depend_on_worker_count(workers):
    assert take(stream("s", 9, 2, workers=workers), 4) == take(stream("s", 9, 2), 4)


def test_different_seeds_give_different_streams():
    assert take(stream("s", 20, 4, seed=1), 2) != take(stream("s", 20, 4, seed=2), 2)
