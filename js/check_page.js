#!/usr/bin/env node
// Opens an exported index.html in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core), lets it generate and play a melody, and reports what the page showed.
//
//   node js/check_page.js PAGE_URL SCREENSHOT.png OUT.json [CHROMIUM]
//
// Every request to another origin than PAGE_URL's is aborted and reported: the page must run
// from its own server (its model files and a local copy of @magenta/music).
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const {chromium} = require("playwright-core");

const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync",
               "--autoplay-policy=no-user-gesture-required"];

async function main() {
  const [pageUrl, screenshot, outPath, executable = "/usr/bin/chromium"] =
      process.argv.slice(2);
  if (!pageUrl || !screenshot || !outPath) {
    throw new Error("usage: check_page.js PAGE_URL SCREENSHOT.png OUT.json [CHROMIUM]");
  }
  const origin = new URL(pageUrl).origin;
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "chromium-profile-"));
  const report = {consoleErrors: [], pageErrors: [], blockedRequests: [], failedRequests: [],
                  consoleMessages: []};
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: executable, headless: true, args: FLAGS,
    viewport: {width: 1280, height: 720}});
  try {
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(origin + "/") || url.startsWith("data:")) return route.continue();
      report.blockedRequests.push(url);
      return route.abort();
    });
    const page = context.pages()[0] || await context.newPage();
    page.on("console", (msg) => {
      report.consoleMessages.push(`${msg.type()}: ${msg.text()}`);
      if (msg.type() === "error") report.consoleErrors.push(msg.text());
    });
    page.on("pageerror", (error) => report.pageErrors.push(String(error)));
    page.on("requestfailed", (request) =>
        report.failedRequests.push(`${request.url()} ${request.failure().errorText}`));

    await page.goto(pageUrl, {waitUntil: "load"});
    const state = () => page.getAttribute("#status", "data-state");
    await page.waitForFunction(
        () => ["ready", "error"].includes(document.getElementById("status").dataset.state),
        null, {timeout: 30000});
    report.loadedState = await state();
    if (report.loadedState === "ready") {
      await page.click("#generate");
      await page.waitForFunction(
          () => ["done", "error"].includes(document.getElementById("status").dataset.state),
          null, {timeout: 30000});
      report.generatedState = await state();
      await page.click("#play");
      await page.waitForTimeout(600);
      report.playButtonWhilePlaying = await page.textContent("#play");
    }
    report.status = await page.textContent("#status");
    report.page = await page.evaluate(() => ({
      noteCount: window.sequenceTutor.noteCount,
      generatedNotes: window.sequenceTutor.generatedNotes,
      totalQuantizedSteps: window.sequenceTutor.sequence ?
          window.sequenceTutor.sequence.totalQuantizedSteps : null,
      notes: window.sequenceTutor.sequence ?
          window.sequenceTutor.sequence.notes.map(
              (n) => [n.pitch, n.quantizedStartStep, n.quantizedEndStep]) : [],
      rollRects: document.querySelectorAll("#roll rect").length,
      noteNames: document.getElementById("notes").textContent,
      backend: mm.tf.getBackend(),
    }));
    await page.screenshot({path: screenshot, fullPage: true});
    if (report.playButtonWhilePlaying === "Stop") await page.click("#play");
  } finally {
    await context.close();
    fs.rmSync(userDataDir, {recursive: true, force: true});
  }
  fs.writeFileSync(outPath, JSON.stringify(report, null, 2));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
