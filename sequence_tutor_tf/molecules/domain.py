"""The molecule domain of the RL core: SMILES tokens, episodes that end at EOS (or 120 tokens),
the research code's composite RDKit reward, and how sequences start.

`faithful` vocabulary: no BOS; each sequence is primed with one random token (ids 1..33, never
EOS), which is fed to the networks but is not part of the SMILES, and random exploration actions
are drawn the same way (the research code's `randint(EOS + 1, num_actions - 1)`). `atoms`
vocabulary: every sequence starts at BOS; BOS and PAD are never played.
"""
import numpy as np

from sequence_tutor_tf.rl.domain import Domain


class MoleculeDomain(Domain):
    """Args:
      vocabulary: a molecules.vocabulary SmilesVocabulary (faithful or atoms).
      extra_rewards: user components ['module:function' or (spec, weight)] added to the reward
        of molecules that finish valid.
      workers: processes that score uncached prefixes with RDKit (0: in this process).
      objective: the task reward, "research" (the research code's composite per-step reward)
        or "qed" (100 x QED of a molecule that finishes valid; rewards.MoleculeTaskReward).
    """

    def __init__(self, vocabulary, extra_rewards=(), workers=0, objective="research"):
        from sequence_tutor_tf.molecules.rewards import OBJECTIVES
        if objective not in OBJECTIVES:
            raise ValueError(f"--reward must be one of {list(OBJECTIVES)}, got {objective!r}")
        self.vocabulary = vocabulary
        self.max_length = int(vocabulary.max_length)
        self.extra_rewards = tuple(extra_rewards)
        self.workers = int(workers)
        self.objective = objective

    def make_task_reward(self, batch_size, prior_in_reward=True):
        from sequence_tutor_tf.molecules.rewards import MoleculeTaskReward
        return MoleculeTaskReward(batch_size, self.vocabulary,
                                  extra_components=self.extra_rewards, workers=self.workers,
                                  objective=self.objective)

    def action_mask(self):
        specials = [t for t in (self.vocabulary.bos, self.vocabulary.pad)
                    if t is not None and t != self.vocabulary.eos]
        if not specials:
            return None
        mask = np.ones(self.vocabulary.size, bool)
        mask[specials] = False
        return mask

    def exploration_actions(self):
        if self.vocabulary.bos is None:      # faithful: the research code's draw
            return np.arange(1, self.vocabulary.size - 1, dtype=np.int32)
        return None

    def make_primer(self):
        from sequence_tutor_tf.rl.priming import RandomTokenPrimer, TokenPrimer
        if self.vocabulary.bos is not None:
            return TokenPrimer(self.vocabulary.bos)
        return RandomTokenPrimer(self.vocabulary.size, allowed=self.exploration_actions())

    def decode(self, sequences, lengths=None):
        """SMILES strings of token rows [N, T] (each row up to its length / EOS)."""
        sequences = np.asarray(sequences)
        if lengths is None:
            lengths = np.full(len(sequences), sequences.shape[1])
        return [self.vocabulary.decode(row[:n]) for row, n in zip(sequences, lengths)]

    def sequence_metrics(self, sequences, lengths=None):
        from sequence_tutor_tf.molecules.metrics import paper_statistics
        return paper_statistics(self.decode(sequences, lengths))
