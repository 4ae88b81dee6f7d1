"""Background stages hand over items and errors between threads."""

import pytest

from i2v_plugin.inference.background import BackgroundConsumer, BackgroundIterator

CONFIG = "configs/synthetic/swin_source_only.yaml"


def test_background_stages_hand_over_items_and_errors():
    with BackgroundIterator(range(50), maxsize=2) as items:
        assert list(items) == list(range(50))

    def broken():
        yield 1
        raise OSError("disk gone")

    with BackgroundIterator(broken(), maxsize=2) as items, pytest.raises(OSError, match="gone"):
        list(items)

    consumer = BackgroundConsumer(lambda items: sum(items), maxsize=2)
    for value in range(10):
        consumer.put(value)
    assert consumer.finish() == 45

    def fails_at_three(items):
        for value in items:
            if value == 3:
                raise RuntimeError("writer failed")

    failing = BackgroundConsumer(fails_at_three, maxsize=1)
    with pytest.raises(RuntimeError, match="writer failed"):
        for value in range(1000):
            failing.put(value)
        failing.finish()
