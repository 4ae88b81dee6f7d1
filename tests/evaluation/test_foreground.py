"""Foreground/background scoring of a multi-class model."""

import torch

from i2v_plugin.evaluation.foreground import (
    ForegroundBackgroundEvaluator,
    foreground_background_logits,
)


def test_collapsed_argmax_is_foreground_exactly_where_a_class_wins():
    logits = torch.randn(6, 9, 11)
    collapsed = foreground_background_logits(logits)
    assert collapsed.shape == (2, 9, 11)
    assert torch.equal(collapsed.argmax(0), (logits.argmax(0) > 0).long())


def test_wrapper_feeds_collapsed_predictions_to_the_inner_evaluator():
    seen = []

    class Recorder:
        def reset(self):
            seen.clear()

        def process(self, inputs, outputs):
            seen.extend(o["sem_seg"].shape for o in outputs)

        def evaluate(self):
            return {"n": len(seen)}

    evaluator = ForegroundBackgroundEvaluator(Recorder())
    evaluator.reset()
    evaluator.process([{}, {}], [{"sem_seg": torch.randn(5, 4, 4)}] * 2)
    assert seen == [(2, 4, 4), (2, 4, 4)] and evaluator.evaluate() == {"n": 2}
