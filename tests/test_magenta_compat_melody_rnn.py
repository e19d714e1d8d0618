"""melody_rnn checkpoints and .mag bundles (basic, mono, lookback, attention): our Keras softmax
against the graph magenta builds (events_rnn_graph) and bundles (MelodyRnnSequenceGenerator);
and bundles we write, run by magenta's generator."""
import os

import numpy as np
import pytest
from magenta.models.melody_rnn import melody_rnn_sequence_generator
from magenta.models.shared import sequence_generator_bundle
from note_seq.protobuf import generator_pb2, music_pb2

import magenta_compat
from tests import magenta_compat_oracle as oracle
from sequence_tutor_tf._tf import tf
from sequence_tutor_tf.models.attention_rnn import AttentionRNN
from sequence_tutor_tf.models.note_rnn import NoteRNN

CONFIGS = ["basic_rnn", "mono_rnn", "lookback_rnn", "attention_rnn"]
SIZES = [8, 6]
ATTN_LENGTH = 3
TOL = 1e-5


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("melody_rnn"))
    return {config_id: oracle.write_melody_rnn_sources(directory, config_id, SIZES, seed=i,
                                                       attn_length=ATTN_LENGTH)
            for i, config_id in enumerate(CONFIGS)}


def _compare(model, session, seed, batch=2, steps=6):
    """Max abs differences (softmax by sequence, softmax by steps, final state) vs magenta."""
    rng = np.random.RandomState(seed)
    x = rng.uniform(0, 1, (batch, steps, model.input_size)).astype(np.float32)
    state = rng.uniform(-1, 1, (batch, model.state_size)).astype(np.float32)
    widths = oracle.state_widths(session)
    assert sum(widths) == model.state_size
    want, want_state = oracle.run_generate_graph(
        session, x, np.split(state, np.cumsum(widths)[:-1], axis=1))
    want_state = np.concatenate(want_state, axis=1)
    logits, final = model.run_sequence(tf.constant(x), tf.constant(state))
    s, stepped = tf.constant(state), []
    for t in range(steps):
        step_logits, s = model.step(tf.constant(x[:, t]), s)
        stepped.append(tf.nn.softmax(step_logits).numpy())
    return (np.abs(tf.nn.softmax(logits).numpy() - want).max(),
            np.abs(np.stack(stepped, 1) - want).max(),
            max(np.abs(final.numpy() - want_state).max(), np.abs(s.numpy() - want_state).max()))


@pytest.mark.parametrize("config_id", CONFIGS)
def test_bundle_and_checkpoint_match_magenta(sources, config_id):
    checkpoint_dir, bundle_path, generator = sources[config_id]
    session = generator._model._session  # the graph magenta restored and bundled
    for source in (bundle_path, checkpoint_dir):
        model, info = magenta_compat.load_note_rnn_with_info(source)
        assert info["note_rnn_type"] == config_id
        assert model.rnn_layer_sizes == SIZES
        if config_id == "attention_rnn":
            assert isinstance(model, AttentionRNN) and model.attn_length == ATTN_LENGTH
        diffs = _compare(model, session, seed=11)
        print(f"{config_id} from {info['format']}: max abs differences softmax/step/state = "
              + "/".join(f"{d:.3g}" for d in diffs))
        assert max(diffs) <= TOL, diffs


def test_basic_rnn_note_rnn_type_reads_melody_checkpoints(sources):
    checkpoint_dir, _, generator = sources["basic_rnn"]
    model = magenta_compat.load_note_rnn(checkpoint_dir, note_rnn_type="basic_rnn")
    assert max(_compare(model, generator._model._session, seed=12)) <= TOL


def _generate(bundle_path, config_id):
    bundle = sequence_generator_bundle.read_bundle_file(bundle_path)
    generator = melody_rnn_sequence_generator.get_generator_map()[config_id](
        checkpoint=None, bundle=bundle)
    primer = music_pb2.NoteSequence()
    primer.tempos.add(qpm=120)
    primer.notes.add(pitch=60, start_time=0.0, end_time=0.5, velocity=80)
    primer.total_time = 0.5
    options = generator_pb2.GeneratorOptions()
    options.generate_sections.add(start_time=0.5, end_time=4.0)
    return generator, generator.generate(primer, options)


@pytest.mark.parametrize("config_id,model_fn", [
    ("basic_rnn", lambda: NoteRNN(SIZES)),
    ("lookback_rnn", lambda: NoteRNN([7], num_classes=40, input_size=121)),
    ("attention_rnn", lambda: AttentionRNN(SIZES, num_classes=40, input_size=74, attn_length=4)),
])
def test_written_bundle_generates_in_magenta(tmp_path, config_id, model_fn):
    model = model_fn()
    rng = np.random.RandomState(21)
    model.set_weights([rng.uniform(-0.6, 0.6, w.shape).astype(np.float32)
                       for w in model.get_weights()])
    path = str(tmp_path / f"{config_id}.mag")
    magenta_compat.write_mag_bundle(model, path, config_id, description="test export")
    generator, sequence = _generate(path, config_id)
    assert isinstance(sequence, music_pb2.NoteSequence)
    assert len(sequence.notes) > 1 and sequence.total_time > 0.5
    assert generator.bundle_details.description == "test export"
    diffs = _compare(model, generator._model._session, seed=22, batch=1)
    print(f"written {config_id} bundle in magenta: max abs differences = "
          + "/".join(f"{d:.3g}" for d in diffs))
    assert max(diffs) <= TOL
    again = magenta_compat.load_note_rnn(path)
    assert type(again) is type(model)
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_write_bundle_rejects_wrong_encoding_width(tmp_path):
    with pytest.raises(ValueError, match="lookback_rnn bundle needs input size 121"):
        magenta_compat.write_mag_bundle(NoteRNN([4]), str(tmp_path / "x.mag"), "lookback_rnn")
    assert not os.path.exists(tmp_path / "x.mag")
