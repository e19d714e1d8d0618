"""Tuning a SMILES prior on the molecule domain: the engine from a `TunerConfig` and the
molecule settings, and the run `tune --domain molecules` and `reproduce molecules` share."""
import os

from sequence_tutor_tf.molecules.tune_settings import MoleculeTuneSettings
from sequence_tutor_tf.rl.config import TunerConfig

PLOT_LABELS = ("Molecule reward", "Prior log p")


def build_molecule_engine(config: TunerConfig, settings: MoleculeTuneSettings):
    from sequence_tutor_tf.molecules.tune_settings import load_molecule_networks
    from sequence_tutor_tf.rl.engine import RLEngine
    q, prior, vocabulary = load_molecule_networks(settings)
    domain = settings.make_domain(vocabulary)
    return RLEngine(q_network=q, prior=prior, domain=domain, primer=domain.make_primer(),
                    **config.engine_kwargs())


def run_record(config, settings, vocabulary, settings_name=None):
    return {"algorithm": config.algorithm, "settings": settings_name,
            "config": config.to_dict(), "domain": "molecules",
            "domain_settings": settings.to_dict(), "hparams": config.dqn_hparams().values(),
            "reward_scaler": config.reward_scaler,
            "behaviour": config.original_behaviour().to_dict(),
            "vocabulary": vocabulary.metadata()}


def write_smiles_samples(domain, prefix):
    def write(sequences, directory):
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, f"{prefix}.smi"), "w", encoding="utf-8") as f:
            for smiles in domain.decode(sequences):
                f.write(smiles + "\n")
    return write


def tune_molecules(config, settings, run_dir, settings_name=None, restart=False, progress=True,
                   num_samples=0):
    """Tunes (or resumes) one molecule run in `run_dir`; returns the engine."""
    from sequence_tutor_tf.rl.tuning import tune_run
    from sequence_tutor_tf.utils.dataclass_flags import field_defaults
    os.makedirs(run_dir, exist_ok=True)
    engine = build_molecule_engine(config, settings)
    domain = engine.domain
    return tune_run(engine, run_dir,
                    run_record(config, settings, domain.vocabulary, settings_name),
                    restart=restart, progress=progress, plot_labels=PLOT_LABELS,
                    write_samples=write_smiles_samples(domain, config.algorithm),
                    num_samples=num_samples, settings_defaults=field_defaults(settings))
