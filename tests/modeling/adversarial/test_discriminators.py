"""Discriminator output shapes, registration, symmetry and input-size errors."""

import pytest
import torch

from i2v_plugin.modeling.adversarial.discriminators import (
    DISCRIMINATOR_REGISTRY,
    PAIR_INPUTS,
    ConvDiscriminator,
    MLPDiscriminator,
    PairDiscriminator,
    PatchGANDiscriminator,
    same_domain_logit,
)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_all_registered():
    for cls in (MLPDiscriminator, ConvDiscriminator, PatchGANDiscriminator, PairDiscriminator):
        assert DISCRIMINATOR_REGISTRY.get(cls.__name__) is cls


def test_mlp_per_channel_and_flatten_shapes():
    feats = torch.randn(2, 3, 4, 5)
    per_channel = MLPDiscriminator(20, hidden_dims=(8, 8))
    assert per_channel(feats.reshape(6, 20)).shape == (6,)
    flatten = MLPDiscriminator(60, hidden_dims=(8,))
    assert flatten(feats.reshape(2, 60)).shape == (2,)
    linears = [m for m in flatten.modules() if isinstance(m, torch.nn.Linear)]
    assert [m.out_features for m in linears] == [8, 1]


def test_mlp_size_mismatch_message():
    disc = MLPDiscriminator(20, hidden_dims=(8,))
    with pytest.raises(ValueError, match=r"last dimension is 16; expected in_features=20"):
        disc(torch.randn(3, 16))


def test_conv_discriminator_shape_and_errors():
    disc = ConvDiscriminator(4, conv_channels=8, hidden_dim=8)
    assert disc(torch.randn(3, 4, 7, 9)).shape == (3,)
    with pytest.raises(ValueError, match=r"expected \(B, 4, H, W\)"):
        disc(torch.randn(3, 5, 7, 9))


@pytest.mark.parametrize("size", [(8, 8), (4, 4), (16, 12), (33, 17)])
def test_patchgan_2d_shape(size):
    disc = PatchGANDiscriminator(3, base_channels=4)
    out = disc(torch.randn(2, 3, *size))
    assert out.shape[:2] == (2, 1)
    assert out.shape[2] >= 1 and out.shape[3] >= 1
    # Two stride-2 layers: the output is a quarter of the input, rounded down.
    assert out.shape[2:] == (size[0] // 4, size[1] // 4)


@pytest.mark.parametrize("frames", [1, 4])
def test_patchgan_on_clips_gives_one_logit_map_per_frame(frames):
    disc = PatchGANDiscriminator(3, base_channels=4, clip_length=frames)
    assert any(isinstance(m, torch.nn.Conv3d) for m in disc.modules())
    out = disc(torch.randn(2 * frames, 3, 8, 8))
    assert out.shape == (2 * frames, 1, 2, 2)


def test_patchgan_on_clips_judges_each_clip_as_a_whole():
    disc = PatchGANDiscriminator(3, base_channels=4, clip_length=3)
    frames = torch.randn(6, 3, 8, 8)
    changed = frames.clone()
    changed[4] += 1.0  # a frame of the second clip
    before, after = disc(frames), disc(changed)
    assert torch.equal(before[:3], after[:3])  # the first clip does not see it
    assert not torch.equal(before[3], after[3])  # its neighbour in time does


def test_patchgan_errors():
    with pytest.raises(ValueError, match="clip_length must be >= 0"):
        PatchGANDiscriminator(3, clip_length=-1)
    disc = PatchGANDiscriminator(3, base_channels=4, clip_length=3)
    with pytest.raises(ValueError, match="whole clips of 3 frames"):
        disc(torch.randn(4, 3, 8, 8))
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        disc(torch.randn(2, 3, 3, 8, 8))
    with pytest.raises(ValueError, match="too small"):
        PatchGANDiscriminator(3, base_channels=4)(torch.randn(1, 3, 3, 8))


@pytest.mark.parametrize("input_form", PAIR_INPUTS)
def test_pair_discriminator_shape_and_symmetry(input_form):
    disc = PairDiscriminator(10, hidden_dims=(16,), input_form=input_form)
    a, b = torch.randn(7, 10), torch.randn(7, 10)
    out = disc(a, b)
    assert out.shape == (7,)
    assert torch.equal(out, disc(b, a))
    # Not trivially constant: different pairs get different scores.
    assert out.std() > 0


def test_pair_discriminator_errors():
    disc = PairDiscriminator(10, hidden_dims=(16,))
    with pytest.raises(ValueError, match=r"expected in_features=10"):
        disc(torch.randn(3, 9), torch.randn(3, 9))
    with pytest.raises(ValueError, match="same shape"):
        disc(torch.randn(3, 10), torch.randn(2, 10))


def test_same_domain_logit_is_the_probability_that_both_domains_agree():
    logit_a = torch.tensor([2.0, 2.0, -1.0, 0.0, 40.0, 40.0])
    logit_b = torch.tensor([3.0, -3.0, -0.5, 5.0, 40.0, -40.0])
    p_a, p_b = torch.sigmoid(logit_a.double()), torch.sigmoid(logit_b.double())
    same = p_a * p_b + (1 - p_a) * (1 - p_b)
    expected = torch.log(same / (1 - same)).float()
    got = same_domain_logit(logit_a, logit_b)
    # Finite where the direct formula rounds to +-inf (the last two pairs), equal elsewhere.
    assert torch.allclose(got[:4], expected[:4], atol=1e-5)
    assert torch.isfinite(got).all() and got[4] > 30 and got[5] < -30
    # An undecided map (logit 0) leaves the pair undecided.
    assert got[3] == 0
