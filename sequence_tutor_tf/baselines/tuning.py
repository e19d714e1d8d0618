"""`tune --algorithm reinforce_kl|ppo_kl|dap|raml`: the on-policy engine on music or molecules,
run by `rl.tuning.tune_run` in a normal tune run directory (tuner_config.json, q_network/,
reward_rnn/, train_state/, logs/, plots/, samples/; lock, resume, --restart).

tuner_config.json also records the learner's hparams and raml's data; a rerun with others is
refused unless --restart, as for the TunerConfig settings.
"""
import os

import numpy as np

from sequence_tutor_tf.rl.run_dir import RunDirError, has_train_state, read_config


def build_engine(domain_name, config, settings, learner_hparams="", raml_data=None,
                 cache_dir=None):
    """(engine, write_samples, plot_labels) of one on-policy run."""
    from sequence_tutor_tf.rl.onpolicy.engine import OnPolicyEngine
    targets = bucket_key = None
    if domain_name == "molecules":
        from sequence_tutor_tf.molecules.tune_settings import load_molecule_networks
        from sequence_tutor_tf.molecules.tuning import PLOT_LABELS, write_smiles_samples
        q, prior, vocabulary = load_molecule_networks(settings)
        domain = settings.make_domain(vocabulary)
        primer = domain.make_primer()
        if config.algorithm == "raml":
            from sequence_tutor_tf.baselines.targets import molecule_targets
            targets = molecule_targets(raml_data, domain)
        if config.algorithm == "dap":
            from sequence_tutor_tf.baselines.scaffolds import scaffold_keys
            bucket_key = scaffold_keys(domain)
        write = write_smiles_samples(domain, config.algorithm)
    else:
        from sequence_tutor_tf.music.priming import make_music_primer
        from sequence_tutor_tf.music.tune_settings import load_music_networks
        from sequence_tutor_tf.music.tuning import PLOT_LABELS, write_midi_samples
        q, prior = load_music_networks(settings)
        domain = settings.make_domain()
        primer = make_music_primer(settings.priming_mode, q, np.random.default_rng(config.seed),
                                   settings.midi_primer, settings.training_data_path,
                                   config.original_behaviour())
        if config.algorithm == "raml":
            if not raml_data:
                raise ValueError("--algorithm raml needs --raml-data: the training melodies "
                                 "(a corpus name such as demo, MIDI files or a TFRecord)")
            from sequence_tutor_tf.baselines.targets import music_targets
            targets = music_targets(raml_data, domain.max_length, cache_dir)
        write = write_midi_samples(config.algorithm)
    engine = OnPolicyEngine(q_network=q, prior=prior, domain=domain, primer=primer,
                            learner_hparams=learner_hparams, targets=targets,
                            bucket_key=bucket_key, **config.engine_kwargs())
    return engine, write, PLOT_LABELS


def run_record(domain_name, config, settings, engine, settings_name=None, raml_data=None):
    if domain_name == "molecules":
        from sequence_tutor_tf.molecules.tuning import run_record as base
        record = base(config, settings, engine.domain.vocabulary, settings_name)
    else:
        from sequence_tutor_tf.music.tuning import run_record as base
        record = base(config, settings, settings_name)
    record["learner_hparams"] = engine.learner_hparams.values()
    record["raml_data"] = raml_data
    return record


def check_learner_settings(run_dir, record):
    stored = read_config(run_dir) or {}
    diffs = []
    old_hp, new_hp = stored.get("learner_hparams") or {}, record["learner_hparams"] or {}
    if "learner_hparams" in stored:
        diffs += [f"learner_hparams.{k}: stored {old_hp.get(k)!r}, now {new_hp.get(k)!r}"
                  for k in sorted(set(old_hp) | set(new_hp))
                  if _normal(old_hp.get(k)) != _normal(new_hp.get(k))]
    if "raml_data" in stored and stored["raml_data"] != record["raml_data"]:
        diffs.append(f"raml_data: stored {stored['raml_data']!r}, now {record['raml_data']!r}")
    if diffs:
        raise RunDirError(f"{run_dir} holds a run with other settings ({'; '.join(diffs)}); "
                          f"rerun with the stored settings to resume, pass --restart to start "
                          f"over there, or use another --output-dir")


def _normal(value):
    import json
    return json.dumps(value, sort_keys=True, default=str)


def tune_onpolicy(domain_name, config, settings, run_dir, settings_name=None, restart=False,
                  progress=True, num_samples=0, learner_hparams="", raml_data=None,
                  cache_dir=None):
    """Tunes (or resumes) one on-policy run in `run_dir`; returns the engine."""
    from sequence_tutor_tf.rl.tuning import tune_run
    from sequence_tutor_tf.utils.dataclass_flags import field_defaults
    os.makedirs(run_dir, exist_ok=True)
    engine, write, labels = build_engine(domain_name, config, settings, learner_hparams,
                                         raml_data, cache_dir)
    record = run_record(domain_name, config, settings, engine, settings_name, raml_data)
    if has_train_state(run_dir) and not restart:
        check_learner_settings(run_dir, record)
    return tune_run(engine, run_dir, record, restart=restart, progress=progress,
                    plot_labels=labels, write_samples=write, num_samples=num_samples,
                    settings_defaults=field_defaults(settings))
