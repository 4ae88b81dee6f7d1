"""Strong views: photometric only, one draw per clip."""

import torch

from i2v_plugin.modeling.objectives.self_training import (
    StrongPhotometric,
)

# ---- strong views -------------------------------------------------------------------------------


def test_strong_views_keep_geometry_and_share_draws_within_a_clip():
    images = torch.rand(4, 3, 16, 16) * 255
    assert torch.equal(StrongPhotometric(0.0, 0.0, 0.0, 0.0)(images), images)
    images[1] = images[0]
    torch.manual_seed(0)
    out = StrongPhotometric(jitter=0.3, blur_sigma=1.0, blur_prob=1.0, noise_std=0.0)(images, 2)
    assert out.shape == images.shape and 0 <= out.min() and out.max() <= 255
    assert torch.equal(out[0], out[1]) and not torch.equal(out[0], images[0])
    torch.manual_seed(0)
    again = StrongPhotometric(jitter=0.3, blur_sigma=1.0, blur_prob=1.0, noise_std=0.0)(images, 2)
    assert torch.equal(out, again)
