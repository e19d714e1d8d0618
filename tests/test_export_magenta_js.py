"""`export --format magenta-js`, checked with the real clients: @magenta/music's MusicRNN in Node
(per-step probabilities against ours, and against magenta's own TF1 graphs for Magenta files)
and the exported index.html in headless Chromium.

The JavaScript clients are pinned in js/package.json + js/package-lock.json and installed by
`make install-js` (npm ci; Debian's chromium). Everything is served from 127.0.0.1; the page
loads the local copy of @magenta/music (`--script-url`), and any other request is aborted and
fails the test. Models are tiny so that the whole module stays well under a minute.
"""
import functools
import http.server
import json
import os
import shutil
import subprocess
import threading

import numpy as np
import pytest

import magenta_compat
from sequence_tutor_tf.cli.main import main
from sequence_tutor_tf.export import magenta_js
from sequence_tutor_tf.export.policy import MelodyPolicy
from sequence_tutor_tf.export.sources import PolicySource, load_policy_source
from sequence_tutor_tf.models.checkpoints import save_note_rnn
from sequence_tutor_tf.models.note_rnn import NoteRNN
from sequence_tutor_tf.music.encoding import melody_to_events
from sequence_tutor_tf._tf import tf
from tests import magenta_compat_oracle as oracle

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JS_DIR = os.path.join(REPO, "js")
NODE = shutil.which("node")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = os.path.join(REPO, "test-artifacts")
LIBRARY = os.path.join(JS_DIR, "node_modules", "@magenta", "music", "dist", "magentamusic.js")
TOL = 1e-4
# A melody in the canonical form Magenta.js reads back unchanged (every note off ends a note),
# with both ends of the range: index 2 is MIDI 48, index 37 is MIDI 83.
MELODY = [14, 0, 16, 0, 18, 1, 0, 21, 0, 0, 19, 1, 2, 0, 37, 1, 0, 14, 0, 0, 23, 21, 0, 1]
FREE_STEPS = 24
WRONG_BIAS = "bundle_forget_bias_twice"
KINDS = ["pretrained", "rl_tuner_ckpt", "bundle", "q", "psi", "pure_rl", "g"]



# Outside CI a machine without Node or Chromium skips the client tests; in CI (`make test` installs
# both, and CI sets CI=true) a missing client fails them, so the parity check is never skipped there.
def _needs(missing, reason):
    if missing and os.environ.get("CI"):
        def fail_instead(test):
            @functools.wraps(test)
            def wrapper(*args, **kwargs):
                pytest.fail(f"CI is set but the test cannot run: {reason}")
            return wrapper
        return fail_instead
    return pytest.mark.skipif(missing, reason=reason)


needs_node = _needs(
    NODE is None or not os.path.isfile(LIBRARY)
    or not os.path.isdir(os.path.join(JS_DIR, "node_modules", "node-fetch")),
    "needs Node and the pinned npm packages: run `make install-js` (npm ci in js/)")
needs_chromium = _needs(
    not os.access(CHROMIUM, os.X_OK)
    or not os.path.isdir(os.path.join(JS_DIR, "node_modules", "playwright-core")),
    f"needs {CHROMIUM} and playwright-core: run `make install-js`")


def _note_rnn(units, seed, scale=6.0):
    """A small Note RNN with a scaled read-out, so its distributions are far from uniform."""
    tf.random.set_seed(seed)
    model = NoteRNN(units)
    kernel, bias = model.output_layer.get_weights()
    rng = np.random.RandomState(seed)
    model.output_layer.set_weights([kernel * scale, rng.uniform(-1, 1, bias.shape)])
    cell = model.lstm_layers[0].cell   # non-zero biases, forget gate included
    cell.bias.assign(rng.uniform(-0.5, 1.5, cell.bias.shape).astype(np.float32))
    return model


