"""DeepLabv3 ResNet-101 (Detectron2's DeepLab pieces): builds on CPU with naiveSyncBN, the stem tap
and early stopping, output stride 8 or 16 by config, torchvision's first-block dilation, inference
at any size, and one training step per adversarial mode (global conv discriminator, spatial and
clustered on the stem)."""

import pytest
import torch
from detectron2.modeling import build_model
from detectron2.utils.events import EventStorage

from i2v_plugin.engine.setup import build_cfg
from i2v_plugin.modeling.adversarial.discriminators import ConvDiscriminator
from i2v_plugin.modeling.backbone.deeplab import D2DeepLabResNet
from i2v_plugin.modeling.heads.deeplab import I2VDeepLabV3Head
from i2v_plugin.modeling.meta_arch import I2VSemanticSegmentor
from i2v_plugin.modeling.objectives import build_objectives
from tests.helpers import REPO_ROOT, random_batch, tiny_cfg

PAPER = "configs/Base-I2V-DeepLab-R101.yaml"
SYNTH = "configs/synthetic/deeplab_source_only.yaml"
CPU = ["MODEL.DEVICE", "cpu"]
MODES = {
    "global": [
        "MODEL.I2V.PLACEMENTS", "['global']", "MODEL.I2V.DISCRIMINATORS", "['ConvDiscriminator']",
    ],
    "spatial": ["MODEL.I2V.PLACEMENTS", "['spatial']"],
    "clustered": ["MODEL.I2V.CLUSTER.ENABLED", "True"],
}  # fmt: skip


batch = random_batch


@pytest.fixture(scope="module")
def r101():
    """The paper's DeepLabv3-ResNet-101 (output stride 8, naiveSyncBN in the config), built once."""
    cfg = tiny_cfg(PAPER, *CPU)
    return cfg, build_model(cfg)


def test_r101_builds_on_cpu_with_bn_and_output_stride_8(r101):
    _, model = r101
    backbone = model.backbone
    assert isinstance(backbone, D2DeepLabResNet) and isinstance(
        model.sem_seg_head, I2VDeepLabV3Head
    )
    assert [len(getattr(backbone, f"res{i}")) for i in range(2, 6)] == [3, 4, 23, 3]
    assert not any(isinstance(m, torch.nn.SyncBatchNorm) for m in model.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in backbone.modules())
    shapes = backbone.feature_shapes()
    assert (shapes["stem"].stride, shapes["stem"].channels) == (4, 64)
    assert (shapes["res5"].stride, shapes["res5"].channels) == (8, 2048)
    assert backbone.size_divisibility == 8
    # Parameter names are Detectron2's ResNet names.
    assert "res4.22.conv3.norm.running_var" in backbone.state_dict()
    # torchvision's dilation: the first block of a dilated stage keeps the previous dilation.
    assert backbone.res4[0].conv2.dilation == (1, 1) and backbone.res4[1].conv2.dilation == (2, 2)
    assert backbone.res5[0].conv2.dilation == (2, 2) and backbone.res5[2].conv2.dilation == (4, 4)
    assert backbone.res5[0].conv2.padding == (2, 2)


def test_stem_tap_runs_no_stage(r101):
    _, model = r101
    calls = []
    hook = model.backbone.res2.register_forward_hook(lambda *a: calls.append(1))
    try:
        with torch.no_grad():
            out = model.backbone(torch.randn(1, 3, 64, 64), out_features=["stem"])
    finally:
        hook.remove()
    assert list(out) == ["stem"] and out["stem"].shape == (1, 64, 16, 16) and calls == []


@pytest.mark.slow
@pytest.mark.parametrize("mode", [None, *MODES])
def test_r101_training_step_per_adversarial_mode(r101, mode):
    base_cfg, base = r101
    cfg = tiny_cfg(PAPER, *CPU, *MODES.get(mode, []))
    model = I2VSemanticSegmentor(
        backbone=base.backbone,
        sem_seg_head=base.sem_seg_head,
        pixel_mean=base_cfg.MODEL.PIXEL_MEAN,
        pixel_std=base_cfg.MODEL.PIXEL_STD,
        objectives=build_objectives(cfg, base.backbone),
    ).train()
    model.zero_grad()
    with EventStorage(0):
        losses = model(batch(labeled=1, unlabeled=1 if mode else 0))
    key = {None: None, "clustered": "loss_adv_cluster"}.get(mode, f"loss_adv_{mode}")
    assert set(losses) == {"loss_sem_seg", key} - {None}
    assert all(torch.isfinite(v) and v.ndim == 0 for v in losses.values())
    sum(losses.values()).backward()
    if mode is not None:
        assert all(p.grad is not None for p in model.objectives.parameters())
    assert model.backbone.stem.conv1.weight.grad.abs().sum() > 0
    if mode == "global":
        disc = model.objectives["adv_global"].loss.discriminator
        assert isinstance(disc, ConvDiscriminator) and disc.in_channels == 2048


