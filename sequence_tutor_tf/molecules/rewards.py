"""Molecule rewards as components (REINVENT-4 style) and the research code's per-step reward.

A component is a function over a list of SMILES returning one float each; the built-ins never
raise (an invalid SMILES scores 0 and `validity` says which were valid). A user component is
named `'package.module:function'` (the module may live in the working directory) and is checked
on every call: raising, returning NaN/inf, strings, or the wrong number of values is a
ValueError naming the component, never a traceback from inside a run.

`composite_step_reward` is the research code's `collect_domain_reward` (smiles_tutor.py) with
its final run's values (`RewardValues`), vectorised over rows; `MoleculeTaskReward` keeps each
row's prefix and calls it once per environment step, caching RDKit work per prefix string.
"""
import collections
import dataclasses
import math
import multiprocessing

import numpy as np

from sequence_tutor_tf.molecules import properties as props

# The research code's training-data length statistics (smiles_tutor.get_length_penalty).
TRAIN_LENGTH_MEAN, TRAIN_LENGTH_STD = 45.82, 9.37
TRAIN_LENGTH_MIN, TRAIN_LENGTH_MAX = 19, 78
MOST_REPEATED_C = 11   # get_excessive_carbon_penalty: more C tokens than this in a row


@dataclasses.dataclass(frozen=True)
class RewardValues:
    """rl_tutor_train.py's `reward_values` of the final run (valid_length_bonus_cap spelled as
    the reward reads it; the default `smiles_reward_values()` misspells it, both are 0)."""
    valid_length_multiplier: float = 0.0
    valid_length_bonus_cap: float = 0.0
    invalid_length_multiplier: float = 0.0
    sa_multiplier: float = 2.0
    logp_multiplier: float = 3.0
    ringp_multiplier: float = 5.0
    qed_multiplier: float = 50.0
    shortish_seq: float = -25.0
    short_seq: float = -200.0
    longish_seq: float = 0.0
    long_seq: float = 0.0
    any_valid_bonus: float = 5.0
    any_invalid_penalty: float = -5.0
    end_invalid_penalty: float = 0.0
    end_valid_bonus: float = 600.0
    repeated_C_penalty: float = -150.0
    end_valid_drug_quality_multiplier: float = 10.0


DEFAULT_VALUES = RewardValues()

# The task rewards MoleculeTaskReward offers (`tune --domain molecules --reward`).
OBJECTIVES = ("research", "qed")
# "qed": a finished valid molecule earns 100 x QED, so at reward_scaler 0.35 a molecule of QED
# 0.8 is worth 28 nats, about the prior's log-likelihood of a 37-token molecule (-26): the task
# and the KL term of the objective are of one size.
QED_REWARD_WEIGHT = 100.0


# ---------------------------------------------------------------- built-in components
def validity(smiles_list):
    """1.0 for a valid molecule (non-empty, parses, at least one atom), else 0.0."""
    return np.asarray([props.parse_smiles(s) is not None for s in smiles_list], np.float64)


def _property_component(name):
    fn = getattr(props, name)

    def component(smiles_list):
        out = np.zeros(len(smiles_list), np.float64)
        for i, s in enumerate(smiles_list):
            mol = props.parse_smiles(s)
            if mol is not None:
                out[i] = fn(mol)
        return out
    component.__name__ = name
    component.__doc__ = f"RDKit {name} of each valid molecule (0.0 where invalid)."
    return component


logp = _property_component("logp")
sa = _property_component("sa")
qed = _property_component("qed")
ring_penalty = _property_component("ring_penalty")


def drug_score(smiles_list):
    """m = 3 logP - 2 SA + 5 ring + 50 QED of each valid molecule (0.0 where invalid)."""
    return np.nan_to_num(props.compute_properties(smiles_list)["score"], nan=0.0)


def length_penalty_for_tokens(num_tokens, values=DEFAULT_VALUES):
    """get_length_penalty over token counts (EOS counted, as the research code's seq has it)."""
    n = np.asarray(num_tokens, np.float64)
    short = np.where(n < TRAIN_LENGTH_MIN, values.short_seq,
                     np.where(n < TRAIN_LENGTH_MEAN - 2 * TRAIN_LENGTH_STD, values.shortish_seq,
                              0.0))
    long = np.where(n > TRAIN_LENGTH_MAX, values.long_seq,
                    np.where(n > TRAIN_LENGTH_MEAN + 2 * TRAIN_LENGTH_STD, values.longish_seq,
                             0.0))
    return short + long


