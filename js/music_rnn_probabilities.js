#!/usr/bin/env node
// Loads exported models with @magenta/music's MusicRNN over HTTP and writes what the library
// computes for a melody, so that tests/test_export_magenta_js.py can compare it with ours.
//
//   node js/music_rnn_probabilities.js JOB.json OUT.json
//
// JOB.json: {"models": [{"name", "url"}], "prefixes": [NoteSequence, ...],
//            "primer": NoteSequence, "steps": N}
// For each model, OUT.json holds:
//   encodedPrefixes  the event indices MelodyConverter.toTensor reads from each prefix;
//   prefixProbs      continueSequenceAndReturnProbabilities(prefix, 1) -> p(next | prefix);
//   freeRun          {probs, notes} of continueSequenceAndReturnProbabilities(primer, steps)
//                    without a temperature (argmax), and the notes of the continuation.
"use strict";
const fs = require("fs");
const mm = require("@magenta/music/node/music_rnn");
const core = require("@magenta/music/node/core");
const tf = require("@tensorflow/tfjs");

function encode(converter, sequence) {
  const oneHot = converter.toTensor(sequence);
  const events = Array.from(oneHot.argMax(1).dataSync());
  oneHot.dispose();
  return events;
}

async function runModel(spec, job) {
  const model = new mm.MusicRNN(spec.url);
  await model.initialize();
  const config = await (await fetch(`${spec.url}/config.json`)).json();
  const converter = new core.data.MelodyConverter(config.dataConverter.args);
  const clone = (s) => JSON.parse(JSON.stringify(s));  // fromNoteSequence sorts notes in place
  const out = {name: spec.name, encodedPrefixes: [], prefixProbs: []};
  for (const prefix of job.prefixes) {
    out.encodedPrefixes.push(encode(converter, clone(prefix)));
    const result = await model.continueSequenceAndReturnProbabilities(clone(prefix), 1);
    if (result.probs.length !== 1) throw new Error(`expected 1 step, got ${result.probs.length}`);
    out.prefixProbs.push(Array.from(result.probs[0]));
  }
  const free = await model.continueSequenceAndReturnProbabilities(clone(job.primer), job.steps);
  const continuation = await free.sequence;
  out.freeRun = {
    probs: free.probs.map((p) => Array.from(p)),
    notes: continuation.notes.map((n) => [n.pitch, n.quantizedStartStep, n.quantizedEndStep]),
    totalQuantizedSteps: continuation.totalQuantizedSteps,
  };
  model.dispose();
  return out;
}

async function main() {
  const [jobPath, outPath] = process.argv.slice(2);
  if (!jobPath || !outPath) throw new Error("usage: music_rnn_probabilities.js JOB.json OUT.json");
  const job = JSON.parse(fs.readFileSync(jobPath, "utf8"));
  const results = [];
  for (const spec of job.models) {
    const started = Date.now();
    const result = await runModel(spec, job);
    result.seconds = (Date.now() - started) / 1000;
    results.push(result);
  }
  fs.writeFileSync(outPath, JSON.stringify({
    magentaMusicVersion: require("@magenta/music/package.json").version,
    tfjsVersion: tf.version["tfjs-core"],
    backend: tf.getBackend(),
    results,
  }));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
