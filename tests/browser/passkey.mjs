// Passkeys in `pforte demo` as a person lives them, in headless Chromium with the DevTools
// protocol's virtual authenticator (a platform authenticator with resident keys and user
// verification, as a phone or laptop has): carol signs in with her password, adds a passkey on
// the security page, signs out, signs in again with the passkey alone, and opens Mail. axe-core
// checks the security page with the passkey listed, in English and German.
//
//   PFORTE_DEMO_PORT=8443 PFORTE_BROWSER_SCREENSHOTS=/tmp/shots node tests/browser/passkey.mjs
//
// Prints one line per step and exits 0 when every step passed, 1 when one failed, 2 when the
// setup is wrong (see harness.mjs for the environment).

import { axe, check, launch, runSteps, screenshot, settings } from './harness.mjs';

const env = settings();
const { browser, context } = await launch(env.chromium);
const portal = env.url('login');

setTimeout(() => {
  console.log('browser: FAIL: the run took more than 3 minutes');
  process.exit(1);
}, 180_000).unref();

const carolContext = await context();
// A switch for this tab: with it set, the page believes the browser offers no passkey autofill
// (conditional mediation), so the login goes through the button; without it, Chromium's
// virtual authenticator answers the autofill request on its own as soon as the page loads.
await carolContext.addInitScript(() => {
  try {
    if (sessionStorage.getItem('pforte-test-button-only') && window.PublicKeyCredential) {
      PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);
    }
  } catch (error) {
    // No storage: leave the browser as it is.
  }
});
const carol = await carolContext.newPage();
const devtools = await carol.context().newCDPSession(carol);
let authenticatorId = null;

const steps = [
  {
    name: 'a virtual platform authenticator (ctap2, internal, resident keys, user verification)',
    page: () => carol,
    run: async () => {
      await devtools.send('WebAuthn.enable');
      ({ authenticatorId } = await devtools.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2',
          transport: 'internal',
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
          automaticPresenceSimulation: true,
        },
      }));
      return [`authenticator ${authenticatorId}`];
    },
  },
  {
    name: 'carol signs in with her password',
    page: () => carol,
    run: async () => {
      await carol.goto(portal);
      check(new URL(carol.url()).pathname === '/login', `expected /login, got ${carol.url()}`);
      const field = carol.locator('input#username');
      const autocomplete = await field.getAttribute('autocomplete');
      check(autocomplete === 'username webauthn', `the username field has autocomplete="${autocomplete}"`);
      await field.fill('carol');
      await carol.locator('input#password').fill('carolpw');
      await navigateBy(carol, () => carol.locator('form[action="/login"] button[type=submit]').click());
      check(new URL(carol.url()).pathname === '/', `expected the portal, got ${carol.url()}`);
      return [];
    },
  },
  {
    name: 'on the security page she adds a passkey; it is listed',
    page: () => carol,
    run: async () => {
      await carol.goto(`${portal}/security`);
      const button = carol.locator('button[data-passkey-action="register"]');
      check((await button.count()) === 1, 'no "add a passkey" button on the security page');
      await carol.locator('input#passkey-name').fill('Laptop passkey');
      await navigateBy(carol, () => button.click());
      check(new URL(carol.url()).pathname === '/security', `expected /security, got ${carol.url()}`);
      const listed = await carol.locator('ul.factors').innerText();
      check(listed.includes('Laptop passkey'), `the passkey is not listed: ${listed}`);
      const { credentials } = await devtools.send('WebAuthn.getCredentials', { authenticatorId });
      check(credentials.length === 1 && credentials[0].isResidentCredential,
        `the authenticator holds ${credentials.length} credential(s)`);
      return [
        `credential ${credentials[0].credentialId.slice(0, 12)}…, rp ${credentials[0].rpId}`,
        await axe(carol, 'the security page with a passkey (English)'),
        await screenshot(carol, env, 'security-passkey-en'),
      ];
    },
  },
  {
    name: 'the security page in German, on a phone',
    page: () => carol,
    run: async () => {
      await carol.setViewportSize({ width: 375, height: 667 });
      await carol.goto(`${portal}/security?lang=de`);
      const lang = await carol.locator('html').getAttribute('lang');
      check(lang === 'de', `the page says lang="${lang}"`);
      const notes = [
        await axe(carol, 'the security page with a passkey (German, 375x667)'),
        await screenshot(carol, env, 'security-passkey-de-phone'),
      ];
      await carol.setViewportSize({ width: 1024, height: 768 });
      return notes;
    },
  },
  {
    name: 'she signs out',
    page: () => carol,
    run: async () => {
      await carol.goto(`${portal}/?lang=en`);
      await carol.evaluate(() => sessionStorage.setItem('pforte-test-button-only', '1'));
      await navigateBy(carol, () => carol.locator('form[action="/logout"] button').click());
      await carol.goto(portal);
      check(new URL(carol.url()).pathname === '/login', `still signed in: ${carol.url()}`);
      return [];
    },
  },
  {
    name: 'she signs in with the passkey alone ("Sign in with a passkey")',
    page: () => carol,
    run: async () => {
      const button = carol.locator('button[data-passkey-action="passwordless"]');
      check((await button.count()) === 1, 'no passkey button on the login page');
      await navigateBy(carol, () => button.click());
      check(new URL(carol.url()).pathname === '/', `expected the portal, got ${carol.url()}`);
      const body = await carol.locator('main').innerText();
      check(body.includes('Carol'), `the portal does not greet carol: ${body.slice(0, 200)}`);
      return [await axe(carol, 'the portal after a passkey login')];
    },
  },
  {
    name: 'she opens Mail without a password',
    page: () => carol,
    run: async () => {
      const response = await navigateBy(carol, () => carol.locator('a', { hasText: 'Mail' }).first().click());
      check(carol.url() === env.url('mail'), `expected ${env.url('mail')}, got ${carol.url()}`);
      check(response?.status() === 200, `Mail answered ${response?.status()}`);
      const header = carol.locator('th', { hasText: /^x-forwarded-user$/ });
      const user = (await carol.locator('tr', { has: header }).locator('td').innerText()).trim();
      check(user === 'carol', `Mail received x-forwarded-user "${user}"`);
      return [await screenshot(carol, env, 'mail-after-passkey')];
    },
  },
];

steps.push({
  name: 'signed out again, the passkey autofill of the username field signs her in (conditional mediation)',
  page: () => carol,
  run: async () => {
    await carol.goto(`${portal}/`);
    await navigateBy(carol, () => carol.locator('form[action="/logout"] button').click());
    await carol.evaluate(() => sessionStorage.removeItem('pforte-test-button-only'));
    await carol.goto(`${portal}/login`);
    const signedIn = await carol
      .waitForURL((url) => url.pathname === '/', { timeout: 8_000 })
      .then(() => true, () => false);
    if (!signedIn) return ['this Chromium does not answer conditional requests on its own: not checked'];
    const body = await carol.locator('main').innerText();
    check(body.includes('Carol'), `the portal does not greet carol: ${body.slice(0, 200)}`);
    return ['signed in from the autofill request, without the button'];
  },
});

const ok = await runSteps(steps, env);
await browser.close();
process.exit(ok ? 0 : 1);

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
