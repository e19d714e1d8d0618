"""Switches for the original RL Tuner's questionable behaviours (see docs/differences/rl.md).

Each field is True where we reproduce magenta's behaviour. `OriginalBehaviour()` is the faithful
default, so results are comparable with the paper's; `OriginalBehaviour.fixed()` turns every
defect off (`--fix-quirks` on the CLI).
"""
import dataclasses


@dataclasses.dataclass(frozen=True)
class OriginalBehaviour:
    # G-learning's target uses the Reward RNN without stop_gradient, and the optimiser updates
    # every trainable variable: the "frozen" prior is trained by each G update.
    g_trains_prior: bool = True
    # Boltzmann (and stochastic_observations) stores the greedy action as the action taken, while
    # the reward and next observation come from the sampled note.
    credit_greedy_action: bool = True
    # get_random_note draws from randint(0, num_actions - 1): the last class is never drawn.
    random_note_excludes_last: bool = True
    # evaluate_model assigns (not sums) each step's reward, so only the last step counts.
    eval_last_step_only: bool = True
    # evaluate_model calls action(), which advances the egreedy annealing counter.
    eval_advances_exploration: bool = True
    # random_midi priming draws a separate melody for the Reward RNN than for the Q network.
    prime_prior_independently: bool = True
    # No terminal masking: the discounted target of a composition's last note bootstraps from the
    # next composition's first state.
    discount_across_compositions: bool = True
    # TF1 keeps one kernel per LSTM layer ([input; h] x 4u): clip_by_norm(5) sees the input and
    # recurrent kernels' gradients as one tensor. False clips each Keras variable on its own.
    clip_lstm_kernels_jointly: bool = True

    @classmethod
    def fixed(cls):
        """Every defect fixed; the TF1 clipping layout is not a defect and is kept."""
        return cls(g_trains_prior=False, credit_greedy_action=False,
                   random_note_excludes_last=False, eval_last_step_only=False,
                   eval_advances_exploration=False, prime_prior_independently=False,
                   discount_across_compositions=False)

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown behaviour switches {unknown}; known: {sorted(known)}")
        return cls(**values)
