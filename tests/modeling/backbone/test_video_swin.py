"""VideoSwin: 5D taps and early stopping, correct relative offsets in shrunk windows, the full
VideoSwin-T building on CPU and training one step per adversarial mode (3D PatchGAN for the
spatial placement), the loss covering every labeled frame, and the clip inference contract."""

import pytest
import torch
from detectron2.modeling import build_model
from detectron2.utils.events import EventStorage

from i2v_plugin.modeling.adversarial.discriminators import PatchGANDiscriminator
from i2v_plugin.modeling.backbone.video_swin import STAGE_NAMES, D2VideoSwinTransformer
from i2v_plugin.modeling.meta_arch import I2VSemanticSegmentor
from i2v_plugin.modeling.objectives import build_objectives
from tests.helpers import tiny_cfg

PAPER = "configs/Base-I2V-VideoSwin.yaml"
SYNTH = "configs/synthetic/video_swin_source_only.yaml"
CLIP_OPTS = ["MODEL.DEVICE", "cpu", "INPUT.CLIP.LENGTH", "2"]
TINY_VIDEO_OPTS = ["MODEL.VIDEO_SWIN.EMBED_DIM", "16", "MODEL.VIDEO_SWIN.NUM_HEADS", "[1,1,2,2]"]
MODES = {
    "spatial": [
        "MODEL.I2V.PLACEMENTS", "['spatial']",
        "MODEL.I2V.DISCRIMINATORS", "['PatchGANDiscriminator']",
    ],
    "global": ["MODEL.I2V.PLACEMENTS", "['global']"],
    "clustered": ["MODEL.I2V.CLUSTER.ENABLED", "True"],
}  # fmt: skip


def tiny_video_swin(**kw):
    args = dict(embed_dim=8, depths=(1, 1, 1, 1), num_heads=(1, 1, 2, 2), window_size=(2, 4, 4))
    args.update(kw)
    return D2VideoSwinTransformer(**args)


def clip_batch(labeled=2, unlabeled=2, frames=2, size=64, classes=11):
    def sample(domain, with_label):
        d = {"image": torch.randint(0, 256, (frames, 3, size, size), dtype=torch.uint8)}
        d["domain"] = domain
        if with_label:
            d["sem_seg"] = torch.randint(0, classes, (frames, size, size))
        return d

    return [sample("image", True) for _ in range(labeled)] + [
        sample("video", False) for _ in range(unlabeled)
    ]


