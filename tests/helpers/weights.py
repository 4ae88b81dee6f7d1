"""Helpers of the weight conversion tests: randomised models, small Swin segmentors, conversion
to a Detectron2 checkpoint file and loading it by name (as ``MODEL.WEIGHTS`` does)."""

import torch

from i2v_plugin.modeling.backbone.swin import STAGE_NAMES, D2SwinTransformer
from i2v_plugin.modeling.heads.upernet import UperNetHead
from i2v_plugin.modeling.meta_arch import I2VSemanticSegmentor
from i2v_plugin.modeling.weights import ImportOptions, import_checkpoint, save_d2_checkpoint

SWIN_ARGS = dict(embed_dim=16, depths=(2, 2, 2, 2), num_heads=(1, 1, 2, 2), window_size=7)
STAGES = ("res2", "res3", "res4", "res5")


def randomise(module: torch.nn.Module, seed: int = 0) -> None:
    """Give every parameter and norm statistic a distinct random value, so that any tensor that
    lands under the wrong name changes the outputs."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("relative_position_bias_table"):
                p.copy_(torch.randn(p.shape, generator=generator))
            elif p.dim() == 1:  # norm affine and biases
                base = 1.0 if name.endswith("weight") and "norm" in name else 0.0
                p.copy_(base + 0.2 * torch.randn(p.shape, generator=generator))
            else:
                p.copy_(torch.randn(p.shape, generator=generator) / p[0].numel() ** 0.5)
        for m in module.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(0.1 * torch.randn(m.running_mean.shape, generator=generator))
                m.running_var.uniform_(0.5, 1.5, generator=generator)


def randomise_norms(module: torch.nn.Module, seed: int = 0) -> None:
    """Move every norm's affine parameters and running statistics off their initial values, so a
    swapped or dropped norm tensor changes the features (convs and linears are random already)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if not tensor.is_floating_point() or "norm" not in name and ".bn" not in name:
                continue
            noise = torch.randn(tensor.shape, generator=gen)
            if name.endswith("running_var"):
                tensor.copy_(1 + 0.5 * noise.abs())
            elif name.endswith("weight") and tensor.dim() == 1:
                tensor.copy_(1 + 0.2 * noise)
            else:
                tensor.copy_(0.2 * noise)


def convert_to_file(tmp_path, source: str, state_dict: dict, **options):
    """Convert with the registered importer of ``source`` and write the Detectron2 checkpoint;
    returns (its path, the reports)."""
    converted, reports = import_checkpoint(source, state_dict, ImportOptions(**options))
    path = tmp_path / f"{source}-d2.pth"
    save_d2_checkpoint(path, converted)
    return str(path), reports


def swin_segmentor(num_classes=11, **swin_kw) -> I2VSemanticSegmentor:
    backbone = D2SwinTransformer(**{**SWIN_ARGS, **swin_kw, "out_features": STAGE_NAMES[1:]})
    head = UperNetHead(backbone.output_shape(), num_classes=num_classes, conv_dims=16, norm="BN")
    return I2VSemanticSegmentor(
        backbone=backbone, sem_seg_head=head, pixel_mean=[0.0] * 3, pixel_std=[1.0] * 3
    ).eval()


def load_weights(model, path) -> tuple[list[str], list[str]]:
    """Load a converted checkpoint into ``model`` by name (the file says
    ``matching_heuristics: False``, so Detectron2's checkpointer does the same); returns the
    sorted (missing, unexpected) keys. A tensor of the wrong shape raises."""
    state = torch.load(path, map_location="cpu", weights_only=True)["model"]
    result = model.load_state_dict(state, strict=False)
    return sorted(result.missing_keys), sorted(result.unexpected_keys)


def layer_norm(tokens, norms, stage):
    """``tokens`` (channels last) normalised with the exported stage norm of ``stage``."""
    return torch.nn.functional.layer_norm(
        tokens, tokens.shape[-1:], norms[f"{stage}.weight"], norms[f"{stage}.bias"]
    )


def assert_close(actual, expected):
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-4)
