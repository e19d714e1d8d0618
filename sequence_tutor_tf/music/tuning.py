"""Tuning a Note RNN on the music domain: the engine from a `TunerConfig` and the music
settings, and the run the `tune` command, `reproduce music` and scripts share."""
import os

import numpy as np

from sequence_tutor_tf.music.tune_settings import MusicTuneSettings, load_music_networks
from sequence_tutor_tf.rl.config import TunerConfig

PLOT_LABELS = ("Music theory", "Note RNN")


def build_music_engine(config: TunerConfig, settings: MusicTuneSettings, q=None, prior=None):
    """The RLEngine of one music run; loads the Note RNN of `settings` unless given."""
    from sequence_tutor_tf.music.priming import make_music_primer
    from sequence_tutor_tf.rl.engine import RLEngine
    if q is None:
        q, prior = load_music_networks(settings)
    domain = settings.make_domain()
    primer = make_music_primer(settings.priming_mode, q, np.random.default_rng(config.seed),
                               settings.midi_primer, settings.training_data_path,
                               config.original_behaviour())
    return RLEngine(q_network=q, prior=prior, domain=domain, primer=primer,
                    **config.engine_kwargs())


def run_record(config, settings, settings_name=None):
    """What tuner_config.json holds: the configuration, the music settings, and the flat keys
    that export and earlier versions read."""
    from sequence_tutor_tf.rl.kl_control import prior_in_reward
    domain = settings.make_domain()
    return {"algorithm": config.algorithm, "settings": settings_name,
            "config": config.to_dict(), "domain": "music",
            "domain_settings": settings.to_dict(),
            "hparams": config.dqn_hparams().values(),
            "reward_mode": domain.effective_reward_mode(prior_in_reward(config.algorithm)),
            "reward_scaler": config.reward_scaler,
            "num_notes_in_melody": settings.num_notes_in_melody,
            "exploration_mode": config.exploration_mode,
            "stochastic_observations": config.stochastic_observations, "temperature": 1.0,
            "num_envs": config.num_envs, "updates_per_step": config.updates_per_step,
            "behaviour": config.original_behaviour().to_dict(),
            "vocabulary": domain.vocabulary.metadata()}


def write_midi_samples(prefix):
    def write(sequences, directory):
        from sequence_tutor_tf.music.midi import write_midi
        for i, events in enumerate(sequences):
            write_midi(events, os.path.join(directory, f"{prefix}_{i}.mid"))
    return write


def tune_music(config, settings, run_dir, settings_name=None, restart=False, progress=True,
               num_samples=0):
    """Tunes (or resumes) one music run in `run_dir`; returns the engine."""
    from sequence_tutor_tf.rl.tuning import tune_run
    from sequence_tutor_tf.utils.dataclass_flags import field_defaults
    os.makedirs(run_dir, exist_ok=True)
    engine = build_music_engine(config, settings)
    return tune_run(engine, run_dir, run_record(config, settings, settings_name),
                    restart=restart, progress=progress, plot_labels=PLOT_LABELS,
                    write_samples=write_midi_samples(config.algorithm), num_samples=num_samples,
                    settings_defaults=field_defaults(settings))
