"""Starting the training loader leaves the trainer process's torch RNG alone.

``StepSeedHook`` seeds torch before every step, and the loader starts inside the first step of a
run (iteration 0, or the resume iteration). A start-up draw from the global RNG would shift that
step's dropout in a resumed run only, and every weight would then differ from the uninterrupted
run's (issue 13). With loader workers the main process maps no sample, so the RNG must come out
of ``next()`` untouched.
"""

import torch

from i2v_plugin.data import build_i2v_train_loader
from tests.helpers import tiny_cfg


def test_first_batch_does_not_draw_from_the_global_rng(synth_root):
    cfg = tiny_cfg("configs/synthetic/swin_clustered.yaml", "DATALOADER.NUM_WORKERS", "1")
    loader = build_i2v_train_loader(cfg)
    torch.manual_seed(0)
    state = torch.get_rng_state()
    batch = next(iter(loader))
    assert len(batch) == cfg.SOLVER.IMS_PER_BATCH_LABELED + cfg.SOLVER.IMS_PER_BATCH_UNLABELED
    assert torch.equal(torch.get_rng_state(), state)
