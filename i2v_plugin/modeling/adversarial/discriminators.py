"""Domain discriminators: MLP, global conv (ours and the paper's layer order), PatchGAN (2D/3D)
and the symmetric pair discriminator.

Every discriminator returns raw logits (no sigmoid) so the losses can use the numerically stable
BCE-with-logits. The general ones are registered in ``DISCRIMINATOR_REGISTRY`` under their class
name and say how they take a tapped map through two class attributes:

- ``dense``: True when built as ``cls(in_channels=C)`` and fed the (B, C, H, W) map itself;
  False when built as ``cls(in_features=D, hidden_dims=...)`` and fed flat vectors (per channel,
  or the whole map at the "global" placement).
- ``judges_clips``: True when it also takes ``clip_length=T`` and then judges whole clips of
  per-frame maps (used when the backbone takes clips).
"""

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from detectron2.utils.registry import Registry
from torch import Tensor, nn

DISCRIMINATOR_REGISTRY = Registry("I2V_DISCRIMINATOR")
DISCRIMINATOR_REGISTRY.__doc__ = """
Registry for domain discriminators. Registered objects are ``nn.Module`` classes built from
explicit keyword arguments and returning logits; the general ones subclass
``DomainDiscriminator``.
"""


class DomainDiscriminator(nn.Module):
    """Base class of the general domain discriminators: declares how one takes a tapped map
    (see the module docstring). Subclasses override the two flags."""

    dense: bool = False
    judges_clips: bool = False


def _mlp(in_features: int, hidden_dims: Sequence[int], negative_slope: float) -> nn.Sequential:
    """Linear/LeakyReLU stack ending in a Linear to one logit."""
    layers: list[nn.Module] = []
    width = in_features
    for hidden in hidden_dims:
        layers += [nn.Linear(width, hidden), nn.LeakyReLU(negative_slope)]
        width = hidden
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


def _check_last_dim(x: Tensor, expected: int, who: str, arg: str) -> None:
    if x.dim() < 1 or x.shape[-1] != expected:
        raise ValueError(
            f"{who}: {arg} has shape {tuple(x.shape)}, so its last dimension is "
            f"{x.shape[-1] if x.dim() else 'missing'}; expected in_features={expected}"
        )


@DISCRIMINATOR_REGISTRY.register()
class MLPDiscriminator(DomainDiscriminator):
    """Fully connected discriminator on flat feature vectors.

    Args:
        in_features: size of each input vector.
        hidden_dims: widths of the hidden layers, each followed by LeakyReLU.
        negative_slope: LeakyReLU slope.

    Input ``(N, in_features)`` (any leading dims allowed) -> logits ``(N,)``, same dtype.
    """

    def __init__(
        self,
        in_features: int,
        hidden_dims: Sequence[int] = (256, 256),
        negative_slope: float = 0.2,
    ):
        super().__init__()
        self.in_features = int(in_features)
        self.net = _mlp(self.in_features, hidden_dims, negative_slope)

    def forward(self, x: Tensor) -> Tensor:
        _check_last_dim(x, self.in_features, type(self).__name__, "input")
        return self.net(x).squeeze(-1)


def _check_map(x: Tensor, channels: int, who: str) -> None:
    if x.dim() != 4 or x.shape[1] != channels:
        raise ValueError(f"{who}: input has shape {tuple(x.shape)}; expected (B, {channels}, H, W)")


class _PooledConvDiscriminator(DomainDiscriminator):
    """The layers of the image-level discriminators: 3x3 conv, an optional activation, (global
    average pooling,) fully connected layer, dropout, an activation, classifier; the subclasses
    choose the two activations.

    Args:
        in_channels: channels of the input feature map.
        conv_channels: output channels of the 3x3 convolution.
        hidden_dim: width of the fully connected layer.
        dropout: dropout probability after the fully connected layer.
        conv_act: activation after the convolution, or None for none.
        hidden_act: (attribute name, activation) after dropout.

    The submodules are registered in layer order (``conv``, ``conv_act`` if any, ``fc``,
    ``dropout``, the hidden activation, ``classifier``), which is also the order in which their
    weights are initialised. Each subclass's ``forward`` applies them in its own order.
    """

    dense = True
    judges_clips = False

    def __init__(
        self,
        in_channels: int,
        conv_channels: int,
        hidden_dim: int,
        dropout: float,
        conv_act: nn.Module | None,
        hidden_act: tuple[str, nn.Module],
    ):
        super().__init__()
        self.in_channels = int(in_channels)
        self.conv = nn.Conv2d(self.in_channels, conv_channels, kernel_size=3, padding=1)
        if conv_act is not None:
            self.conv_act = conv_act
        self.fc = nn.Linear(conv_channels, hidden_dim)
        self.dropout = nn.Dropout(dropout)
        self.add_module(*hidden_act)
        self.classifier = nn.Linear(hidden_dim, 1)


