#!/usr/bin/env python3
"""Same as `sequence-tutor reproduce music [flags]` (e.g. `--quick`); see its --help."""
import sys

from sequence_tutor_tf.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["reproduce", "music", *sys.argv[1:]]))
