"""What a :class:`~evaluators.suite.SuiteEvaluator` trains programs on, and how: the
suite, the seeds, the step size, the symmetries the fitness is judged through, the
hurdle and the held-out seeds.

Example:
    >>> EvaluatorConfig(suite="mlp", seeds=(0, 1), confirm_seeds=(2, 3)).confirm_seeds
    (2, 3)
"""

from __future__ import annotations

from dataclasses import dataclass

from .step_size import FIRST_PROBE_MULTIPLES

PROGRAM_AXES = ("map", "vmap")


STEP_SIZES = ("tuned", "fixed")


@dataclass(frozen=True)
class EvaluatorConfig:
    """What to evaluate on, and how.

    Attributes:
        suite: a suite name (``cpu``, ``gpu``, ``meta10``, ``meta100``), task names
            (comma-separated; ``mlp`` is the proxy size, ``mlp@meta10`` another), a
            sequence of ``(task, size)`` pairs, or of
            :class:`~evaluators.tasks.ProxyTask` objects.
        seeds: training seeds; every program and the reference use the same ones.
        max_length: statements per encoded program (live statements must fit).
        batch_size: programs per compiled call.
        num_state_slots: state slots of the programs.
        program_axis: ``"map"`` (CPU) or ``"vmap"`` (accelerators); None picks by device.
        device: ``"cpu"``, ``"gpu"``, ``"tpu"`` or None for jax's default.
        reference: the seed program fitness is measured against.
        step_size: ``"tuned"``: each program (and the reference) is scored per task at
            its best global step multiplier (:mod:`evaluators.step_size`); ``"fixed"``:
            as written (multiplier 1).
        tune_seeds: how many of the leading ``seeds`` the multiplier search trains on;
            the other seeds run once, at the multiplier found.
        sign_flips: train every program in randomly sign-flipped coordinates (one draw
            per seed; :func:`evaluators.training.run_training`): programs that commute
            with sign flips (Lion, Adam, SGD) score as without, bit for bit; a constant
            drift cannot exploit which sign a task's parameters prefer.
        schedule_input: programs read the task's schedule value as ``lr``; when False
            (the default) they read ``lr = 1`` and the schedule multiplies their update
            (:func:`evaluators.interpreter.program_optimizer`): the same for programs
            linear in ``lr`` (Lion, AdamW), and no program can win by reshaping the
            schedule (``sqrt(lr)`` decays slower than the cosine, and won on the proxy).
        scale_gradients: programs see each parameter tensor's gradient at its own power
            of two, drawn per seed (:func:`evaluators.training.gradient_scales`, ``2 **
            -6 .. 2 ** 6``): elementwise programs invariant to the gradient's scale (Lion,
            signum, Adam) score as without it; a mixture such as ``sign(m) + c g`` cannot
            be tuned to one scale.
        hurdle_probes: where a child with a hurdle is first trained, as multiples of
            its centre (each one of the step-size search's first probes: 1/4, 1, 4, so
            passing costs nothing); its hurdle fitness is the best of them. ``(1,)``:
            its parent's step; ``(1, 4)`` also 4x it, where a child whose best step is
            far above its parent's (Lion's is 16x signum's at the same update size) can
            pass.
        confirm_seeds: held-out seeds for the selection (none by default). A program
            whose fitness on ``seeds`` reaches its *bar* (passed to :meth:`evaluate`;
            the search passes its parent's fitness) is trained again on these at the
            multipliers it was scored at, and its fitness is taken over ``seeds`` and
            these together (the reference is run on them too): an apparent improvement
            is confirmed on fresh seeds before it can lead, so that a lucky draw on
            the search's few seeds is not kept at its lucky value.
    """

    suite: str | tuple = "cpu"
    seeds: tuple[int, ...] = (0, 1)
    max_length: int = 32
    batch_size: int = 4
    num_state_slots: int = 2
    program_axis: str | None = None
    device: str | None = None
    reference: str = "adamw"
    step_size: str = "tuned"
    tune_seeds: int = 1
    sign_flips: bool = True
    schedule_input: bool = False
    scale_gradients: bool = True
    hurdle_probes: tuple[float, ...] = (1.0,)
    confirm_seeds: tuple[int, ...] = ()

    def __post_init__(self):
        if not self.seeds:
            raise ValueError("seeds must not be empty")
        if self.max_length < 1 or self.batch_size < 1:
            raise ValueError("max_length and batch_size must be >= 1")
        if self.program_axis not in (None, *PROGRAM_AXES):
            raise ValueError(f"program_axis must be one of {PROGRAM_AXES}")
        if self.step_size not in STEP_SIZES:
            raise ValueError(f"step_size must be one of {', '.join(STEP_SIZES)}, "
                             f"not {self.step_size!r}")
        if not 1 <= self.tune_seeds:
            raise ValueError("tune_seeds must be >= 1")
        if not self.hurdle_probes or not set(self.hurdle_probes) <= set(FIRST_PROBE_MULTIPLES):
            raise ValueError(f"hurdle_probes must be a non-empty list of "
                             f"{list(FIRST_PROBE_MULTIPLES)}, not {list(self.hurdle_probes)}")
        if not held_out_seeds_are_fresh(self.seeds, self.confirm_seeds):
            raise ValueError(f"confirm_seeds must be distinct and not among seeds "
                             f"{list(self.seeds)}, not {list(self.confirm_seeds)}")


def held_out_seeds_are_fresh(seeds, confirm_seeds) -> bool:
    """Whether ``confirm_seeds`` are distinct and none of them is among ``seeds``.

    >>> held_out_seeds_are_fresh((0, 1), (2, 3)), held_out_seeds_are_fresh((0, 1), (1, 2))
    (True, False)
    """
    return len(set(confirm_seeds)) == len(confirm_seeds) and not set(confirm_seeds) & set(seeds)
