"""The paper's Table 1 and how each of its rows is computed from a composition stat dict.

Published numbers are typed in from: N. Jaques, S. Gu, D. Bahdanau, J. M. Hernandez-Lobato,
R. E. Turner, D. Eck, "Sequence Tutor: Conservative Fine-Tuning of Sequence Generation Models with
KL-control", ICML 2017 (arXiv:1611.02796), Table 1 (100,000 compositions per model). Percentages
are stored as fractions.
"""
import dataclasses

import numpy as np

CITATION = ("Jaques et al., \"Sequence Tutor: Conservative Fine-Tuning of Sequence Generation "
            "Models with KL-control\", ICML 2017 (arXiv:1611.02796), Table 1")
MODELS = ("MLE", "Q", "Psi", "G")


def _ratio(numerator, denominator):
    return lambda s: float(s[numerator]) / float(s[denominator]) if float(s[denominator]) else np.nan


def _leaps_resolved(s):
    total = float(s["num_resolved_leaps"]) + float(s["num_leap_twice"])
    return float(s["num_resolved_leaps"]) / total if total else np.nan


def _autocorrelation(lag):
    return lambda s: float(np.nanmean(s[f"autocorrelation{lag}"]))


@dataclasses.dataclass(frozen=True)
class Row:
    name: str
    lower_is_better: bool
    is_percentage: bool
    compute: object  # stat dict -> float
    paper: tuple     # (MLE, Q, Psi, G)


ROWS = (
    Row("Notes excessively repeated", True, True, _ratio("num_repeated_notes", "total_notes"),
        (0.633, 0.0, 0.0002, 0.0003)),
    Row("Mean autocorrelation, lag 1", True, False, _autocorrelation(1), (-0.16, -0.11, -0.10, 0.55)),
    Row("Mean autocorrelation, lag 2", True, False, _autocorrelation(2), (0.14, 0.03, -0.01, 0.31)),
    Row("Mean autocorrelation, lag 3", True, False, _autocorrelation(3), (-0.13, 0.03, 0.01, 0.17)),
    Row("Notes not in key", True, True, _ratio("notes_not_in_key", "total_notes"),
        (0.001, 0.010, 0.006, 0.287)),
    Row("Compositions starting with tonic", False, True,
        _ratio("num_starting_tonic", "num_compositions"), (0.009, 0.288, 0.287, 0.0)),
    Row("Leaps resolved", False, True, _leaps_resolved, (0.772, 0.911, 0.900, 0.522)),
    Row("Compositions with unique max note", False, True,
        _ratio("num_high_unique", "num_compositions"), (0.647, 0.564, 0.594, 0.371)),
    Row("Compositions with unique min note", False, True,
        _ratio("num_low_unique", "num_compositions"), (0.494, 0.519, 0.583, 0.565)),
    Row("Notes in motif", False, True, _ratio("notes_in_motif", "total_notes"),
        (0.059, 0.757, 0.738, 0.693)),
    Row("Notes in repeated motif", False, True, _ratio("notes_in_repeated_motif", "total_notes"),
        (0.00007, 0.0011, 0.0009, 0.0001)),
)


def table_values(stat_dict):
    """{row name: value} for one model's composition statistics."""
    return {row.name: row.compute(stat_dict) for row in ROWS}
