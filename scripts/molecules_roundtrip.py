"""Round-trips every MOSES SMILES (train 1,584,663 and test 176,074) through both SMILES
vocabularies, batched, and prints the time each took. tests/test_molecules_vocabulary.py checks a
seeded 200k subset of train (the full set takes 20-35 s on our loaded 2-core machine).

    python scripts/molecules_roundtrip.py
"""
import sys
import time

import numpy as np

from sequence_tutor_tf.molecules import moses
from sequence_tutor_tf.molecules.vocabulary import AtomsVocabulary, FaithfulVocabulary


def main():
    failures = 0
    for split in ("train", "test"):
        t = time.perf_counter()
        smiles = moses.read_split(split)
        print(f"{split}: {len(smiles)} SMILES read in {time.perf_counter() - t:.1f} s, "
              f"{len(set(''.join(smiles)))} distinct characters")
        atoms = AtomsVocabulary.from_corpus(smiles)
        print(f"  atoms vocabulary: {atoms.size - 3} tokens {atoms.tokens[3:]}")
        for vocab in (FaithfulVocabulary(), atoms):
            t = time.perf_counter()
            ids, lengths = vocab.encode_batch(smiles)
            t_enc = time.perf_counter() - t
            back = vocab.decode_batch(ids, lengths)
            t_dec = time.perf_counter() - t - t_enc
            bad = [i for i, (a, b) in enumerate(zip(smiles, back)) if a != b]
            bad += [] if len(back) == len(smiles) else [-1]
            too_long = int(np.sum(lengths - (vocab.bos is not None) > vocab.max_length))
            failures += len(bad) + too_long
            print(f"  {vocab.name}: encode {t_enc:.1f} s, decode {t_dec:.1f} s, "
                  f"{len(bad)} mismatches, {too_long} longer than {vocab.max_length} tokens, "
                  f"max {int(lengths.max())} ids")
    print("OK" if not failures else f"FAILED ({failures})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
