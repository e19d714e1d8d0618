"""The RL Tuner's DQN hyperparameters, with the original names and defaults, and their checks.

`default_dqn_hparams()` matches magenta's `rl_tuner_ops.default_dqn_hparams()` value for value, so
notebooks that build or override it keep working; `validate_dqn_hparams` turns a bad value into an
error naming the hparam instead of a failure deep inside training.
"""
from sequence_tutor_tf.utils.hparams import HParams

ALGORITHMS = ("q", "psi", "g", "pure_rl")
# On-policy baselines (rl/onpolicy/, docs/baselines.md); `tune --algorithm` takes either kind.
ONPOLICY_ALGORITHMS = ("reinforce_kl", "ppo_kl", "dap", "raml")
TUNE_ALGORITHMS = ALGORITHMS + ONPOLICY_ALGORITHMS
EXPLORATION_MODES = ("egreedy", "boltzmann")


def default_dqn_hparams():
    """The original's defaults (discount 0.95; rl_tuner_train.py uses 0.5)."""
    return HParams(
        random_action_probability=0.1,
        store_every_nth=1,
        train_every_nth=5,
        minibatch_size=32,
        discount_rate=0.95,
        max_experience=100000,
        target_network_update_rate=0.01)


def rl_tuner_train_dqn_hparams():
    """The hparams magenta's rl_tuner_train.py script uses (the paper's runs): discount 0.5."""
    hp = default_dqn_hparams()
    hp.discount_rate = 0.5
    return hp


_POSITIVE_INTS = ("store_every_nth", "train_every_nth", "minibatch_size", "max_experience")
_UNIT_FLOATS = ("random_action_probability", "discount_rate", "target_network_update_rate")


def validate_dqn_hparams(hparams):
    """Raises ValueError naming the first bad hparam; returns the hparams."""
    values = hparams.values() if hasattr(hparams, "values") else dict(hparams)
    missing = [n for n in _POSITIVE_INTS + _UNIT_FLOATS if n not in values]
    if missing:
        raise ValueError(f"dqn_hparams lacks {missing}; start from default_dqn_hparams()")
    for name in _POSITIVE_INTS:
        v = values[name]
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise ValueError(f"dqn hparam {name} must be a positive int, got {v!r}")
    for name in _UNIT_FLOATS:
        v = values[name]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
            raise ValueError(f"dqn hparam {name} must be a number in [0, 1], got {v!r}")
    if values["minibatch_size"] > values["max_experience"]:
        raise ValueError(f"dqn hparam minibatch_size ({values['minibatch_size']}) exceeds "
                         f"max_experience ({values['max_experience']}): no update could run")
    return hparams


def check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value