@DISCRIMINATOR_REGISTRY.register()
class ConvDiscriminator(_PooledConvDiscriminator):
    """Image-level discriminator (the paper's CNN one, with LeakyReLU): 3x3 conv, LeakyReLU,
    global average pooling, fully connected layer, dropout, LeakyReLU, classifier.

    The activations are LeakyReLU: with ReLU after dropout every hidden unit can die (negative
    for every input), the logit becomes a constant and the loss sits at ln 2 for good, which is
    what happened on the synthetic DeepLab runs. The paper's CNN configs
    (``configs/deeplab_r101_global_*.yaml``) use this one; ``PaperConvDiscriminator`` is the
    paper's exact layer order, for comparison.

    Args:
        in_channels: channels of the input feature map.
        conv_channels: output channels of the 3x3 convolution.
        hidden_dim: width of the fully connected layer.
        dropout: dropout probability after the fully connected layer.
        negative_slope: LeakyReLU slope.

    Input ``(B, in_channels, H, W)`` -> logits ``(B,)``; on clips it judges every frame alone.
    """

    def __init__(
        self,
        in_channels: int,
        conv_channels: int = 256,
        hidden_dim: int = 256,
        dropout: float = 0.5,
        negative_slope: float = 0.2,
    ):
        conv_act = nn.LeakyReLU(negative_slope)
        hidden_act = ("fc_act", nn.LeakyReLU(negative_slope))
        super().__init__(in_channels, conv_channels, hidden_dim, dropout, conv_act, hidden_act)

    def forward(self, x: Tensor) -> Tensor:
        _check_map(x, self.in_channels, type(self).__name__)
        pooled = self.conv_act(self.conv(x)).mean(dim=(2, 3))
        hidden = self.fc_act(self.dropout(self.fc(pooled)))
        return self.classifier(hidden).squeeze(-1)


@DISCRIMINATOR_REGISTRY.register()
class PaperConvDiscriminator(_PooledConvDiscriminator):
    """The paper's CNN discriminator in its stated layer order (Sec. 4.2): "a 2D convolution, a
    fully connected layer, dropout, ReLU and the classification layer".

    3x3 conv, global average pooling, fully connected layer, dropout, ReLU, classifier. The text
    names neither the conv's kernel and width nor how a map of any size meets a fully connected
    layer; this class reads it with global average pooling between the two (one interpretation
    of several: flattening would tie the layer to one map size and, on a ResNet-101 encoder
    output, make it hundreds of millions of weights). Nothing sits between conv and pooling, as
    in the text, so conv, pooling and FC are together a linear map of the input's channel means.

    The paper's CNN configs (``configs/deeplab_r101_global_*.yaml``) do not use it: they set
    ``ConvDiscriminator`` (LeakyReLU after the conv and after dropout), because with this order
    every ReLU unit died on the synthetic DeepLab runs and the loss sat at ln 2. Set
    ``MODEL.I2V.DISCRIMINATORS ["PaperConvDiscriminator"]`` to compare; the discriminator health
    monitor (``engine/discriminator_health.py``) reports it if it collapses.

    Arguments, input and output as ``ConvDiscriminator``'s, without ``negative_slope``.
    """

    def __init__(
        self,
        in_channels: int,
        conv_channels: int = 256,
        hidden_dim: int = 256,
        dropout: float = 0.5,
    ):
        super().__init__(in_channels, conv_channels, hidden_dim, dropout, None, ("relu", nn.ReLU()))

    def forward(self, x: Tensor) -> Tensor:
        _check_map(x, self.in_channels, type(self).__name__)
        pooled = self.conv(x).mean(dim=(2, 3))
        hidden = self.relu(self.dropout(self.fc(pooled)))
        return self.classifier(hidden).squeeze(-1)


