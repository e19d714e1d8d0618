"""REINVENT's diversity filter, domain-free: sequences are put in buckets by a key the domain
computes (molecules: the Murcko scaffold); once a bucket holds `bucket_size` sequences that
scored at least `min_score`, later members of it score 0, so the agent is pushed off modes it
has already exploited (Blaschke et al. 2020, "IdenticalMurckoScaffold"). A key of None (an
invalid molecule) is never bucketed."""
import numpy as np


class BucketFilter:
    def __init__(self, key_fn, bucket_size=25, min_score=0.4):
        self.key_fn = key_fn
        self.bucket_size, self.min_score = int(bucket_size), float(min_score)
        self.counts = {}

    def __call__(self, sequences, lengths, scores):
        scores = np.array(scores, np.float32)
        for i, key in enumerate(self.key_fn(sequences, lengths)):
            if key is None or scores[i] < self.min_score:
                continue
            count = self.counts.get(key, 0)
            if count >= self.bucket_size:
                scores[i] = 0.0
            else:
                self.counts[key] = count + 1
        return scores

    def state(self):
        return {"buckets": dict(self.counts)}

    def load_state(self, state):
        self.counts = dict(state.get("buckets", {}))
