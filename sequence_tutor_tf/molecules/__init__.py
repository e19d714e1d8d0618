"""The molecule half of Sequence Tutor: SMILES data, vocabularies, RDKit rewards and metrics.

The paper's second experiment tunes a SMILES prior toward drug-likeness (logP, SA, QED, ring
size). The modules here need neither TensorFlow nor the RL core: `data` (MOSES and user SMILES
files), `vocabulary` (the research code's 35 characters, or atom tokens), `properties` (RDKit
values that never raise), `rewards` (scoring components and the per-step task reward),
`metrics` (MOSES-style and the paper's statistics). See docs/differences/molecules.md.
"""
