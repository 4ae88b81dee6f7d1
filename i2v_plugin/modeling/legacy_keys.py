"""Checkpoint names of earlier versions, renamed on load.

Before the objectives became registered modules, the discriminators lived under
``adversarial.placement_losses.<placement>.`` and ``adversarial.clustered_loss.``, and the
self-training teacher under ``self_training.``. They are now ``objectives.<name>.``; this hook lets
``--resume`` and ``MODEL.WEIGHTS`` read checkpoints written before the change.
"""

import re

_RENAMES = (
    (re.compile(r"^adversarial\.placement_losses\.([^.]+)\."), r"objectives.adv_\1.loss."),
    (re.compile(r"^adversarial\.clustered_loss\."), "objectives.adv_cluster.loss."),
    (re.compile(r"^self_training\."), "objectives.self_training."),
)


def legacy_name(key: str) -> str:
    """The current name of checkpoint key ``key`` (unchanged when it is already current)."""
    for pattern, replacement in _RENAMES:
        key = pattern.sub(replacement, key)
    return key


def rename_legacy_keys(module, state_dict, prefix, *args) -> None:
    """``load_state_dict`` pre-hook of the meta-architecture: renames old keys in place."""
    for key in [k for k in state_dict if k.startswith(prefix)]:
        new = prefix + legacy_name(key[len(prefix) :])
        if new != key and new not in state_dict:
            state_dict[new] = state_dict.pop(key)
