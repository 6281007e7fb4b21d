// The login flow of `pforte demo` as a person lives it, in headless Chromium: the login form in
// English and German, a wrong password, alice's portal, single sign-on into Mail and Docs, logout,
// bob refused at Mail, and the gateway's 403 and 404 pages in both languages on a phone (375x667)
// and a desktop (1280x800). axe-core checks every page a person reads; any violation fails.
//
//   PFORTE_DEMO_PORT=8443 PFORTE_BROWSER_SCREENSHOTS=/tmp/shots node tests/browser/login.mjs
//
// Prints one line per step and exits 0 when every step passed, 1 when one failed, 2 when the
// setup is wrong (see harness.mjs for the environment).

import { axe, check, fitsTheScreen, launch, runSteps, screenshot, settings } from './harness.mjs';

const env = settings();
const { browser, context } = await launch(env.chromium);
const portal = env.url('login');

// Chromium's navigation is bounded per action; this bounds the whole run whatever hangs.
setTimeout(() => {
  console.log('browser: FAIL: the run took more than 3 minutes');
  process.exit(1);
}, 180_000).unref();

const alice = await (await context()).newPage();
let bob = null;
let visitor = null;
let englishLabel = '';

const steps = [
  {
    name: 'without a session, the login host shows the login form (English)',
    page: () => alice,
    run: async () => {
      await alice.goto(portal);
      check(new URL(alice.url()).pathname === '/login', `expected a redirect to /login, got ${alice.url()}`);
      await loginForm(alice);
      englishLabel = await labelOf(alice, 'username');
      await expectLang(alice, 'en');
      return [
        `labels: "${englishLabel}", "${await labelOf(alice, 'password')}"`,
        await axe(alice, 'the English login page'),
        await screenshot(alice, env, 'login-en'),
      ];
    },
  },
  {
    name: 'the ?lang=de link switches the login page to German',
    page: () => alice,
    run: async () => {
      await navigateBy(alice, () => alice.locator('a[href$="?lang=de"]').first().click());
      await loginForm(alice);
      await expectLang(alice, 'de');
      const german = await labelOf(alice, 'username');
      check(german !== englishLabel, `the username label is "${german}" in both languages`);
      return [
        `labels: "${german}", "${await labelOf(alice, 'password')}"`,
        await axe(alice, 'the German login page'),
        await screenshot(alice, env, 'login-de'),
      ];
    },
  },
  {
    name: 'the ?lang=en link switches back to English',
    page: () => alice,
    run: async () => {
      await navigateBy(alice, () => alice.locator('a[href$="?lang=en"]').first().click());
      await loginForm(alice);
      await expectLang(alice, 'en');
      const label = await labelOf(alice, 'username');
      check(label === englishLabel, `the username label is "${label}", expected "${englishLabel}"`);
      return [];
    },
  },
  {
    name: 'a wrong password shows an error (role="alert"); labels and focus order stay sane',
    page: () => alice,
    run: async () => {
      await submitLogin(alice, 'alice', 'not-alicepw');
      const alert = alice.getByRole('alert');
      check((await alert.count()) > 0, 'no element with role="alert" after a wrong password');
      const text = (await alert.first().innerText()).trim();
      check(text.length > 0 && (await alert.first().isVisible()), 'the role="alert" error is empty');
      check(/password/i.test(text), `the alert should say the password is wrong; it says "${text}"`);
      check(!text.includes('not-alicepw'), 'the error message repeats the password');
      await loginForm(alice);
      const order = await tabOrder(alice);
      const at = (id) => order.findIndex((entry) => entry.id === id);
      const [user, pass, submit] = [at('username'), at('password'), order.findIndex((entry) => entry.submit)];
      check(
        user >= 0 && pass > user && submit > pass,
        `Tab should reach #username, #password, then the submit button; it went: ${describeOrder(order)}`,
      );
      const hidden = order.filter((entry) => !entry.visible);
      check(hidden.length === 0, `Tab lands on elements that are not visible: ${describeOrder(hidden)}`);
      const unnamed = order.filter((entry) => !entry.name);
      check(unnamed.length === 0, `Tab lands on elements without a name: ${describeOrder(unnamed)}`);
      return [
        `alert: "${text}"`,
        `Tab order: ${describeOrder(order)}`,
        await axe(alice, 'the login page with an error'),
        await screenshot(alice, env, 'login-error'),
      ];
    },
  },
  {
    name: 'alice logs in through the form and lands on the portal with her tiles',
    page: () => alice,
    run: async () => {
      const before = await cookieValues(alice);
      await submitLogin(alice, 'alice', 'alicepw');
      check(alice.url() === portal, `expected the portal ${portal}, got ${alice.url()}`);
      const mail = alice.locator('nav').getByRole('link', { name: 'Mail', exact: true });
      check((await mail.count()) === 1, 'the portal has no "Mail" link inside <nav>');
      const logout = alice.locator('form[action$="/logout"]');
      check((await logout.count()) === 1, 'the portal has no <form action="/logout">');
      check((await logout.getAttribute('method'))?.toLowerCase() === 'post', 'the logout form does not POST');
      check((await logoutButton(alice).count()) === 1, 'the logout form has no button');
      const fresh = (await alice.context().cookies())
        .filter((c) => before.get(`${c.domain} ${c.name}`) !== c.value);
      check(fresh.length > 0, 'logging in set no cookie');
      const weak = fresh.filter((c) => !c.secure || !c.httpOnly || c.sameSite === 'None');
      const flags = (c) => `${c.name} (secure=${c.secure}, httpOnly=${c.httpOnly}, sameSite=${c.sameSite})`;
      check(
        weak.length === 0,
        `cookies set at login must be Secure, HttpOnly and not SameSite=None: ${weak.map(flags).join(', ')}`,
      );
      return [`tiles: ${(await tilesOf(alice)).join(', ')}`];
    },
  },
  {
    name: 'the portal passes axe',
    page: () => alice,
    run: async () => [await axe(alice, 'the portal'), await screenshot(alice, env, 'portal')],
  },
  {
    name: 'the Mail tile opens Mail as alice, with no second password prompt',
    page: () => alice,
    run: async () => {
      const response = await navigateBy(alice, () =>
        alice.locator('nav').getByRole('link', { name: 'Mail', exact: true }).click());
      await appPage(alice, 'mail', response);
      return [`via ${redirectChain(response)}`, await screenshot(alice, env, 'mail')];
    },
  },
  {
    name: 'Docs opens afterwards without logging in again',
    page: () => alice,
    run: async () => {
      const response = await alice.goto(env.url('docs'));
      await appPage(alice, 'docs', response);
      return [`via ${redirectChain(response)}`];
    },
  },
  {
    name: 'the logout button ends the session: the login host shows the login form again',
    page: () => alice,
    run: async () => {
      await alice.goto(portal);
      await navigateBy(alice, () => logoutButton(alice).click());
      await alice.goto(portal);
      check(new URL(alice.url()).pathname === '/login', `after logout, ${portal} went to ${alice.url()}`);
      await loginForm(alice);
      return [];
    },
  },
  {
    name: 'bob (partners) sees no Mail tile, and Mail answers 403 naming "Mail"',
    page: () => bob,
    run: async () => {
      bob = await (await context()).newPage();
      await bob.goto(portal);
      await submitLogin(bob, 'bob', 'bobpw');
      check(bob.url() === portal, `expected the portal ${portal}, got ${bob.url()}`);
      const tiles = await tilesOf(bob);
      check(tiles.length > 0, 'bob\'s portal shows no tiles');
      check(!tiles.includes('Mail'), `bob's portal offers Mail: ${tiles.join(', ')}`);
      const response = await bob.goto(env.url('mail'));
      check(response?.status() === 403, `Mail answered bob with ${response?.status()} at ${bob.url()}`);
      const text = await bob.locator('body').innerText();
      check(text.includes('Mail'), `the 403 page does not name "Mail": ${text.slice(0, 300)}`);
      check((await bob.locator('input[type=password]').count()) === 0, 'the 403 page asks for a password');
      return [
        `tiles: ${tiles.join(', ')}`,
        await axe(bob, 'the 403 page'),
        await screenshot(bob, env, 'mail-403-bob'),
      ];
    },
  },
  {
    name: 'the 403 and 404 pages in German and English, on a phone (375x667) and a desktop (1280x800)',
    page: () => visitor ?? bob,
    run: async () => {
      const lines = [];
      const pages = [[403, env.url('mail')], [404, env.url('login', '/no-such-page')]];
      // Each language in its own browser profile, whose locale sets Accept-Language; bob signs in
      // in each, so Mail refuses him.
      for (const [lang, locale, word] of [['de', 'de-DE', 'Fehler'], ['en', 'en-US', 'Error']]) {
        visitor = await (await context({ locale })).newPage();
        await visitor.goto(portal);
        await submitLogin(visitor, 'bob', 'bobpw');
        check(visitor.url() === portal, `bob (${locale}) expected the portal ${portal}, got ${visitor.url()}`);
        for (const viewport of [{ width: 375, height: 667 }, { width: 1280, height: 800 }]) {
          await visitor.setViewportSize(viewport);
          const size = `${viewport.width}x${viewport.height}`;
          for (const [status, url] of pages) {
            const response = await visitor.goto(url);
            check(response?.status() === status, `${url} answered ${response?.status()}, expected ${status}`);
            await expectLang(visitor, lang);
            const text = await visitor.locator('main').innerText();
            check(text.includes(`${word} ${status}`), `the ${lang} ${status} page does not say "${word} ${status}": ${text.slice(0, 300)}`);
            check(text.length > 40, `the ${status} page says almost nothing: ${text}`);
            await fitsTheScreen(visitor, `the ${lang} ${status} page at ${size}`);
            lines.push(await axe(visitor, `the ${lang} ${status} page at ${size}`));
            lines.push(await screenshot(visitor, env, `error-${status}-${lang}-${size}`));
          }
        }
        await visitor.context().close();
        visitor = null;
      }
      return lines.filter(Boolean);
    },
  },
];

