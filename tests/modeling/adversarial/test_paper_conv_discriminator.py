"""``PaperConvDiscriminator``: the paper's layer order (conv, FC, dropout, ReLU, classifier), with
global average pooling between conv and FC, registered beside ``ConvDiscriminator``."""

import pytest
import torch
from torch import nn

from i2v_plugin.modeling.adversarial.discriminators import (
    DISCRIMINATOR_REGISTRY,
    PaperConvDiscriminator,
)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_registered_as_a_dense_discriminator():
    assert DISCRIMINATOR_REGISTRY.get("PaperConvDiscriminator") is PaperConvDiscriminator
    assert PaperConvDiscriminator.dense and not PaperConvDiscriminator.judges_clips


def test_layers_in_the_papers_order_and_forward():
    disc = PaperConvDiscriminator(4, conv_channels=6, hidden_dim=5, dropout=0.5)
    kinds = [type(m) for m in disc.children()]
    assert kinds == [nn.Conv2d, nn.Linear, nn.Dropout, nn.ReLU, nn.Linear]
    x = torch.randn(3, 4, 7, 9)
    disc.eval()
    pooled = disc.conv(x).mean(dim=(2, 3))
    expected = disc.classifier(torch.relu(disc.fc(pooled))).squeeze(-1)
    assert disc(x).shape == (3,)
    torch.testing.assert_close(disc(x), expected)


def test_no_activation_between_conv_and_fc():
    # Conv, pooling and FC are one affine map: the pre-ReLU hidden layer of a mix of two inputs
    # is the same mix of their hidden layers.
    disc = PaperConvDiscriminator(4, conv_channels=6, hidden_dim=5).eval()
    seen = []
    disc.relu.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0]))
    a, b = torch.randn(2, 4, 6, 6), torch.randn(2, 4, 6, 6)
    for x in (a, b, 0.3 * a + 0.7 * b):
        disc(x)
    torch.testing.assert_close(seen[2], 0.3 * seen[0] + 0.7 * seen[1], rtol=1e-5, atol=1e-5)


def test_wrong_channels_name_the_expected_shape():
    with pytest.raises(ValueError, match=r"PaperConvDiscriminator: .* expected \(B, 4, H, W\)"):
        PaperConvDiscriminator(4)(torch.randn(2, 3, 5, 5))
