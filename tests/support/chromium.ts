/**
 * Finds a headless Chromium and launches it through playwright-core, with no download and
 * no network: `CHROMIUM_PATH` when set, else the system's `/usr/bin/chromium` when it
 * exists, else the Chromium that `@sparticuz/chromium` ships inside its npm package
 * (unpacked to the temp folder on first use). So `npm test` needs nothing but `npm ci`.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

const SYSTEM_CHROMIUM = "/usr/bin/chromium";

/** Flags for a closed network: no background requests, no updates, no first-run UI. */
const QUIET_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export interface ChromiumBinary {
  executablePath: string;
  args: string[];
  /** Where it came from, for messages. */
  source: "CHROMIUM_PATH" | "system" | "@sparticuz/chromium";
}

const UNWANTED_BUNDLED_FLAGS = /^--(single-process|disable-web-security|allow-running-insecure-content|enable-features=SharedArrayBuffer)$/;

let bundled: Promise<ChromiumBinary> | undefined;

/** The Chromium to run: the configured or system one, else the bundled one. */
export async function findChromium(): Promise<ChromiumBinary> {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) {
    if (!existsSync(configured)) throw new Error(`CHROMIUM_PATH is set to ${configured}, which does not exist`);
    return { executablePath: configured, args: QUIET_FLAGS, source: "CHROMIUM_PATH" };
  }
  if (existsSync(SYSTEM_CHROMIUM)) return { executablePath: SYSTEM_CHROMIUM, args: QUIET_FLAGS, source: "system" };
  bundled ??= import("@sparticuz/chromium").then(async ({ default: sparticuz }) => ({
    executablePath: await sparticuz.executablePath(),
    // Its flags are tuned for one page per serverless call: `--single-process` ends the
    // browser with its first closed page, and the web-security switches would hide what a
    // real page may not do. Keep the rest (software GL, no zygote) and ours.
    args: [...new Set([...sparticuz.args.filter((flag) => !UNWANTED_BUNDLED_FLAGS.test(flag)), ...QUIET_FLAGS])],
    source: "@sparticuz/chromium" as const,
  }));
  return bundled;
}

export async function launchChromium(): Promise<Browser> {
  const { executablePath, args } = await findChromium();
  return chromium.launch({ executablePath, headless: true, args });
}
