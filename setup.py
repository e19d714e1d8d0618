"""Installs sequence_tutor_tf and magenta_compat.

magenta itself is deliberately *not* a dependency: it pins TensorFlow 2.9. The parity tests and
benchmarks install it separately with `make install-magenta` (see README.md).
"""
import pathlib

from setuptools import find_packages, setup

setup(
    name="sequence-tutor-tf",
    version="0.1.0",
    description=("KL-controlled RL fine-tuning of sequence models (Sequence Tutor / Magenta RL "
                 "Tuner) for TensorFlow 2 and tf-keras."),
    long_description=pathlib.Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10,<3.13",
    packages=find_packages(include=["sequence_tutor_tf", "sequence_tutor_tf.*",
                                    "magenta_compat", "magenta_compat.*"]),
    install_requires=[
        "tensorflow>=2.21,<2.22",
        "tf-keras>=2.21,<2.22",
        "tensorboard>=2.21,<2.22",
        "note-seq==0.0.5",
        "numpy>=1.26,<3",
        "rdkit>=2024.3",
        "music21>=9.1,<11",
        "matplotlib>=3.8,<4",
        "scipy>=1.11,<2",
        "tqdm>=4.66,<5",
        "networkx>=3,<4",
    ],
    extras_require={"test": ["pytest>=8,<10", "pytest-xdist>=3,<4"],
                    # `sequence-tutor sweep --ray-address` / `reproduce --ray-address`
                    "ray": ["ray>=2.40,<3", "pyyaml>=6"]},
    entry_points={"console_scripts": ["sequence-tutor=sequence_tutor_tf.cli.main:main"]},
)
