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


def flaky_mapper(d):
    """Unreadable for odd indices (as a corrupt video is), else the dict."""
    return None if d["index"] % 2 else dict(d)


def test_skipped_samples_are_counted_per_step_in_the_event_storage():
    from detectron2.utils.events import EventStorage

    flaky = TrainStream(
        [{"stream": "u", "index": i} for i in range(10)], flaky_mapper, 4, num_workers=0, seed=0
    )
    loader = TwoStreamLoader(stream("labeled", 7, 3), flaky)
    with EventStorage(0) as storage:
        batches = []
        for batch in itertools.islice(iter(loader), 5):
            batches.append(batch)
            skipped = sum(s["skipped_samples"] for s in batch)
            assert storage.history("i2v/skipped_samples").latest() == skipped
            storage.iter += 1
    assert all(s["index"] % 2 == 0 for b in batches for s in b[3:])
    assert loader.skipped_samples == sum(s["skipped_samples"] for b in batches for s in b) > 0
    take(loader, 1)  # outside training: nothing to record into, no error


def test_several_labeled_streams_keep_their_share_in_every_step():
    loader = TwoStreamLoader([stream("a", 7, 2), stream("b", 3, 1)], stream("u", 5, 2))
    for batch in take(loader, 10):
        assert [d["stream"] for d in batch] == ["a", "a", "b", "u", "u"]


def test_joint_labeled_config_gives_images_and_labeled_frames_every_step(synth_root):
    from i2v_plugin.data.loader import build_i2v_train_loader
    from tests.helpers import tiny_cfg

    cfg = tiny_cfg(
        "configs/synthetic/swin_joint_labeled_clustered.yaml",
        "DATASETS.TRAIN_SAMPLES_PER_STEP", "(3, 2)",
        "SOLVER.IMS_PER_BATCH_LABELED", "5",
    )  # fmt: skip
    for batch in take(build_i2v_train_loader(cfg), 4):
        assert [d["domain"] for d in batch] == ["image"] * 3 + ["video"] * 2
        assert all("sem_seg" in d for d in batch)  # every sample labeled, no unlabeled stream


def test_batch_composition_that_does_not_add_up_is_refused(synth_root):
    from i2v_plugin.data.loader import build_i2v_train_loader
    from tests.helpers import tiny_cfg

    cfg = tiny_cfg(
        "configs/synthetic/swin_joint_labeled.yaml", "DATASETS.TRAIN_SAMPLES_PER_STEP", "(3, 2)"
    )
    with pytest.raises(ValueError, match="summing to SOLVER.IMS_PER_BATCH_LABELED"):
        build_i2v_train_loader(cfg)