const passed = await runSteps(steps, env);
await browser.close();
process.exit(passed ? 0 : 1);

/** The login form as the gateway promises it: labelled username and password, a submit button. */
async function loginForm(page) {
  for (const [id, type] of [['username', 'text'], ['password', 'password']]) {
    const input = page.locator(`input#${id}`);
    check((await input.count()) === 1, `no <input id="${id}"> on ${page.url()}`);
    check((await input.getAttribute('name')) === id, `<input id="${id}"> has no name="${id}"`);
    check((await input.getAttribute('type') ?? 'text') === type, `<input id="${id}"> is not type="${type}"`);
    check((await labelOf(page, id)).length > 0, `<input id="${id}"> has no <label for="${id}"> with text`);
  }
  const submit = page.locator('form button[type=submit]');
  check((await submit.count()) === 1, `no <button type="submit"> in the form on ${page.url()}`);
}

/** The text of the <label> the browser associates with the input (not just any label nearby). */
function labelOf(page, id) {
  return page.locator(`input#${id}`).evaluate((input) =>
    Array.from(input.labels ?? []).map((label) => label.textContent.trim()).join(' '));
}

/** The page's declared language, which screen readers pronounce it in. */
async function expectLang(page, lang) {
  const declared = await page.evaluate(() => document.documentElement.lang);
  check(declared.startsWith(lang), `<html lang> is "${declared}", expected ${lang}`);
}

