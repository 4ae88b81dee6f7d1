"""D2SwinTransformer: shapes of every tap, early stopping, any padded input size."""

import pytest
import torch

from i2v_plugin.modeling.backbone.swin import STAGE_NAMES, D2SwinTransformer


def tiny_swin(**kw):
    args = dict(embed_dim=8, depths=(1, 1, 1, 1), num_heads=(1, 1, 2, 2), window_size=4)
    args.update(kw)
    return D2SwinTransformer(**args)


def test_every_tap_has_declared_channels_and_stride():
    model = tiny_swin(out_features=STAGE_NAMES)
    out = model(torch.randn(2, 3, 64, 96))
    shapes = model.feature_shapes()
    assert list(out) == list(STAGE_NAMES)
    for name, tensor in out.items():
        assert tensor.shape == (
            2,
            shapes[name].channels,
            64 // shapes[name].stride,
            96 // shapes[name].stride,
        )
    assert model.output_shape().keys() == set(STAGE_NAMES)


def test_patch_embed_only_runs_no_stage():
    model = tiny_swin()
    calls = []
    for stage in model.swin.layers:
        stage.register_forward_hook(lambda *a: calls.append(1))
    out = model(torch.randn(1, 3, 64, 64), out_features=["patch_embed"])
    assert list(out) == ["patch_embed"] and calls == []
    model(torch.randn(1, 3, 64, 64), out_features=["res3"])
    assert len(calls) == 2


def test_patch_size_and_width_follow_the_config():
    model = tiny_swin(patch_size=2, embed_dim=12, out_features=["patch_embed", "res5"])
    out = model(torch.randn(1, 3, 64, 64))
    assert out["patch_embed"].shape == (1, 12, 32, 32)
    assert out["res5"].shape == (1, 96, 4, 4)


def test_unknown_out_feature_is_rejected():
    with pytest.raises(ValueError, match="res6"):
        tiny_swin(out_features=["res6"])
