"""UperNetHead: logits at input resolution, cross-entropy loss that ignores the ignore label."""

import torch
from detectron2.layers import ShapeSpec
from detectron2.layers.batch_norm import NaiveSyncBatchNorm

from i2v_plugin.modeling.heads.upernet import UperNetHead

SHAPES = {f"res{i + 2}": ShapeSpec(channels=8 * 2**i, stride=4 * 2**i) for i in range(4)}


def features(batch=2, size=64):
    return {
        k: torch.randn(batch, s.channels, size // s.stride, size // s.stride)
        for k, s in SHAPES.items()
    }


def test_inference_logits_cover_the_input():
    head = UperNetHead(SHAPES, num_classes=5, conv_dims=32, norm="GN").eval()
    logits, losses = head(features())
    assert logits.shape == (2, 5, 64, 64) and losses == {}


def test_loss_ignores_ignore_label_and_is_weighted():
    head = UperNetHead(SHAPES, num_classes=5, conv_dims=16, norm="", loss_weight=2.0, dropout=0.0)
    feats = features()
    targets = torch.randint(0, 5, (2, 64, 64))
    _, weighted = head(feats, targets)
    head.loss_weight = 1.0
    _, plain = head(feats, targets)
    assert torch.allclose(weighted["loss_sem_seg"], 2 * plain["loss_sem_seg"])
    ignored = targets.clone()
    ignored[:, :32] = 255
    logits = torch.nn.functional.interpolate(
        head.layers(feats), scale_factor=4, mode="bilinear", align_corners=False
    )
    expected = torch.nn.functional.cross_entropy(logits[:, :, 32:], targets[:, 32:])
    assert torch.allclose(head(feats, ignored)[1]["loss_sem_seg"], expected, atol=1e-6)


def test_naive_sync_bn_is_batchnorm_in_a_single_process():
    kwargs = {"num_classes": 3, "conv_dims": 8, "dropout": 0.0}
    head = UperNetHead(SHAPES, norm="naiveSyncBN", **kwargs).train()
    assert any(isinstance(m, NaiveSyncBatchNorm) for m in head.modules())
    reference = UperNetHead(SHAPES, norm="BN", **kwargs).train()
    reference.load_state_dict(head.state_dict())
    feats = features()
    assert torch.equal(head.layers(feats), reference.layers(feats))
    for ours, theirs in zip(head.buffers(), reference.buffers()):
        assert torch.equal(ours, theirs)  # the same running statistics
