// Second factors in `pforte demo`, in headless Chromium: alice logs in with her password, opens
// the admin console (its rule asks login = "mfa"), is sent to /mfa, types a TOTP code computed
// here from the secret the demo printed (RFC 6238, as her authenticator app would), and reaches
// the console. Then her security page, the authenticator-app enrolment page, and a new set of
// recovery codes. axe-core checks /mfa, /security/totp, /security and the recovery-codes page in
// English and German at 375x667 (a phone) and 1280x800, and none of them may scroll sideways on
// the phone (the QR code and the session table fit).
//
//   PFORTE_DEMO_PORT=8443 PFORTE_ALICE_TOTP_SECRET=ABCD... node tests/browser/mfa.mjs
//
// Environment as in harness.mjs, plus PFORTE_ALICE_TOTP_SECRET: alice's key in base32, as the
// demo prints it (`oathtool --totp -b SECRET`). Exits 0 when every step passed, 1 when one
// failed, 2 when the setup is wrong.

import { createHmac } from 'node:crypto';

import { axe, check, fitsTheScreen, launch, runSteps, screenshot, settings } from './harness.mjs';

const env = settings();
const secret = process.env.PFORTE_ALICE_TOTP_SECRET ?? '';
if (!/^[A-Z2-7]{16,}=*$/i.test(secret)) {
  console.error(`browser: PFORTE_ALICE_TOTP_SECRET must be alice's base32 key, got ${JSON.stringify(secret)}`);
  process.exit(2);
}
const { browser, context } = await launch(env.chromium);
const portal = env.url('login');
const admin = env.url('admin');

setTimeout(() => {
  console.log('browser: FAIL: the run took more than 3 minutes');
  process.exit(1);
}, 180_000).unref();

const SIZES = [{ width: 375, height: 667 }, { width: 1280, height: 800 }];
const alice = await (await context()).newPage();
let stepUpUrl = null;
let second = null;

const steps = [
  {
    name: 'alice logs in with her password and opens the admin console: she is sent to /mfa',
    page: () => alice,
    run: async () => {
      await alice.goto(portal);
      await fill(alice, { username: 'alice', password: 'alicepw' });
      await navigateBy(alice, () => alice.locator('form button[type=submit]').click());
      check(alice.url() === portal, `expected the portal ${portal}, got ${alice.url()}`);
      await alice.goto(admin);
      const url = new URL(alice.url());
      check(url.pathname === '/mfa', `the admin console should lead to /mfa, went to ${alice.url()}`);
      check(
        url.searchParams.get('return_to')?.startsWith(admin),
        `/mfa should bring alice back to ${admin}: ${alice.url()}`,
      );
      stepUpUrl = url;
      const code = alice.locator('input#code');
      check((await code.count()) === 1, 'the step-up page has no <input id="code">');
      check((await code.getAttribute('autocomplete')) === 'one-time-code', 'the code field is not autocomplete="one-time-code"');
      return [`step-up page ${url.origin}${url.pathname}`];
    },
  },
  {
    name: '/mfa in English and German, on a phone and a desktop: axe, no sideways scrolling',
    page: () => alice,
    run: async () => sweep(alice, (lang) => withLang(stepUpUrl, lang), 'mfa'),
  },
  {
    name: 'a TOTP code computed from the demo\'s secret steps alice up: the admin console opens',
    page: () => alice,
    run: async () => {
      await alice.goto(withLang(stepUpUrl, 'en'));
      const code = totp(secret, Date.now() / 1000);
      await alice.locator('input#code').fill(code);
      const response = await navigateBy(alice, () =>
        alice.locator('form[action="/mfa"]').first().locator('button[type=submit]').click());
      check(alice.url().startsWith(admin), `after the code, expected ${admin}, got ${alice.url()}`);
      check(response?.status() === 200, `the admin console answered ${response?.status()}`);
      const header = alice.locator('th', { hasText: /^x-forwarded-user$/ });
      const user = (await alice.locator('tr', { has: header }).locator('td').innerText()).trim();
      check(user === 'alice', `the admin console received x-forwarded-user "${user}"`);
      return [`code accepted, at ${alice.url()}`, await screenshot(alice, env, 'mfa-admin-console')];
    },
  },
  {
    name: 'the security page lists the authenticator app and this session, in both languages and sizes',
    page: () => alice,
    run: async () => {
      await alice.setViewportSize(SIZES[1]);
      await alice.goto(env.url('login', '/security?lang=en'));
      check(new URL(alice.url()).pathname === '/security', `/security went to ${alice.url()}`);
      const rows = await alice.locator('table tbody tr').count();
      check(rows >= 1, 'the session table has no rows');
      const factors = await alice.locator('ul.factors > li').count();
      check(factors >= 1, 'the security page lists no factor for alice');
      return [`${factors} factor(s), ${rows} session(s)`, ...(await sweep(alice, (lang) => env.url('login', `/security?lang=${lang}`), 'security'))];
    },
  },
  {
    name: 'the enrolment page (/security/totp): QR code, key and fields, in both languages and sizes',
    page: () => alice,
    run: async () => {
      await alice.setViewportSize(SIZES[1]);
      await alice.goto(env.url('login', '/security/totp?lang=en'));
      check(new URL(alice.url()).pathname === '/security/totp', `/security/totp went to ${alice.url()}`);
      check((await alice.locator('svg').count()) === 1, 'the enrolment page shows no QR code (<svg>)');
      for (const id of ['name', 'code']) {
        check((await alice.locator(`input#${id}`).count()) === 1, `the enrolment page has no <input id="${id}">`);
      }
      const lines = await sweep(alice, (lang) => env.url('login', `/security/totp?lang=${lang}`), 'enrol', async () => {
        const { qr, width } = await alice.evaluate(() => ({
          qr: document.querySelector('svg').getBoundingClientRect().width,
          width: document.documentElement.clientWidth,
        }));
        check(qr > 0 && qr <= width, `the QR code is ${qr} px wide in a ${width} px page`);
      });
      return lines;
    },
  },
  {
    name: 'new recovery codes (confirmed with the password) are shown once: axe in both languages and sizes',
    page: () => alice,
    run: async () => {
      const lines = [];
      for (const lang of ['en', 'de']) {
        await alice.setViewportSize(SIZES[1]);
        await alice.goto(env.url('login', `/security?lang=${lang}`));
        const form = alice.locator('form[action="/security/recovery"]');
        await form.locator('input[type=password]').fill('alicepw');
        const response = await navigateBy(alice, () => form.locator('button[type=submit]').click());
        check(response?.status() === 200, `new recovery codes answered ${response?.status()} at ${alice.url()}`);
        const codes = await alice.locator('ol.codes li').count();
        check(codes === 10, `the recovery-codes page shows ${codes} codes, expected 10`);
        const declared = await alice.evaluate(() => document.documentElement.lang);
        check(declared.startsWith(lang), `the recovery-codes page: <html lang> is "${declared}", expected ${lang}`);
        for (const size of SIZES) {
          await alice.setViewportSize(size);
          const label = `the ${lang} recovery-codes page at ${size.width}x${size.height}`;
          await fitsTheScreen(alice, label);
          lines.push(await axe(alice, label));
          lines.push(await screenshot(alice, env, `recovery-${lang}-${size.width}x${size.height}`));
        }
      }
      return lines.filter(Boolean);
    },
  },
  {
    name: 'in a new browser, /mfa now also offers a recovery code (in <details>): axe and layout with it open',
    page: () => second,
    run: async () => {
      second = await (await context()).newPage();
      await second.goto(portal);
      await fill(second, { username: 'alice', password: 'alicepw' });
      await navigateBy(second, () => second.locator('form button[type=submit]').click());
      await second.goto(admin);
      check(new URL(second.url()).pathname === '/mfa', `the admin console should lead to /mfa, went to ${second.url()}`);
      const stepUp = new URL(second.url());
      const lines = await sweep(second, (lang) => withLang(stepUp, lang), 'mfa-recovery', async () => {
        const details = second.locator('details');
        check((await details.count()) === 1, 'the step-up page has no <details> for a recovery code');
        await details.locator('summary').click();
        check(await second.locator('input#recovery_code').isVisible(), 'opening <details> shows no recovery-code field');
      });
      return lines;
    },
  },
];

