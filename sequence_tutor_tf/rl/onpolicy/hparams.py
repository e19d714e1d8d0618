"""Each on-policy learner's settings, with the defaults of the method's own origin.

The off-policy learners keep the RL Tuner's schedule; these take the conventional one of the
paper or library they come from (docs/baselines.md lists the sources). `--learner-hparams
'name=value,...'` overrides them; an unknown name is an error naming the known ones.
"""
from sequence_tutor_tf.utils.hparams import HParams

DEFAULTS = {
    # REINFORCE with the KL penalty in the reward: kl_coef = 1 with reward_scaler = 1/c is the
    # paper's KL-control objective E[r/c] - KL(pi || p) exactly (Jaques et al. eq. 4).
    "reinforce_kl": dict(kl_coef=1.0, clip_norm=5.0),
    # Ziegler et al. 2019 / TRL's PPOConfig: 4 epochs, clip 0.2, value clip 0.2, vf_coef 0.1,
    # gamma 1, lambda 0.95, adaptive KL from 0.2 toward 6 nats per sequence over 10k sequences.
    "ppo_kl": dict(kl_coef=0.2, adaptive_kl=True, target_kl=6.0, horizon=10000,
                   ppo_epochs=4, num_minibatches=4, cliprange=0.2, cliprange_value=0.2,
                   vf_coef=0.1, gamma=1.0, lam=0.95, whiten_advantages=True, clip_norm=5.0),
    # REINVENT 2/3's DAP: sigma 128 on a score in [0, 1] (a sigmoid transform of the task
    # reward, as REINVENT's score components are); optional diversity filter (molecules).
    "dap": dict(sigma=128.0, score_low=float("nan"), score_high=float("nan"),
                diversity_filter=False, bucket_size=25, min_score=0.4, clip_norm=5.0),
    # Norouzi et al. 2016: tau of the edit-distance part chosen so about 10% of a sequence's
    # tokens are substituted; the task part weights exp(reward_scaler * R(y)); K proposals per
    # target, one drawn by importance resampling.
    "raml": dict(tau=0.17, task_weight=1.0, proposals=4, clip_norm=5.0),
}


def learner_hparams(algorithm, overrides=""):
    """HParams of `algorithm`'s defaults with 'a=1,b=2' (or a dict) on top."""
    if algorithm not in DEFAULTS:
        raise ValueError(f"no on-policy learner {algorithm!r}; known: {sorted(DEFAULTS)}")
    hp = HParams(**DEFAULTS[algorithm])
    try:
        if isinstance(overrides, dict):
            hp.override_from_dict(overrides)
        elif overrides:
            hp.parse(overrides)
    except (ValueError, TypeError) as e:
        raise ValueError(f"--learner-hparams for {algorithm}: {e}") from None
    return hp