def length_penalty(smiles_list):
    """The end-of-sequence length penalty of each finished SMILES (faithful tokens + EOS)."""
    return length_penalty_for_tokens([len(s) + 1 for s in smiles_list])


def carbon_run_penalty(smiles_list):
    """-150 where the SMILES ends in a 'C' preceded directly by more than 11 'C' (the new
    token is the last character)."""
    out = np.zeros(len(smiles_list), np.float64)
    for i, s in enumerate(smiles_list):
        run = len(s) - len(s.rstrip("C"))    # the new token and the C's before it
        if run - 1 > MOST_REPEATED_C:
            out[i] = DEFAULT_VALUES.repeated_C_penalty
    return out


COMPONENTS = {"validity": validity, "logp": logp, "sa": sa, "qed": qed,
              "ring_penalty": ring_penalty, "drug_score": drug_score,
              "length_penalty": length_penalty, "carbon_run": carbon_run_penalty}


# ---------------------------------------------------------------- user components
def resolve_component(spec):
    """A built-in name, 'package.module:function' or a callable -> (name, function)."""
    from sequence_tutor_tf.utils.plugins import resolve_plugin
    return resolve_plugin(spec, COMPONENTS, "reward component", name_from="spec")


def call_component(name, fn, smiles_list):
    """Runs a component and checks it gave one finite float per SMILES (float64 [N])."""
    smiles_list = list(smiles_list)
    try:
        raw = fn(list(smiles_list))
    except Exception as e:
        first = smiles_list[0] if smiles_list else None
        raise ValueError(f"reward component {name!r} raised {type(e).__name__}: {e} (on a "
                         f"batch of {len(smiles_list)} SMILES, the first {first!r}); a component "
                         "must return one float per SMILES and never raise") from None
    try:
        arr = np.asarray(raw)
    except Exception as e:
        raise ValueError(f"reward component {name!r} returned {type(raw).__name__}, not a list "
                         f"of floats ({e})") from None
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"reward component {name!r} returned values of type {arr.dtype} "
                         f"(e.g. {arr.ravel()[:1].tolist()}); expected one float per SMILES")
    if arr.shape != (len(smiles_list),):
        raise ValueError(f"reward component {name!r} returned shape {arr.shape} for "
                         f"{len(smiles_list)} SMILES; expected one float per SMILES")
    arr = arr.astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"reward component {name!r} returned {arr[i]} for {smiles_list[i]!r} "
                         f"({bad.size} non-finite value(s)); expected finite floats")
    return arr


def check_component(spec, probe=("CCO", "c1ccccc1", "C1CC")):
    """Resolves and test-calls a component (a valid, an aromatic and an invalid SMILES), so a
    broken one fails before a run starts."""
    name, fn = resolve_component(spec)
    call_component(name, fn, list(probe))
    return name, fn


# ---------------------------------------------------------------- the composite reward
def composite_step_reward(valid, score, finished, num_tokens, new_is_c, c_run_before,
                          values=DEFAULT_VALUES):
    """The research code's per-step domain reward, vectorised over rows.

    valid, score: the prefix (tokens so far + the new one)'s validity and drug score m;
    finished: the new token is EOS or the prefix reached the maximum length;
    num_tokens: tokens in the prefix, EOS included; new_is_c, c_run_before: whether the new
    token is 'C' and how many 'C' tokens directly precede it.
    """
    valid = np.asarray(valid, bool)
    finished = np.asarray(finished, bool)
    n = np.asarray(num_tokens, np.float64)
    score = np.where(valid, np.nan_to_num(np.asarray(score, np.float64), nan=0.0), 0.0)
    carbon = np.where(np.asarray(new_is_c, bool)
                      & (np.asarray(c_run_before) > MOST_REPEATED_C),
                      values.repeated_C_penalty, 0.0)
    # m with the configured multipliers is `score` when they are the defaults.
    length = length_penalty_for_tokens(n, values)
    valid_end = (values.end_valid_drug_quality_multiplier * score + length
                 + values.end_valid_bonus
                 + np.minimum(values.valid_length_multiplier * n,
                              values.valid_length_bonus_cap))
    invalid_end = length + values.end_invalid_penalty + values.invalid_length_multiplier * n
    going = np.where(valid, values.any_valid_bonus + score, values.any_invalid_penalty)
    ended = np.where(valid, valid_end, invalid_end)
    return np.where(finished, ended, going) + carbon


