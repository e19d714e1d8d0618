"""Reads what an export starts from: a Note RNN directory or an RL Tuner run directory.

Both are checked here, before any tracing, so that an incomplete or mismatched checkpoint fails
with a message naming the file and what was expected instead of a TensorFlow trace-time error.
"""
import dataclasses
import json
import os

from sequence_tutor_tf.models.checkpoints import load_note_rnn
from sequence_tutor_tf.models.note_rnn import CONFIG_FILE_NAME
from sequence_tutor_tf.rl.hparams import TUNE_ALGORITHMS

TUNER_CONFIG_FILE_NAME = "tuner_config.json"
Q_NETWORK_DIR = "q_network"
REWARD_RNN_DIR = "reward_rnn"
NOTE_RNN_ALGORITHM = "note_rnn"  # a plain MLE Note RNN, exported as its own softmax policy


@dataclasses.dataclass
class PolicySource:
    """The networks of one policy and where they came from.

    `networks` is [(name, model)], the policy network first; for G-learning the prior
    (`reward_rnn`) follows, and the exported state is both states concatenated in that order.
    """
    source_dir: str
    algorithm: str
    networks: list
    hparams: dict
    tuner_config: dict = None
    vocabulary: dict = None     # a SMILES vocabulary's metadata; None for melodies

    @property
    def num_classes(self):
        return self.networks[0][1].num_classes


def _read_json_object(path):
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except ValueError as e:   # JSONDecodeError, UnicodeDecodeError
        raise ValueError(f"{path}: not valid UTF-8 JSON ({e})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(value).__name__}")
    return value


def _load_network(directory, what):
    """load_note_rnn with the run-level context added to its errors."""
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{what}: missing directory {directory} (expected a Note RNN "
                                f"checkpoint directory with {CONFIG_FILE_NAME})")
    try:
        model, _ = load_note_rnn(directory)
    except FileNotFoundError as e:
        raise FileNotFoundError(f"{what}: {e}") from None
    except ValueError as e:   # load_note_rnn's messages name the file and what is wrong
        raise ValueError(f"{what}: {e}") from None
    if model.input_size != model.num_classes:
        raise ValueError(
            f"{what} ({directory}) takes {model.input_size}-wide inputs but has "
            f"{model.num_classes} classes; export needs a model fed the one-hot of the previous "
            "event (input_size == num_classes)")
    return model


def _check_hparams_classes(hparams, num_classes, path):
    for key in ("one_hot_length", "num_actions"):
        if key in hparams and int(hparams[key]) != num_classes:
            raise ValueError(f"{path}: hparams {key}={hparams[key]} but the networks have "
                             f"{num_classes} classes")


def load_run_dir(run_dir):
    """An RL Tuner run: tuner_config.json, q_network/ and (G-learning) reward_rnn/."""
    config_path = os.path.join(run_dir, TUNER_CONFIG_FILE_NAME)
    config = _read_json_object(config_path)
    algorithm = config.get("algorithm")
    # On-policy runs (ppo_kl, ...) keep their policy's logits in q_network/ like q and psi do,
    # so they export as softmax(q_network scores) too.
    if algorithm not in TUNE_ALGORITHMS:
        raise ValueError(f"{config_path}: algorithm {algorithm!r} is not one of "
                         f"{list(TUNE_ALGORITHMS)}")
    hparams = config.get("hparams") or {}
    if not isinstance(hparams, dict):
        raise ValueError(f"{config_path}: 'hparams' must be a JSON object, got "
                         f"{type(hparams).__name__}")
    q_network = _load_network(os.path.join(run_dir, Q_NETWORK_DIR),
                              f"run {run_dir}: {Q_NETWORK_DIR}")
    networks = [(Q_NETWORK_DIR, q_network)]
    if algorithm == "g":
        prior = _load_network(os.path.join(run_dir, REWARD_RNN_DIR),
                              f"run {run_dir} (algorithm 'g' samples from Q + the Reward RNN "
                              f"prior): {REWARD_RNN_DIR}")
        if prior.num_classes != q_network.num_classes:
            raise ValueError(
                f"run {run_dir}: {Q_NETWORK_DIR} has {q_network.num_classes} classes but "
                f"{REWARD_RNN_DIR} has {prior.num_classes}; G-learning adds their scores, so "
                "they must match")
        networks.append((REWARD_RNN_DIR, prior))
    if config.get("domain") != "molecules":
        _check_hparams_classes(hparams, q_network.num_classes, config_path)
    vocabulary = config.get("vocabulary") if config.get("domain") == "molecules" else None
    return PolicySource(os.path.abspath(run_dir), algorithm, networks, hparams, config,
                        vocabulary)


def load_note_rnn_dir(directory):
    from sequence_tutor_tf.models.note_rnn import read_model_config
    model = _load_network(directory, f"Note RNN {directory}")
    vocabulary = read_model_config(directory).get("vocabulary")
    return PolicySource(os.path.abspath(directory), NOTE_RNN_ALGORITHM, [("note_rnn", model)],
                        {"rnn_layer_sizes": model.rnn_layer_sizes,
                         "one_hot_length": model.num_classes}, None,
                        vocabulary if isinstance(vocabulary, dict) else None)


def load_policy_source(directory):
    """Tells a run directory from a Note RNN directory and loads it."""
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{directory}: no such directory (expected an RL Tuner run "
                                f"directory or a Note RNN checkpoint directory)")
    if os.path.exists(os.path.join(directory, TUNER_CONFIG_FILE_NAME)):
        return load_run_dir(directory)
    if os.path.exists(os.path.join(directory, CONFIG_FILE_NAME)):
        return load_note_rnn_dir(directory)
    found = sorted(os.listdir(directory))[:10]
    raise FileNotFoundError(
        f"{directory}: neither {TUNER_CONFIG_FILE_NAME} (an RL Tuner run) nor {CONFIG_FILE_NAME} "
        f"(a Note RNN) is there; found {found}")
