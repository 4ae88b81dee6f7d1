"""VideoSwin <-> torchvision (``modeling/weights/inflate.py``, ``video_swin.py``): an inflated 2D
Swin gives the 2D features on a clip of identical frames; raw timm checkpoints are converted
before inflation; a trained encoder exports to torchvision's SwinTransformer3d (swin3d_t keys)
with the plugin's features."""

import os

import pytest
import timm
import torch
import torchvision
from detectron2.modeling import build_backbone
from torchvision.models.video.swin_transformer import SwinTransformer3d

from i2v_plugin.engine.setup import build_cfg
from i2v_plugin.modeling.backbone.swin import STAGE_NAMES
from i2v_plugin.modeling.backbone.video_swin import D2VideoSwinTransformer
from i2v_plugin.modeling.heads.upernet import UperNetHead
from i2v_plugin.modeling.meta_arch import I2VSemanticSegmentor
from i2v_plugin.modeling.weights import (
    ImportOptions,
    export_encoder,
    import_checkpoint,
    inflate_swin_to_video_swin,
)
from i2v_plugin.modeling.weights.inflate import inflate_patch_kernel
from tests.helpers import REPO_ROOT
from tests.helpers.weights import (
    STAGES,
    SWIN_ARGS,
    assert_close,
    convert_to_file,
    layer_norm,
    load_weights,
    randomise,
    randomise_norms,
    swin_segmentor,
)


@pytest.mark.parametrize("mode", ["centre", "replicate"])
def test_inflated_video_swin_on_identical_frames_equals_the_2d_model(tmp_path, mode):
    # Window 2 and 128-pixel inputs: every stage map (32..4) is a multiple of the window and
    # larger than it, so timm and torchvision partition and shift alike.
    source = swin_segmentor(**dict(SWIN_ARGS, window_size=2))
    randomise(source)
    path, _ = convert_to_file(
        tmp_path, "inflate-video-swin", source.state_dict(), inflate=mode, temporal_window=4
    )
    backbone = D2VideoSwinTransformer(
        embed_dim=16, depths=(2, 2, 2, 2), num_heads=(1, 1, 2, 2), window_size=(4, 2, 2)
    )
    head = UperNetHead(backbone.output_shape(), num_classes=11, conv_dims=16, norm="BN")
    video = I2VSemanticSegmentor(
        backbone=backbone, sem_seg_head=head, pixel_mean=[0.0] * 3, pixel_std=[1.0] * 3
    ).eval()
    assert load_weights(video, path) == ([], [])

    image = torch.randint(0, 256, (3, 128, 128), dtype=torch.uint8)
    clip = image.unsqueeze(0).repeat(4, 1, 1, 1)  # T = 4 identical frames
    with torch.no_grad():
        flat = source.backbone(image[None].float(), out_features=STAGE_NAMES)
        maps = video.backbone(clip.transpose(0, 1)[None].float(), out_features=STAGE_NAMES)
        for name in STAGE_NAMES:
            for t in range(4):
                assert torch.allclose(maps[name][:, :, t], flat[name], atol=1e-4), (name, t)
        expected = source([{"image": image}])[0]["sem_seg"]
        frames = video([{"image": clip}])[0]["clip_sem_seg"]
    assert torch.allclose(frames, expected.expand_as(frames), atol=1e-4)


def test_inflation_modes_differ_only_for_temporal_kernels():
    kernel = torch.randn(8, 3, 4, 4)
    centre = inflate_patch_kernel(kernel, 3, "centre")
    replicate = inflate_patch_kernel(kernel, 3, "replicate")
    assert torch.equal(centre[:, :, 1], kernel) and not centre[:, :, [0, 2]].any()
    assert all(torch.allclose(replicate[:, :, t], kernel / 3) for t in range(3))
    assert torch.equal(inflate_patch_kernel(kernel, 1, "centre")[:, :, 0], kernel)
    assert torch.equal(inflate_patch_kernel(kernel, 1, "replicate")[:, :, 0], kernel)
    state = {"backbone.swin.patch_embed.proj.weight": kernel, "adversarial.x.weight": kernel}
    inflated, report = inflate_swin_to_video_swin(state, temporal_patch=2, mode="centre")
    assert inflated["backbone.swin.patch_embed.proj.weight"].shape == (8, 3, 2, 4, 4)
    assert "adversarial.x.weight" in report.dropped
    with pytest.raises(ValueError, match="Unknown inflation mode"):
        inflate_swin_to_video_swin(state, mode="middle")


def test_raw_timm_checkpoint_is_converted_then_inflated():
    source = timm.models.swin_transformer.SwinTransformer(img_size=224, **SWIN_ARGS)
    options = ImportOptions(temporal_patch=2, temporal_window=3, inflate="replicate")
    inflated, reports = import_checkpoint("inflate-video-swin", source.state_dict(), options)
    assert [r.source for r in reports] == ["timm-swin", "inflate-video-swin (replicate)"]
    kernel = source.patch_embed.proj.weight
    assert torch.allclose(inflated["backbone.swin.patch_embed.proj.weight"][:, :, 1], kernel / 2)
    table = source.layers[0].blocks[0].attn.relative_position_bias_table
    inflated_table = inflated["backbone.swin.features.0.0.attn.relative_position_bias_table"]
    assert torch.equal(inflated_table, table.repeat(5, 1))
    with pytest.raises(ValueError, match="needs a 2D Swin checkpoint"):
        import_checkpoint("inflate-video-swin", {"encoder.weight": torch.zeros(1)})


@pytest.mark.slow
@torch.no_grad()
def test_video_swin_export_is_torchvision_swin3d():
    cfg = build_cfg(os.path.join(REPO_ROOT, "configs/video_swin_spatial.yaml"))
    backbone = build_backbone(cfg).eval()
    randomise_norms(backbone)

    export = export_encoder(cfg, {"backbone." + k: v for k, v in backbone.state_dict().items()})
    state, norms, record = export.state_dict, export.stage_norms, export.record
    assert record["layout"] == "torchvision.models.video.swin3d_t"
    assert record["not_exported"] == ["head.weight", "head.bias"]
    # swin3d_t's keys; the paper's patch (1, 4, 4) and window (4, 7, 7) are constructor arguments.
    reference = torchvision.models.video.swin3d_t(weights=None).state_dict()
    assert set(state) == set(reference) - {"head.weight", "head.bias"}
    video_swin = SwinTransformer3d(**record["kwargs"])
    video_swin.head = torch.nn.Identity()
    video_swin.load_state_dict(state, strict=True)
    video_swin.eval()

    # Sides at least one window at every stage (4 frames, 224 px: 7 x 7 tokens at res5).
    clip = torch.randn(1, 3, 4, 224, 224)
    plugin = backbone(clip, out_features=list(STAGES))
    tokens = video_swin.pos_drop(video_swin.patch_embed(clip))
    for i, stage in enumerate(STAGES):
        if i:
            tokens = video_swin.features[2 * i - 1](tokens)
        tokens = video_swin.features[2 * i](tokens)
        assert_close(layer_norm(tokens, norms, stage).permute(0, 4, 1, 2, 3), plugin[stage])
    assert_close(video_swin.norm(tokens).permute(0, 4, 1, 2, 3), plugin["res5"])
