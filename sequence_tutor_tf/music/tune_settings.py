"""The music domain's tuning settings: which Note RNN, which rules, how compositions start.

With `rl.config.TunerConfig` they make one `tune` run; `tune`'s flags are generated from both.
"""
import dataclasses
from typing import Optional

from sequence_tutor_tf.music.priming import PRIMING_MODES
from sequence_tutor_tf.music.rewards.modes import REWARD_MODES

NOTE_RNN_TYPES = ("auto", "default", "basic_rnn")

# The named settings of the music domain (TunerConfig values over its defaults, which are
# rl_tuner_train.py's: discount 0.5, boltzmann exploration, 500k exploration steps). `paper`
# fixes the code's defects and takes the paper's c = 0.5 (reward_scaler = 1/c = 2; the code
# uses 0.1, under which the prior dominates once the defects are fixed): the ablation in
# docs/results.md (scripts/ablate_music.py) measured each choice.
SETTINGS = {
    "code": {},
    "paper": {"fix_quirks": True, "reward_scaler": 2.0},
}
MAX_NOTES_IN_MELODY = 4096


def _f(help_text, **meta):
    return dict(meta, help=help_text)


@dataclasses.dataclass(frozen=True)
class MusicTuneSettings:
    note_rnn: Optional[str] = dataclasses.field(default=None, metadata=_f(
        "Note RNN to tune (required): our checkpoint directory, or a Magenta checkpoint (RL "
        "Tuner note_rnn.ckpt, melody_rnn bundle or directory)", metavar="CKPT"))
    note_rnn_type: str = dataclasses.field(default="auto", metadata=_f(
        "Magenta checkpoint kind: auto-detected, default (the RL Tuner's note_rnn.ckpt) or "
        "basic_rnn (melody_rnn's model)", choices=NOTE_RNN_TYPES))
    reward_mode: str = dataclasses.field(default="music_theory_all", metadata=_f(
        "the original's reward_mode (g and pure_rl score with music_theory_only)",
        choices=REWARD_MODES))
    priming_mode: str = dataclasses.field(default="random_note", metadata=_f(
        "how compositions start: a random note, after --midi-primer (single_midi), or after "
        "training melodies (random_midi, --training-data-path)", choices=PRIMING_MODES))
    midi_primer: Optional[str] = dataclasses.field(default=None, metadata=_f(
        "MIDI file for --priming-mode single_midi (its last 512 events are used)",
        metavar="FILE"))
    training_data_path: Optional[str] = dataclasses.field(default=None, metadata=_f(
        "melodies for --priming-mode random_midi", metavar="PATH"))
    num_notes_in_melody: int = dataclasses.field(default=32, metadata=_f(
        f"16th-note events per composition (1..{MAX_NOTES_IN_MELODY})", low=1,
        high=MAX_NOTES_IN_MELODY))
    magenta_bugs: bool = dataclasses.field(default=True, metadata=_f(
        "reproduce the original's reward numbers bug for bug (special-event labels, uncounted "
        "in-key thirds); see docs/differences/rewards.md"))
    extra_reward: tuple = dataclasses.field(default=(), metadata=_f(
        "add a user reward to the rules: a registered name or 'package.module:function' "
        "(repeatable; see docs/rewards.md; it runs code: trusted inputs only)", append=True,
        metavar="SPEC"))

    def __post_init__(self):
        object.__setattr__(self, "extra_reward", tuple(self.extra_reward or ()))
        if not self.note_rnn:
            raise ValueError("--note-rnn is required: the Note RNN checkpoint to tune")
        n = self.num_notes_in_melody
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_NOTES_IN_MELODY:
            raise ValueError(f"--num-notes-in-melody must be an integer in "
                             f"1..{MAX_NOTES_IN_MELODY}, got {n!r}")
        if self.priming_mode == "single_midi" and not self.midi_primer:
            raise ValueError("--priming-mode single_midi needs --midi-primer FILE")
        if self.midi_primer and self.priming_mode != "single_midi":
            raise ValueError(f"--midi-primer is only read with --priming-mode single_midi "
                             f"(got --priming-mode {self.priming_mode})")
        if self.priming_mode == "random_midi" and not self.training_data_path:
            raise ValueError("--priming-mode random_midi needs --training-data-path")
        if self.training_data_path and self.priming_mode != "random_midi":
            raise ValueError(f"--training-data-path is only read with --priming-mode "
                             f"random_midi (got --priming-mode {self.priming_mode})")

    def to_dict(self):
        values = dataclasses.asdict(self)
        values["extra_reward"] = list(self.extra_reward)
        return values

    def make_domain(self):
        from sequence_tutor_tf.music.domain import MusicDomain
        return MusicDomain(self.num_notes_in_melody, magenta_bugs=self.magenta_bugs,
                           extra_rewards=self.extra_reward, reward_mode=self.reward_mode)


def load_music_networks(settings):
    """(q_network, prior) for tuning: the Note RNN and a frozen copy, checked to be a melody
    model (38 classes in and out)."""
    from sequence_tutor_tf.models.loading import load_note_rnn_any
    from sequence_tutor_tf.music.encoding import NUM_CLASSES
    try:
        q = load_note_rnn_any(settings.note_rnn, note_rnn_type=settings.note_rnn_type)
    except (OSError, ValueError) as e:
        raise ValueError(f"--note-rnn: {e}") from None
    if q.num_classes != NUM_CLASSES or q.input_size != q.num_classes:
        raise ValueError(
            f"--note-rnn {settings.note_rnn} is a {type(q).__name__} with {q.num_classes} "
            f"classes and {q.input_size}-wide inputs; the music rewards need the "
            f"{NUM_CLASSES}-class melody one-hot in and out (RL Tuner or basic_rnn)")
    return q, q.copy(name="reward_rnn")
