"""The molecule domain's tuning settings, and its two named settings.

`code` is the research code's final run ("update rl tuner train for final run", see
molecule-facts.md): e-greedy with e = 0.01 from the start, train every 50 steps, minibatch 512,
discount 0.95, replay 500,000, target rate 0.01, Adam 1e-4, reward_scaler 0.35, the prior frozen
in G (its scores go through stop_gradient there), no terminal masking, prioritized replay
(priority (|TD error| + 0.01)^0.5, no importance weights). `paper` is the same with terminal
masking (a molecule's last token does not bootstrap from the next molecule's first state) and
uniform replay, as `paper` ran before prioritized replay existed (`--replay prioritized`
switches it on; docs/differences/molecules.md).
"""
import dataclasses
from typing import Optional

RESEARCH_HPARAMS = ("random_action_probability=0.01,train_every_nth=50,minibatch_size=512,"
                    "discount_rate=0.95,max_experience=500000,target_network_update_rate=0.01")

SETTINGS = {
    "code": {"exploration_mode": "egreedy", "exploration_steps": 0, "hparams": RESEARCH_HPARAMS,
             "learning_rate": 1e-4, "reward_scaler": 0.35, "training_steps": 2_500_000,
             "behaviour": "g_trains_prior=false", "replay": "prioritized"},
}
SETTINGS["paper"] = dict(SETTINGS["code"], replay="uniform",
                         behaviour="g_trains_prior=false,discount_across_compositions=false")


def _f(help_text, **meta):
    return dict(meta, help=help_text)


@dataclasses.dataclass(frozen=True)
class MoleculeTuneSettings:
    prior: Optional[str] = dataclasses.field(default=None, metadata=_f(
        "SMILES prior to tune (required): a directory written by `pretrain --domain molecules`",
        metavar="DIR"))
    extra_reward: tuple = dataclasses.field(default=(), metadata=_f(
        "add a user component to the reward of valid finished molecules: "
        "'package.module:function' over a list of SMILES (repeatable; it runs code: trusted "
        "inputs only)", append=True, metavar="SPEC"))
    rdkit_workers: int = dataclasses.field(default=0, metadata=_f(
        "processes scoring uncached SMILES prefixes with RDKit (0: in this process)", low=0,
        high=64))
    reward: str = dataclasses.field(default="research", metadata=_f(
        "the task reward: 'research' (the research code's composite per-step reward, "
        "m = 3 logP - 2 SA + 5 ring + 50 QED) or 'qed' (100 x QED when a molecule finishes "
        "valid, nothing per step: bounded, so its optimum is drug-like molecules; "
        "docs/results.md shows the research reward's degenerate optima)",
        choices=("research", "qed")))

    def __post_init__(self):
        object.__setattr__(self, "extra_reward", tuple(self.extra_reward or ()))
        if not self.prior:
            raise ValueError("--prior is required: the SMILES prior directory to tune")
        w = self.rdkit_workers
        if isinstance(w, bool) or not isinstance(w, int) or not 0 <= w <= 64:
            raise ValueError(f"--rdkit-workers must be an integer in 0..64, got {w!r}")

    def to_dict(self):
        values = dataclasses.asdict(self)
        values["extra_reward"] = list(self.extra_reward)
        return values

    def make_domain(self, vocabulary):
        from sequence_tutor_tf.molecules.domain import MoleculeDomain
        return MoleculeDomain(vocabulary, extra_rewards=self.extra_reward,
                              workers=self.rdkit_workers, objective=self.reward)


def load_molecule_networks(settings):
    """(policy network, prior, vocabulary): the SMILES prior at --prior and a copy of it as the
    frozen prior (`reward_rnn`), for the off- and on-policy engines alike."""
    from sequence_tutor_tf.molecules.prior import load_prior
    try:
        q, vocabulary = load_prior(settings.prior)
    except (OSError, ValueError) as e:
        raise ValueError(f"--prior: {e}") from None
    return q, q.copy(name="reward_rnn"), vocabulary