@pytest.mark.slow
def test_inference_at_any_input_size(r101):
    cfg, model = r101
    model.eval()
    inputs = [{"image": torch.zeros(3, 50, 70, dtype=torch.uint8), "height": 100, "width": 140}]
    with torch.no_grad():
        out = model(inputs)
    assert out[0]["sem_seg"].shape == (cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES, 100, 140)
    model.train()


def test_output_stride_16_by_config():
    opts = ["MODEL.RESNETS.RES4_DILATION", "1", "MODEL.RESNETS.RES5_DILATION", "2"]
    model = build_model(tiny_cfg(SYNTH, *opts, "MODEL.SEM_SEG_HEAD.COMMON_STRIDE", "16"))
    assert model.backbone.feature_shapes()["res5"].stride == 16
    assert model.backbone.size_divisibility == 16
    assert model.backbone.res5[0].conv2.dilation == (1, 1)
    with torch.no_grad():
        out = model.backbone(torch.randn(1, 3, 64, 64), out_features=["res4", "res5"])
    assert out["res4"].shape[-1] == 4 and out["res5"].shape[-1] == 4
    with EventStorage(0):
        losses = model.train()(batch(unlabeled=0))
    assert torch.isfinite(losses["loss_sem_seg"])


def test_detectron2_dilation_is_kept_when_asked():
    model = build_model(tiny_cfg(SYNTH, "MODEL.DEEPLAB.FIRST_BLOCK_DILATION", "stage"))
    assert model.backbone.res4[0].conv2.dilation == (2, 2)
    assert model.backbone.res5[0].conv2.dilation == (4, 4)


def test_mismatched_common_stride_is_a_clear_error():
    with pytest.raises(ValueError, match="COMMON_STRIDE is 16.*stride 8"):
        build_model(tiny_cfg(SYNTH, "MODEL.SEM_SEG_HEAD.COMMON_STRIDE", "16"))
    with pytest.raises(ValueError, match="FIRST_BLOCK_DILATION"):
        build_model(tiny_cfg(SYNTH, "MODEL.DEEPLAB.FIRST_BLOCK_DILATION", "first"))


PAPER_ROWS = {
    "deeplab_r101_source_only": (["coco_stuff_shared_train"], [], []),
    "deeplab_r101_global_davis": (
        ["coco_stuff_shared_train"],
        ["davis2017_unlabeled_train"],
        ["global"],
    ),
    "deeplab_r101_global_ytbb": (["coco_stuff_shared_train"], ["ytbb_videos_train"], ["global"]),
    "deeplab_r101_davis_labeled": (["davis2017_semantic_train"], [], []),
    "deeplab_r101_coco_davis_labeled": (
        ["coco_stuff_shared_train", "davis2017_semantic_train"],
        [],
        [],
    ),
}


@pytest.mark.parametrize("row", list(PAPER_ROWS))
def test_table1_cnn_configs(row):
    train, unlabeled, placements = PAPER_ROWS[row]
    cfg = build_cfg(f"{REPO_ROOT}/configs/{row}.yaml")
    assert list(cfg.DATASETS.TRAIN) == train and list(cfg.DATASETS.TEST) == [
        "davis2017_semantic_val"
    ]
    assert list(cfg.DATASETS.TRAIN_UNLABELED) == unlabeled
    assert list(cfg.MODEL.I2V.PLACEMENTS) == placements
    if placements:
        assert list(cfg.MODEL.I2V.DISCRIMINATORS) == ["ConvDiscriminator"]
    assert cfg.MODEL.RESNETS.DEPTH == 101 and cfg.MODEL.WEIGHTS.endswith("_d2.pth")


@pytest.mark.parametrize(
    "row",
    [
        "deeplab_global_davis",
        "deeplab_global_ytbb",
        "deeplab_oracle",
        "deeplab_image_video_labeled",
    ],
)
def test_synthetic_cnn_counterparts_build(row):
    model = build_model(tiny_cfg(f"configs/synthetic/{row}.yaml"))
    assert isinstance(model.backbone, D2DeepLabResNet)
    assert ("adv_global" in model.objectives) == ("global" in row)


@pytest.mark.parametrize("folder", ["configs", "configs/synthetic"])
def test_swin_ablation_configs_of_tables_4_and_5(folder):
    # (These Swin rows live here with the other paper-row config checks of this issue. The K
    # sweep: configs/paper/table6_*.yaml and the manifest, tests/configs/test_paper_configs.py.)
    fbms = tiny_cfg(f"{folder}/swin_clustered_fbms.yaml")
    voc = tiny_cfg(f"{folder}/swin_clustered_voc.yaml")
    if folder == "configs":
        assert list(fbms.DATASETS.TRAIN_UNLABELED) == ["fbms59_unlabeled_train"]
        assert list(fbms.DATASETS.TEST) == ["fbms59_val"]
        assert list(voc.DATASETS.TRAIN_UNLABELED) == ["voc2012_unlabeled_train_as_video"]
        labeled = tiny_cfg(f"{folder}/swin_fbms_labeled.yaml")
        assert list(labeled.DATASETS.TRAIN) == ["fbms59_train_labeled"]
    for cfg in (fbms, voc):
        assert cfg.MODEL.I2V.CLUSTER.ENABLED and cfg.DATASETS.TRAIN_UNLABELED
