"""Export tuned melody policies as SavedModels, and load them (or checkpoints) to generate.

Public API: `export_saved_model(source_dir, out_dir)`, `load_generator(path)`.
"""
from sequence_tutor_tf.export.runner import MelodyGenerator, load_generator  # noqa: F401
from sequence_tutor_tf.export.saved_model import build_policy, export_saved_model  # noqa: F401

__all__ = ["export_saved_model", "build_policy", "load_generator", "MelodyGenerator"]
