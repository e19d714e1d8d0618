"""Each on-policy learner raises the task reward of the toy domain of test_rl_core.py (rows
end at EOS, PAD is masked), through the same engine surface `tune` uses."""
import numpy as np
import pytest

import sequence_tutor_tf  # noqa: F401
from sequence_tutor_tf.models.note_rnn import NoteRNN
from sequence_tutor_tf.rl.onpolicy.engine import OnPolicyEngine, score_sequences
from tests.test_rl_core import EOS, GOOD, PAD, ToyDomain


def _targets(n, rng):
    """Training sequences without GOOD tokens: raml must find them through the reward."""
    seqs = rng.choice([1, 3], size=(n, 6)).astype(np.int32)
    seqs[:, -1] = EOS
    return rng.choice([1, 3], size=n).astype(np.int32), seqs, np.full(n, 6, np.int32)


def _engine(algorithm, hparams=""):
    q = NoteRNN([8], num_classes=5)
    return OnPolicyEngine(algorithm, q, q.copy(name="prior"), ToyDomain(), reward_scaler=5.0,
                          num_envs=64, eval_num_trials=0, learning_rate=0.01, seed=1,
                          learner_hparams=hparams, targets=_targets)


def _good_per_sequence(rollout):
    return float((rollout.sequences == GOOD)[rollout.played()].sum() / len(rollout.sequences))


# raml fits its (stationary) targets by MLE: slower, and its targets hold about 2.2 GOOD
# tokens per sequence, so its bar is lower. Its env steps are the 4 proposals it scores.
@pytest.mark.parametrize("algorithm,hparams,iterations,gain", [
    ("reinforce_kl", "", 40, 2.0), ("ppo_kl", "", 40, 2.0), ("dap", "", 40, 2.0),
    ("raml", "tau=1.0,proposals=4", 80, 0.2)])
def test_each_learner_raises_the_task_reward(algorithm, hparams, iterations, gain):
    eng = _engine(algorithm, hparams)
    before = _good_per_sequence(eng.rollout(1000))
    per_iteration = 64 * 6 * (4 if algorithm == "raml" else 1)
    eng.train(per_iteration * iterations)
    after = eng.rollout(1000)
    assert _good_per_sequence(after) > before + gain, (before, _good_per_sequence(after))
    assert PAD not in after.sequences[after.played()]
    assert eng.iteration >= iterations


def test_kl_coefficient_trades_reward_for_closeness_to_the_prior():
    """A larger fixed KL coefficient keeps REINFORCE nearer the prior."""
    kls = {}
    for coef in (0.0, 20.0):
        eng = _engine("reinforce_kl", f"kl_coef={coef}")
        eng.train(64 * 6 * 30)
        played = eng.rollout(1000)
        kls[coef] = float(played.kls[played.played()].mean())
    assert kls[20.0] < 0.5 * kls[0.0], kls


def test_score_sequences_matches_play_scoring():
    eng = _engine("reinforce_kl")
    batch = eng.collect()
    reward = ToyDomain().make_task_reward(64)
    again = score_sequences(reward, batch["first"], batch["actions"], batch["lengths"])
    np.testing.assert_array_equal(again * batch["mask"], batch["task_rewards"])
    assert batch["scored"] == int(batch["lengths"].sum())


def test_diversity_filter_zeroes_full_scaffold_buckets():
    from sequence_tutor_tf.baselines.scaffolds import scaffold_keys
    from sequence_tutor_tf.rl.onpolicy.diversity import BucketFilter

    class FakeDomain:
        def decode(self, sequences, lengths=None):
            return list(sequences)
    smiles = ["c1ccccc1CC", "c1ccccc1CCC", "c1ccccc1O", "C1CCCCC1", "not a smiles"]
    keys = scaffold_keys(FakeDomain())(smiles, None)
    assert keys[0] == keys[1] == keys[2] == "c1ccccc1" and keys[3] == "C1CCCCC1"
    assert keys[4] is None
    f = BucketFilter(scaffold_keys(FakeDomain()), bucket_size=2, min_score=0.4)
    got = f(smiles, None, [0.9, 0.8, 0.7, 0.9, 0.9])
    np.testing.assert_allclose(got, [0.9, 0.8, 0.0, 0.9, 0.9])   # the third benzene is out
    assert f(["c1ccccc1N"], None, [0.3])[0] == pytest.approx(0.3)  # below min_score: kept
    restored = BucketFilter(None, 2, 0.4)
    restored.load_state(f.state())
    assert restored.counts == {"c1ccccc1": 2, "C1CCCCC1": 1}


def test_tune_refuses_off_policy_flags_for_an_on_policy_learner(tmp_path, capsys):
    from sequence_tutor_tf.cli.main import main
    rc = main(["tune", "--algorithm", "ppo_kl", "--replay", "prioritized", "--overlap-collection",
               "--note-rnn", str(tmp_path / "no_such_note_rnn"),
               "--output-dir", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert rc == 2
    assert "--overlap-collection, --replay: settings of the off-policy learners" in err