def test_every_tap_keeps_time_and_has_declared_shape():
    model = tiny_video_swin(out_features=STAGE_NAMES)
    out = model(torch.randn(2, 3, 3, 64, 96))
    shapes = model.feature_shapes()
    assert list(out) == list(STAGE_NAMES)
    for name, tensor in out.items():
        stride = shapes[name].stride
        assert tensor.shape == (2, shapes[name].channels, 3, 64 // stride, 96 // stride)
    assert model.size_divisibility == 32 and model.takes_clips


def test_patch_embed_only_runs_no_stage_and_images_need_a_time_axis():
    model = tiny_video_swin()
    calls = []
    for module in model.swin.features:
        module.register_forward_hook(lambda *a: calls.append(1))
    out = model(torch.randn(1, 3, 1, 64, 64), out_features=["patch_embed"])
    assert out["patch_embed"].shape == (1, 8, 1, 16, 16) and calls == []
    model(torch.randn(1, 3, 1, 64, 64), out_features=["res3"])
    assert len(calls) == 3  # stage 1, patch merging, stage 2
    with pytest.raises(ValueError, match=r"\(B, C, T, H, W\)"):
        model(torch.randn(1, 3, 64, 64))


def test_shrunk_windows_use_each_pair_true_relative_offset():
    model = tiny_video_swin(window_size=(2, 7, 7))
    attn = model.swin.features[0][0].attn
    wd, wh, ww = 1, 4, 3  # a window shrunk to a 1 x 4 x 3 input
    bias = attn.get_relative_position_bias([wd, wh, ww])[0, 0]
    coords = [(t, y, x) for t in range(wd) for y in range(wh) for x in range(ww)]
    table = attn.relative_position_bias_table[:, 0]
    for i, (t1, y1, x1) in enumerate(coords):
        for j, (t2, y2, x2) in enumerate(coords):
            index = (t1 - t2 + 1) * 13 * 13 + (y1 - y2 + 6) * 13 + (x1 - x2 + 6)
            assert bias[i, j] == table[index]
    assert "relative_position_index" not in dict(model.state_dict())


@pytest.fixture(scope="module")
def video_swin_t():
    """The paper's VideoSwin-T (embed 96, depths 2-2-6-2, window 4x7x7) + UperNet, built once."""
    cfg = tiny_cfg(PAPER, *CLIP_OPTS, "MODEL.SEM_SEG_HEAD.NORM", "naiveSyncBN")
    return cfg, build_model(cfg)


def test_videoswin_t_builds_on_cpu_with_the_paper_architecture(video_swin_t):
    _, model = video_swin_t
    swin = model.backbone.swin
    assert swin.patch_embed.proj.kernel_size == (1, 4, 4)
    assert swin.features[0][0].attn.window_size == [4, 7, 7]
    assert [len(swin.features[i]) for i in (0, 2, 4, 6)] == [2, 2, 6, 2]
    assert model.backbone.output_shape()["res5"].channels == 768
    assert not any(isinstance(m, torch.nn.SyncBatchNorm) for m in model.modules())


@pytest.mark.slow
@pytest.mark.parametrize("mode", [None, *MODES])
def test_videoswin_t_training_step_per_adversarial_mode(video_swin_t, mode):
    base_cfg, base = video_swin_t
    objectives = None
    if mode is not None:
        cfg = tiny_cfg(PAPER, *CLIP_OPTS, *MODES[mode])
        objectives = build_objectives(cfg, base.backbone)
    model = I2VSemanticSegmentor(
        backbone=base.backbone,
        sem_seg_head=base.sem_seg_head,
        pixel_mean=base_cfg.MODEL.PIXEL_MEAN,
        pixel_std=base_cfg.MODEL.PIXEL_STD,
        objectives=objectives,
        clip_length=2,
    ).train()
    model.zero_grad()
    with EventStorage(0):
        losses = model(clip_batch(labeled=1, unlabeled=1 if mode else 0))
    expected = {"loss_sem_seg"} | ({f"loss_adv_{mode}"} if mode in ("spatial", "global") else set())
    expected |= {"loss_adv_cluster"} if mode == "clustered" else set()
    assert set(losses) == expected
    assert all(torch.isfinite(v) and v.ndim == 0 for v in losses.values())
    sum(losses.values()).backward()
    assert model.backbone.swin.patch_embed.proj.weight.grad.abs().sum() > 0
    if mode is not None:
        assert all(p.grad is not None for p in model.objectives.parameters())
    if mode == "spatial":
        disc = model.objectives["adv_spatial"].loss.discriminator
        assert isinstance(disc, PatchGANDiscriminator) and disc.clip_length == 2


def test_spatial_patchgan_from_config_is_the_3d_one_and_judges_whole_clips():
    cfg = tiny_cfg(SYNTH, *TINY_VIDEO_OPTS, "INPUT.CLIP.LENGTH", "3", *MODES["spatial"])
    model = build_model(cfg)
    disc = model.objectives["adv_spatial"].loss.discriminator
    assert isinstance(disc, PatchGANDiscriminator) and disc.clip_length == 3
    seen = []
    disc.net.register_forward_hook(lambda mod, inp, out: seen.append(inp[0].shape))
    with EventStorage(0):
        model.train()(clip_batch(labeled=2, unlabeled=2, frames=3))
    assert seen == [torch.Size([4, 16, 3, 16, 16])]  # 4 clips of 3 frames, patch-embedding maps
    with pytest.raises(ValueError, match="clips of 3 frames"):
        with EventStorage(0):
            model(clip_batch(labeled=1, unlabeled=1, frames=2))


def test_segmentation_loss_covers_every_labeled_frame_in_clip_order():
    model = build_model(tiny_cfg(SYNTH, *TINY_VIDEO_OPTS, "INPUT.CLIP.LENGTH", "3")).train()
    captured = {}

    def capture(module, args):
        captured["targets"] = args[1]

    model.sem_seg_head.register_forward_pre_hook(capture)
    batch = clip_batch(labeled=2, unlabeled=0, frames=3)
    batch[1]["sem_seg"][0] = 255  # an unlabeled frame inside a labeled clip
    with EventStorage(0):
        model(batch)
    expected = torch.cat([batch[0]["sem_seg"], batch[1]["sem_seg"]])
    assert torch.equal(captured["targets"], expected)


def test_clip_inference_returns_the_key_frame_and_every_frame():
    model = build_model(tiny_cfg(SYNTH, *TINY_VIDEO_OPTS, "INPUT.CLIP.LENGTH", "3")).eval()
    clip = torch.randint(0, 256, (3, 3, 60, 70), dtype=torch.uint8)
    inputs = [
        {"image": clip, "height": 120, "width": 140, "clip_key_index": 2},
        {"image": clip[0], "height": 60, "width": 70},
    ]
    with torch.no_grad():
        clip_out, image_out = model(inputs)
    assert clip_out["clip_sem_seg"].shape == (3, 11, 120, 140)
    assert torch.equal(clip_out["sem_seg"], clip_out["clip_sem_seg"][2])
    assert set(image_out) == {"sem_seg"} and image_out["sem_seg"].shape == (11, 60, 70)


def test_a_2d_backbone_segments_clips_frame_by_frame():
    model = build_model(tiny_cfg("configs/synthetic/swin_source_only.yaml")).eval()
    clip = torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8)
    with torch.no_grad():
        out = model([{"image": clip, "clip_key_index": 0}])[0]
        frames = [model([{"image": frame}])[0]["sem_seg"] for frame in clip]
    assert torch.allclose(out["clip_sem_seg"], torch.stack(frames), atol=1e-5)
    assert torch.equal(out["sem_seg"], out["clip_sem_seg"][0])


@pytest.mark.parametrize(
    "config",
    [
        "configs/video_swin_source_only.yaml",
        "configs/video_swin_spatial.yaml",
        "configs/synthetic/video_swin_source_only.yaml",
        "configs/synthetic/video_swin_spatial.yaml",
    ],
)
def test_video_swin_configs_load(config):
    cfg = tiny_cfg(config, "MODEL.DEVICE", "cpu")
    assert cfg.MODEL.BACKBONE.NAME == "build_video_swin_backbone"
    assert cfg.INPUT.CLIP.LENGTH > 1 and list(cfg.MODEL.VIDEO_SWIN.PATCH_SIZE) == [1, 4, 4]
    if "spatial" in config:
        assert list(cfg.MODEL.I2V.DISCRIMINATORS) == ["PatchGANDiscriminator"]
        assert cfg.DATASETS.TRAIN_UNLABELED
