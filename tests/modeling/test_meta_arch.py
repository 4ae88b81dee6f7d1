"""I2VSemanticSegmentor: built from config or explicit arguments; a training step returns only
weighted ``loss_*`` scalars; unlabeled samples stop at the deepest tap; inference output."""

import pytest
import torch
from detectron2.modeling import build_model
from detectron2.utils.events import EventStorage

from i2v_plugin.modeling.backbone.swin import D2SwinTransformer
from i2v_plugin.modeling.heads.upernet import UperNetHead
from i2v_plugin.modeling.meta_arch import I2VSemanticSegmentor
from tests.helpers import random_batch, tiny_cfg

SYNTH = "configs/synthetic/swin_source_only.yaml"


batch = random_batch


def train_step(model, inputs, iteration=0):
    model.train()
    with EventStorage(iteration) as storage:
        losses = model(inputs)
    return losses, storage


def test_source_only_step_returns_only_the_segmentation_loss():
    model = build_model(tiny_cfg(SYNTH))
    assert len(model.objectives) == 0
    losses, _ = train_step(model, batch())
    assert list(losses) == ["loss_sem_seg"]
    assert losses["loss_sem_seg"].ndim == 0 and torch.isfinite(losses["loss_sem_seg"])


@pytest.mark.parametrize(
    "opts, keys",
    [
        (["MODEL.I2V.PLACEMENTS", "['spatial']"], {"loss_adv_spatial"}),
        (["MODEL.I2V.PLACEMENTS", "['global']"], {"loss_adv_global"}),
        (["MODEL.I2V.PLACEMENTS", "['spatial', 'res3']"], {"loss_adv_spatial", "loss_adv_res3"}),
        (["MODEL.I2V.CLUSTER.ENABLED", "True"], {"loss_adv_cluster"}),
    ],
)
def test_adversarial_step_losses_and_metrics(opts, keys):
    model = build_model(tiny_cfg(SYNTH, *opts))
    losses, storage = train_step(model, batch())
    assert set(losses) == {"loss_sem_seg"} | keys
    assert all(k.startswith("loss_") and v.ndim == 0 for k, v in losses.items())
    sum(losses.values()).backward()
    disc_params = list(model.objectives.parameters())
    assert disc_params and all(p.grad is not None for p in disc_params)
    logged = storage.latest()
    assert "i2v/grl_coeff" in logged
    if "loss_adv_cluster" in keys:
        assert {"i2v/disc/cluster/loss", "i2v/pairs_image_video", "i2v/cluster_size_max"} <= set(
            logged
        )


def test_spatial_only_runs_unlabeled_samples_through_patch_embedding_only():
    model = build_model(tiny_cfg(SYNTH, "MODEL.I2V.PLACEMENTS", "['spatial']"))
    batch_sizes = []
    model.backbone.swin.layers[0].register_forward_hook(
        lambda mod, inp, out: batch_sizes.append(inp[0].shape[0])
    )
    train_step(model, batch(labeled=2, unlabeled=3))
    assert batch_sizes == [2]  # only the labeled samples reach the first stage


def test_grl_coefficient_follows_the_trainer_iteration():
    opts = ["MODEL.I2V.PLACEMENTS", "['spatial']", "MODEL.I2V.GRL.SCHEDULE", "sigmoid"]
    model = build_model(tiny_cfg(SYNTH, *opts, "SOLVER.MAX_ITER", "100"))
    coeffs = [train_step(model, batch(), it)[1].latest()["i2v/grl_coeff"][0] for it in (0, 50, 100)]
    assert coeffs[0] == 0.0 and 0 < coeffs[1] < coeffs[2]


def test_model_from_explicit_arguments_matches_inference_contract():
    backbone = D2SwinTransformer(
        embed_dim=8, depths=(1, 1, 1, 1), num_heads=(1, 1, 2, 2), window_size=4
    )
    head = UperNetHead(backbone.output_shape(), num_classes=3, conv_dims=8, norm="")
    model = I2VSemanticSegmentor(
        backbone=backbone, sem_seg_head=head, pixel_mean=[0.0] * 3, pixel_std=[1.0] * 3
    ).eval()
    inputs = [{"image": torch.zeros(3, 50, 70, dtype=torch.uint8), "height": 100, "width": 140}]
    with torch.no_grad():
        out = model(inputs)
    assert out[0]["sem_seg"].shape == (3, 100, 140)


def test_inference_never_clusters():
    model = build_model(tiny_cfg(SYNTH, "MODEL.I2V.CLUSTER.ENABLED", "True")).eval()
    model.objectives["adv_cluster"].loss.forward = None  # any call would raise TypeError
    with torch.no_grad():
        out = model([{"image": torch.zeros(3, 64, 64, dtype=torch.uint8)}])
    assert out[0]["sem_seg"].shape == (11, 64, 64)


def test_crop_the_discriminator_cannot_take_is_a_clear_error():
    with pytest.raises(ValueError, match=r"INPUT.CROP.SIZE \(72, 72\).*multiples of 32"):
        build_model(
            tiny_cfg(SYNTH, "MODEL.I2V.PLACEMENTS", "['spatial']", "INPUT.CROP.SIZE", "(72, 72)")
        )


def test_tapped_features_are_what_a_training_step_hands_the_objectives():
    model = build_model(tiny_cfg(SYNTH, "MODEL.I2V.PLACEMENTS", "['spatial', 'global']"))
    inputs = batch(labeled=2, unlabeled=3)
    seen = {}

    def record(module, args, output):
        seen["features"], seen["domains"] = args[0].tapped()

    model.objectives["adv_global"].register_forward_hook(record)
    train_step(model, inputs)  # the tiny Swin's encoder has no dropout or batch statistics
    with torch.no_grad():
        tapped, domains = model.tapped_features(inputs)
    assert set(tapped) == set(seen["features"]) == {"patch_embed", "res5"}
    for name, value in tapped.items():
        assert value.shape[0] == 5
        assert torch.allclose(value, seen["features"][name].detach(), atol=1e-6)
    assert domains.tolist() == seen["domains"].tolist() == [0, 0, 1, 1, 1]


def test_tapped_features_of_clips_give_one_map_per_frame_labeled_first():
    model = build_model(tiny_cfg(SYNTH, "INPUT.CLIP.LENGTH", "3")).eval()
    clip = {"image": torch.zeros(3, 3, 64, 64, dtype=torch.uint8), "domain": "video"}
    image = {**batch(labeled=1, unlabeled=0)[0]}
    image["image"] = image["image"].expand(3, -1, -1, -1)
    image["sem_seg"] = image["sem_seg"].expand(3, -1, -1)
    with torch.no_grad():
        tapped, domains = model.tapped_features([clip, image], names=["patch_embed"])
    assert tapped["patch_embed"].shape == (6, 16, 16, 16)
    assert domains.tolist() == [0, 0, 0, 1, 1, 1]
    # the labeled still image repeated in time gives three identical frames
    assert torch.equal(tapped["patch_embed"][0], tapped["patch_embed"][2])


def test_training_batches_must_have_the_configured_clip_length():
    model = build_model(tiny_cfg(SYNTH, "INPUT.CLIP.LENGTH", "2"))
    with pytest.raises(ValueError, match="clips of 2 frames"):
        train_step(model, batch())  # single images: clips of length 1
