"""index.html of a Magenta.js export: load the model, continue an editable primer, show a piano
roll, play it. Everything comes from @magenta/music's browser bundle (global `mm`): `MusicRNN`,
`melodies.Melody`, `sequences.concatenate`, `PianoRollSVGVisualizer` and `Player` (a synth,
so no sound fonts are downloaded). The model is read from the page's own directory.

The page reports its state in `#status[data-state]` (loading, ready, generating, done, error)
and in `window.sequenceTutor` (the last sequence and its note count), for scripts and tests.
"""
import html
import json
import string

from sequence_tutor_tf.music import encoding

_PAGE = string.Template("""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<link rel="icon" href="data:,">
<style>
  body { font-family: system-ui, sans-serif; margin: 1.5em; max-width: 70em; color: #222; }
  h1 { font-size: 1.4em; margin-bottom: 0.2em; }
  .about { color: #555; margin-top: 0; }
  label { display: block; margin: 0.6em 0 0.2em; }
  textarea { width: 100%; font-family: monospace; font-size: 0.95em; }
  input[type=number] { width: 6em; }
  .controls { display: flex; gap: 1.2em; align-items: end; flex-wrap: wrap; margin: 0.6em 0; }
  button { font-size: 1em; padding: 0.3em 1em; }
  #status[data-state=error] { color: #b00; }
  #roll-box { overflow-x: auto; border: 1px solid #ccc; min-height: 3em; background: #fafafa; }
  #notes { font-family: monospace; font-size: 0.85em; color: #444; }
</style>
<script src="$script_url"></script>
</head>
<body>
<h1>$title</h1>
<p class="about">$about</p>
<label for="primer">Primer melody: note_seq Melody values, one per 16th note (MIDI pitch
$min_pitch..$max_pitch starts a note, -2 holds, -1 is a note off)</label>
<textarea id="primer" rows="3" spellcheck="false">$primer_text</textarea>
<div class="controls">
  <div><label for="steps">Steps to generate</label>
    <input id="steps" type="number" min="1" max="2048" value="$num_steps"></div>
  <div><label for="temperature">Temperature (0 = most probable)</label>
    <input id="temperature" type="number" min="0" max="10" step="0.1" value="$temperature"></div>
  <button id="generate" disabled>Generate</button>
  <button id="play" disabled>Play</button>
</div>
<p id="status" data-state="loading">Loading the model ...</p>
<div id="roll-box"><svg id="roll"></svg></div>
<p id="notes"></p>
<script>
"use strict";
const SETTINGS = $settings;
const statusEl = document.getElementById("status");
const generateButton = document.getElementById("generate");
const playButton = document.getElementById("play");
window.sequenceTutor = {state: "loading", noteCount: 0, sequence: null, error: null};

function setStatus(state, text) {
  statusEl.dataset.state = state;
  statusEl.textContent = text;
  window.sequenceTutor.state = state;
}

function fail(error) {
  const message = error && error.message ? error.message : String(error);
  window.sequenceTutor.error = message;
  setStatus("error", "Error: " + message);
  console.error(error);
}

function parsePrimer(text) {
  let values;
  try {
    values = JSON.parse(text.trim());
  } catch (e) {
    throw new Error("the primer must be a list of numbers such as [60, -2, 62, -1]");
  }
  if (!Array.isArray(values) || values.length === 0) {
    throw new Error("the primer must be a non-empty list of Melody values");
  }
  return values.map((v, i) => {
    const ok = Number.isInteger(v) &&
        (v === -2 || v === -1 || (v >= SETTINGS.minPitch && v <= SETTINGS.maxPitch));
    if (!ok) {
      throw new Error("primer value " + JSON.stringify(v) + " at position " + i +
                      " is not -2, -1 or a MIDI pitch " + SETTINGS.minPitch + ".." +
                      SETTINGS.maxPitch);
    }
    // Magenta.js' melody events: 0 no event, 1 note off, 2 + pitch - minPitch note on.
    return v === -2 ? 0 : v === -1 ? 1 : v - SETTINGS.minPitch + 2;
  });
}

function primerSequence() {
  const events = parsePrimer(document.getElementById("primer").value);
  return new mm.melodies.Melody(events, SETTINGS.minPitch, SETTINGS.maxPitch)
      .toNoteSequence(SETTINGS.stepsPerQuarter, SETTINGS.qpm);
}

function noteName(pitch) {
  const names = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];
  return names[pitch % 12] + (Math.floor(pitch / 12) - 1);
}

const modelUrl = new URL(".", window.location.href).href.replace(/\\/$$/, "");
const model = new mm.MusicRNN(modelUrl);
const player = new mm.Player(false, {
  run: (note) => { if (visualizer) visualizer.redraw(note, true); },
  stop: () => { playButton.textContent = "Play"; },
});
let visualizer = null;
let current = null;

async function generate() {
  generateButton.disabled = true;
  playButton.disabled = true;
  if (player.isPlaying()) player.stop();
  try {
    const primer = primerSequence();
    const steps = parseInt(document.getElementById("steps").value, 10);
    if (!(steps >= 1 && steps <= 2048)) throw new Error("steps must be 1..2048");
    const temperature = parseFloat(document.getElementById("temperature").value);
    if (!(temperature >= 0)) throw new Error("temperature must be a number >= 0");
    setStatus("generating", "Generating " + steps + " steps ...");
    const continuation = await model.continueSequence(
        primer, steps, temperature > 0 ? temperature : undefined);
    current = mm.sequences.concatenate([primer, continuation]);
    current.tempos = [{time: 0, qpm: SETTINGS.qpm}];
    visualizer = new mm.PianoRollSVGVisualizer(current, document.getElementById("roll"), {
      noteHeight: 6, pixelsPerTimeStep: 24, minPitch: SETTINGS.minPitch,
      maxPitch: SETTINGS.maxPitch});
    const generated = continuation.notes.length;
    document.getElementById("notes").textContent =
        current.notes.map((n) => noteName(n.pitch)).join(" ");
    window.sequenceTutor.sequence = current;
    window.sequenceTutor.noteCount = current.notes.length;
    window.sequenceTutor.generatedNotes = generated;
    setStatus("done", current.notes.length + " notes: " + primer.notes.length +
              " from the primer, " + generated + " generated (" + steps + " steps)");
    playButton.disabled = false;
  } catch (e) {
    fail(e);
  } finally {
    generateButton.disabled = false;
  }
}

function play() {
  if (!current) return;
  if (player.isPlaying()) {
    player.stop();
    playButton.textContent = "Play";
    return;
  }
  playButton.textContent = "Stop";
  player.start(current, SETTINGS.qpm).catch(fail);
}

generateButton.addEventListener("click", generate);
playButton.addEventListener("click", play);
model.initialize().then(() => {
  setStatus("ready", "Model loaded. Edit the primer and press Generate.");
  generateButton.disabled = false;
}).catch(fail);
</script>
</body>
</html>
""")