@DISCRIMINATOR_REGISTRY.register()
class PatchGANDiscriminator(DomainDiscriminator):
    """PatchGAN: four kernel-4 convolutions giving one logit per receptive-field patch.

    Strides are 2, 2, 1, 1 in space; the two stride-1 layers pad asymmetrically (1 before,
    2 after) so they keep the spatial size. The output is about ``H/4 x W/4`` and at least 1x1 for
    any spatial size >= 4.

    With ``clip_length`` T >= 1 it is the 3D PatchGAN of clip backbones: the input is per-frame
    maps (B*T, C, H, W), clip-major (frame t of clip b at row b*T + t, as the meta-architecture
    gives them); they are regrouped into (B, C, T, H, W) clips and judged with kernels
    ``(1, 4, 4)`` for the strided layers and ``(3, 4, 4)`` (time padded by 1 on both sides) for
    the others, so time is never downsampled and single-frame clips work. The logits are folded
    back to one map per frame, (B*T, 1, h, w), so they pair with per-frame domain labels.

    Args:
        in_channels: input channels C.
        base_channels: width of the first layer (doubled in the second and third).
        clip_length: 0 for a 2D PatchGAN on (B, C, H, W) maps; T >= 1 for the 3D one on clips.
    """

    dense = True
    judges_clips = True
    MIN_SPATIAL = 4

    def __init__(self, in_channels: int, base_channels: int = 64, clip_length: int = 0):
        super().__init__()
        if clip_length < 0:
            raise ValueError(f"PatchGANDiscriminator: clip_length must be >= 0, got {clip_length}")
        self.in_channels = int(in_channels)
        self.clip_length = int(clip_length)
        widths = [self.in_channels, base_channels, base_channels * 2, base_channels * 4, 1]
        layers: list[nn.Module] = []
        for i in range(4):
            downsample = i < 2
            layers += self._conv_block(widths[i], widths[i + 1], downsample)
            if i < 3:
                layers.append(nn.LeakyReLU(0.2))
        self.net = nn.Sequential(*layers)

    def _conv_block(self, c_in: int, c_out: int, downsample: bool) -> list[nn.Module]:
        if not self.clip_length:
            if downsample:
                return [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1)]
            # Explicit asymmetric padding: padding="same" warns for even kernels.
            return [nn.ZeroPad2d((1, 2, 1, 2)), nn.Conv2d(c_in, c_out, 4)]
        if downsample:
            return [nn.Conv3d(c_in, c_out, (1, 4, 4), stride=(1, 2, 2), padding=(0, 1, 1))]
        return [nn.ConstantPad3d((1, 2, 1, 2, 1, 1), 0.0), nn.Conv3d(c_in, c_out, (3, 4, 4))]

    def forward(self, x: Tensor) -> Tensor:
        who = f"PatchGANDiscriminator(clip_length={self.clip_length})"
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"{who}: input has shape {tuple(x.shape)}; expected (B, {self.in_channels}, H, W)"
            )
        if min(x.shape[-2:]) < self.MIN_SPATIAL:
            raise ValueError(
                f"{who}: input spatial size {tuple(x.shape[-2:])} is too small; expected H, W >= "
                f"{self.MIN_SPATIAL}"
            )
        if not self.clip_length:
            return self.net(x)
        if x.shape[0] % self.clip_length:
            raise ValueError(
                f"{who}: {x.shape[0]} frames do not make whole clips of {self.clip_length} frames "
                "(INPUT.CLIP.LENGTH)"
            )
        frames, channels, h, w = x.shape
        clips = x.view(frames // self.clip_length, self.clip_length, channels, h, w)
        logits = self.net(clips.transpose(1, 2))  # (B, 1, T, h', w')
        return logits.transpose(1, 2).reshape(frames, 1, *logits.shape[-2:])


PAIR_INPUTS = ("symmetric", "siamese", "concat", "domain_product")


def same_domain_logit(logit_a: Tensor, logit_b: Tensor) -> Tensor:
    """Logit of "a and b are of the same domain" from each one's logit of being video.

    With p = sigmoid(logit): P(same) = p_a p_b + (1 - p_a)(1 - p_b). Computed in log space
    (logsigmoid, logaddexp), so it stays finite for any logits. (P,) and (P,) -> (P,).
    """
    a, b = logit_a.float(), logit_b.float()
    log_same = torch.logaddexp(
        F.logsigmoid(a) + F.logsigmoid(b), F.logsigmoid(-a) + F.logsigmoid(-b)
    )
    log_cross = torch.logaddexp(
        F.logsigmoid(a) + F.logsigmoid(-b), F.logsigmoid(-a) + F.logsigmoid(b)
    )
    return (log_same - log_cross).to(logit_a.dtype)


@DISCRIMINATOR_REGISTRY.register()
class PairDiscriminator(nn.Module):
    """Scores whether two feature maps come from the same domain (the paper only says that it
    "takes a pair of maps"; three input designs are offered, all exactly symmetric in a and b).

    - "symmetric": an MLP on ``cat(|a - b|, a * b)``.
    - "siamese": a shared layer embeds each map (Linear + LeakyReLU), then an MLP on
      ``cat(|e_a - e_b|, e_a * e_b)``; the comparison happens between learned features instead
      of raw pixels.
    - "concat": an MLP on ``cat(a, b)``, averaged with the same MLP on ``cat(b, a)``.
    - "domain_product": one MLP scores each map's probability of being video, p_a and p_b,
      and the pair is "same domain" with probability ``p_a p_b + (1 - p_a)(1 - p_b)``. "Same
      domain" is an exclusive-or of the two maps' domains, which an MLP on ``|a - b|`` and
      ``a * b`` has to discover; this form builds it in, so the pair discriminator is as strong
      as a per-map domain discriminator (accuracy q per map gives q^2 + (1 - q)^2 on pairs).
      Its per-map scorer is also trained on every map's domain (``map_domain_loss``).

    Sampled pairs have an arbitrary order (image-video pairs could be video-image), and an
    order-dependent score would learn that accident instead of the domain relation.

    Args:
        in_features: size D of each flattened map.
        hidden_dims: hidden widths of the MLP (for "siamese" the first is the embedding width).
        negative_slope: LeakyReLU slope.
        input_form: one of ``PAIR_INPUTS``.

    ``forward(a, b)`` with ``a, b`` of shape ``(P, D)`` -> logits ``(P,)`` ("same domain" > 0).
    """

    def __init__(
        self,
        in_features: int,
        hidden_dims: Sequence[int] = (256, 256),
        negative_slope: float = 0.2,
        input_form: str = "symmetric",
    ):
        super().__init__()
        if input_form not in PAIR_INPUTS:
            raise ValueError(
                f"PairDiscriminator: input_form must be one of {PAIR_INPUTS}, got {input_form!r}"
            )
        self.in_features = int(in_features)
        self.input_form = input_form
        hidden_dims = tuple(hidden_dims)
        if input_form == "siamese":
            if not hidden_dims:
                raise ValueError("PairDiscriminator(input_form='siamese') needs a hidden width")
            width = hidden_dims[0]
            self.embed = nn.Sequential(
                nn.Linear(self.in_features, width), nn.LeakyReLU(negative_slope)
            )
            self.net = _mlp(2 * width, hidden_dims[1:], negative_slope)
        elif input_form == "domain_product":
            self.net = _mlp(self.in_features, hidden_dims, negative_slope)
        else:
            self.net = _mlp(2 * self.in_features, hidden_dims, negative_slope)

    def map_domain_loss(self, maps: Tensor, domains: Tensor) -> Tensor | None:
        """ "domain_product" only (None otherwise): the BCE of the per-map scorer on ``maps``
        (N, D) against their domains (N,) int64 (1 = video), the two domains weighted equally.

        The pair loss alone leaves the scorer at a saddle: while every map scores alike, the
        "same" and "cross" pairs a map belongs to pull its score in opposite directions and
        cancel. The clustered loss adds this term on detached maps, so it trains the
        discriminator only; the encoder still learns from the pair loss alone.
        """
        if self.input_form != "domain_product":
            return None
        _check_last_dim(maps, self.in_features, "PairDiscriminator", "maps")
        logits = self.net(maps).squeeze(-1).float()
        targets = domains.float()
        video = targets.mean().clamp(1e-6, 1 - 1e-6)
        weights = torch.where(targets > 0.5, 0.5 / video, 0.5 / (1 - video))
        return F.binary_cross_entropy_with_logits(logits, targets, weight=weights)

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        _check_last_dim(a, self.in_features, "PairDiscriminator", "a")
        if a.shape != b.shape:
            raise ValueError(
                f"PairDiscriminator: a and b must have the same shape, got {tuple(a.shape)} "
                f"and {tuple(b.shape)}"
            )
        if self.input_form == "concat":
            forward = self.net(torch.cat([a, b], dim=-1))
            backward = self.net(torch.cat([b, a], dim=-1))
            return (0.5 * (forward + backward)).squeeze(-1)
        if self.input_form == "domain_product":
            return same_domain_logit(self.net(a).squeeze(-1), self.net(b).squeeze(-1))
        if self.input_form == "siamese":
            a, b = self.embed(a), self.embed(b)
        return self.net(torch.cat([(a - b).abs(), a * b], dim=-1)).squeeze(-1)
