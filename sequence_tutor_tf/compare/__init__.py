"""`sequence-tutor compare`: every learner (q, psi, g, pure_rl and the on-policy baselines) on
the same prior, task reward and number of environment steps, scored the same way."""