def weighted_score(logp_value, sa_value, qed_value, ring_value, values=DEFAULT_VALUES):
    """m with `values`' multipliers (the default values give properties.drug_score)."""
    return (values.logp_multiplier * logp_value - values.sa_multiplier * sa_value
            + values.ringp_multiplier * ring_value + values.qed_multiplier * qed_value)


def _score_many(smiles_list, values=DEFAULT_VALUES):
    """(valid, m) per SMILES: the RDKit work of one step (also what a pool worker runs)."""
    out = []
    for s in smiles_list:
        ok, lp, sa_value, qed_value, ring, _ = props.molecule_properties(s)
        out.append((ok, weighted_score(lp, sa_value, qed_value, ring, values) if ok else 0.0))
    return out


class LRUCache:
    """A bounded dict: the same prefixes recur across rows and episodes (every episode's first
    tokens come from a handful of likely characters)."""

    def __init__(self, max_size):
        self.max_size = int(max_size)
        self._data = collections.OrderedDict()
        self.hits = self.misses = 0

    def get(self, key):
        value = self._data.get(key)
        if value is None:
            self.misses += 1
            return None
        self._data.move_to_end(key)
        self.hits += 1
        return value

    def put(self, key, value):
        if self.max_size <= 0:
            return
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.max_size:
            self._data.popitem(last=False)

    def __len__(self):
        return len(self._data)