/** The portal's app tiles: the links in <nav>, less the language switch. */
async function tilesOf(page) {
  const texts = await page.locator('nav a:not([href*="lang="])').allInnerTexts();
  return texts.map((text) => text.trim());
}

function logoutButton(page) {
  return page.locator('form[action$="/logout"]').locator('button, input[type=submit]');
}

/** Fills and submits the login form, waiting for the page the server answers with. */
async function submitLogin(page, username, password) {
  await page.locator('input#username').fill(username);
  await page.locator('input#password').fill(password);
  await navigateBy(page, () => page.locator('form button[type=submit]').click());
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

/** A demo app's own page, reached as alice: the app's host, and Pforte's identity header. */
async function appPage(page, app, response) {
  check(page.url() === env.url(app), `expected ${env.url(app)}, got ${page.url()}`);
  check(response?.status() === 200, `${app} answered ${response?.status()}`);
  check((await page.locator('input[type=password]').count()) === 0, `${app} shows a password field`);
  const header = page.locator('th', { hasText: /^x-forwarded-user$/ });
  const user = page.locator('tr', { has: header }).locator('td');
  check((await user.count()) === 1, `${app}'s page shows no x-forwarded-user header`);
  const value = (await user.innerText()).trim();
  check(value === 'alice', `${app} received x-forwarded-user "${value}", expected "alice"`);
  const body = await page.locator('body').innerText();
  const leaked = (await page.context().cookies())
    .filter((c) => c.value.length >= 8 && body.includes(c.value));
  check(leaked.length === 0, `${app} received Pforte's cookies: ${leaked.map((c) => c.name).join(', ')}`);
}

/** Cookie values by domain and name, to tell which ones an action set or changed. */
async function cookieValues(page) {
  return new Map((await page.context().cookies()).map((c) => [`${c.domain} ${c.name}`, c.value]));
}

/** Presses Tab from the top of the page until focus leaves it or comes round again. */
async function tabOrder(page) {
  await page.evaluate(() => document.activeElement?.blur());
  await page.mouse.click(1, 1);
  const order = [];
  for (let i = 0; i < 40; i += 1) {
    await page.keyboard.press('Tab');
    const entry = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      const box = el.getBoundingClientRect();
      const labels = Array.from(el.labels ?? []).map((l) => l.textContent.trim()).join(' ');
      return {
        key: `${el.tagName.toLowerCase()}#${el.id}|${el.getAttribute('href') ?? ''}|${el.textContent.trim()}`,
        tag: el.tagName.toLowerCase(),
        id: el.id,
        submit: el.type === 'submit',
        name: (labels || el.getAttribute('aria-label') || el.textContent || el.value || '').trim(),
        visible: box.width > 0 && box.height > 0,
      };
    });
    if (!entry || order.some((seen) => seen.key === entry.key)) break;
    order.push(entry);
  }
  return order;
}

function describeOrder(order) {
  return order.map((e) => `${e.tag}${e.id ? `#${e.id}` : ''} "${e.name}"`).join(' → ') || '(nothing)';
}

/** The redirects a navigation went through, for the step line; queries (tickets) left out. */
function redirectChain(response) {
  const urls = [];
  for (let request = response?.request(); request; request = request.redirectedFrom()) {
    const url = new URL(request.url());
    urls.unshift(`${url.origin}${url.pathname}`);
  }
  return urls.join(' → ');
}