def _write_run_dir(run_dir, algorithm, q_model, prior_model):
    """A run directory as `tune` writes it (tuner_config.json, q_network/, reward_rnn/)."""
    save_note_rnn(q_model, os.path.join(run_dir, "q_network"), step=5)
    save_note_rnn(prior_model, os.path.join(run_dir, "reward_rnn"), step=0)
    with open(os.path.join(run_dir, "tuner_config.json"), "w") as f:
        json.dump({"algorithm": algorithm, "domain": "music",
                   "hparams": {"reward_scaler": 0.1, "num_actions": 38}}, f)
    return run_dir


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A web server on 127.0.0.1 over a fresh directory; yields (root, base URL)."""
    root = str(tmp_path_factory.mktemp("www"))
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=root))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """{kind: (path, our policy, magenta's own softmax over MELODY or None)}."""
    src = tmp_path_factory.mktemp("sources")
    out = {}
    path = str(src / "note_rnn")
    save_note_rnn(_note_rnn([32], seed=11), path, step=3)
    out["pretrained"] = path
    loader = oracle.write_rl_tuner_checkpoint(str(src / "rl_tuner"), [14], seed=3)
    out["rl_tuner_ckpt"] = str(src / "rl_tuner")
    _, bundle_path, generator = oracle.write_melody_rnn_sources(str(src), "basic_rnn", [16, 12],
                                                                seed=5)
    out["bundle"] = bundle_path
    prior = _note_rnn([16], seed=12)
    out["q"] = _write_run_dir(str(src / "q_run"), "q", _note_rnn([24], seed=13), prior)
    out["psi"] = _write_run_dir(str(src / "psi_run"), "psi", _note_rnn([20, 20], seed=14), prior)
    out["pure_rl"] = _write_run_dir(str(src / "pure_rl_run"), "pure_rl", _note_rnn([12], seed=15),
                                    prior)
    out["g"] = _write_run_dir(str(src / "g_run"), "g", _note_rnn([16, 8], seed=16),
                              _note_rnn([10, 6], seed=17))

    one_hot = np.eye(38, dtype=np.float32)[MELODY][None]
    state = np.zeros((1, sum(loader.hparams.rnn_layer_sizes) * 2), np.float32)
    magenta_softmax = {"rl_tuner_ckpt": oracle.run_rl_tuner(loader, one_hot, state)[0][0]}
    widths = oracle.state_widths(generator._model._session)
    batch = np.repeat(one_hot, 2, axis=0)   # the bundle's graph was built for batch 2
    magenta_softmax["bundle"] = oracle.run_generate_graph(
        generator._model._session, batch, [np.zeros((2, w), np.float32) for w in widths])[0][0]
    return {kind: (path, _our_policy(kind, path), magenta_softmax.get(kind))
            for kind, path in out.items()}


def _our_policy(kind, path):
    """What this package samples from: the SavedModel export's policy (MelodyPolicy)."""
    if os.path.isdir(path) and kind != "rl_tuner_ckpt":
        return MelodyPolicy(load_policy_source(path), {})
    model = magenta_compat.load_note_rnn(path)
    return MelodyPolicy(PolicySource(path, "note_rnn", [("note_rnn", model)], {}), {})


def _step(policy, event, state):
    out = policy.step_indices(events=tf.constant([event], tf.int32), state=state)
    return out["probabilities"].numpy()[0], out["state"]


def _teacher_forced(policy, events):
    """Row k - 1: p(next | events[:k]) for k = 1..len(events)."""
    state, rows = tf.zeros([1, policy.state_size]), []
    for event in events:
        probs, state = _step(policy, event, state)
        rows.append(probs)
    return np.stack(rows)


def _free_run(policy, events, steps):
    """Most probable continuation of `events`: (probabilities [steps, 38], chosen events)."""
    state = tf.zeros([1, policy.state_size])
    for event in events:
        probs, state = _step(policy, event, state)
    rows, chosen = [], []
    for _ in range(steps):
        rows.append(probs)
        chosen.append(int(np.argmax(probs)))
        probs, state = _step(policy, chosen[-1], state)
    return np.stack(rows), chosen


@pytest.fixture(scope="module")
def exports(sources, served):
    """Every source exported with the CLI into the web root; the G run with small shards, so
    that MusicRNN has to join several files."""
    root, _ = served
    for kind, (path, _, _) in sources.items():
        out = os.path.join(root, kind)
        if kind == "g":
            magenta_js.export_magenta_js(path, out, script_url="/lib/magentamusic.js",
                                         shard_bytes=4096)
        else:
            assert main(["export", "--format", "magenta-js", "--checkpoint", path, "--out", out,
                         "--script-url", "/lib/magentamusic.js", "--log-level", "WARNING"]) == 0
    # A negative control: the bundle with TF1's forget bias left in the stored bias (MusicRNN
    # then adds it twice). The parity test must see it.
    saved = magenta_js.MAGENTA_JS_FORGET_BIAS
    magenta_js.MAGENTA_JS_FORGET_BIAS = 0.0
    try:
        magenta_js.export_magenta_js(sources["bundle"][0], os.path.join(root, WRONG_BIAS))
    finally:
        magenta_js.MAGENTA_JS_FORGET_BIAS = saved
    return {kind: os.path.join(root, kind) for kind in list(sources) + [WRONG_BIAS]}


@pytest.fixture(scope="module")
def parity_report():
    report = {}
    yield report
    if report:
        os.makedirs(ARTIFACTS, exist_ok=True)
        with open(os.path.join(ARTIFACTS, "magenta_js_parity.json"), "w") as f:
            json.dump(report, f, indent=2, sort_keys=True)
        print("\nMagenta.js parity, max abs probability difference per model type:\n" +
              "\n".join(f"  {k}: {v}" for k, v in sorted(report.items())))


@pytest.fixture(scope="module")
def node_results(exports, served, tmp_path_factory):
    """Runs js/music_rnn_probabilities.js once over every export."""
    _, base = served
    work = tmp_path_factory.mktemp("node")
    job = {"models": [{"name": kind, "url": f"{base}/{kind}"} for kind in exports],
           "prefixes": [magenta_js.events_to_quantized_sequence(MELODY[:k])
                        for k in range(1, len(MELODY) + 1)],
           "primer": magenta_js.events_to_quantized_sequence(MELODY), "steps": FREE_STEPS}
    (work / "job.json").write_text(json.dumps(job))
    proc = subprocess.run([NODE, os.path.join(JS_DIR, "music_rnn_probabilities.js"),
                           str(work / "job.json"), str(work / "out.json")],
                          cwd=JS_DIR, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads((work / "out.json").read_text())
    assert out["magentaMusicVersion"] == magenta_js.MAGENTA_MUSIC_VERSION
    return {r["name"]: r for r in out["results"]}


# ----- the files -------------------------------------------------------------------------------
def test_files_are_what_music_rnn_reads(sources, exports):
    for kind in KINDS:
        out = exports[kind]
        with open(os.path.join(out, "config.json")) as f:
            assert json.load(f) == {"type": "MusicRNN", "dataConverter": {
                "type": "MelodyConverter", "args": {"minPitch": 48, "maxPitch": 83}}}
        with open(os.path.join(out, "weights_manifest.json")) as f:
            manifest = json.load(f)
        (group,) = manifest
        data = b"".join(open(os.path.join(out, p), "rb").read() for p in group["paths"])
        sizes = [int(np.prod(w["shape"])) * 4 for w in group["weights"]]
        assert len(data) == sum(sizes) and {w["dtype"] for w in group["weights"]} == {"float32"}
        names = [w["name"] for w in group["weights"]]
        assert names[-2:] == ["fully_connected/weights", "fully_connected/biases"], names
        assert all(n.startswith("rnn/multi_rnn_cell/cell_") for n in names[:-2]), names
        with open(os.path.join(out, "sequence_tutor_export.json")) as f:
            assert json.load(f)["format"] == magenta_js.FORMAT
        page = open(os.path.join(out, "index.html"), encoding="utf-8").read()
        assert '<script src="/lib/magentamusic.js"></script>' in page
    assert len(json.load(open(os.path.join(exports["g"], "weights_manifest.json")))[0]["paths"]) > 1
    # The forget bias: Keras' bias holds +1 on the forget gate (i, f, c, o); the exported TF1
    # bias (i, j, f, o) does not, since MusicRNN adds 1 at run time.
    model = sources["pretrained"][1]._models[0]
    weights = magenta_js.network_weights(model)
    keras_bias = model.lstm_layers[0].cell.bias.numpy()
    exported = weights["rnn/multi_rnn_cell/cell_0/basic_lstm_cell/bias"]
    u = 32
    np.testing.assert_allclose(exported[2 * u:3 * u], keras_bias[u:2 * u] - 1.0, atol=1e-6)
    np.testing.assert_allclose(exported[u:2 * u], keras_bias[2 * u:3 * u], atol=1e-6)


def test_default_page_uses_the_pinned_cdn_build(sources, tmp_path):
    out = magenta_js.export_magenta_js(sources["q"][0], str(tmp_path / "q"),
                                       primer_melody=[72, -2, -1, 74])
    page = open(os.path.join(out, "index.html"), encoding="utf-8").read()
    assert magenta_js.DEFAULT_SCRIPT_URL in page and "@magenta/music@1.23.1/" in page
    assert "[72, -2, -1, 74]" in page
    with open(os.path.join(JS_DIR, "package.json")) as f:
        assert json.load(f)["dependencies"]["@magenta/music"] == magenta_js.MAGENTA_MUSIC_VERSION


# ----- Node: MusicRNN's probabilities against ours -----------------------------------------------
@needs_node
@pytest.mark.parametrize("kind", KINDS)
def test_music_rnn_probabilities_match_ours(kind, sources, node_results, parity_report):
    path, policy, magenta_softmax = sources[kind]
    result = node_results[kind]
    # MelodyConverter reads our NoteSequences back as exactly our event indices.
    assert result["encodedPrefixes"] == [MELODY[:k] for k in range(1, len(MELODY) + 1)]
    ours = _teacher_forced(policy, MELODY)
    theirs = np.asarray(result["prefixProbs"], np.float64)
    assert theirs.shape == ours.shape == (len(MELODY), 38)
    np.testing.assert_allclose(theirs.sum(axis=1), 1.0, atol=1e-5)
    teacher_forced = float(np.abs(theirs - ours).max())
    free_ours, chosen = _free_run(policy, MELODY, FREE_STEPS)
    free_theirs = np.asarray(result["freeRun"]["probs"], np.float64)
    assert free_theirs.shape == (FREE_STEPS, 38)
    free = float(np.abs(free_theirs - free_ours).max())
    # The continuation MusicRNN returns is the one our policy picks, note for note.
    want_notes = [[n["pitch"], n["quantizedStartStep"], n["quantizedEndStep"]]
                  for n in magenta_js.events_to_quantized_sequence(chosen)["notes"]]
    assert result["freeRun"]["notes"] == want_notes
    entry = {"teacher_forced": teacher_forced, "free_run": free,
             "max_probability": float(ours.max())}
    if magenta_softmax is not None:   # a Magenta file: magenta's own TF1 graph is the oracle
        entry["vs_magenta_tf1"] = float(np.abs(theirs - magenta_softmax).max())
    parity_report[kind] = entry
    print(f"{kind}: MusicRNN vs ours max abs difference {teacher_forced:.2e} (teacher forced), "
          f"{free:.2e} (free run)" + (f", vs magenta {entry['vs_magenta_tf1']:.2e}"
                                      if magenta_softmax is not None else ""))
    assert teacher_forced <= TOL and free <= TOL
    assert entry.get("vs_magenta_tf1", 0.0) <= TOL
    spread = (ours.max(axis=1) - ours.min(axis=1)).min()
    assert spread > 100 * TOL, "a near-uniform model would make the comparison weak"


@needs_node
def test_a_wrong_gate_layout_is_caught(sources, node_results, parity_report):
    ours = _teacher_forced(sources["bundle"][1], MELODY)
    diff = float(np.abs(np.asarray(node_results[WRONG_BIAS]["prefixProbs"]) - ours).max())
    parity_report["negative_control_" + WRONG_BIAS] = {"teacher_forced": diff}
    print(f"negative control (forget bias added twice): max abs difference {diff:.2e}")
    assert diff > 10 * TOL


# ----- Chromium: the page ------------------------------------------------------------------------
@needs_node
@needs_chromium
def test_page_generates_and_plays_in_headless_chromium(exports, served, tmp_path):
    root, base = served
    os.makedirs(os.path.join(root, "lib"), exist_ok=True)
    shutil.copy(LIBRARY, os.path.join(root, "lib", "magentamusic.js"))
    screenshot, report_path = tmp_path / "magenta_js_page.png", tmp_path / "page.json"
    proc = subprocess.run([NODE, os.path.join(JS_DIR, "check_page.js"), f"{base}/q/index.html",
                           str(screenshot), str(report_path), CHROMIUM],
                          cwd=JS_DIR, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(report_path.read_text())
    os.makedirs(ARTIFACTS, exist_ok=True)
    shutil.copy(screenshot, os.path.join(ARTIFACTS, "magenta_js_page.png"))
    print(f"\nscreenshot: {screenshot} (copy: {os.path.join(ARTIFACTS, 'magenta_js_page.png')}); "
          f"status: {report['status']!r}; tfjs backend {report['page']['backend']}")
    assert report["blockedRequests"] == [], "the page reached outside its server"
    assert report["consoleErrors"] == [] and report["pageErrors"] == [], report
    assert report["failedRequests"] == [], report
    assert (report["loadedState"], report["generatedState"]) == ("ready", "done"), report
    page = report["page"]
    primer_notes = len(magenta_js.events_to_quantized_sequence(
        melody_to_events(magenta_js.DEFAULT_PRIMER))["notes"])
    assert page["generatedNotes"] > 0 and page["noteCount"] == primer_notes + page["generatedNotes"]
    assert page["totalQuantizedSteps"] == len(magenta_js.DEFAULT_PRIMER) + 64
    assert all(48 <= pitch <= 83 for pitch, _, _ in page["notes"])
    assert page["rollRects"] >= page["noteCount"], "the piano roll does not show the notes"
    assert report["playButtonWhilePlaying"] == "Stop"
    assert screenshot.stat().st_size > 10000


# ----- refusals ----------------------------------------------------------------------------------
def _error(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return code, err


def test_unrepresentable_sources_are_refused(tmp_path, capsys):
    g = _write_run_dir(str(tmp_path / "g_uneven"), "g", _note_rnn([8, 8], seed=1),
                       _note_rnn([8], seed=2))
    code, err = _error(capsys, ["export", "--format", "magenta-js", "--checkpoint", g,
                                "--out", str(tmp_path / "out")])
    assert code == 2 and "same number of layers" in err and "[[8, 8], [8]]" in err
    wide = str(tmp_path / "wide")
    save_note_rnn(NoteRNN([4], num_classes=40), wide)
    code, err = _error(capsys, ["export", "--format", "magenta-js", "--checkpoint", wide,
                                "--out", str(tmp_path / "out")])
    assert code == 2 and "40 classes" in err
    assert not os.path.exists(tmp_path / "out")


def test_out_dir_rules(sources, tmp_path, capsys):
    path = sources["pure_rl"][0]
    out = tmp_path / "out"
    base = ["export", "--format", "magenta-js", "--checkpoint", path, "--out", str(out)]
    assert main(base) == 0
    code, err = _error(capsys, base)
    assert code == 2 and "already exists and is not empty" in err
    assert main(base + ["--overwrite"]) == 0                  # a previous export: replaced
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("x")
    code, err = _error(capsys, base[:-1] + [str(tmp_path / "other"), "--overwrite"])
    assert code == 2 and "not a previous Magenta.js export" in err
    assert (tmp_path / "other" / "keep.txt").exists()
    code, err = _error(capsys, ["export", "--checkpoint", path, "--out", str(tmp_path / "sm"),
                                "--script-url", "x.js"])
    assert code == 2 and "--format magenta-js" in err
    code, err = _error(capsys, base[:-1] + [str(tmp_path / "p"), "--primer-melody", "[60, 99]"])
    assert code == 2 and "99" in err
