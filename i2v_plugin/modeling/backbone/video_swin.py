"""``D2VideoSwinTransformer``: a Detectron2 backbone adapter around torchvision's
``SwinTransformer3d`` (Video Swin Transformer).

Clips flow through the model as ``(B, C, T, H, W)``; every returned map keeps the time axis,
``(B, C_name, T', H / stride, W / stride)`` with ``T' = ceil(T / temporal patch size)`` (T' = T for
the (1, 4, 4) patch used here). ``forward_frames`` (from ``TappableBackbone``) folds time into
the batch for the per-frame head and losses; the 3D PatchGAN regroups frames into clips.

Maps: ``patch_embed`` (the "spatial" placement) and ``res2``..``res5`` (``res5`` = "global"),
with the same names, channels and strides as the 2D ``D2SwinTransformer``, so 2D weights inflate
onto it name by name (``modeling/weights/inflate.py``).
"""

from functools import partial

import torch
from detectron2.modeling import BACKBONE_REGISTRY, ShapeSpec
from torch import nn
from torchvision.models.swin_transformer import SwinTransformerBlock
from torchvision.models.video.swin_transformer import (
    PatchEmbed3d,
    ShiftedWindowAttention3d,
    SwinTransformer3d,
)

from .base import TappableBackbone
from .swin import STAGE_NAMES, swin_stage_shapes


class WindowAttention3d(ShiftedWindowAttention3d):
    """torchvision's 3D shifted-window attention with two fixes.

    - The relative position index is a non-persistent buffer: it is a constant recomputed at
      construction, so checkpoints (and converted weights) need not carry it.
    - When an input side is smaller than the window, torchvision shrinks the window but takes the
      leading rows/columns of the full window's index, which pairs tokens with the wrong relative
      offsets unless only the time side shrank. Here the index of the shrunk window is cut out of
      the full one along all three axes, so every pair keeps its true offset.
    """

    def define_relative_position_index(self) -> None:
        super().define_relative_position_index()
        index = self.relative_position_index
        self.register_buffer("relative_position_index", index, persistent=False)

    def get_relative_position_bias(self, window_size: list[int]) -> torch.Tensor:
        """Bias (1, heads, vol, vol) for a window of ``window_size`` <= the configured window."""
        full = self.window_size
        volume = window_size[0] * window_size[1] * window_size[2]
        index = self.relative_position_index.view(*full, *full)
        index = index[
            : window_size[0],
            : window_size[1],
            : window_size[2],
            : window_size[0],
            : window_size[1],
            : window_size[2],
        ].reshape(volume, volume)
        bias = self.relative_position_bias_table[index.reshape(-1)].view(volume, volume, -1)
        return bias.permute(2, 0, 1).contiguous().unsqueeze(0)


def _swin_block(*args, attn_layer=None, **kwargs) -> SwinTransformerBlock:
    # SwinTransformer3d passes its own attention class; use the fixed subclass instead.
    return SwinTransformerBlock(*args, attn_layer=WindowAttention3d, **kwargs)


