// Chromium has crashed at launch on this machine (SIGSEGV before any page),
// once in many runs: every browser check here and in examples/e2e launches
// through this, which tries a second time before failing.

/** `chromium.launch(options)` (playwright-core's, from the caller's package), retried once. */
export async function launchWithRetry(chromium, options) {
  try {
    return await chromium.launch(options);
  } catch (e) {
    console.error(`chromium did not start (${String(e.message).split("\n")[0]}); trying once more`);
    return chromium.launch(options);
  }
}