const passed = await runSteps(steps, env);
await browser.close();
process.exit(passed ? 0 : 1);

/**
 * Loads `urlOf(lang)` in each language at each size: the declared language, axe, and no
 * sideways scrolling or small targets; `extra` runs further checks on each.
 */
async function sweep(page, urlOf, name, extra = async () => {}) {
  const lines = [];
  for (const lang of ['en', 'de']) {
    for (const size of SIZES) {
      await page.setViewportSize(size);
      const label = `the ${lang} ${name} page at ${size.width}x${size.height}`;
      const response = await page.goto(urlOf(lang));
      check(response?.status() === 200, `${label} answered ${response?.status()} at ${page.url()}`);
      const declared = await page.evaluate(() => document.documentElement.lang);
      check(declared.startsWith(lang), `${label}: <html lang> is "${declared}"`);
      await extra();
      await fitsTheScreen(page, label);
      lines.push(await axe(page, label));
      lines.push(await screenshot(page, env, `${name}-${lang}-${size.width}x${size.height}`));
    }
  }
  return lines.filter(Boolean);
}

/** `url` with `lang` set in its query. */
function withLang(url, lang) {
  const copy = new URL(url);
  copy.searchParams.set('lang', lang);
  return copy.toString();
}

/** RFC 6238 with HMAC-SHA-1, 30-second steps, 6 digits: what an authenticator app shows. */
function totp(base32, unixSeconds) {
  const key = fromBase32(base32);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const number = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return number.toString().padStart(6, '0');
}

/** RFC 4648 base32 (no padding needed). */
function fromBase32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const char of text.toUpperCase().replace(/=+$/, '')) {
    const index = alphabet.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${char}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

async function fill(page, fields) {
  for (const [id, value] of Object.entries(fields)) await page.locator(`input#${id}`).fill(value);
}

/** Performs `action` and waits until the main frame has loaded the page it led to. */
async function navigateBy(page, action) {
  const navigated = page.waitForEvent('framenavigated', (frame) => frame === page.mainFrame());
  const response = page.waitForResponse((r) => {
    const request = r.request();
    const redirect = r.status() >= 300 && r.status() < 400;
    return request.isNavigationRequest() && request.frame() === page.mainFrame() && !redirect;
  });
  await action();
  await navigated;
  await page.waitForLoadState('load');
  return response;
}