class D2VideoSwinTransformer(TappableBackbone):
    """Video Swin Transformer (torchvision) with Detectron2's backbone interface, for clips.

    ``forward`` takes (B, C, T, H, W) and returns maps (B, C_name, T', h, w); ``forward_frames``
    gives per-frame maps for the head and the losses.

    Attributes:
        temporal_stride: the temporal patch size (1: one output time step per frame).
    """

    stage_names = STAGE_NAMES
    takes_clips = True

    def __init__(
        self,
        *,
        patch_size=(1, 4, 4),
        embed_dim: int = 96,
        depths=(2, 2, 6, 2),
        num_heads=(3, 6, 12, 24),
        window_size=(4, 7, 7),
        mlp_ratio: float = 4.0,
        drop_path_rate: float = 0.2,
        out_features=("res2", "res3", "res4", "res5"),
        in_chans: int = 3,
    ):
        """
        Args:
            patch_size: (T, H, W) size of the 3D patch embedding; H == W.
            embed_dim, depths, num_heads, mlp_ratio: the Swin architecture (VideoSwin-T: 96,
                (2, 2, 6, 2), (3, 6, 12, 24), 4.0).
            window_size: (T, H, W) attention window in tokens (VideoSwin-T here: (4, 7, 7)).
            drop_path_rate: stochastic depth of the last block (linear ramp over blocks).
            out_features: names returned by ``forward`` by default, among ``STAGE_NAMES``.
            in_chans: input channels.
        """
        if len(depths) != 4 or len(num_heads) != 4:
            raise ValueError(
                f"VideoSwin needs 4 stages; got depths={depths}, num_heads={num_heads}"
            )
        if len(patch_size) != 3 or patch_size[1] != patch_size[2] or len(window_size) != 3:
            raise ValueError(
                f"VideoSwin patch_size must be (T, P, P) and window_size (T, H, W); got "
                f"patch_size={tuple(patch_size)}, window_size={tuple(window_size)}"
            )
        super().__init__(*swin_stage_shapes(int(patch_size[1]), embed_dim), out_features)
        self.swin = SwinTransformer3d(
            patch_size=list(patch_size),
            embed_dim=embed_dim,
            depths=list(depths),
            num_heads=list(num_heads),
            window_size=list(window_size),
            mlp_ratio=mlp_ratio,
            stochastic_depth_prob=drop_path_rate,
            num_classes=1,
            block=_swin_block,
            patch_embed=partial(PatchEmbed3d, in_channels=in_chans),
        )
        # The classification norm, pooling and head are unused; each stage output gets its own
        # norm instead, exactly as in the 2D D2SwinTransformer (so its weights inflate 1:1).
        self.swin.norm = nn.Identity()
        self.swin.avgpool = nn.Identity()
        self.swin.head = nn.Identity()
        self.out_norms = nn.ModuleDict(
            {name: nn.LayerNorm(self._feature_channels[name]) for name in STAGE_NAMES[1:]}
        )
        self.temporal_stride = int(patch_size[0])

    def run_stage(self, name: str, state: torch.Tensor) -> torch.Tensor:
        """Tokens (B, T', H', W', C): the normalised patch embedding of the clip, or stage
        ``res<k>`` (patch merging first, except for res2) of the previous tokens."""
        if name == "patch_embed":
            return self.swin.pos_drop(self.swin.patch_embed(state))
        # swin.features alternates stages and patch merging: [stage, merge, stage, ..., stage].
        level = STAGE_NAMES.index(name)
        if level > 1:
            state = self.swin.features[2 * level - 3](state)
        return self.swin.features[2 * level - 2](state)

    def stage_map(self, name: str, tokens: torch.Tensor) -> torch.Tensor:
        if name == "patch_embed":
            return tokens.permute(0, 4, 1, 2, 3)
        return self.out_norms[name](tokens).permute(0, 4, 1, 2, 3).contiguous()


@BACKBONE_REGISTRY.register()
def build_video_swin_backbone(cfg, input_shape: ShapeSpec) -> D2VideoSwinTransformer:
    """Build ``D2VideoSwinTransformer`` from ``cfg.MODEL.VIDEO_SWIN``.

    Selected by ``MODEL.BACKBONE.NAME: build_video_swin_backbone``.
    """
    swin = cfg.MODEL.VIDEO_SWIN
    return D2VideoSwinTransformer(
        patch_size=tuple(swin.PATCH_SIZE),
        embed_dim=swin.EMBED_DIM,
        depths=swin.DEPTHS,
        num_heads=swin.NUM_HEADS,
        window_size=tuple(swin.WINDOW_SIZE),
        mlp_ratio=swin.MLP_RATIO,
        drop_path_rate=swin.DROP_PATH_RATE,
        out_features=swin.OUT_FEATURES,
        in_chans=input_shape.channels,
    )
