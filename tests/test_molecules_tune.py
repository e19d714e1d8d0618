"""The molecule experiment through the commands: pretrain a SMILES prior on a user file, tune it
with the same engine and learners as music, per-row episodes ending at EOS."""
import json

import numpy as np
import pytest

from sequence_tutor_tf.cli.main import main

SMILES = ["CCO", "c1ccccc1", "CC(=O)Oc1ccccc1C(=O)O", "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",
          "CCN(CC)CC", "OC(=O)CCc1ccccc1", "CC(C)Cc1ccc(cc1)C(C)C(=O)O", "COc1ccc2[nH]ccc2c1",
          "CCOC(=O)c1ccccc1N", "Clc1ccc(Cl)cc1"]


@pytest.fixture(scope="module")
def prior(tmp_path_factory):
    root = tmp_path_factory.mktemp("mol")
    data = root / "train.smi"
    data.write_text("SMILES\n" + "\n".join(SMILES * 30) + "\nnot_a_smiles((\n")
    out = root / "prior"
    assert main(["pretrain", "--domain", "molecules", "--corpus", str(data), "--output-dir",
                 str(out), "--num-training-steps", "40", "--steps-per-epoch", "20",
                 "--rnn-layer-sizes", "16", "--batch-size", "32", "--eval-samples", "64",
                 "--verbose", "0", "--log-level", "WARNING"]) == 0
    return out


def test_pretrain_writes_a_prior_with_its_vocabulary_and_sample_metrics(prior):
    config = json.load(open(prior / "note_rnn" / "note_rnn_config.json"))
    assert config["vocabulary"]["kind"] == "faithful" and config["vocabulary"]["size"] == 35
    metrics = json.load(open(prior / "metrics.json"))
    assert metrics["samples"]["num_molecules"] == 64
    assert 0.0 <= metrics["samples"]["validity"] <= 1.0
    assert len((prior / "samples" / "samples.smi").read_text().splitlines()) == 64
    # A finished run is not trained again.
    assert main(["pretrain", "--domain", "molecules", "--corpus",
                 str(prior.parent / "train.smi"), "--output-dir", str(prior),
                 "--num-training-steps", "40", "--steps-per-epoch", "20", "--rnn-layer-sizes",
                 "16", "--batch-size", "32", "--eval-samples", "64", "--verbose", "0"]) == 0


def _tune(prior, out, steps, *extra):
    return main(["tune", "--domain", "molecules", "--prior", str(prior / "note_rnn"),
                 "--output-dir", str(out), "--training-steps", str(steps), "--num-envs", "16",
                 "--output-every-nth", "128", "--eval-trials", "8", "--num-samples", "5",
                 "--hparams", "minibatch_size=32,max_experience=4000,train_every_nth=5",
                 "--no-progress", "--no-jit", "--log-level", "WARNING", *extra])


def test_tune_molecules_runs_per_row_episodes_and_resumes(prior, tmp_path):
    out = tmp_path / "q"
    assert _tune(prior, out, 768, "--exploration-mode", "boltzmann") == 0
    config = json.load(open(out / "tuner_config.json"))
    assert config["domain"] == "molecules" and config["settings"] == "paper"
    # The research code's final settings are the molecule defaults.
    assert config["config"]["learning_rate"] == 1e-4 and config["reward_scaler"] == 0.35
    assert config["hparams"]["discount_rate"] == 0.95
    assert config["behaviour"]["g_trains_prior"] is False
    assert len((out / "samples" / "q.smi").read_text().splitlines()) == 5
    arrays = np.load(sorted((out / "train_state").glob("engine-*.npz"))[0])
    terminals = arrays["replay/terminals"]
    actions = arrays["replay/actions"]
    assert terminals.sum() > 0                       # episodes ended...
    assert np.all(terminals[actions == 0] == 1)      # ...at EOS (id 0), row by row
    assert _tune(prior, out, 896, "--exploration-mode", "boltzmann") == 0
    state = json.load(open(out / "train_state" / "engine_state.json"))
    assert state["counters"]["env_steps"] == 896


def test_tune_molecules_code_settings_use_prioritized_replay(prior, tmp_path, capsys):
    out = tmp_path / "code"
    assert _tune(prior, out, 384, "--settings", "code") == 0
    config = json.load(open(out / "tuner_config.json"))
    assert config["config"]["replay"] == "prioritized"
    arrays = np.load(sorted((out / "train_state").glob("engine-*.npz"))[0])
    p, rewards = arrays["replay/priorities"], arrays["replay/rewards"]
    assert p.shape == rewards.shape and np.isfinite(p).all() and p.min() >= 0.01 ** 0.5
    assert len(np.unique(p)) > len(p) // 2        # each transition's own TD error
    # Resumes, and a uniform rerun of the same directory is refused (another setting).
    assert _tune(prior, out, 512, "--settings", "code") == 0
    capsys.readouterr()
    assert _tune(prior, out, 640, "--settings", "code", "--replay", "uniform") == 2
    assert "replay: stored 'prioritized', now 'uniform'" in capsys.readouterr().err


