"""One tuning run's settings, validated once: the `tune` flags, tuner_config.json, `RLTuner`,
`reproduce` and the benchmarks all derive from `TunerConfig` (and a domain's own settings).

Each domain names two settings (`--settings`, tables in music/tune_settings.py and
molecules/tune_settings.py): `code`, the released code's behaviour exactly, defects included,
and `paper`, the paper's method as its text describes it with the code's defects fixed. The
defaults of the fields below are magenta's rl_tuner_train.py. Flags the user gives win.
"""
import dataclasses
import math
from typing import Optional

from sequence_tutor_tf.rl.hparams import (EXPLORATION_MODES, TUNE_ALGORITHMS,
                                          rl_tuner_train_dqn_hparams, validate_dqn_hparams)

MAX_SEED = 2 ** 32 - 1

# Settings that may change when a run resumes (they do not change what was learned so far).
RESUMABLE_CHANGES = frozenset({"training_steps", "eval_trials", "overlap_collection", "jit"})


def _f(help_text, **meta):
    return dict(meta, help=help_text)


@dataclasses.dataclass(frozen=True)
class TunerConfig:
    algorithm: str = dataclasses.field(default="q", metadata=_f(
        "q (Q-learning with log-prior reward), psi (Psi-learning), g (G-learning) or pure_rl "
        "(Q on the task reward alone); on-policy baselines: reinforce_kl, ppo_kl, dap, raml "
        "(docs/baselines.md)", choices=TUNE_ALGORITHMS))
    reward_scaler: float = dataclasses.field(default=0.1, metadata=_f(
        "weight of the task reward in r = log p_prior(a|s) + reward_scaler * r_task (1/c in the "
        "paper)", low=0.0))
    training_steps: int = dataclasses.field(default=1_000_000, metadata=_f(
        "environment steps in all (a rerun extends a finished run to this many)", low=1))
    exploration_steps: int = dataclasses.field(default=500_000, metadata=_f(
        "steps over which egreedy's random-action probability anneals from 1.0 (boltzmann "
        "samples instead)", low=0))
    exploration_mode: str = dataclasses.field(default="boltzmann", metadata=_f(
        "egreedy or boltzmann (sample the next token from the policy's softmax)",
        choices=EXPLORATION_MODES))
    stochastic_observations: bool = dataclasses.field(default=False, metadata=_f(
        "sample the next observation from the policy even under egreedy (the original's flag)"))
    output_every_nth: int = dataclasses.field(default=50_000, metadata=_f(
        "steps between evaluations, reward batches and checkpoints", low=1))
    num_envs: int = dataclasses.field(default=256, metadata=_f(
        "sequences played in parallel (1 = the original's schedule)", low=1))
    updates_per_step: Optional[float] = dataclasses.field(default=None, metadata=_f(
        "learner updates per env step, e.g. 0.2 or 1/64 (None: 1/train_every_nth)",
        no_flag=True))
    overlap_collection: bool = dataclasses.field(default=False, metadata=_f(
        "run each step's learner updates on a worker thread while the next step is collected "
        "(a second CPU core; the policy acts one batch of updates behind)"))
    eval_trials: int = dataclasses.field(default=100, metadata=_f(
        "sequences per evaluation (0 disables evaluation)", low=0))
    learning_rate: float = dataclasses.field(default=0.001, metadata=_f(
        "Adam's learning rate (0.001: TF1 AdamOptimizer's default, which the original uses)",
        low=0.0, low_open=True, high=1.0))
    hparams: str = dataclasses.field(default="", metadata=_f(
        "DQN hparam overrides, e.g. 'minibatch_size=64,discount_rate=0.95' (base: "
        "rl_tuner_train.py's, discount_rate=0.5)"))
    fix_quirks: bool = dataclasses.field(default=False, metadata=_f(
        "fix the original's defects (docs/differences/rl.md)"))
    behaviour: str = dataclasses.field(default="", metadata=_f(
        "single behaviour switches over --fix-quirks, e.g. 'g_trains_prior=false,"
        "credit_greedy_action=true' (rl/behaviour.py names them)", metavar="SWITCHES"))
    replay: str = dataclasses.field(default="uniform", metadata=_f(
        "uniform (the original's replay) or prioritized (the molecule research code's: "
        "priority (|TD error| + 0.01)^0.5, no importance weights)",
        choices=("uniform", "prioritized")))
    jit: bool = dataclasses.field(default=True, metadata=_f(
        "compile the learner updates with XLA"))
    seed: int = dataclasses.field(default=0, metadata=_f("seed", no_flag=True))

    def __post_init__(self):
        check_config(self)

    def dqn_hparams(self):
        hp = rl_tuner_train_dqn_hparams()
        if self.hparams:
            try:
                hp.parse(self.hparams)
            except ValueError as e:
                raise ValueError(f"--hparams {self.hparams!r}: {e}") from None
        try:
            return validate_dqn_hparams(hp)
        except ValueError as e:
            raise ValueError(f"--hparams: {e}") from None

    def original_behaviour(self):
        """The OriginalBehaviour switches: all faithful, all fixed (fix_quirks), then the single
        switches of `behaviour`."""
        from sequence_tutor_tf.rl.behaviour import OriginalBehaviour
        base = OriginalBehaviour.fixed() if self.fix_quirks else OriginalBehaviour()
        return dataclasses.replace(base, **parse_switches(self.behaviour))

    def engine_kwargs(self):
        """The RLEngine arguments this configuration sets."""
        return dict(algorithm=self.algorithm, dqn_hparams=self.dqn_hparams(),
                    reward_scaler=self.reward_scaler, exploration_mode=self.exploration_mode,
                    stochastic_observations=self.stochastic_observations,
                    num_envs=self.num_envs, updates_per_step=self.updates_per_step,
                    output_every_nth=self.output_every_nth, eval_num_trials=self.eval_trials,
                    behaviour=self.original_behaviour(), seed=self.seed, jit_compile=self.jit,
                    overlap_collection=self.overlap_collection,
                    learning_rate=self.learning_rate, replay=self.replay)

    def to_dict(self):
        return dataclasses.asdict(self)

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


