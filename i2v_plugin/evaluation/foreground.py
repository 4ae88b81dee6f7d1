"""Scoring a multi-class model on foreground/background ground truth (e.g. FBMS without a class
table): every non-background class counts as "foreground"."""

import torch
from detectron2.evaluation import DatasetEvaluator


def foreground_background_logits(logits: torch.Tensor) -> torch.Tensor:
    """(C, H, W) class scores -> (2, H, W): [background, best non-background class].

    The argmax of the result is 1 exactly where the argmax of the input is a non-background
    class (ties resolve to background in both).
    """
    return torch.stack([logits[0], logits[1:].max(dim=0).values])


class ForegroundBackgroundEvaluator(DatasetEvaluator):
    """Wraps an evaluator of a 2-class (background, foreground) dataset and feeds it the model's
    multi-class predictions collapsed by ``foreground_background_logits``."""

    def __init__(self, evaluator: DatasetEvaluator):
        self.evaluator = evaluator

    def reset(self):
        self.evaluator.reset()

    def process(self, inputs, outputs):
        collapsed = [
            {**out, "sem_seg": foreground_background_logits(out["sem_seg"])} for out in outputs
        ]
        self.evaluator.process(inputs, collapsed)

    def evaluate(self):
        return self.evaluator.evaluate()
