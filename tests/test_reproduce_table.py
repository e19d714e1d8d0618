"""The two counts of Table 1 rows: the paper's sign test and "ends nearer the paper's value"."""
import numpy as np

from sequence_tutor_tf.reproduce import table
from sequence_tutor_tf.reproduce.paper_table import MODELS, ROWS


def _aggregated(values):
    """values: {model: [value per row]} -> table.aggregate's shape, one seed."""
    return {m: {row.name: (v, 0.0, 1) for row, v in zip(ROWS, vs)} for m, vs in values.items()}


def test_a_model_equal_to_the_papers_counts_every_row_both_ways():
    values = {m: [row.paper[j] for row in ROWS] for j, m in enumerate(MODELS)}
    counts = table.counts(_aggregated(values))
    assert counts == {m: (len(ROWS), len(ROWS), len(ROWS)) for m in MODELS[1:]}


def test_a_start_past_the_papers_tuned_value_differs_in_sign_but_ends_nearer():
    # Our Note RNN starts above the paper's tuned Q value on every row; Q moves halfway down
    # towards the paper's tuned value: every sign where the paper goes up differs, every row
    # ends nearer.
    paper_q = np.array([row.paper[1] for row in ROWS])
    mle = paper_q + 1.0
    q = paper_q + 0.5
    agg = _aggregated({"MLE": list(mle), "Q": list(q)})
    way, closer, rows = table.counts(agg)["Q"]
    paper_down = sum(row.paper[1] < row.paper[0] for row in ROWS)
    assert (way, closer, rows) == (paper_down, len(ROWS), len(ROWS))
    # Overshooting by more than the start's distance is not nearer.
    agg = _aggregated({"MLE": list(mle), "Q": list(paper_q - 2.0)})
    assert table.counts(agg)["Q"][1] == 0
    text = table.markdown_table(agg)
    assert f"goes the paper's way: Q {paper_down} of {len(ROWS)}" in text
    assert f"than our Note RNN started: Q 0 of {len(ROWS)}" in text


def test_nan_rows_are_left_out_of_the_nearer_count():
    values = {m: [row.paper[j] for row in ROWS] for j, m in enumerate(MODELS[:2])}
    values["Q"][0] = float("nan")
    closer = table.closer_to_paper(_aggregated(values))
    assert (ROWS[0].name, "Q") not in closer and len(closer) == len(ROWS) - 1


def test_report_preset_line_names_a_given_note_rnn_instead_of_pretraining():
    import json
    from sequence_tutor_tf.reproduce.music import PRESETS
    from sequence_tutor_tf.reproduce.report import preset_line
    own = json.loads(preset_line(PRESETS["paper"]))
    assert own["pretrain_steps"] == 3000 and "note_rnn" not in own
    given = json.loads(preset_line(PRESETS["paper"], "runs/note_rnn_3000"))
    assert given["note_rnn"] == "runs/note_rnn_3000"
    assert not {"corpus", "pretrain_steps", "pretrain_steps_per_epoch"} & set(given)
    assert given["training_steps"] == 1_000_000
