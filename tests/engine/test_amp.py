"""``SOLVER.AMP``: the trainer autocasts on the model's device (bfloat16 trains on CPU, without
loss scaling, and checkpoints); float16 off CUDA and unknown precisions are clear errors."""

import json

import pytest
import torch

from i2v_plugin.engine.amp import I2VAMPTrainer, amp_dtype
from i2v_plugin.engine.trainer import I2VTrainer
from tests.helpers import tiny_cfg

BF16 = ["SOLVER.AMP.ENABLED", "True", "SOLVER.AMP.PRECISION", "bfloat16"]


def test_bfloat16_trains_on_cpu_under_autocast(synth_root, tmp_path):
    cfg = tiny_cfg(
        "configs/synthetic/swin_clustered.yaml", *BF16,
        "SOLVER.MAX_ITER", "2", "DATASETS.TEST", "()", "OUTPUT_DIR", str(tmp_path),
        # Only the training steps: the weight average's BatchNorm pass runs in float32 after them.
        "SOLVER.WEIGHT_EMA.PRECISE_BN_ITERS", "0",
    )  # fmt: skip
    torch.manual_seed(0)
    trainer = I2VTrainer(cfg)
    step = trainer._trainer
    assert isinstance(step, I2VAMPTrainer) and step.device_type == "cpu"
    assert step.precision == torch.bfloat16 and not step.grad_scaler.is_enabled()
    dtypes = []
    patch_embed = trainer.model.backbone.swin.patch_embed
    patch_embed.register_forward_hook(lambda module, inputs, out: dtypes.append(out.dtype))
    trainer.resume_or_load(resume=False)
    trainer.train()

    assert dtypes and set(dtypes) == {torch.bfloat16}  # the convolutions ran in bfloat16
    assert all(p.dtype == torch.float32 for p in trainer.model.parameters())
    metrics = [json.loads(line) for line in (tmp_path / "metrics.json").read_text().splitlines()]
    losses = [m["total_loss"] for m in metrics if "total_loss" in m]
    assert losses and all(torch.isfinite(torch.tensor(losses)))
    assert "loss_adv_cluster" in metrics[-1]
    saved = torch.load(tmp_path / "model_final.pth", weights_only=False)
    assert saved["trainer"]["_trainer"]["grad_scaler"] == {}  # no scaling state to restore


def test_float16_needs_cuda_and_precision_must_be_known():
    with pytest.raises(ValueError, match="float16 needs a CUDA model.*bfloat16"):
        amp_dtype("float16", "cpu")
    with pytest.raises(ValueError, match="PRECISION must be one of"):
        amp_dtype("fp8", "cuda")
    assert amp_dtype("float16", "cuda") == torch.float16
    assert amp_dtype("bfloat16", "cpu") == torch.bfloat16
    cfg = tiny_cfg("configs/synthetic/swin_source_only.yaml", "SOLVER.AMP.ENABLED", "True")
    assert cfg.SOLVER.AMP.PRECISION == "float16"  # Detectron2's AMPTrainer default
