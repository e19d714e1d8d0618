"""The RL core knows no domain: a second, toy domain trains through the same engine and
learners, with per-row episodes, an EOS, a masked token and the KL-control reward."""
import ast
import os

import numpy as np
import pytest

import sequence_tutor_tf  # noqa: F401
from sequence_tutor_tf.models.note_rnn import NoteRNN
from sequence_tutor_tf.rl.domain import Domain, TaskReward
from sequence_tutor_tf.rl.engine import RLEngine
from sequence_tutor_tf.rl.hparams import default_dqn_hparams
from sequence_tutor_tf.rl.kl_control import compose_reward
from sequence_tutor_tf.vocabulary import Vocabulary

RL_DIR = os.path.join(os.path.dirname(sequence_tutor_tf.__file__), "rl")
FORBIDDEN = ("sequence_tutor_tf.music", "magenta_compat", "note_seq", "magenta")


def _imports(path):
    tree = ast.parse(open(path, encoding="utf-8").read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_rl_imports_no_domain():
    found = {}
    for name in sorted(os.listdir(RL_DIR)):
        if name.endswith(".py"):
            bad = [m for m in _imports(os.path.join(RL_DIR, name))
                   if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
            if bad:
                found[name] = bad
    assert not found, f"rl/ imports domain modules: {found}"


def test_learners_and_packed_updates_do_not_import_each_other_back():
    assert "sequence_tutor_tf.rl.learners" not in set(
        _imports(os.path.join(RL_DIR, "packed_updates.py")))


# ----- a toy domain ---------------------------------------------------------------------------
EOS, GOOD, PAD = 0, 2, 4


class ToyVocabulary(Vocabulary):
    name = "toy"
    eos = EOS
    pad = PAD

    @property
    def size(self):
        return 5

    def encode(self, item):
        return self.check_ids(list(item) + [EOS])

    def decode(self, ids):
        out = []
        for i in self.check_ids(ids):
            if i == EOS:
                break
            out.append(int(i))
        return out

    def token(self, token_id):
        return ["<eos>", "a", "good", "b", "<pad>"][int(token_id)]


class ToyReward(TaskReward):
    """+1 for each GOOD token; EOS ends the row."""

    def __init__(self, n):
        self.n = n
        self.resets = []

    def reset(self, mask=None):
        self.resets.append(None if mask is None else np.asarray(mask).copy())

    def step(self, actions, observations=None):
        actions = np.asarray(actions)
        assert actions.shape == (self.n,)
        return (actions == GOOD).astype(np.float32), actions == EOS


class ToyDomain(Domain):
    vocabulary = ToyVocabulary()
    max_length = 6

    def make_task_reward(self, batch_size, prior_in_reward=True):
        return ToyReward(batch_size)

    def action_mask(self):
        return np.array([True, True, True, True, False])   # PAD is never played


def _hp():
    hp = default_dqn_hparams()
    hp.minibatch_size = 32
    hp.train_every_nth = 1
    hp.max_experience = 5000
    hp.random_action_probability = 0.2
    return hp


def _engine(algorithm, num_envs=16, seed=0, **kw):
    q = NoteRNN([8], num_classes=5)
    kw.setdefault("output_every_nth", 10 ** 6)
    kw.setdefault("eval_num_trials", 0)
    return RLEngine(algorithm, q, q.copy(name="prior"), ToyDomain(), _hp(), num_envs=num_envs,
                    seed=seed, reward_scaler=5.0, exploration_mode="egreedy", **kw)


def test_rows_end_on_their_own_and_only_finished_rows_restart():
    eng = _engine("q", num_envs=32)
    eng.reset_sequences()
    lengths_seen = set()
    for _ in range(20):
        before_obs = eng._obs.copy()
        info = eng.collect_step(10 ** 6)
        done = info["done"]
        stored = eng.replay._data["terminals"][len(eng.replay) - 32:len(eng.replay)]
        assert np.array_equal(stored, done.astype(np.float32))
        assert np.all(done[info["actions"] == EOS]) and np.all(eng._positions[done] > 0)
        if done.any() and not done.all():
            lengths_seen.update(eng._positions[done].tolist())
            eng.reset_sequences(done)
            assert np.array_equal(eng.task_reward.resets[-1], done)
            assert np.all(eng._positions[done] == 0)
            assert np.all(eng._positions[~done] > 0)
            assert np.all(eng._sequences[done] == PAD)
        elif done.all():
            eng.reset_sequences()
        assert before_obs.shape == eng._obs.shape
    assert len(lengths_seen) > 2, lengths_seen     # rows of different lengths


def test_masked_token_is_never_played_nor_explored():
    eng = _engine("psi", num_envs=64)
    eng.train(64 * 30, exploration_period=10 ** 6)     # epsilon about 1: mostly random actions
    played = eng.replay._data["actions"][:len(eng.replay)]
    assert len(played) == 64 * 30 and PAD not in played
    assert set(np.unique(played)) == {0, 1, 2, 3}
    rollout = eng.rollout(200)
    assert PAD not in rollout.sequences[rollout.played()]
    assert np.all(rollout.sequences[~rollout.played()] == PAD)


def test_kl_control_reward_is_composed_in_the_core():
    task, logp = np.array([1.0, 0.0], np.float32), np.array([-1.5, -0.25], np.float32)
    assert np.array_equal(compose_reward(task, logp, 5.0, True), [3.5, -0.25])
    assert np.array_equal(compose_reward(task, logp, 5.0, False), [5.0, 0.0])
    q, g = _engine("q"), _engine("g")
    assert q._add_prior and not g._add_prior
    info = q.collect_step(10 ** 6)
    assert np.allclose(info["rewards"], 5.0 * info["task_rewards"] + info["prior_logp"])
    info = g.collect_step(10 ** 6)
    assert np.allclose(info["rewards"], 5.0 * info["task_rewards"])
    # The exact KL and entropy of the policy's softmax come with every step.
    assert np.all(info["kl"] >= -1e-6) and np.all(info["entropy"] <= np.log(4) + 1e-5)


def _task_reward_per_sequence(rollout):
    return float((rollout.sequences == GOOD)[rollout.played()].sum() / len(rollout.sequences))


@pytest.mark.parametrize("algorithm", ["q", "g"])
def test_toy_domain_trains_and_beats_the_prior(algorithm):
    eng = _engine(algorithm, num_envs=64)
    prior_policy = type(eng.policy)(eng.prior, eng.prior, sample_next_obs=True,
                                    action_mask=ToyDomain().action_mask())
    from sequence_tutor_tf.rl.priming import RandomTokenPrimer
    from sequence_tutor_tf.rl.rollout import play
    primer = RandomTokenPrimer(5, allowed=[0, 1, 2, 3])
    before = play(prior_policy, primer, 2000, 6, np.random.default_rng(1), eos=EOS, pad=PAD)
    eng.train(64 * 150, exploration_period=64 * 50)
    after = eng.rollout(2000)
    prior_reward, tuned_reward = _task_reward_per_sequence(before), \
        _task_reward_per_sequence(after)
    assert tuned_reward > prior_reward + 0.5, (prior_reward, tuned_reward)
    lengths = after.lengths
    assert lengths.min() >= 1 and lengths.max() <= 6
