// The browser harness: Debian's Chromium driven by playwright-core, axe-core injected into pages,
// one printed line per step, screenshots for a person to look at. The scenario lives in login.mjs.
//
// Environment:
//   PFORTE_DEMO_PORT           the HTTPS port of `pforte demo` (required)
//   PFORTE_BROWSER_SCREENSHOTS folder for PNG screenshots (optional; created when missing)
//   PFORTE_CHROMIUM            the browser binary (default /usr/bin/chromium)

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const SETUP_HINT = 'run ./tests/run (it installs chromium and runs npm ci --prefix tests/browser)';

/** A step's failure: what the user would have seen go wrong. */
export class StepFailure extends Error {}

/** Fails the current step with `message` unless `condition` holds. */
export function check(condition, message) {
  if (!condition) throw new StepFailure(message);
}

/** Reads the settings from the environment; exits with a clear message when one is wrong. */
export function settings() {
  const port = Number(process.env.PFORTE_DEMO_PORT);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    const given = JSON.stringify(process.env.PFORTE_DEMO_PORT);
    fatal(`PFORTE_DEMO_PORT must be the demo's HTTPS port, got ${given}`);
  }
  const chromium = process.env.PFORTE_CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(chromium)) fatal(`no browser at ${chromium}: ${SETUP_HINT}`);
  const screenshots = process.env.PFORTE_BROWSER_SCREENSHOTS || null;
  if (screenshots) mkdirSync(screenshots, { recursive: true });
  return {
    chromium,
    screenshots,
    url: (app, path = '/') => `https://${app}.localhost:${port}${path}`,
  };
}

/** Starts headless Chromium; the demo's certificate is self-signed, so contexts ignore TLS errors. */
export async function launch(chromiumPath) {
  let playwright;
  try {
    playwright = await import('playwright-core');
  } catch (error) {
    fatal(`playwright-core is not installed (${error.code ?? error.message}): ${SETUP_HINT}`);
  }
  const browser = await playwright.chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  }).catch((error) => fatal(`cannot start ${chromiumPath}: ${error.message}`));
  return {
    browser,
    /**
     * A fresh profile: no cookies, English (or `locale`, which sets Accept-Language), and CSP
     * bypassed so that axe can be injected.
     */
    async context({ locale = 'en-US' } = {}) {
      const context = await browser.newContext({
        ignoreHTTPSErrors: true,
        bypassCSP: true,
        locale,
        viewport: { width: 1024, height: 768 },
      });
      context.setDefaultTimeout(10_000);
      context.setDefaultNavigationTimeout(15_000);
      return context;
    },
  };
}

let axeSource = null;

/** Runs every axe-core rule on the page; fails the step listing each violation and its elements. */
export async function axe(page, what) {
  if (axeSource === null) {
    try {
      axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
    } catch (error) {
      fatal(`axe-core is not installed (${error.code ?? error.message}): ${SETUP_HINT}`);
    }
  }
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const { violations } = result;
  check(
    violations.length === 0,
    `axe found ${violations.length} violation(s) on ${what} (${page.url()}):\n${describeViolations(violations)}`,
  );
  return `axe: no violations (${result.passes.length} rules passed)`;
}

/**
 * No horizontal scrolling, and every visible button (and link styled as one) and input at least
 * 44x44 px. Elements the page keeps hidden (inside a closed <details>) are not targets.
 */
export async function fitsTheScreen(page, what) {
  const { scrollWidth, innerWidth, small } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    small: Array.from(document.querySelectorAll('button, .button, input:not([type=hidden])'))
      .map((el) => ({ text: el.textContent.trim() || el.id, box: el.getBoundingClientRect() }))
      .filter(({ box }) => box.width > 0 || box.height > 0)
      .filter(({ box }) => box.height < 44 || box.width < 44)
      .map(({ text, box }) => `"${text}" ${Math.round(box.width)}x${Math.round(box.height)}`),
  }));
  check(scrollWidth <= innerWidth, `${what} scrolls sideways: ${scrollWidth} px wide in a ${innerWidth} px window`);
  check(small.length === 0, `${what} has targets smaller than 44x44 px: ${small.join(', ')}`);
}

/** One readable block per violation: impact, rule, help, link, then each failing element. */
export function describeViolations(violations) {
  return violations
    .map((v) => {
      const nodes = v.nodes
        .map((n) => {
          const html = n.html.length > 160 ? `${n.html.slice(0, 157)}...` : n.html;
          const why = (n.failureSummary ?? '').split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
          return `      at ${n.target.join(' ')}: ${html}\n         ${why}`;
        })
        .join('\n');
      return `  - [${v.impact}] ${v.id}: ${v.help}\n    ${v.helpUrl}\n${nodes}`;
    })
    .join('\n');
}

/** Saves a full-page PNG when a screenshot folder was given; returns a note for the step line. */
export async function screenshot(page, settings, name) {
  if (!settings.screenshots) return '';
  const path = join(settings.screenshots, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return `screenshot ${path}`;
}

/**
 * Runs the steps in order, printing `ok` or `FAIL` per step; stops at the first failure (later
 * steps build on earlier ones) and then saves the page the failing step was looking at.
 */
export async function runSteps(steps, settings) {
  let number = 0;
  for (const { name, page, run } of steps) {
    number += 1;
    try {
      const notes = (await run()).filter(Boolean);
      console.log(`ok    ${number}. ${name}${notes.length ? `\n        ${notes.join('\n        ')}` : ''}`);
    } catch (error) {
      const message = error instanceof StepFailure ? error.message : error.stack ?? String(error);
      console.log(`FAIL  ${number}. ${name}\n${indent(message)}`);
      const current = page();
      if (current && !current.isClosed()) {
        console.log(indent(`the page was ${current.url()}`));
        const note = await screenshot(current, settings, 'failure').catch(() => '');
        if (note) console.log(indent(note));
      }
      console.log(`browser: step ${number} of ${steps.length} failed`);
      return false;
    }
  }
  console.log(`browser: all ${steps.length} steps ok`);
  return true;
}

function indent(text) {
  return text.split('\n').map((line) => `        ${line}`).join('\n');
}

function fatal(message) {
  console.error(`browser: ${message}`);
  process.exit(2);
}