class MoleculeTaskReward:
    """Per-row SMILES episodes and their per-step domain reward, for the batched RL engine.

    `step(actions)` appends each row's new token to its prefix and returns (reward float32 [N],
    done bool [N]): done where the token is EOS or the row reached `max_length` tokens. A row
    that is already done stays done with reward 0 until `reset(mask)` restarts it. For the
    atoms vocabulary a BOS or PAD action cannot be written as SMILES: the row's prefix is
    invalid from then on. `extra_components` [(spec, weight)] add weight x component to the
    reward of rows that finish valid (only valid finished molecules are given to them).
    `workers` > 0 scores uncached prefixes in a process pool (see docs/differences/molecules.md
    for when that pays).

    `objective` "research" is the research code's composite per-step reward (above); "qed" pays
    only when a molecule finishes: QED_REWARD_WEIGHT x QED if it is valid, 0 if not, nothing per
    step. The research reward's optimum is degenerate (logP is unbounded and, at discount 0.95,
    a one-atom molecule's terminal bonus now beats a real one's 40 tokens away: measured in
    docs/results.md); QED is bounded, so the best molecules are drug-like ones.
    """

    def __init__(self, batch_size, vocabulary, max_length=None, values=DEFAULT_VALUES,
                 extra_components=(), cache_size=200_000, workers=0, objective="research"):
        if objective not in OBJECTIVES:
            raise ValueError(f"reward objective must be one of {list(OBJECTIVES)}, got "
                             f"{objective!r}")
        self.objective = objective
        self.batch_size = int(batch_size)
        self.vocabulary = vocabulary
        self.max_length = int(max_length or vocabulary.max_length)
        self.values = values
        self.cache = LRUCache(cache_size)
        self.extra = []
        for item in extra_components:
            spec, weight = item if isinstance(item, (tuple, list)) else (item, 1.0)
            name, fn = check_component(spec)
            if not math.isfinite(float(weight)):
                raise ValueError(f"reward component {name!r}: weight {weight} is not finite")
            self.extra.append((name, fn, float(weight)))
        self._c_id = vocabulary._index.get("C")
        self._specials = {vocabulary.bos, vocabulary.pad} - {None}
        self._pool = None
        self.workers = int(workers)
        self.reset()

    # -- episode state
    def reset(self, mask=None):
        """Restarts every row, or the rows where `mask` (bool [N]) is True."""
        n = self.batch_size
        if mask is None:
            self.texts = [""] * n
            self.num_tokens = np.zeros(n, np.int64)
            self.c_run = np.zeros(n, np.int64)
            self.broken = np.zeros(n, bool)
            self.done = np.zeros(n, bool)
            return
        mask = np.asarray(mask, bool)
        if mask.shape != (n,):
            raise ValueError(f"reset mask has shape {mask.shape}; expected ({n},)")
        for i in np.flatnonzero(mask).tolist():
            self.texts[i] = ""
        self.num_tokens[mask] = 0
        self.c_run[mask] = 0
        self.broken[mask] = False
        self.done[mask] = False

    def step(self, actions, observations=None):
        """Appends actions (int [N]) and returns (reward float32 [N], done bool [N])."""
        actions = np.asarray(actions).reshape(-1)
        if actions.shape != (self.batch_size,):
            raise ValueError(f"actions have shape {actions.shape}; expected "
                             f"({self.batch_size},)")
        actions = self.vocabulary.check_ids(actions, "actions")
        active = ~self.done
        eos = actions == self.vocabulary.eos
        is_c = (actions == self._c_id) if self._c_id is not None else np.zeros_like(eos)
        c_before = self.c_run.copy()
        tokens = self.vocabulary.tokens
        for i in np.flatnonzero(active & ~eos).tolist():
            a = int(actions[i])
            if a in self._specials:
                self.broken[i] = True
            else:
                self.texts[i] += tokens[a]
        self.num_tokens[active] += 1
        self.c_run = np.where(active, np.where(is_c, self.c_run + 1, 0), self.c_run)
        finished = active & (eos | (self.num_tokens >= self.max_length))
        if self.objective == "qed":
            reward = self._qed_reward(finished)
            return self._finish_step(reward, finished, finished & self.last_valid, active)
        rows = np.flatnonzero(active)
        valid = np.zeros(self.batch_size, bool)
        score = np.zeros(self.batch_size, np.float64)
        texts = [self.texts[i] for i in rows.tolist()]
        results = self._score_texts(texts)
        for i, (ok, m) in zip(rows.tolist(), results):
            valid[i] = ok and not self.broken[i]
            score[i] = m
        reward = composite_step_reward(valid, score, finished, self.num_tokens, is_c, c_before,
                                       self.values)
        self.last_valid, self.last_score = valid, score
        return self._finish_step(reward, finished, finished & valid, active)

    def _qed_reward(self, finished):
        """QED_REWARD_WEIGHT x QED of the rows that finish valid (RDKit on those rows only)."""
        reward = np.zeros(self.batch_size, np.float64)
        valid = np.zeros(self.batch_size, bool)
        ends = np.flatnonzero(finished & ~self.broken)
        if ends.size:
            smiles = [self.texts[i] for i in ends.tolist()]
            ok = validity(smiles) > 0
            valid[ends] = ok
            reward[ends] = np.where(ok, QED_REWARD_WEIGHT * qed(smiles), 0.0)
        self.last_valid, self.last_score = valid, reward
        return reward

    def _finish_step(self, reward, finished, valid_ends, active):
        """Adds the user components on the rows that finished valid, zeroes the rows that were
        done already and marks the finished ones done."""
        if self.extra:
            ends = np.flatnonzero(valid_ends)
            if ends.size:
                smiles = [self.texts[i] for i in ends.tolist()]
                for name, fn, weight in self.extra:
                    reward[ends] += weight * call_component(name, fn, smiles)
        reward = np.where(active, reward, 0.0).astype(np.float32)
        self.done = self.done | finished
        return reward, self.done.copy()

    def smiles(self):
        """Each row's SMILES so far (EOS not included)."""
        return list(self.texts)

    # -- RDKit work
    def _score_texts(self, texts):
        """(valid, m) per text: each distinct text is looked up once, misses scored together."""
        rows_of = {}
        for j, t in enumerate(texts):
            rows_of.setdefault(t, []).append(j)
        results = [None] * len(texts)
        missing = []
        for t, rows in rows_of.items():
            hit = self.cache.get(t)
            if hit is None:
                missing.append(t)
            else:
                for j in rows:
                    results[j] = hit
        if missing:
            for t, value in zip(missing, self._score_uncached(missing)):
                self.cache.put(t, value)
                for j in rows_of[t]:
                    results[j] = value
        return results

    def _score_uncached(self, keys):
        if self.workers > 0 and len(keys) >= 4 * self.workers:
            if self._pool is None:
                # spawn, not fork: the parent holds TensorFlow's threads.
                self._pool = multiprocessing.get_context("spawn").Pool(self.workers)
            size = -(-len(keys) // (4 * self.workers))
            chunks = [keys[k:k + size] for k in range(0, len(keys), size)]
            out = []
            for part in self._pool.starmap(_score_many, [(c, self.values) for c in chunks]):
                out += part
            return out
        return _score_many(keys, self.values)

    def close(self):
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
