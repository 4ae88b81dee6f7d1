"""``TappableBackbone``: the one contract every i2v backbone follows.

A backbone is a chain of named stages (e.g. ``patch_embed, res2, ..., res5``). The base class owns
the bookkeeping that is the same for all of them: stage names, the channels and stride of every
stage's map, the default outputs, ``size_divisibility``, the placement -> map table of the
adversarial losses, stopping after the deepest requested map, and clips. A subclass only says
how to run one stage (``run_stage``) and how to turn its state into an NCHW (or NCTHW) map
(``stage_map``).

Clips: ``forward_frames`` takes (B, T, C, H, W) clips (a still image is a clip of length 1) and
returns per-frame maps (B*T, C, h, w), clip-major. A 2D backbone folds time into the batch before
running; a clip backbone (``takes_clips``) runs on (B, C, T, H, W) and folds time afterwards.
"""

import torch
from detectron2.modeling import Backbone, ShapeSpec

# Placements of the adversarial losses that every backbone offers, besides its stage names:
# "spatial" taps the first stage (the patch embedding), "global" the last (the encoder output).
GENERIC_PLACEMENTS = ("spatial", "global")


class TappableBackbone(Backbone):
    """Detectron2 backbone made of named stages, any of which can be tapped.

    Class attributes a subclass sets:
        stage_names: stage names in depth order; the first is the "spatial" tap, the last the
            "global" one.
        takes_clips: True when ``forward`` takes clips (B, C, T, H, W) and returns maps with a
            time axis (B, C, T, h, w); False for image backbones (B, C, H, W).
    """

    stage_names: tuple[str, ...] = ()
    takes_clips: bool = False

    def __init__(self, channels: dict[str, int], strides: dict[str, int], out_features):
        """
        Args:
            channels, strides: channels and spatial stride of every stage's map (keys:
                ``stage_names``).
            out_features: names ``forward`` returns by default.
        """
        super().__init__()
        if set(channels) != set(self.stage_names) or set(strides) != set(self.stage_names):
            raise ValueError(
                f"{type(self).__name__}: channels and strides must name exactly the stages "
                f"{self.stage_names}; got {sorted(channels)} and {sorted(strides)}"
            )
        self._check_names(out_features, "out_features")
        self._feature_channels = dict(channels)
        self._feature_strides = dict(strides)
        self._out_features = list(out_features)
        self._out_feature_channels = {k: channels[k] for k in out_features}
        self._out_feature_strides = {k: strides[k] for k in out_features}

    # ---- the contract ---------------------------------------------------------------------------

    @property
    def placement_features(self) -> dict[str, str]:
        """Placement name -> map it taps: "spatial", "global" and every stage name."""
        table = {"spatial": self.stage_names[0], "global": self.stage_names[-1]}
        table.update({name: name for name in self.stage_names})
        return table

    @property
    def size_divisibility(self) -> int:
        # Sides that are multiples of the deepest stride give exact map sizes at every tap.
        return self._feature_strides[self.stage_names[-1]]

    def feature_shapes(self) -> dict[str, ShapeSpec]:
        """Channels and stride of every tappable map (all stages, not only the outputs)."""
        return {
            k: ShapeSpec(channels=self._feature_channels[k], stride=self._feature_strides[k])
            for k in self.stage_names
        }

    def run_stage(self, name: str, state):
        """Run stage ``name`` on the previous stage's state (the input for the first stage) and
        return its state. Subclasses implement it."""
        raise NotImplementedError

    def stage_map(self, name: str, state) -> torch.Tensor:
        """The output map of stage ``name`` from its state: NCHW, or NCTHW for clip backbones.
        Default: the state itself."""
        return state

    # ---- shared machinery -----------------------------------------------------------------------

    def _check_names(self, names, what: str) -> None:
        unknown = sorted(set(names) - set(self.stage_names))
        if unknown or not names:
            raise ValueError(
                f"{type(self).__name__}: unknown or empty {what} {unknown or list(names)}; "
                f"choose from {self.stage_names}"
            )

    def forward(self, x: torch.Tensor, out_features=None) -> dict[str, torch.Tensor]:
        """
        Args:
            x: normalised inputs, (B, C, H, W), or (B, C, T, H, W) when ``takes_clips``; H and W
                multiples of ``size_divisibility``.
            out_features: names to return (default: the configured outputs). Stages past the
                deepest requested one are not run.
        Returns:
            dict name -> (B, C_name, H / stride, W / stride) (clip backbones: with T' after C).
        """
        expected_dims = 5 if self.takes_clips else 4
        if x.dim() != expected_dims:
            layout = "clips (B, C, T, H, W)" if self.takes_clips else "images (B, C, H, W)"
            raise ValueError(f"{type(self).__name__} takes {layout}, got {tuple(x.shape)}")
        wanted = self._out_features if out_features is None else list(out_features)
        self._check_names(wanted, "out_features")
        depth = max(self.stage_names.index(name) for name in wanted)
        outputs, state = {}, x
        for name in self.stage_names[: depth + 1]:
            state = self.run_stage(name, state)
            if name in wanted:
                outputs[name] = self.stage_map(name, state)
        return outputs

    def forward_frames(self, clips: torch.Tensor, out_features) -> dict[str, torch.Tensor]:
        """Per-frame maps of clips.

        Args:
            clips: (B, T, C, H, W) normalised clips (still images: T = 1).
            out_features: names to return.
        Returns:
            dict name -> (B*T, C_name, h, w), the frames of clip 0 first, then clip 1, ...
        """
        if clips.dim() != 5:
            raise ValueError(f"forward_frames takes clips (B, T, C, H, W), got {clips.shape}")
        if not self.takes_clips:
            return self(clips.flatten(0, 1), out_features=out_features)
        maps = self(clips.transpose(1, 2), out_features=out_features)
        for name, value in maps.items():
            if value.shape[2] != clips.shape[1]:
                raise ValueError(
                    f"Backbone map {name!r} has {value.shape[2]} time steps for clips of "
                    f"{clips.shape[1]} frames; per-frame segmentation needs a temporal patch "
                    "size of 1"
                )
        return {name: value.transpose(1, 2).flatten(0, 1) for name, value in maps.items()}
