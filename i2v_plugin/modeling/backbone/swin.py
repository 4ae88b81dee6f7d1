"""``D2SwinTransformer``: a Detectron2 backbone adapter around timm's Swin Transformer.

It exposes the patch-embedding map (``patch_embed``, stride = patch size, the "spatial"
placement of the paper) and the four stage outputs ``res2``..``res5`` (``res5`` is the encoder
output, the "global" placement), all as NCHW tensors.

The stage loop is written here rather than taken from timm's ``forward_intermediates``: that
method neither returns the patch-embedding map (the spatial tap) nor lets each stage's tokens be
normalised before they are permuted to NCHW.
"""

import torch
from detectron2.modeling import BACKBONE_REGISTRY, ShapeSpec
from timm.models.swin_transformer import SwinTransformer
from torch import nn

from .base import TappableBackbone

STAGE_NAMES = ("patch_embed", "res2", "res3", "res4", "res5")


def swin_stage_shapes(patch_size: int, embed_dim: int) -> tuple[dict, dict]:
    """Channels and strides of the five maps of a 4-stage Swin (2D or video, same layout)."""
    channels, strides = {"patch_embed": embed_dim}, {"patch_embed": patch_size}
    for i in range(4):
        channels[f"res{i + 2}"] = embed_dim * 2**i
        strides[f"res{i + 2}"] = patch_size * 2**i
    return channels, strides


class D2SwinTransformer(TappableBackbone):
    """Swin Transformer (timm) with Detectron2's backbone interface.

    Any input height/width that is a multiple of ``size_divisibility`` works: the attention masks
    are built for the input size on the fly (timm's ``strict_img_size=False``).
    """

    stage_names = STAGE_NAMES

    def __init__(
        self,
        *,
        patch_size: int = 4,
        embed_dim: int = 96,
        depths=(2, 2, 6, 2),
        num_heads=(3, 6, 12, 24),
        window_size: int = 7,
        mlp_ratio: float = 4.0,
        drop_path_rate: float = 0.3,
        out_features=("res2", "res3", "res4", "res5"),
        in_chans: int = 3,
    ):
        """
        Args:
            patch_size, embed_dim, depths, num_heads, window_size, mlp_ratio, drop_path_rate:
                the Swin architecture (Swin-T: 4, 96, (2, 2, 6, 2), (3, 6, 12, 24), 7, 4.0).
            out_features: names returned by ``forward`` by default, among ``STAGE_NAMES``.
            in_chans: input channels.
        """
        if len(depths) != 4 or len(num_heads) != 4:
            raise ValueError(f"Swin needs 4 stages; got depths={depths}, num_heads={num_heads}")
        super().__init__(*swin_stage_shapes(patch_size, embed_dim), out_features)
        self.swin = SwinTransformer(
            img_size=224,
            patch_size=patch_size,
            in_chans=in_chans,
            num_classes=0,
            embed_dim=embed_dim,
            depths=tuple(depths),
            num_heads=tuple(num_heads),
            window_size=window_size,
            mlp_ratio=mlp_ratio,
            drop_path_rate=drop_path_rate,
            strict_img_size=False,
        )
        # The classification norm and head are unused; each stage output gets its own norm
        # instead (as in dense-prediction Swin variants), so every tap is normalised alike.
        self.swin.norm = nn.Identity()
        self.swin.head = nn.Identity()
        self.out_norms = nn.ModuleDict(
            {name: nn.LayerNorm(self._feature_channels[name]) for name in STAGE_NAMES[1:]}
        )

    def run_stage(self, name: str, state: torch.Tensor) -> torch.Tensor:
        """Tokens (B, H', W', C): the patch embedding (already layer-normalised) of the image,
        or stage ``res<k>`` of the previous tokens."""
        if name == "patch_embed":
            return self.swin.patch_embed(state)
        return self.swin.layers[STAGE_NAMES.index(name) - 1](state)

    def stage_map(self, name: str, tokens: torch.Tensor) -> torch.Tensor:
        if name == "patch_embed":
            return tokens.permute(0, 3, 1, 2)
        return self.out_norms[name](tokens).permute(0, 3, 1, 2).contiguous()


@BACKBONE_REGISTRY.register()
def build_swin_backbone(cfg, input_shape: ShapeSpec) -> D2SwinTransformer:
    """Build ``D2SwinTransformer`` from ``cfg.MODEL.SWIN``.

    Selected by ``MODEL.BACKBONE.NAME: build_swin_backbone``.
    """
    swin = cfg.MODEL.SWIN
    return D2SwinTransformer(
        patch_size=swin.PATCH_SIZE,
        embed_dim=swin.EMBED_DIM,
        depths=swin.DEPTHS,
        num_heads=swin.NUM_HEADS,
        window_size=swin.WINDOW_SIZE,
        mlp_ratio=swin.MLP_RATIO,
        drop_path_rate=swin.DROP_PATH_RATE,
        out_features=swin.OUT_FEATURES,
        in_chans=input_shape.channels,
    )
