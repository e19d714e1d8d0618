"""Exported SavedModels: run without the package, match the Keras models, G = Q + prior.

Tiny models (8- and 6-unit LSTMs) so that exports and a TensorFlow-only subprocess stay fast.
"""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from sequence_tutor_tf._tf import tf
from sequence_tutor_tf.cli.main import main
from sequence_tutor_tf.export import export_saved_model, load_generator
from sequence_tutor_tf.export.metadata import FORMAT
from sequence_tutor_tf.models.checkpoints import load_note_rnn, save_note_rnn
from sequence_tutor_tf.models.note_rnn import NoteRNN, write_model_config

NUM_CLASSES = 38
EVENTS = np.array([[14, 0, 21, 1, 3], [2, 37, 0, 0, 16]], np.int32)  # batch 2, 5 steps


def _note_rnn(units, seed, num_classes=NUM_CLASSES, scale=4.0):
    """A small Note RNN with peaked outputs (scaled read-out) so argmax and sampling differ."""
    tf.random.set_seed(seed)
    model = NoteRNN(units, num_classes=num_classes)
    kernel, bias = model.output_layer.get_weights()
    model.output_layer.set_weights([kernel * scale, bias])
    return model


def _write_run_dir(run_dir, algorithm, q_model, prior_model=None, hparams=None):
    save_note_rnn(q_model, os.path.join(run_dir, "q_network"), step=7)
    if prior_model is not None:
        save_note_rnn(prior_model, os.path.join(run_dir, "reward_rnn"), step=0)
    with open(os.path.join(run_dir, "tuner_config.json"), "w") as f:
        json.dump({"algorithm": algorithm,
                   "hparams": hparams or {"reward_scaler": 0.1, "num_actions": NUM_CLASSES}}, f)
    return str(run_dir)


def _keras_steps(model, events):
    """Per-step logits [T, batch, C] and states [T, batch, S] from the Keras model."""
    state = model.zero_state(events.shape[0])
    logits_list, states = [], []
    for t in range(events.shape[1]):
        logits, state = model.step_eager(events[:, t], state)
        logits_list.append(logits.numpy())
        states.append(state.numpy())
    return np.stack(logits_list), np.stack(states)


@pytest.fixture(scope="module")
def note_rnn_dir(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("note_rnn"))
    save_note_rnn(_note_rnn([8], seed=1), directory, step=3)
    return directory


@pytest.fixture(scope="module")
def note_rnn_export(note_rnn_dir, tmp_path_factory):
    out = os.path.join(str(tmp_path_factory.mktemp("exports")), "note_rnn_sm")
    assert main(["export", "--checkpoint", note_rnn_dir, "--out", out, "--log-level",
                 "WARNING"]) == 0
    return out