def render_page(script_url, primer_melody, num_steps, temperature, info):
    """The page's HTML. `primer_melody` is a list of note_seq Melody values; `info` is the
    export's sequence_tutor_export.json (its description is shown)."""
    settings = {"minPitch": encoding.MIN_NOTE, "maxPitch": encoding.MAX_NOTE - 1,
                "stepsPerQuarter": encoding.STEPS_PER_QUARTER, "qpm": encoding.DEFAULT_QPM,
                "algorithm": info.get("algorithm"), "policy": info.get("policy")}
    # json.dumps cannot close the <script> element: "</" is written as "<\\/".
    settings_js = json.dumps(settings).replace("</", "<\\/")
    title = f"Sequence Tutor: {info.get('algorithm')} melody model"
    about = (f"{info.get('description')}. Policy: {info.get('policy')}. "
             f"Runs in the browser with @magenta/music {info.get('magenta_music_version')}.")
    return _PAGE.substitute(
        title=html.escape(title), about=html.escape(about),
        script_url=html.escape(str(script_url), quote=True),
        primer_text=html.escape(json.dumps([int(v) for v in primer_melody])),
        num_steps=int(num_steps), temperature=float(temperature),
        min_pitch=encoding.MIN_NOTE, max_pitch=encoding.MAX_NOTE - 1,
        settings=settings_js)
