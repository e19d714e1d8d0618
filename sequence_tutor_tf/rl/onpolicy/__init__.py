"""On-policy baselines on the RL core's priors, task rewards and batched sampler.

Sequence Tutor's claim is that off-policy KL-control (q, psi, g) is a good way to tune a
sequence model toward a reward while keeping what it learned from data. These are the methods
used instead, each a compiled update on whole sequences collected with `rl.rollout.play`:

- reinforce_kl: REINFORCE, per-token KL(policy || prior) penalty in the reward, baseline;
- ppo_kl: clipped PPO with a value head, GAE and a fixed or adaptive KL coefficient;
- dap: REINVENT's augmented-likelihood loss over whole sequences;
- raml: reward-augmented maximum likelihood around training sequences.

Domain-free like the rest of rl/: a domain supplies training sequences (raml) and bucket keys
(dap's diversity filter) as plain callables.
"""
from sequence_tutor_tf.rl.hparams import ONPOLICY_ALGORITHMS as ALGORITHMS  # noqa: F401
