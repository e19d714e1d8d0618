"""The package selects Keras 2 (tf-keras) before TensorFlow loads, whoever imports first."""
import subprocess
import sys
import textwrap


def test_tf_keras_is_keras2_inside_our_modules():
    from sequence_tutor_tf._tf import keras, keras_major_version
    from sequence_tutor_tf.models.note_rnn import NoteRNN

    assert keras_major_version() == 2
    model = NoteRNN([4])
    import tf_keras
    assert isinstance(model, tf_keras.Model) and keras.Model is tf_keras.Model
    assert isinstance(model.output_layer, keras.layers.Dense)


def test_importing_package_first_selects_keras2_in_a_fresh_process():
    # A clean interpreter with TF_USE_LEGACY_KERAS unset: importing our package first must be
    # enough for a later plain `import tensorflow` to hand out Keras 2.
    code = textwrap.dedent("""
        import os
        os.environ.pop("TF_USE_LEGACY_KERAS", None)
        import sequence_tutor_tf.models.note_rnn
        import tensorflow as tf
        print(tf.keras.layers.Layer.__module__)
    """)
    env = {k: v for k, v in __import__("os").environ.items() if k != "TF_USE_LEGACY_KERAS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True)
    assert out.stdout.strip().splitlines()[-1].startswith("tf_keras")


def test_keras3_environment_is_refused_with_a_clear_error():
    code = "import sequence_tutor_tf._tf"
    env = dict(__import__("os").environ, TF_USE_LEGACY_KERAS="0")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode != 0
    assert "TF_USE_LEGACY_KERAS" in out.stderr
