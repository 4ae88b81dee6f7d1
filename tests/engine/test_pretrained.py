"""The synthetic pretraining stage: trained once per family into a cache keyed by its settings,
without the classifier, found again without training, VideoSwin inflated from Swin, and named
in configs as ``i2v-pretrained://<family>``."""

import json

import pytest
import torch
from detectron2.utils.file_io import PathManager

from i2v_plugin.engine import pretrained
from tests.helpers import TINY_MODEL_OPTS

# The tiny model, two iterations, no evaluation.
TINY = [
    *(o for pair in zip(TINY_MODEL_OPTS[::2], TINY_MODEL_OPTS[1::2]) for o in pair
      if pair[0] not in ("MODEL.I2V.CLUSTER.NUM_CLUSTERS", "MODEL.WEIGHTS")),
    "SOLVER.MAX_ITER", "2", "SOLVER.CHECKPOINT_PERIOD", "1000", "DATASETS.TEST", "()",
]  # fmt: skip


def test_the_key_follows_the_settings_and_ignores_defaults():
    assert pretrained.cache_key("swin") == pretrained.cache_key("swin", ())
    assert pretrained.cache_key("swin") != pretrained.cache_key("swin", ["SOLVER.MAX_ITER", "7"])
    # A key set to its default value is no setting of the pretraining.
    assert pretrained.cache_key("swin") == pretrained.cache_key(
        "swin", ["SOLVER.AMP.ENABLED", "False"]
    )
    assert pretrained.cache_key("video_swin") != pretrained.cache_key("swin")
    with pytest.raises(ValueError, match="Unknown pretrained family"):
        pretrained.cache_key("resnet")


def test_configs_name_their_family():
    from i2v_plugin.engine.setup import build_cfg
    from tests.helpers import REPO_ROOT

    for config, family in (
        ("swin_source_only", "swin"),
        ("deeplab_source_only", "deeplab"),
        ("video_swin_source_only", "video_swin"),
    ):
        cfg = build_cfg(f"{REPO_ROOT}/configs/synthetic/{config}.yaml")
        assert cfg.MODEL.WEIGHTS == f"i2v-pretrained://{family}"


@pytest.mark.slow
def test_pretraining_is_cached_without_the_classifier_and_inflated(tmp_path, monkeypatch):
    path = pretrained.ensure_pretrained("swin", TINY, root=tmp_path)
    state = torch.load(path, weights_only=False)["model"]
    assert any(k.startswith("backbone.swin.") for k in state)
    assert any(k.startswith("sem_seg_head.") for k in state)
    assert not any(k.startswith(pretrained.CLASSIFIER) for k in state)
    record = json.loads(path.with_suffix(".json").read_text())
    assert record["family"] == "swin" and record["iterations"] == 2
    assert not path.with_suffix(".work").exists()  # the work folder is cleaned up

    # Found again: no second training (a training would fail, the subprocess is gone).
    monkeypatch.setattr(pretrained.subprocess, "run", None)
    assert pretrained.ensure_pretrained("swin", TINY, root=tmp_path) == path

    video = pretrained.ensure_pretrained("video_swin", TINY, root=tmp_path)
    inflated = torch.load(video, weights_only=False)["model"]
    assert any(k.startswith("backbone.swin.features.") for k in inflated)
    kernel = inflated["backbone.swin.patch_embed.proj.weight"]
    assert kernel.dim() == 5  # (C, 3, T, 4, 4): a time axis for the 3D patch embedding
    assert torch.equal(kernel[:, :, 0], state["backbone.swin.patch_embed.proj.weight"])


def test_the_url_resolves_through_detectron2s_path_manager(tmp_path, monkeypatch):
    target = tmp_path / "swin-test.pth"
    target.write_bytes(b"weights")
    calls = []

    def fake(family, *args, **kwargs):
        calls.append(family)
        return target

    monkeypatch.setattr(pretrained, "ensure_pretrained", fake)
    assert PathManager.get_local_path("i2v-pretrained://swin") == str(target)
    assert calls == ["swin"]
    with pytest.raises(ValueError, match="Unknown pretrained family"):
        PathManager.get_local_path("i2v-pretrained://nothing")


def test_a_shipped_file_with_the_same_key_is_copied_not_trained(tmp_path, monkeypatch):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    name = pretrained.weights_path("swin", root=tmp_path).name
    (shipped / name).write_bytes(b"shipped weights")
    (shipped / name).with_suffix(".json").write_text('{"family": "swin"}')
    monkeypatch.setattr(pretrained, "shipped_path", lambda path: shipped / path.name)
    monkeypatch.setattr(pretrained.subprocess, "run", None)  # training would fail
    path = pretrained.ensure_pretrained("swin", root=tmp_path / "cache")
    assert path.read_bytes() == b"shipped weights"
    assert path.with_suffix(".json").exists()


@pytest.mark.parametrize("family", ["swin", "deeplab"])
def test_the_repository_ships_the_current_weights(family):
    """The file under weights/synthetic has the key of today's settings (else make demo would
    pretrain for minutes first): regenerate it as weights/synthetic/README.md says."""
    name = pretrained.weights_path(family).name
    assert pretrained.shipped_path(pretrained.weights_path(family)).exists(), name
