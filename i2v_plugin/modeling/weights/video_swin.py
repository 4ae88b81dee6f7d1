"""VideoSwin (``build_video_swin_backbone``, ``D2VideoSwinTransformer``) <-> torchvision.

Import ("inflate-video-swin"): a 2D Swin checkpoint (plugin names, or raw timm / mmsegmentation,
converted first) inflated to 3D (``inflate.py``).

Export: a torchvision ``SwinTransformer3d`` state dict (the layout of
``torchvision.models.video.swin3d_t``). Build it with the kwargs in the JSON record: the paper's
VideoSwin-T uses patch (1, 4, 4) and window (4, 7, 7), whereas ``swin3d_t()`` fixes (2, 4, 4) and
(8, 7, 7). The final ``norm`` and the stage norms are handled as for Swin (``swin.py``).
"""

from .inflate import inflate_swin_to_video_swin
from .mmseg_swin import convert_mmseg_upernet_swin
from .registry import BackboneExporter, HomeModel, ImportOptions, register_backbone_weights
from .swin import STAGE_NORMS, convert_timm_swin


def import_inflated(state_dict: dict, options: ImportOptions):
    """A 2D Swin checkpoint -> ``D2VideoSwinTransformer`` names: raw timm or mmsegmentation
    tensors are converted to the plugin's 2D names first, then inflated.

    Returns:
        (3D state dict, the reports of every step).
    """
    reports = []
    if "backbone.swin.patch_embed.proj.weight" not in state_dict:
        if "backbone.patch_embed.projection.weight" in state_dict:
            state_dict, report = convert_mmseg_upernet_swin(state_dict, options.num_classes)
        elif "patch_embed.proj.weight" in state_dict:
            state_dict, report = convert_timm_swin(state_dict)
        else:
            raise ValueError(
                "--source inflate-video-swin needs a 2D Swin checkpoint (converted by this tool, "
                "raw timm or mmsegmentation); found none of their patch-embedding keys"
            )
        reports.append(report)
    inflated, report = inflate_swin_to_video_swin(
        state_dict,
        temporal_patch=options.temporal_patch,
        temporal_window=options.temporal_window,
        mode=options.inflate,
    )
    return inflated, reports + [report]


def torchvision_swin3d_home(cfg) -> HomeModel:
    """torchvision's ``SwinTransformer3d`` for ``cfg.MODEL.VIDEO_SWIN``, without weights. The
    plugin's encoder is torchvision's own module, so names differ only by the ``swin.`` prefix,
    the final norm (= ``out_norms.res5``) and the relative position indices, which torchvision
    stores."""
    from torchvision.models.video.swin_transformer import SwinTransformer3d

    swin = cfg.MODEL.VIDEO_SWIN
    kwargs = {
        "patch_size": list(swin.PATCH_SIZE),
        "embed_dim": swin.EMBED_DIM,
        "depths": list(swin.DEPTHS),
        "num_heads": list(swin.NUM_HEADS),
        "window_size": list(swin.WINDOW_SIZE),
        "mlp_ratio": swin.MLP_RATIO,
    }
    model = SwinTransformer3d(**kwargs)
    names = {}
    for key in model.state_dict():
        if key.startswith("norm."):
            names[key] = "out_norms.res5." + key[len("norm.") :]
        elif not key.startswith("head."):
            names[key] = "swin." + key
    record = {
        "library": "torchvision",
        "model": None,
        "layout": "torchvision.models.video.swin3d_t",
        "build": f"torchvision.models.video.swin_transformer.SwinTransformer3d(**{kwargs})",
        "kwargs": kwargs,
        "features": "norm(features(patch_embed(x))): (B, T', H/32, W/32, C) = the plugin's res5",
    }
    return HomeModel(model, record, names)


register_backbone_weights(
    "build_video_swin_backbone",
    importers={"inflate-video-swin": import_inflated},
    exporter=BackboneExporter(
        signature="backbone.swin.features.0.0.norm1.weight",
        label="VideoSwin (torchvision)",
        home=torchvision_swin3d_home,
        stage_norms=STAGE_NORMS,
    ),
)
