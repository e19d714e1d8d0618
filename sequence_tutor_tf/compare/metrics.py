"""What `compare` reports for one tuned policy, from sequences it samples (`rl.rollout.play`):
task reward per sequence, KL from the prior and entropy per token (exact, from both
distributions), the prior's log-likelihood per token, diversity (unique sequences, distinct
n-grams over all samples) and the domain's own metrics (music: the paper's Table 1 rows)."""
import numpy as np

NGRAMS = (1, 2, 3, 4)


def distinct_ngrams(sequences, lengths, n):
    """Distinct n-grams / all n-grams over the samples (Li et al. 2016's distinct-n)."""
    seen, total = set(), 0
    for row, length in zip(sequences, lengths):
        row = row[:length].tolist()
        for i in range(len(row) - n + 1):
            seen.add(tuple(row[i:i + n]))
            total += 1
    return len(seen) / total if total else float("nan")


def rollout_metrics(played):
    mask = played.played()
    tokens = max(int(mask.sum()), 1)
    out = {
        "task_reward": float(np.mean((played.task_rewards * mask).sum(1))),
        "task_reward_std": float(np.std((played.task_rewards * mask).sum(1))),
        "kl_per_token": float(played.kls[mask].sum() / tokens),
        "entropy_per_token": float(played.entropies[mask].sum() / tokens),
        "prior_logp_per_token": float(played.prior_logps[mask].sum() / tokens),
        "mean_length": float(played.lengths.mean()),
        "unique_sequences": len({row[:n].tobytes() for row, n in
                                 zip(played.sequences, played.lengths)}) / len(played.sequences),
    }
    for n in NGRAMS:
        out[f"distinct_{n}"] = distinct_ngrams(played.sequences, played.lengths, n)
    return out


def music_metrics(domain, sequences, lengths):
    from sequence_tutor_tf.reproduce.paper_table import table_values
    return {f"music/{k}": float(v) for k, v in
            table_values(domain.sequence_metrics(sequences, lengths)).items()}


def molecule_metrics(domain, sequences, lengths):
    stats = domain.sequence_metrics(sequences, lengths)
    return {f"molecules/{k}": float(v) for k, v in stats.items()
            if isinstance(v, (int, float, np.floating, np.integer))}
