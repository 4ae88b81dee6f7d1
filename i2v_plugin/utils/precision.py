"""Float32 regions inside mixed precision.

Under ``torch.autocast`` the matmuls and convolutions of a region run in float16 or bfloat16.
Parts whose result must not depend on that (K-means distances, phase correlation, the EMA
teacher update, loss reductions) run inside ``float32_region`` on inputs cast with ``.float()``:
autocast is off there, so every op runs in float32, whatever the caller's autocast state.
"""

import torch


def float32_region(device: torch.device | str) -> torch.autocast:
    """A context in which autocast is off for ``device``'s type ("cpu", "cuda", ...).

    Args:
        device: the device the region's tensors live on (a ``torch.device`` or a string such as
            "cuda:0").
    Returns:
        ``torch.autocast(device_type, enabled=False)``; ops inside run in their inputs' dtype,
        so callers pass float32 tensors (``x.float()``).
    """
    return torch.autocast(device_type=torch.device(device).type, enabled=False)
