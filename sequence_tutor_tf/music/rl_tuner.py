"""Drop-in `RLTuner`: magenta's constructor, attributes and public methods on the TF2 engine.

A notebook written for `magenta.models.rl_tuner.rl_tuner.RLTuner` runs after changing the import.
Training goes through `engine.RLEngine` with one composition at a time (`num_envs=1`, the
original's schedule); pass `num_envs` for the fast batched engine. The reward_* methods, `beat`
and `composition` come from the per-step music-theory face, so code that calls them directly
sees the original's numbers.
"""
import os

import numpy as np

from sequence_tutor_tf.models.loading import load_note_rnn_any
from sequence_tutor_tf.music.domain import MusicDomain
from sequence_tutor_tf.music.encoding import NUM_CLASSES
from sequence_tutor_tf.music.midi import write_midi
from sequence_tutor_tf.music.priming import PRIMING_MODES, make_music_primer
from sequence_tutor_tf.music.rewards.modes import combine_rewards, reward_rnn_logprob
from sequence_tutor_tf.music.rewards.per_step import MusicTheoryRewards
from sequence_tutor_tf.rl import plots, run_dir
from sequence_tutor_tf.rl.behaviour import OriginalBehaviour
from sequence_tutor_tf.rl.engine import COUNTERS, HISTORIES, LEGACY_NAMES, RLEngine
from sequence_tutor_tf.rl.hparams import (ALGORITHMS, EXPLORATION_MODES, check_choice,
                                          default_dqn_hparams)
from sequence_tutor_tf.rl.kl_control import prior_in_reward

MUSIC_LABELS = ("Music theory", "Note RNN")

ALGORITHM_ALIASES = {"default": "q"}   # the original's docstring calls Q-learning 'default'


def _one_hot(index, n=NUM_CLASSES):
    v = np.zeros(n, np.float32)
    v[int(index)] = 1.0
    return v


def _next_file_name(directory, prefix, extension):
    name = os.path.join(directory, f"{prefix}.{extension}")
    i = 0
    while os.path.exists(name):
        i += 1
        name = os.path.join(directory, f"{prefix}{i}.{extension}")
    return name