@pytest.fixture(scope="module")
def g_run_dir(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("g_run")
    return _write_run_dir(run_dir, "g", _note_rnn([8], seed=2), _note_rnn([6], seed=3),
                          hparams={"reward_scaler": 0.5, "discount_rate": 0.5})


@pytest.fixture(scope="module")
def g_export(g_run_dir, tmp_path_factory):
    return export_saved_model(g_run_dir, os.path.join(str(tmp_path_factory.mktemp("g_sm")), "sm"))


# ----- runs with TensorFlow alone -----------------------------------------------------------------
CHILD_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf

    export_dir, ref_path = sys.argv[1], sys.argv[2]
    ref = np.load(ref_path)
    m = tf.saved_model.load(export_dir)
    assert set(m.signatures) == {"step", "step_indices", "generate", "initial_state",
                                 "metadata"}, sorted(m.signatures)

    meta = json.loads(m.signatures["metadata"]()["json"].numpy().decode())
    assert meta["encoding"] == "melody_one_hot" and meta["num_classes"] == 38, meta
    assert (meta["min_note"], meta["max_note"]) == (48, 84), meta
    assert meta["algorithm"] == "note_rnn" and meta["state_size"] == 16, meta
    assert meta["hparams"]["rnn_layer_sizes"] == [8], meta

    state = m.signatures["initial_state"](batch_size=tf.constant(2))["state"]
    assert state.shape == (2, 16) and not np.any(state.numpy())
    state_i = state
    events = ref["events"]
    for t in range(events.shape[1]):
        one_hot = tf.one_hot(events[:, t], 38)
        out = m.signatures["step"](inputs=one_hot, state=state)
        out_i = m.signatures["step_indices"](events=tf.constant(events[:, t]), state=state_i)
        for o in (out, out_i):
            np.testing.assert_allclose(o["logits"].numpy(), ref["logits"][t], atol=1e-5)
            np.testing.assert_allclose(o["state"].numpy(), ref["states"][t], atol=1e-5)
            np.testing.assert_allclose(o["probabilities"].numpy(),
                                       tf.nn.softmax(ref["logits"][t]).numpy(), atol=1e-6)
        state, state_i = out["state"], out_i["state"]

    def gen(seed, sample=True, steps=24):
        return m.signatures["generate"](
            primer=tf.constant(events[:, :2]), num_steps=tf.constant(steps),
            temperature=tf.constant(1.0), sample=tf.constant(sample),
            seed=tf.constant(seed, tf.int64))

    a, b, c = gen(5), gen(5), gen(6)
    assert a["events"].shape == (2, 26) and a["generated"].shape == (2, 24)
    np.testing.assert_array_equal(a["events"].numpy()[:, :2], events[:, :2])
    np.testing.assert_array_equal(a["events"].numpy()[:, 2:], a["generated"].numpy())
    np.testing.assert_array_equal(a["events"].numpy(), b["events"].numpy())
    assert not np.array_equal(a["events"].numpy(), c["events"].numpy())
    g1, g2 = gen(5, sample=False), gen(6, sample=False)
    np.testing.assert_array_equal(g1["events"].numpy(), g2["events"].numpy())
    assert gen(5, steps=0)["events"].shape == (2, 2)
    assert m.generate(primer=tf.constant(events[:1, :1]), num_steps=tf.constant(3),
                      temperature=tf.constant(0.5), sample=tf.constant(True),
                      seed=tf.constant(1, tf.int64))["events"].shape == (1, 4)
    assert "sequence_tutor_tf" not in sys.modules, "the export imported our package"
    print("CHILD_OK")
""")


def test_export_runs_without_package_and_matches_keras(note_rnn_dir, note_rnn_export, tmp_path):
    model, _ = load_note_rnn(note_rnn_dir)
    logits, states = _keras_steps(model, EVENTS)
    ref_path = str(tmp_path / "ref.npz")
    np.savez(ref_path, events=EVENTS, logits=logits, states=states)
    script = tmp_path / "child.py"
    script.write_text(CHILD_SCRIPT)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["CUDA_VISIBLE_DEVICES"] = ""
    proc = subprocess.run([sys.executable, str(script), note_rnn_export, ref_path],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "CHILD_OK" in proc.stdout, proc.stderr[-3000:]
    with open(os.path.join(note_rnn_export, "assets.extra", "metadata.json")) as f:
        assert json.load(f)["format"] == FORMAT


# ----- G-learning: exported policy = G scores + prior log-probs -----------------------------------
def test_g_export_policy_is_q_plus_prior_log_probs(g_run_dir, g_export):
    q, _ = load_note_rnn(os.path.join(g_run_dir, "q_network"))
    prior, _ = load_note_rnn(os.path.join(g_run_dir, "reward_rnn"))
    q_logits, q_states = _keras_steps(q, EVENTS)
    p_logits, p_states = _keras_steps(prior, EVENTS)
    expected = q_logits + tf.nn.log_softmax(p_logits).numpy()
    # What RLTuner.build_graph samples from: softmax(action_scores + reward_scores).
    expected_probs = tf.nn.softmax(q_logits + p_logits).numpy()

    m = tf.saved_model.load(g_export)
    meta = json.loads(m.signatures["metadata"]()["json"].numpy().decode())
    assert meta["algorithm"] == "g" and meta["state_size"] == 16 + 12
    assert [part["network"] for part in meta["state_layout"]] == ["q_network", "reward_rnn"]
    assert meta["hparams"] == {"reward_scaler": 0.5, "discount_rate": 0.5}
    state = m.signatures["initial_state"](batch_size=tf.constant(2))["state"]
    for t in range(EVENTS.shape[1]):
        out = m.signatures["step_indices"](events=tf.constant(EVENTS[:, t]), state=state)
        np.testing.assert_allclose(out["logits"].numpy(), expected[t], atol=1e-5)
        np.testing.assert_allclose(out["probabilities"].numpy(), expected_probs[t], atol=1e-6)
        np.testing.assert_allclose(out["state"].numpy(),
                                   np.concatenate([q_states[t], p_states[t]], -1), atol=1e-5)
        state = out["state"]
    assert not np.allclose(expected, q_logits, atol=1e-3), "the prior must change the policy"

    # Greedy generation equals a Python loop over the two Keras models.
    primer = EVENTS[:, :2]
    out = m.signatures["generate"](primer=tf.constant(primer), num_steps=tf.constant(6),
                                   temperature=tf.constant(1.0), sample=tf.constant(False),
                                   seed=tf.constant(0, tf.int64))["events"].numpy()
    qs, ps, seq = q.zero_state(2), prior.zero_state(2), [primer[:, 0], primer[:, 1]]
    for t in range(1 + 6):
        ql, qs = q.step_eager(seq[t], qs)
        pl, ps = prior.step_eager(seq[t], ps)
        if t >= 1:
            seq.append(np.argmax((ql + tf.nn.log_softmax(pl)).numpy(), -1).astype(np.int32))
    np.testing.assert_array_equal(out, np.stack(seq, 1))


def test_q_run_dir_exports_q_network_only(tmp_path):
    run_dir = _write_run_dir(tmp_path / "run", "q", _note_rnn([6], seed=4))
    generator = load_generator(run_dir)  # in memory: same policy graph as the export
    assert generator.kind == "checkpoint" and generator.metadata["algorithm"] == "q"
    assert generator.metadata["state_size"] == 12
    q, _ = load_note_rnn(os.path.join(run_dir, "q_network"))
    logits, _ = _keras_steps(q, EVENTS[:, :1])
    events = generator.generate(EVENTS[:, :1], 1, sample=False)
    np.testing.assert_array_equal(events[:, 1], np.argmax(logits[0], -1))


# ----- generate CLI -------------------------------------------------------------------------------
def _generate(model, out_dir, *extra):
    return main(["generate", "--checkpoint", model, "--output-dir", str(out_dir),
                 "--num-outputs", "3", "--num-steps", "16", "--seed", "11",
                 "--log-level", "WARNING", *extra])


def test_generate_from_run_dir_and_export_agree(g_run_dir, g_export, tmp_path):
    import note_seq
    primer = "[60, -2, 60, -2, 67, -2]"
    assert _generate(g_run_dir, tmp_path / "a", "--primer-melody", primer) == 0
    assert _generate(g_export, tmp_path / "b", "--primer-melody", primer) == 0
    a = json.loads((tmp_path / "a" / "generated_events.json").read_text())
    b = json.loads((tmp_path / "b" / "generated_events.json").read_text())
    assert (a["model_kind"], b["model_kind"]) == ("checkpoint", "saved_model")
    assert a["events"] == b["events"]
    events = np.array(a["events"])
    assert events.shape == (3, 16)
    np.testing.assert_array_equal(events[:, :6], [[14, 0, 14, 0, 21, 0]] * 3)
    assert len({tuple(row) for row in events}) > 1, "outputs of one call should differ"
    for i in (1, 2, 3):
        assert (tmp_path / "b" / f"melody_{i}.mid").stat().st_size > 0
        pb_bytes = (tmp_path / "b" / f"melody_{i}.pb").read_bytes()
        sequence = note_seq.NoteSequence.FromString(pb_bytes)
        assert sequence.tempos[0].qpm == 80.0
        assert [n.pitch for n in sequence.notes[:3]] == [60, 60, 67]  # the primer, unshifted
    # --argmax makes every output the same greedy melody.
    assert _generate(g_export, tmp_path / "c", "--argmax") == 0
    greedy = json.loads((tmp_path / "c" / "generated_events.json").read_text())["events"]
    assert greedy[0] == greedy[1] == greedy[2] and greedy[0][0] == 14  # default primer: C4


def test_generate_primer_midi(note_rnn_dir, tmp_path):
    import note_seq
    from sequence_tutor_tf.music import encoding
    primer_ns = note_seq.Melody([62, -2, 64, -1]).to_sequence(qpm=100.0)
    note_seq.sequence_proto_to_midi_file(primer_ns, str(tmp_path / "primer.mid"))
    assert _generate(note_rnn_dir, tmp_path / "out", "--primer-midi",
                     str(tmp_path / "primer.mid")) == 0
    events = json.loads((tmp_path / "out" / "generated_events.json").read_text())["events"]
    expected = encoding.note_sequence_to_events(primer_ns)
    np.testing.assert_array_equal(np.array(events)[:, :len(expected)], [expected] * 3)
    sequence = note_seq.NoteSequence.FromString((tmp_path / "out" / "melody_1.pb").read_bytes())
    assert sequence.tempos[0].qpm == pytest.approx(100.0)


@pytest.mark.parametrize("flags, message", [
    (["--primer-melody", "[60, 'a']"], "list of ints"),
    (["--primer-melody", "[60, -3]"], "-3 is not a Melody event"),
    (["--primer-melody", "[100]"], "100"),
    (["--primer-melody", "[60, -2, 62]", "--num-steps", "3"], "--num-steps 3"),
    (["--primer-melody", "[60]", "--primer-midi", "x.mid"], "not both"),
    (["--primer-midi", "missing.mid"], "missing.mid"),
])
def test_generate_bad_primer(flags, message, note_rnn_dir, tmp_path, capsys):
    rc = main(["generate", "--checkpoint", note_rnn_dir, "--output-dir", str(tmp_path),
               "--log-level", "WARNING", *flags])
    assert rc == 2 and message in capsys.readouterr().err


def _save_foreign_model(path, metadata, with_generate=True):
    """A SavedModel with our signature names but another encoding (or none at all)."""
    module = tf.Module()
    module.metadata = tf.function(lambda: {"json": tf.constant(json.dumps(metadata))},
                                  input_signature=[])
    signatures = {"metadata": module.metadata.get_concrete_function()}
    if with_generate:
        module.generate = tf.function(
            lambda primer: {"events": primer},
            input_signature=[tf.TensorSpec([None, None], tf.int32, name="primer")])
        signatures["generate"] = module.generate.get_concrete_function()
    else:
        signatures = {"serving_default": signatures["metadata"]}
    tf.saved_model.save(module, str(path), signatures=signatures)
    return str(path)


def test_generate_rejects_other_encoding(tmp_path, capsys):
    other = _save_foreign_model(tmp_path / "perf", {
        "format": FORMAT, "encoding": "performance_one_hot", "num_classes": 388,
        "min_note": 21, "max_note": 109})
    with pytest.raises(ValueError, match="performance_one_hot.*388"):
        load_generator(other)
    assert main(["generate", "--checkpoint", other, "--output-dir", str(tmp_path / "o"),
                 "--log-level", "WARNING"]) == 2
    assert "performance_one_hot" in capsys.readouterr().err
    bare = _save_foreign_model(tmp_path / "bare", {}, with_generate=False)
    with pytest.raises(ValueError, match=r"no \['generate', 'metadata'\].*serving_default"):
        load_generator(bare)


# ----- export errors ------------------------------------------------------------------------------
def _break(kind, root):
    """Builds a broken source directory of the given kind under `root`; returns its path."""
    root = str(root)
    if kind == "no_q_network":
        os.makedirs(root, exist_ok=True)
        with open(os.path.join(root, "tuner_config.json"), "w") as f:
            json.dump({"algorithm": "q", "hparams": {}}, f)
    elif kind == "g_without_prior":
        _write_run_dir(root, "g", _note_rnn([4], seed=0))
    elif kind == "class_mismatch":
        _write_run_dir(root, "g", _note_rnn([4], seed=0),
                       _note_rnn([4], seed=0, num_classes=40))
    elif kind == "unknown_algorithm":
        _write_run_dir(root, "dqn", _note_rnn([4], seed=0))
    elif kind == "hparams_mismatch":
        _write_run_dir(root, "q", _note_rnn([4], seed=0), hparams={"num_actions": 40})
    elif kind == "no_checkpoint":
        os.makedirs(root, exist_ok=True)
        write_model_config(_note_rnn([4], seed=0), root)
    elif kind == "weights_mismatch":
        save_note_rnn(_note_rnn([4], seed=0), root)
        write_model_config(_note_rnn([5], seed=0), root)
    elif kind == "other_encoding":
        save_note_rnn(_note_rnn([4], seed=0, num_classes=40), root)
    elif kind == "empty":
        os.makedirs(os.path.join(root, "stuff"))
    return root


@pytest.mark.parametrize("kind, error, message", [
    ("no_q_network", FileNotFoundError, "q_network: missing directory"),
    ("g_without_prior", FileNotFoundError, "reward_rnn: missing directory"),
    ("class_mismatch", ValueError, "q_network has 38 classes but reward_rnn has 40"),
    ("unknown_algorithm", ValueError, "algorithm 'dqn' is not one of"),
    ("hparams_mismatch", ValueError, "num_actions=40"),
    ("no_checkpoint", FileNotFoundError, "no TF2 checkpoint"),
    ("weights_mismatch", ValueError, "does not match its note_rnn_config.json"),
    ("other_encoding", ValueError, "40 classes, but the melody_one_hot encoding"),
    ("empty", FileNotFoundError, "found ['stuff']"),
])
def test_export_rejects_broken_sources(kind, error, message, tmp_path):
    source = _break(kind, tmp_path / "src")
    with pytest.raises(error) as info:
        export_saved_model(source, str(tmp_path / "out"))
    assert message in str(info.value)
    assert not os.path.exists(tmp_path / "out"), "a failed export must leave nothing behind"


def test_export_cli_refuses_non_empty_out(note_rnn_dir, tmp_path, capsys):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("x")
    assert main(["export", "--checkpoint", note_rnn_dir, "--out", str(tmp_path / "out")]) == 2
    assert "already exists and is not empty" in capsys.readouterr().err
    assert main(["export", "--checkpoint", str(tmp_path / "nowhere"), "--out",
                 str(tmp_path / "o2")]) == 2
    assert "no such directory" in capsys.readouterr().err
