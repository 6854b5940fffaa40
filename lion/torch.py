"""The Lion optimizer for PyTorch (needs the ``[torch]`` extra).

The same algorithm as :func:`lion.lion`, per parameter ``w`` with gradient ``g``
and momentum ``m``::

  c = b1 * m + (1 - b1) * g
  w = w - lr * (sign(c) + weight_decay * w)
  m = b2 * m + (1 - b2) * g

Importing :mod:`lion` does not import this module (nor torch).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, Optional

import torch

__all__ = ["Lion"]


def _check_number(name: str, value: Any, low: float, high: Optional[float] = None) -> float:
    """``value`` as a float, checked to lie in ``[low, high)`` (``[low, inf)``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            value = value.item()
        else:
            raise ValueError(f"Lion: {name} must be a number, got {value!r}.")
    value = float(value)
    if not math.isfinite(value) or value < low or (high is not None and value >= high):
        interval = f"[{low}, {high})" if high is not None else f">= {low}"
        raise ValueError(f"Lion: {name} must be {interval}, got {value}.")
    return value


def _check_betas(betas: Any) -> tuple[float, float]:
    try:
        b1, b2 = betas
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Lion: betas must be a pair (b1, b2), got {betas!r}.") from exc
    return _check_number("b1", b1, 0.0, 1.0), _check_number("b2", b2, 0.0, 1.0)


class Lion(torch.optim.Optimizer):
    """Lion (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms").

    Keeps one state tensor per parameter, ``exp_avg`` (the momentum), in the
    parameter's dtype. Use a learning rate 3-10x smaller than AdamW's and a
    weight decay 3-10x larger, so that ``lr * weight_decay`` stays about the same.

    Args:
        params: parameters or parameter groups (dicts), as for any
            ``torch.optim.Optimizer``; a group may override ``lr``, ``betas``
            and ``weight_decay``.
        lr: learning rate, >= 0.
        betas: ``(b1, b2)``: interpolation factor of the sign's argument and
            decay rate of the momentum, each in [0, 1).
        weight_decay: decoupled weight decay, >= 0, scaled by ``lr``.
        foreach: use the multi-tensor ``torch._foreach_*`` path; ``None``
            picks it when every parameter is on an accelerator, the simple
            per-parameter loop otherwise.

    Example:
        >>> import torch
        >>> from lion.torch import Lion
        >>> w = torch.nn.Parameter(torch.tensor([1.0, -2.0, 3.0]))
        >>> opt = Lion([w], lr=0.1, weight_decay=0.5)
        >>> (w ** 2).sum().backward()
        >>> opt.step()
        >>> w.data
        tensor([ 0.8500, -1.8000,  2.7500])
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.9, 0.99),
        weight_decay: float = 0.0,
        *,
        foreach: Optional[bool] = None,
    ):
        defaults = dict(
            lr=_check_number("lr", lr, 0.0),
            betas=_check_betas(betas),
            weight_decay=_check_number("weight_decay", weight_decay, 0.0),
            foreach=foreach,
        )
        super().__init__(params, defaults)
        # Group-level overrides are validated too.
        for group in self.param_groups:
            _check_number("lr", group["lr"], 0.0)
            group["betas"] = _check_betas(group["betas"])
            _check_number("weight_decay", group["weight_decay"], 0.0)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)

    @torch.no_grad()
    def step(self, closure: Optional[Callable[[], Any]] = None) -> Any:
        """Performs one optimization step.

        Args:
            closure: optional function that re-evaluates the model and returns
                the loss.

        Returns:
            The closure's loss, or ``None``.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        for group in self.param_groups:
            params, grads, exp_avgs = [], [], []
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError("Lion does not support sparse gradients.")
                state = self.state[p]
                if "exp_avg" not in state:
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                params.append(p)
                grads.append(p.grad)
                exp_avgs.append(state["exp_avg"])
            if not params:
                continue

            b1, b2 = group["betas"]
            kwargs = dict(lr=group["lr"], b1=b1, b2=b2, weight_decay=group["weight_decay"])
            foreach = group["foreach"]
            if foreach is None:
                foreach = all(p.device.type != "cpu" for p in params)
            if foreach:
                _lion_foreach(params, grads, exp_avgs, **kwargs)
            else:
                _lion_single_tensor(params, grads, exp_avgs, **kwargs)
        return loss


def _lion_single_tensor(params, grads, exp_avgs, *, lr, b1, b2, weight_decay):
    """The simple path: one parameter at a time."""
    for p, g, m in zip(params, grads, exp_avgs):
        direction = torch.mul(g, 1.0 - b1).add_(m, alpha=b1).sign_()
        if weight_decay != 0.0:
            direction.add_(p, alpha=weight_decay)
        p.add_(direction, alpha=-lr)
        m.mul_(b2).add_(g, alpha=1.0 - b2)


def _lion_foreach(params, grads, exp_avgs, *, lr, b1, b2, weight_decay):
    """The multi-tensor path: a few ``torch._foreach_*`` kernels per device and dtype."""
    buckets: dict[tuple[torch.device, torch.dtype], tuple[list, list, list]] = {}
    for p, g, m in zip(params, grads, exp_avgs):
        bucket = buckets.setdefault((p.device, p.dtype), ([], [], []))
        bucket[0].append(p)
        bucket[1].append(g)
        bucket[2].append(m)
    for ps, gs, ms in buckets.values():
        direction = torch._foreach_mul(gs, 1.0 - b1)
        torch._foreach_add_(direction, ms, alpha=b1)
        torch._foreach_sign_(direction)
        if weight_decay != 0.0:
            torch._foreach_add_(direction, ps, alpha=weight_decay)
        torch._foreach_add_(ps, direction, alpha=-lr)
        torch._foreach_mul_(ms, b2)
        torch._foreach_add_(ms, gs, alpha=1.0 - b2)
