"""The drop-in RLTuner keeps magenta's public surface and the original's bookkeeping."""
import inspect
import os

import numpy as np
import pytest

from sequence_tutor_tf.rl.hparams import default_dqn_hparams
from tests import rl_magenta_oracle as oracle


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return oracle.make_magenta_checkpoint(str(tmp_path_factory.mktemp("magenta_ckpt")))


def test_public_methods_and_constructor_match_magenta():
    from magenta.models.rl_tuner.rl_tuner import RLTuner as Original

    import sequence_tutor_tf
    ours = sequence_tutor_tf.RLTuner
    theirs = inspect.signature(Original.__init__).parameters
    mine = inspect.signature(ours.__init__).parameters
    assert list(theirs) == list(mine)[:len(theirs)]
    for name, fn in inspect.getmembers(Original, inspect.isfunction):
        if name.startswith("_") or name in ("build_graph", "store", "training_step",
                                            "get_priming_melodies", "prime_internal_model",
                                            "random_reward_shift_to_mean"):
            continue
        assert hasattr(ours, name), name
        p_theirs = list(inspect.signature(fn).parameters)
        p_ours = list(inspect.signature(getattr(ours, name)).parameters)
        assert p_ours[:len(p_theirs)] == p_theirs, name


def test_train_evaluate_save_restore(checkpoint, tmp_path):
    from sequence_tutor_tf import RLTuner
    hp = default_dqn_hparams()
    hp.minibatch_size = 8
    rlt = RLTuner(str(tmp_path), dqn_hparams=hp, algorithm="psi", output_every_nth=32,
                  num_notes_in_melody=8, note_rnn_checkpoint_dir=os.path.dirname(checkpoint),
                  note_rnn_checkpoint_file=checkpoint, seed=0)
    rlt.evaluate_model = _fast_eval(rlt)
    rlt.train(num_steps=64, exploration_period=32)
    # Original bookkeeping: evaluation at the start and at step 32; one reward batch.
    assert len(rlt.eval_avg_reward) == 2 and len(rlt.rewards_batched) == 1
    assert rlt.iteration == (64 - 8) // 5 + 1
    assert os.path.exists(os.path.join(str(tmp_path), "psi", "q_network", "note_rnn_config.json"))
    obs = rlt.prime_internal_models()
    action, new_obs, scores = rlt.action(obs, 10, enable_random=False)
    assert action.shape == (38,) and scores.shape == (38,) and action.sum() == 1
    r = rlt.collect_reward(obs, new_obs, scores)
    assert np.isfinite(r)
    path = rlt.generate_music_sequence(title="sample", length=8)
    assert os.path.exists(path)
    rlt.plot_rewards(image_name="r.png")
    assert os.path.exists(os.path.join(str(tmp_path), "r.png"))
    rlt.save_model("psi")
    weights = [w.copy() for w in rlt.q_network.get_weights()]
    rlt.engine.run_updates(3)
    rlt.restore_from_directory(checkpoint_name="psi")
    for a, b in zip(weights, rlt.q_network.get_weights()):
        np.testing.assert_array_equal(a, b)


def _fast_eval(rlt):
    engine = rlt.engine
    engine.eval_num_trials = 4
    original = engine.evaluate

    def evaluate(num_trials=100, sample_next_obs=True):
        return original(4, sample_next_obs)
    engine.evaluate = evaluate
    return lambda num_trials=100, sample_next_obs=True: evaluate(num_trials, sample_next_obs)


def test_collect_reward_matches_magenta_per_step(checkpoint, tmp_path):
    from magenta.models.rl_tuner.rl_tuner import RLTuner as Original

    from sequence_tutor_tf import RLTuner
    theirs = Original(str(tmp_path / "m"), reward_scaler=0.5, initialize_immediately=False,
                      note_rnn_checkpoint_dir=os.path.dirname(checkpoint))
    # Like magenta's, the reward functions and collect_reward work before the graph exists.
    ours = RLTuner(str(tmp_path / "o"), reward_scaler=0.5, note_rnn_checkpoint_file=checkpoint,
                   initialize_immediately=False)
    assert ours.engine is None and ours.note_rnn_reward_last_n == 0
    rng = np.random.default_rng(0)
    eye = np.eye(38)
    for note in [14, 16, 18, 14, 21, 2, 14, 14]:
        scores = rng.normal(size=38)
        a = theirs.collect_reward(eye[14], eye[note], scores)
        b = ours.collect_reward(eye[14], eye[note], scores)
        assert a == pytest.approx(b, abs=1e-9)
        theirs.composition.append(note)
        theirs.beat += 1
        ours.append_to_composition(note)
    assert theirs.music_theory_reward_last_n == pytest.approx(ours.music_theory_reward_last_n)
    assert theirs.note_rnn_reward_last_n == pytest.approx(ours.note_rnn_reward_last_n)
    # The counters carry over into the engine once it is built, under its neutral names.
    counted = ours.music_theory_reward_last_n
    ours.initialize_internal_models_graph_session()
    assert ours.engine.task_reward_last_n == counted == ours.music_theory_reward_last_n


def test_constructor_errors_are_clear(checkpoint, tmp_path):
    from sequence_tutor_tf import RLTuner
    with pytest.raises(ValueError, match="algorithm"):
        RLTuner(str(tmp_path), algorithm="sarsa", note_rnn_checkpoint_file=checkpoint)
    with pytest.raises(ValueError, match="midi_primer"):
        RLTuner(str(tmp_path), priming_mode="single_midi", note_rnn_checkpoint_file=checkpoint)
    with pytest.raises(FileNotFoundError, match="checkpoint"):
        RLTuner(str(tmp_path), note_rnn_checkpoint_dir=str(tmp_path / "none"))
