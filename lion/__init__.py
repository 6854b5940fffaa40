"""Lion, the optimizer found by symbolic program search (Chen et al., 2023).

Usage with optax::

    from lion import lion
    tx = lion(learning_rate=1e-4, weight_decay=1.0)

PyTorch users import :class:`lion.torch.Lion` (needs the ``[torch]`` extra);
importing :mod:`lion` itself never imports torch.
"""

from lion.optax_lion import LionState, ScaleByLionState, lion, scale_by_lion

__all__ = ["LionState", "ScaleByLionState", "lion", "scale_by_lion"]