class RLTuner(MusicTheoryRewards):
    """Tunes a Note RNN with Q, Psi or G-learning (or pure RL) and music-theory rewards."""

    def __init__(self, output_dir, dqn_hparams=None, reward_mode="music_theory_all",
                 reward_scaler=1.0, exploration_mode="egreedy", priming_mode="random_note",
                 stochastic_observations=False, algorithm="q",
                 note_rnn_checkpoint_dir=None, note_rnn_checkpoint_file=None,
                 note_rnn_type="default", note_rnn_hparams=None,
                 num_notes_in_melody=32, input_size=NUM_CLASSES, num_actions=NUM_CLASSES,
                 midi_primer=None, save_name="rl_tuner.ckpt", output_every_nth=1000,
                 training_file_list=None, summary_writer=None, initialize_immediately=True,
                 num_envs=1, behaviour=None, seed=None, jit_compile=False):
        algorithm = ALGORITHM_ALIASES.get(algorithm, algorithm)
        check_choice("algorithm", algorithm, ALGORITHMS)
        check_choice("exploration_mode", exploration_mode, EXPLORATION_MODES)
        check_choice("priming_mode", priming_mode, PRIMING_MODES)
        if priming_mode == "single_midi" and midi_primer is None:
            raise ValueError("priming_mode 'single_midi' needs midi_primer (a MIDI file)")
        if input_size != NUM_CLASSES or num_actions != NUM_CLASSES:
            raise ValueError(f"input_size and num_actions must be {NUM_CLASSES} for melodies, "
                             f"got {input_size} and {num_actions}")
        if not prior_in_reward(algorithm):   # the original forces this for g and pure_rl
            reward_mode = "music_theory_only"
        super().__init__(num_notes_in_melody=num_notes_in_melody, reward_mode=reward_mode)
        self.input_size, self.num_actions = input_size, num_actions
        self.output_every_nth = output_every_nth
        self.output_dir = output_dir
        self.save_path = os.path.join(output_dir, save_name)
        self.reward_scaler = reward_scaler
        self.exploration_mode = exploration_mode
        self.stochastic_observations = stochastic_observations
        self.algorithm = algorithm
        self.priming_mode = priming_mode
        self.midi_primer = midi_primer
        self.training_file_list = training_file_list
        self.note_rnn_checkpoint_dir = note_rnn_checkpoint_dir
        self.note_rnn_checkpoint_file = note_rnn_checkpoint_file
        self.note_rnn_type = note_rnn_type
        self.note_rnn_hparams = note_rnn_hparams
        self.dqn_hparams = dqn_hparams if dqn_hparams is not None else default_dqn_hparams()
        self.summary_writer = summary_writer
        self.num_envs = num_envs
        self.behaviour = behaviour or OriginalBehaviour()
        self.seed = seed
        self.jit_compile = jit_compile
        self.engine = None
        # Before the engine exists (initialize_immediately=False) the reward functions and
        # collect_reward work as magenta's do; their counters live here until then.
        self._pending = {name: 0 for name in COUNTERS}
        self._pending.update({name: [] for name in HISTORIES})
        os.makedirs(self.output_dir, exist_ok=True)
        if initialize_immediately:
            self.initialize_internal_models_graph_session()

    # ----- models -------------------------------------------------------------------------------
    def _checkpoint_path(self):
        for path in (self.note_rnn_checkpoint_dir, self.note_rnn_checkpoint_file):
            if path and (os.path.exists(path) or os.path.exists(str(path) + ".index")):
                if os.path.isdir(path) and not os.path.exists(
                        os.path.join(path, "note_rnn_config.json")):
                    from sequence_tutor_tf._tf import tf
                    if tf.train.latest_checkpoint(path) is None:
                        continue
                return path
        raise FileNotFoundError(
            "no Note RNN checkpoint: note_rnn_checkpoint_dir="
            f"{self.note_rnn_checkpoint_dir!r}, note_rnn_checkpoint_file="
            f"{self.note_rnn_checkpoint_file!r} (this port does not download one)")

    def initialize_internal_models_graph_session(self, restore_from_checkpoint=True):
        """Loads the Q network, target and Reward RNN from the checkpoint and builds the engine;
        `restore_from_checkpoint=False` starts from random weights of the same shape."""
        q = load_note_rnn_any(self._checkpoint_path(), note_rnn_type=self.note_rnn_type,
                              hparams=self.note_rnn_hparams)
        if not restore_from_checkpoint:
            from sequence_tutor_tf.models.note_rnn import NoteRNN
            q = NoteRNN(q.rnn_layer_sizes, q.num_classes)
        self.q_network = q
        self.reward_rnn = q.copy(name="reward_rnn")
        rng = np.random.default_rng(self.seed)
        primer = make_music_primer(self.priming_mode, q, rng, self.midi_primer,
                                   self.training_file_list, self.behaviour)
        domain = MusicDomain(self.num_notes_in_melody, reward_mode=self.reward_mode)
        kwargs = self.tuner_config().engine_kwargs()
        kwargs.update(seed=self.seed, eval_num_trials=100)   # seed None: a fresh one, as magenta
        engine = RLEngine(q_network=q, prior=self.reward_rnn, domain=domain, primer=primer,
                          **kwargs)
        for name, value in self.__dict__.pop("_pending", {}).items():
            setattr(engine, name, value)
        self.engine = engine
        self.engine.rng = rng
        self.target_q_network = self.engine.target_network
        self.experience = self.engine.replay
        self._q_state = self._r_state = None

    def tuner_config(self):
        """This tuner's settings as the `TunerConfig` the tune command and reproduce use."""
        from sequence_tutor_tf.rl.config import TunerConfig
        values = self.dqn_hparams.values() if hasattr(self.dqn_hparams, "values") \
            else dict(self.dqn_hparams)
        return TunerConfig(
            algorithm=self.algorithm, reward_scaler=float(self.reward_scaler),
            exploration_mode=self.exploration_mode,
            stochastic_observations=bool(self.stochastic_observations),
            num_envs=int(self.num_envs), output_every_nth=int(self.output_every_nth),
            hparams=",".join(f"{k}={v!r}" for k, v in sorted(values.items())),
            behaviour=",".join(f"{k}={str(v).lower()}"
                               for k, v in sorted(self.behaviour.to_dict().items())),
            jit=bool(self.jit_compile), seed=0 if self.seed is None else int(self.seed))

    # ----- counters and histories live in the engine -------------------------------------------
    # (magenta's music-named attributes are aliases of the engine's domain-neutral ones)
    def _home(self, name):
        name = LEGACY_NAMES.get(name, name)
        if name not in COUNTERS + HISTORIES:
            return None, name
        engine = self.__dict__.get("engine")
        return (engine if engine is not None else self.__dict__.get("_pending")), name

    def __getattr__(self, name):
        home, key = self._home(name)
        if isinstance(home, dict):
            return home[key]
        if home is not None:
            return getattr(home, key)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name, value):
        home, key = self._home(name)
        if isinstance(home, dict):
            home[key] = value
        elif home is not None:
            setattr(home, key, value)
        else:
            object.__setattr__(self, name, value)

    # ----- training -----------------------------------------------------------------------------
    def train(self, num_steps=10000, exploration_period=5000, enable_random=True):
        """The original's loop: evaluate, then act/store/train, evaluating and saving every
        output_every_nth steps."""
        self.engine.output_callback = lambda eng: self.save_model(self.algorithm)
        self.engine.eval_num_trials = 100
        self.engine.train(num_steps, exploration_period, enable_random=enable_random)

    def evaluate_model(self, num_trials=100, sample_next_obs=True):
        self.engine.evaluate(num_trials, sample_next_obs)

    def prime_internal_models(self):
        """Primes the networks for a new composition; returns the first observation (one-hot)."""
        obs, self._q_state, self._r_state = self.engine.primer.prime(
            1, self.engine.rng, self.q_network, self.reward_rnn)
        return _one_hot(obs[0], self.num_actions)

    def get_random_note(self):
        return _one_hot(self.engine.random_notes.random_notes(1, self.engine.rng)[0],
                        self.num_actions)

    def action(self, observation, exploration_period=0, enable_random=True,
               sample_next_obs=False):
        """One step of one composition: (action, next observation, reward_scores), one-hot."""
        observation = np.asarray(observation)
        if observation.ndim != 1:
            raise ValueError(f"action() takes a single one-hot observation, got shape "
                             f"{observation.shape}")
        if self._q_state is None:
            self.prime_internal_models()
        eng = self.engine
        epsilon = eng._epsilons(1, exploration_period, enable_random)
        eng.actions_executed_so_far += 1
        if self.exploration_mode == "boltzmann":
            sample_next_obs = True
        obs = np.array([int(np.argmax(observation))], np.int32)
        step = eng.policy.step(
            obs, self._q_state, self._r_state, eng.rng.random(1),
            eng.random_notes.random_notes(1, eng.rng), eng.rng.random(1), epsilon,
            sample_next_obs=sample_next_obs)
        self._q_state, self._r_state = step.q_state.numpy(), step.r_state.numpy()
        return (_one_hot(step.action.numpy()[0]), _one_hot(step.next_obs.numpy()[0]),
                step.prior_logits.numpy()[0])

    def collect_reward(self, obs, action, reward_scores):
        """The reward for `action` under reward_mode; updates the running reward sums."""
        note_rnn_reward = float(reward_rnn_logprob(action, reward_scores))
        self.note_rnn_reward_last_n += note_rnn_reward
        task = self.task_reward(obs, action)
        if self.reward_mode not in ("music_theory_basic", "music_theory_basic_plus_variety"):
            self.music_theory_reward_last_n += task * self.reward_scaler
        return combine_rewards(self.reward_mode, note_rnn_reward, task, self.reward_scaler)

    def reward_from_reward_rnn_scores(self, action, reward_scores):
        return float(reward_rnn_logprob(action, reward_scores))

    def reward_interval_diversity(self):
        """An unimplemented placeholder in the original (returns None); kept for the API."""
        return None

    def get_reward_rnn_scores(self, observation, state):
        obs = np.array([int(np.argmax(observation))], np.int32)
        logits, _ = self.reward_rnn.step(obs, np.atleast_2d(state).astype(np.float32))
        return logits.numpy()[0]

    # ----- generation and metrics --------------------------------------------------------------
    def generate_music_sequence(self, title="rltuner_sample", visualize_probs=False,
                                prob_image_name=None, length=None, most_probable=False):
        from sequence_tutor_tf.rl.rollout import play
        length = length or self.num_notes_in_melody
        self.reset_composition()
        played = play(self.engine.policy, self.engine.primer, 1, length, self.engine.rng,
                      sample_next_obs=not most_probable, keep_probs=True)
        seq, probs = played.sequences[0].tolist(), played.probs[0]
        self._q_state = self._r_state = None     # the next action() primes a new composition
        print("Generated sequence:", seq)
        path = write_midi(seq, _next_file_name(self.output_dir, title, "mid"),
                          rl_tuner_pitch=True)
        if visualize_probs:
            import matplotlib.pyplot as plt
            plt.figure()
            plt.imshow(np.array(probs).T, interpolation="none", cmap="Reds")
            plt.ylabel("Note probability")
            plt.xlabel("Time (beat)")
            plt.gca().invert_yaxis()
            if prob_image_name is not None:
                plt.savefig(os.path.join(self.output_dir, prob_image_name))
                plt.close()
            else:
                plt.show()
        return path

    def evaluate_music_theory_metrics(self, num_compositions=10000, key=None,
                                      tonic_note=None):
        from sequence_tutor_tf.music.metrics import compute_composition_stats
        seqs = self.engine.generate(num_compositions, self.num_notes_in_melody)
        kwargs = {} if tonic_note is None else {"tonic_note": tonic_note}
        return compute_composition_stats(seqs, key=key, **kwargs)

    # ----- saving, restoring, plots -------------------------------------------------------------
    def save_model(self, name, directory=None):
        """Networks, optimizer, replay and counters under directory/name, plus the rewards .npz."""
        directory = directory or self.output_dir
        path = os.path.join(directory, name)
        run_dir.save_networks(self.engine, path)
        run_dir.save_train_state(self.engine, path)
        self.save_stored_rewards(name)

    def save_stored_rewards(self, file_name):
        epochs = len(self.rewards_batched) * self.output_every_nth
        np.savez(os.path.join(self.output_dir, f"{file_name}-{epochs}"),
                 train_rewards=self.rewards_batched,
                 train_music_theory_rewards=self.music_theory_rewards_batched,
                 train_note_rnn_rewards=self.note_rnn_rewards_batched,
                 eval_rewards=self.eval_avg_reward,
                 eval_music_theory_rewards=self.eval_avg_music_theory_reward,
                 eval_note_rnn_rewards=self.eval_avg_note_rnn_reward,
                 target_val_list=self.target_val_list)

    def save_model_and_figs(self, name, directory=None):
        self.save_model(name, directory)
        self.plot_rewards(f"TrainRewards-{name}.png", directory)
        self.plot_evaluation(f"EvaluationRewards-{name}.png", directory)
        self.plot_target_vals(f"TargetVals-{name}.png", directory)

    def restore_from_directory(self, directory=None, checkpoint_name=None,
                               reward_file_name=None):
        """Restores what save_model wrote: directory/checkpoint_name (default: the algorithm)."""
        directory = directory or self.output_dir
        path = os.path.join(directory, checkpoint_name or self.algorithm)
        if not run_dir.has_train_state(path):
            raise FileNotFoundError(f"no saved RL Tuner state in {path}")
        run_dir.load_train_state(self.engine, path)
        if reward_file_name is not None:
            with np.load(os.path.join(directory, reward_file_name)) as f:
                self.rewards_batched = list(f["train_rewards"])
                self.music_theory_rewards_batched = list(f["train_music_theory_rewards"])
                self.note_rnn_rewards_batched = list(f["train_note_rnn_rewards"])
                self.eval_avg_reward = list(f["eval_rewards"])
                self.eval_avg_music_theory_reward = list(f["eval_music_theory_rewards"])
                self.eval_avg_note_rnn_reward = list(f["eval_note_rnn_rewards"])
                self.target_val_list = list(f["target_val_list"])

    def _image(self, image_name, directory):
        return None if image_name is None else os.path.join(directory or self.output_dir,
                                                             image_name)

    def plot_rewards(self, image_name=None, directory=None):
        plots.plot_rewards(self.engine, self._image(image_name, directory), labels=MUSIC_LABELS)

    def plot_evaluation(self, image_name=None, directory=None, start_at_epoch=0):
        plots.plot_evaluation(self.engine, self._image(image_name, directory), start_at_epoch,
                              labels=MUSIC_LABELS)

    def plot_target_vals(self, image_name=None, directory=None):
        plots.plot_target_vals(self.engine, self._image(image_name, directory))