def parse_switches(text):
    """'a=true,b=false' -> {'a': True, 'b': False}, names checked against OriginalBehaviour."""
    from sequence_tutor_tf.rl.behaviour import OriginalBehaviour
    known = {f.name for f in dataclasses.fields(OriginalBehaviour)}
    out = {}
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        name, _, value = item.partition("=")
        name, value = name.strip(), value.strip().lower()
        if name not in known:
            raise ValueError(f"behaviour: unknown switch {name!r}; known: {sorted(known)}")
        if value not in ("true", "false"):
            raise ValueError(f"behaviour: {name} must be true or false, got {value!r}")
        out[name] = value == "true"
    return out


def _check_int(name, value, low, high=None):
    if isinstance(value, bool) or not isinstance(value, int) or value < low or \
            (high is not None and value > high):
        bound = f"in {low}..{high}" if high is not None else f">= {low}"
        raise ValueError(f"{name.replace('_', '-')} must be an integer {bound}, got {value!r}")


def _check_float(name, value, low=None, low_open=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value):
        raise ValueError(f"{name.replace('_', '-')} must be a finite number, got {value!r}")
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(f"{name.replace('_', '-')} must be {'>' if low_open else '>='} {low}, "
                         f"got {value!r}")


def check_config(c):
    """ValueError naming the first bad setting (the flag's name) and what was expected."""
    if c.algorithm not in TUNE_ALGORITHMS:
        raise ValueError(f"algorithm must be one of {list(TUNE_ALGORITHMS)}, got "
                         f"{c.algorithm!r}")
    if c.exploration_mode not in EXPLORATION_MODES:
        raise ValueError(f"exploration-mode must be one of {list(EXPLORATION_MODES)}, got "
                         f"{c.exploration_mode!r}")
    if c.replay not in ("uniform", "prioritized"):
        raise ValueError(f"replay must be uniform or prioritized, got {c.replay!r}")
    _check_float("reward_scaler", c.reward_scaler, 0.0)
    _check_float("learning_rate", c.learning_rate, 0.0, low_open=True)
    if c.learning_rate > 1.0:
        raise ValueError(f"learning-rate must be at most 1, got {c.learning_rate!r}")
    _check_int("training_steps", c.training_steps, 1)
    _check_int("exploration_steps", c.exploration_steps, 0)
    _check_int("output_every_nth", c.output_every_nth, 1)
    _check_int("num_envs", c.num_envs, 1)
    _check_int("eval_trials", c.eval_trials, 0)
    _check_int("seed", c.seed, 0, MAX_SEED)
    if c.updates_per_step is not None:
        _check_float("updates_per_step", c.updates_per_step, 0.0, low_open=True)
    if not isinstance(c.hparams, str):
        raise ValueError(f"hparams must be a string like 'minibatch_size=64', got "
                         f"{c.hparams!r}")
    c.dqn_hparams()
    if not isinstance(c.behaviour, str):
        raise ValueError(f"behaviour must be a string like 'g_trains_prior=false', got "
                         f"{c.behaviour!r}")
    parse_switches(c.behaviour)


def settings_layer(named, name):
    """The TunerConfig values of setting `name` from a domain's table of named settings."""
    if name not in named:
        raise ValueError(f"--settings must be one of {sorted(named)}, got {name!r}")
    return dict(named[name])


# Settings that are lists of overrides: a user's value adds to the named setting's instead of
# replacing it (`--hparams minibatch_size=64` under molecules' settings keeps their discount).
ADDITIVE = ("hparams", "behaviour")


def layer_over(base, over):
    """`over` on top of `base` (dicts of TunerConfig values), the ADDITIVE ones joined."""
    out = dict(base)
    for key, value in over.items():
        if key in ADDITIVE and out.get(key) and value:
            out[key] = f"{out[key]},{value}"
        else:
            out[key] = value
    return out


def differences(stored, new, ignore=RESUMABLE_CHANGES, defaults=None):
    """[(name, stored value, new value)] of the settings that differ, `ignore` left out.

    A setting added after a run was stored counts as its default there: TunerConfig's (e.g.
    replay) and those given in `defaults` (e.g. a domain setting's, as 'domain.reward')."""
    keys = sorted((set(stored) | set(new)) - set(ignore))
    defaults = dict({f.name: f.default for f in dataclasses.fields(TunerConfig)},
                    **(defaults or {}))
    old = lambda k: stored.get(k, defaults.get(k))  # noqa: E731
    return [(k, old(k), new.get(k)) for k in keys if old(k) != new.get(k)]
