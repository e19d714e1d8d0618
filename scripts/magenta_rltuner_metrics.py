#!/usr/bin/env python3
"""Trains magenta's own RLTuner from one of our Note RNNs and prints the paper's metrics.

The side-by-side check behind docs/results.md: does the original code, with rl_tuner_train.py's
settings, end where ours does? Needs magenta (`make install-magenta`).

  python scripts/magenta_rltuner_metrics.py --note-rnn runs/paper/note_rnn_pretrain/note_rnn \
      --steps 100000 --algorithm q
"""
import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sequence_tutor_tf  # noqa: E402,F401  (Keras 2 before magenta imports TensorFlow)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--note-rnn", required=True, help="our Note RNN checkpoint directory")
    parser.add_argument("--algorithm", default="q", choices=["q", "psi", "g", "pure_rl"])
    parser.add_argument("--steps", type=int, default=100000)
    parser.add_argument("--compositions", type=int, default=300,
                        help="compositions scored by rl_tuner_eval_metrics afterwards")
    parser.add_argument("--output-dir", default=None, help="magenta's output directory")
    args = parser.parse_args(argv)

    import magenta_compat
    import tensorflow.compat.v1 as tf1
    from magenta.models.rl_tuner import rl_tuner, rl_tuner_eval_metrics, rl_tuner_ops

    from sequence_tutor_tf.models.loading import load_note_rnn_any
    from sequence_tutor_tf.reproduce.paper_table import table_values

    work = args.output_dir or tempfile.mkdtemp(prefix="magenta_rltuner_")
    ckpt = magenta_compat.save_rl_tuner_checkpoint(load_note_rnn_any(args.note_rnn),
                                                   os.path.join(work, "note_rnn"))
    hparams = rl_tuner_ops.default_dqn_hparams()
    hparams.discount_rate = 0.5                       # rl_tuner_train.py's settings
    note_hparams = rl_tuner_ops.default_hparams()
    note_hparams.rnn_layer_sizes = load_note_rnn_any(args.note_rnn).rnn_layer_sizes
    tf1.disable_eager_execution()
    tuner = rl_tuner.RLTuner(
        os.path.join(work, "out"), dqn_hparams=hparams, reward_mode="music_theory_all",
        reward_scaler=0.1, exploration_mode="boltzmann", output_every_nth=50000,
        algorithm=args.algorithm, note_rnn_checkpoint_dir=os.path.dirname(ckpt),
        note_rnn_checkpoint_file=ckpt, note_rnn_hparams=note_hparams)
    start = time.time()
    tuner.train(num_steps=args.steps, exploration_period=args.steps // 2)
    print(f"magenta RLTuner ({args.algorithm}): {args.steps} steps in {time.time() - start:.0f} s")
    stats = rl_tuner_eval_metrics.compute_composition_stats(
        tuner, num_compositions=args.compositions, composition_length=32)
    for name, value in table_values(stats).items():
        print(f"{name}: {value:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
