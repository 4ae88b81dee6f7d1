"""``D2SwinTransformer``: a Detectron2 backbone adapter around timm's Swin Transformer.

It exposes the patch-embedding map (``patch_embed``, stride = patch size, the "spatial"
placement of the paper) and the four stage outputs ``res2``..``res5`` (``res5`` is the encoder
output, the "global" placement), all as NCHW tensors.
"""

import torch
from detectron2.modeling import BACKBONE_REGISTRY, Backbone, ShapeSpec
from timm.models.swin_transformer import SwinTransformer
from torch import nn

STAGE_NAMES = ("patch_embed", "res2", "res3", "res4", "res5")


class D2SwinTransformer(Backbone):
    """Swin Transformer (timm) with Detectron2's backbone interface.

    Any input height/width that is a multiple of ``size_divisibility`` works: the attention masks
    are built for the input size on the fly (timm's ``strict_img_size=False``).
    """

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
        super().__init__()
        if len(depths) != 4 or len(num_heads) != 4:
            raise ValueError(f"Swin needs 4 stages; got depths={depths}, num_heads={num_heads}")
        unknown = set(out_features) - set(STAGE_NAMES)
        if unknown:
            raise ValueError(
                f"Unknown Swin out_features {sorted(unknown)}; choose from {STAGE_NAMES}"
            )
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
        channels = [embed_dim * 2**i for i in range(4)]
        self.out_norms = nn.ModuleDict(
            {f"res{i + 2}": nn.LayerNorm(c) for i, c in enumerate(channels)}
        )
        self._feature_channels = {"patch_embed": embed_dim}
        self._feature_strides = {"patch_embed": patch_size}
        for i, c in enumerate(channels):
            self._feature_channels[f"res{i + 2}"] = c
            self._feature_strides[f"res{i + 2}"] = patch_size * 2**i
        self._out_features = list(out_features)
        self._out_feature_channels = {k: self._feature_channels[k] for k in out_features}
        self._out_feature_strides = {k: self._feature_strides[k] for k in out_features}

    @property
    def size_divisibility(self) -> int:
        return self._feature_strides["res5"]

    def feature_shapes(self) -> dict[str, ShapeSpec]:
        """Channels and stride of every tappable map (``STAGE_NAMES``), not only the outputs."""
        return {
            k: ShapeSpec(channels=self._feature_channels[k], stride=self._feature_strides[k])
            for k in STAGE_NAMES
        }

    def forward(self, x: torch.Tensor, out_features=None) -> dict[str, torch.Tensor]:
        """
        Args:
            x: (B, C, H, W) normalised images, H and W multiples of ``size_divisibility``.
            out_features: names to return (default: the configured ``out_features``). The
                network runs only as deep as the deepest requested name needs.
        Returns:
            dict name -> (B, C_name, H / stride_name, W / stride_name).
        """
        wanted = self._out_features if out_features is None else list(out_features)
        depth = max(STAGE_NAMES.index(name) for name in wanted)
        outputs = {}
        tokens = self.swin.patch_embed(x)  # (B, H', W', C), already layer-normalised
        if "patch_embed" in wanted:
            outputs["patch_embed"] = tokens.permute(0, 3, 1, 2)
        for level, stage in enumerate(self.swin.layers[:depth], start=1):
            tokens = stage(tokens)
            name = STAGE_NAMES[level]
            if name in wanted:
                outputs[name] = self.out_norms[name](tokens).permute(0, 3, 1, 2).contiguous()
        return outputs


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