def test_profile_script_times_every_part_of_a_prioritized_step(prior):
    import importlib.util
    import os
    path = os.path.join(os.path.dirname(__file__), "..", "scripts", "profile_molecules.py")
    spec = importlib.util.spec_from_file_location("profile_molecules", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    r = script.profile_engine(str(prior / "note_rnn"), "code", "prioritized", 16, steps=4,
                              warmup=3, overrides={"hparams": "minibatch_size=32", "jit": False})
    assert r["env_steps"] == 64 and r["updates"] >= 1 and r["replay_size"] == 112
    assert {"policy step (network)", "RDKit reward", "store-time TD pass", "learner call",
            "replay sample", "priority update"} <= set(r["parts"])
    assert 0 < sum(r["parts"].values()) <= r["seconds"]
    rows = script.sampling_costs(capacity=2048, minibatch=64, batches=(2,), repeats=1)
    assert rows[0][0] == 2 and all(v > 0 for v in rows[0][1].values())


def test_tune_molecules_g_and_flag_errors(prior, tmp_path, capsys):
    assert _tune(prior, tmp_path / "g", 128, "--algorithm", "g") == 0
    # --reward qed: G stores the task reward only, so it is 0 except where a molecule ended.
    assert _tune(prior, tmp_path / "qed", 768, "--algorithm", "g", "--reward", "qed",
                 "--exploration-mode", "boltzmann") == 0
    config = json.load(open(tmp_path / "qed" / "tuner_config.json"))
    assert config["domain_settings"]["reward"] == "qed"
    arrays = np.load(sorted((tmp_path / "qed" / "train_state").glob("engine-*.npz"))[0])
    rewards, terminals = arrays["replay/rewards"], arrays["replay/terminals"]
    assert np.all(rewards[terminals == 0] == 0) and terminals.sum() > 0
    assert 0 <= rewards.min() and rewards.max() <= 0.35 * 100
    code = _tune(prior, tmp_path / "qed", 896, "--algorithm", "g", "--exploration-mode",
                 "boltzmann")
    assert code == 2 and "domain.reward: stored 'qed', now 'research'" in capsys.readouterr().err
    # A run stored before --reward existed resumes as the default (research) reward.
    path = tmp_path / "g" / "tuner_config.json"
    old = json.load(open(path))
    del old["domain_settings"]["reward"]
    path.write_text(json.dumps(old))
    assert _tune(prior, tmp_path / "g", 256, "--algorithm", "g") == 0
    code = _tune(prior, tmp_path / "bad", 128, "--reward-mode", "key")
    err = capsys.readouterr().err
    assert code == 2 and "--reward-mode: not a setting of --domain molecules" in err
    code = main(["tune", "--domain", "molecules", "--prior", str(tmp_path / "missing"),
                 "--output-dir", str(tmp_path / "x"), "--no-progress"])
    assert code == 2 and "--prior" in capsys.readouterr().err


def test_a_smiles_prior_exports_and_generates_token_ids_with_its_vocabulary(prior, tmp_path):
    export = tmp_path / "export"
    assert main(["export", "--checkpoint", str(prior / "note_rnn"), "--out", str(export),
                 "--log-level", "WARNING"]) == 0
    meta = json.load(open(export / "assets.extra" / "metadata.json"))
    assert meta["format"] == "sequence_tutor_tf.smiles_policy"
    assert meta["vocabulary"]["eos"] == 0 and meta["vocabulary"]["tokens"][18] == "C"
    out = tmp_path / "generated"
    assert main(["generate", "--checkpoint", str(export), "--output-dir", str(out),
                 "--num-outputs", "4", "--seed", "3", "--log-level", "WARNING"]) == 0
    smiles = (out / "molecules.smi").read_text().splitlines()
    tokens = json.load(open(out / "generated_tokens.json"))["tokens"]
    assert len(smiles) == 4 and len(tokens) == 4
    # The SMILES are the generated ids up to the first EOS, decoded with the exported tokens.
    table = meta["vocabulary"]["tokens"]
    for text, ids in zip(smiles, tokens):
        ids = ids[:ids.index(0)] if 0 in ids else ids
        assert text == "".join(table[i] for i in ids)
