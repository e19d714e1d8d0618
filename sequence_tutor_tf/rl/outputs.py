"""What a tuning run leaves in RUN_DIR for people and for the export helper.

RUN_DIR/q_network/ and RUN_DIR/reward_rnn/ (our Note RNN format; for G the reward_rnn is the
prior the policy adds to its scores), RUN_DIR/tuner_config.json, plots/ and samples/.
"""
import json
import os

from sequence_tutor_tf.utils.files import atomic_write_text


def tuner_config(engine, extra=None):
    config = {"algorithm": engine.algorithm, "hparams": engine.hparams.values(),
              "reward_mode": engine.reward_mode, "reward_scaler": engine.reward_scaler,
              "num_notes_in_melody": engine.domain.sequence_length,
              "exploration_mode": engine.exploration_mode,
              "stochastic_observations": engine.stochastic_observations,
              "temperature": 1.0, "num_envs": engine.num_envs,
              "updates_per_step": engine.updates_per_step,
              "behaviour": engine.behaviour.to_dict(), "env_steps": engine.env_steps}
    config.update(extra or {})
    return config


def save_networks(engine, run_dir, extra_config=None):
    """Q network and prior in our format, plus tuner_config.json (atomic writes)."""
    from sequence_tutor_tf.models.checkpoints import save_note_rnn
    save_note_rnn(engine.q_network, os.path.join(run_dir, "q_network"), engine.env_steps)
    save_note_rnn(engine.prior, os.path.join(run_dir, "reward_rnn"), engine.env_steps)
    atomic_write_text(os.path.join(run_dir, "tuner_config.json"),
                      json.dumps(tuner_config(engine, extra_config), indent=2, default=str))


def write_midi(events, path, rl_tuner_pitch=False):
    from note_seq import midi_io

    from sequence_tutor_tf.music.encoding import events_to_note_sequence
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    midi_io.sequence_proto_to_midi_file(
        events_to_note_sequence(events, rl_tuner_pitch=rl_tuner_pitch), path)
    return path


def save_plots(engine, directory, name):
    from sequence_tutor_tf.rl import plots
    plots.plot_rewards(engine, os.path.join(directory, f"TrainRewards-{name}.png"))
    if engine.eval_avg_reward:
        plots.plot_evaluation(engine, os.path.join(directory, f"EvaluationRewards-{name}.png"))
    if engine.target_val_list:
        plots.plot_target_vals(engine, os.path.join(directory, f"TargetVals-{name}.png"))
