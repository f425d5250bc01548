// End-to-end journey against a running `bankflow serve` (fresh data dir).
//   BASE_URL=http://127.0.0.1:8080 BANKFLOW_ADMIN_EMAIL=… BANKFLOW_ADMIN_PASSWORD=… npm run e2e
// (scripts/e2e.sh also passes BANKFLOW_DATA_DIR. This journey needs no verification code or
// reset link: the development mail drop redacts them, and only SMTP delivers them, as the
// bankflow-http `ops` test smtp.rs shows with a real SMTP server.)
// Uses playwright-core with Debian's Chromium (/usr/bin/chromium, or CHROMIUM_PATH); never downloads a browser.
// Selectors are roles and labels only. Screenshots go to e2e/artifacts/.
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHmac } from 'node:crypto';
import { deflateSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = join(here, 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

const BASE_URL = (process.env.BASE_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const ADMIN_EMAIL = process.env.BANKFLOW_ADMIN_EMAIL;
const ADMIN_PASSWORD = process.env.BANKFLOW_ADMIN_PASSWORD;
const EXECUTABLE = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TIMEOUT = Number(process.env.E2E_TIMEOUT_MS ?? 15000);

if (!ADMIN_EMAIL || !ADMIN_PASSWORD) {
  console.error('BANKFLOW_ADMIN_EMAIL and BANKFLOW_ADMIN_PASSWORD must be set');
  process.exit(2);
}

// Unique, letters-only suffix (names are validated as names by the server).
const stamp = Date.now();
const alpha = stamp.toString(26).split('').map((c) => String.fromCharCode(97 + parseInt(c, 26))).join('');
const customer = {
  email: `journey.${stamp}@example.com`,
  password: `Journey-pass-${stamp}`,
  first: 'Ada',
  last: `Journey${alpha.charAt(0).toUpperCase()}${alpha.slice(1)}`,
};
const fullName = `${customer.first} ${customer.last}`;

/** A valid 2x2 PNG, built here so the test ships no binary fixture. */
/** The RFC 6238 code (SHA-1, 6 digits, 30 s) an authenticator app shows for a base32 secret. */
function totp(secretBase32, atMs = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secretBase32.replace(/=+$/, '').toUpperCase()) {
    const v = alphabet.indexOf(ch);
    if (v < 0) throw new Error(`not base32: ${ch}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(atMs / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return code.toString().padStart(6, '0');
}

function tinyPng() {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(2, 0);
  ihdr.writeUInt32BE(2, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const raw = Buffer.from([0, 255, 0, 0, 0, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

let passed = 0;
let failed = 0;
let current = '';
async function step(name, fn) {
  current = name;
  const t0 = Date.now();
  await fn();
  passed += 1;
  console.log(`  ✓ ${name} (${Date.now() - t0} ms)`);
}

async function shot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function expectVisible(locator, what, timeout = TIMEOUT) {
  try {
    await locator.first().waitFor({ state: 'visible', timeout });
  } catch {
    throw new Error(`expected to see ${what}`);
  }
}

async function chooseOption(page, comboboxLabel, option) {
  await page.getByRole('combobox', { name: comboboxLabel }).click();
  await page.getByRole('option', { name: option }).first().click();
}

async function nav(page, label) {
  // the drawer is permanent at desktop width; on phones open it first
  const link = page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: label, exact: true });
  if (!(await link.isVisible())) await page.getByRole('button', { name: 'Open navigation' }).click();
  await link.click();
}

const browser = await chromium.launch({
  executablePath: EXECUTABLE,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const viewport = { width: 1280, height: 900 };
const customerCtx = await browser.newContext({ baseURL: BASE_URL, acceptDownloads: true, viewport });
const adminCtx = await browser.newContext({ baseURL: BASE_URL, viewport });
const c = await customerCtx.newPage();
const a = await adminCtx.newPage();
for (const p of [c, a]) {
  p.setDefaultTimeout(TIMEOUT);
  p.on('pageerror', (e) => console.error(`  [page error] ${e.message}`));
}

console.log(`BankFlow e2e journey against ${BASE_URL} (customer ${customer.email})`);
try {
  await step('customer registers', async () => {
    await c.goto('/register');
    await c.getByLabel('Email').fill(customer.email);
    await c.getByLabel('Password', { exact: true }).fill(customer.password);
    await c.getByLabel('Confirm password').fill(customer.password);
    await c.getByRole('button', { name: 'Create account' }).click();
    await c.waitForURL('**/onboarding');
    await shot(c, '01-onboarding-start');
  });

  await step('customer creates the profile', async () => {
    await c.getByLabel('First name').fill(customer.first);
    await c.getByLabel('Last name').fill(customer.last);
    await c.getByLabel('Date of birth').fill('1990-05-15');
    await c.getByLabel('Address line 1').fill('1 Test Street');
    await c.getByLabel('City').fill('Springfield');
    await c.getByLabel('State').fill('IL');
    await c.getByLabel('ZIP code').fill('62701');
    await c.getByLabel('Country').fill('US');
    await c.getByRole('button', { name: 'Save profile' }).click();
    await expectVisible(c.getByRole('heading', { name: 'Identity documents' }), 'the document upload section');
  });

  await step('customer uploads a KYC document and submits KYC', async () => {
    await c.getByLabel(/Document file/).setInputFiles({ name: 'passport.png', mimeType: 'image/png', buffer: tinyPng() });
    await c.getByRole('button', { name: 'Upload document' }).click();
    await expectVisible(c.getByText('Uploaded passport.png'), 'the upload confirmation');
    await expectVisible(c.getByRole('list', { name: 'Uploaded documents' }).getByText('Passport'), 'the uploaded document in the list');
    await c.getByRole('button', { name: 'Submit for review' }).click();
    await expectVisible(c.getByText('KYC status: SUBMITTED'), 'the SUBMITTED status');
    await shot(c, '02-kyc-submitted');
  });

  await step('admin signs in (second browser context) and must enrol TOTP first', async () => {
    await a.goto('/login');
    await a.getByLabel('Email').fill(ADMIN_EMAIL);
    await a.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
    await a.getByRole('button', { name: 'Sign in' }).click();
    // Staff functions answer mfa_enrolment_required until TOTP is on (issue #16 finding 9):
    // the web app sends the admin to Profile to enrol.
    await a.waitForURL('**/profile');
    await a.getByLabel('Current password').fill(ADMIN_PASSWORD);
    await a.getByRole('button', { name: 'Set up authenticator app' }).click();
    const secret = (await a.getByText('Or enter this key manually').locator('code').textContent())?.trim();
    if (!secret) throw new Error('the MFA setup showed no key');
    await a.getByLabel('6-digit code').fill(totp(secret));
    await a.getByRole('button', { name: 'Enable' }).click();
    await expectVisible(a.getByText('Two-factor authentication is on.'), 'MFA enabled');
    await expectVisible(a.getByText(/Save these recovery codes/), 'the recovery codes, shown once');
    await shot(a, '03a-admin-mfa-enrolled');
  });

  await step('admin approves the KYC', async () => {
    // In-app navigation: a reload would drop the in-memory session (issue #12).
    await nav(a, 'Overview');
    await expectVisible(a.getByRole('heading', { name: 'Bank overview' }), 'the admin overview');
    await shot(a, '03-admin-overview');
    await nav(a, 'KYC queue');
    const application = a.getByRole('article', { name: `KYC application of ${fullName}` });
    await expectVisible(application, `the KYC application of ${fullName}`);
    await application.getByRole('button', { name: 'Preview' }).first().click();
    await expectVisible(a.getByRole('dialog').getByRole('img'), 'the document preview');
    await shot(a, '04-admin-kyc-preview');
    await a.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
    await application.getByRole('button', { name: 'Approve' }).click();
    await application.waitFor({ state: 'detached' });
  });

  await step('customer sees APPROVED, has the onboarding checking account and opens a savings account', async () => {
    await c.getByRole('button', { name: 'Refresh status' }).click();
    await expectVisible(c.getByText('KYC status: APPROVED'), 'the APPROVED status');
    await nav(c, 'Accounts');
    // Onboarding opens a checking account (frozen until KYC approval); the customer adds savings.
    await expectVisible(c.getByRole('article', { name: /^Checking account/ }), 'the onboarding checking account');
    for (const type of ['Savings']) {
      await c.getByRole('button', { name: 'Open account' }).click();
      const dialog = c.getByRole('dialog', { name: 'Open an account' });
      await chooseOption(c, 'Account type', type);
      await dialog.getByRole('button', { name: 'Open account' }).click();
      await dialog.waitFor({ state: 'detached' });
      await expectVisible(c.getByRole('article', { name: new RegExp(`^${type} account`) }), `the new ${type} account`);
    }
    await shot(c, '05-accounts');
  });

  await step('admin makes a teller deposit into the checking account', async () => {
    await nav(a, 'Customers');
    await a.getByLabel('Search customers').fill(customer.last);
    await a.getByRole('button', { name: 'Search' }).click();
    await a.getByRole('button', { name: `Manage ${fullName}` }).click();
    const section = a.getByRole('region', { name: `Accounts of ${fullName}` });
    await section.getByRole('button', { name: /^Deposit to CHECKING/ }).click();
    const dialog = a.getByRole('dialog');
    await dialog.getByLabel(/Amount/).fill('1000.00');
    await dialog.getByRole('button', { name: 'Deposit' }).click();
    await dialog.waitFor({ state: 'detached' });
    await expectVisible(section.getByText('$1,000.00'), 'the deposited balance');
    await shot(a, '06-admin-deposit');
  });

  await step('customer transfers between own accounts', async () => {
    await nav(c, 'Transfers');
    await chooseOption(c, 'From account', /^Checking/);
    await expectVisible(c.getByRole('combobox', { name: 'From account' }).getByText(/\$1,000\.00/), 'the deposit in the available balance', 20000).catch(async () => {
      // the accounts list may predate the deposit: reload it through the Accounts page
      await nav(c, 'Accounts');
      await c.getByRole('button', { name: 'Refresh' }).click();
      await nav(c, 'Transfers');
      await chooseOption(c, 'From account', /^Checking/);
    });
    await chooseOption(c, 'To account', /^Savings/);
    await c.getByLabel(/^Amount/).fill('250.00');
    await c.getByRole('button', { name: 'Review transfer' }).click();
    await expectVisible(c.getByRole('heading', { name: 'Review transfer' }), 'the review step');
    await c.getByRole('button', { name: 'Confirm transfer' }).dblclick();
    await expectVisible(c.getByText(/Transfer completed: \$250\.00/), 'the transfer confirmation');
    await shot(c, '07-transfer-done');
  });

  await step('the notification bell shows the live notification', async () => {
    const bell = c.getByRole('button', { name: /^Notifications, [1-9]\d* unread$/ });
    await expectVisible(bell, 'an unread count on the bell', 20000);
    await bell.click();
    const menu = c.getByRole('menu', { name: 'Notifications' });
    await expectVisible(menu.getByRole('menuitem').first(), 'a notification in the bell menu');
    await shot(c, '08-notifications');
    await c.keyboard.press('Escape');
  });

  await step('customer downloads a CSV statement', async () => {
    await nav(c, 'Accounts');
    await c.getByRole('article', { name: /^Checking account/ }).getByRole('button', { name: 'Statement' }).click();
    const dialog = c.getByRole('dialog', { name: 'Download statement' });
    const [download] = await Promise.all([c.waitForEvent('download'), dialog.getByRole('button', { name: 'Download' }).click()]);
    const file = join(ARTIFACTS, download.suggestedFilename());
    await download.saveAs(file);
    if (!file.endsWith('.csv')) throw new Error(`unexpected statement file name ${file}`);
    const csv = readFileSync(file, 'utf8').trim().split(/\r?\n/);
    if (csv.length < 3) throw new Error(`statement has ${csv.length} lines, expected a header and the deposit and transfer`);
    if (!csv.some((l) => l.includes('250.00'))) throw new Error('statement does not show the 250.00 transfer');
  });

  await step('customer pays a payee, and sees the scheduled transfers and the history', async () => {
    await nav(c, 'Payments');
    await chooseOption(c, 'From account', /^Checking/);
    await c.getByLabel('Payee name').fill('ACME Utilities');
    await c.getByLabel('Payee account number').fill('DE89370400440532013000');
    await c.getByLabel(/^Amount/).fill('20.00');
    await c.getByRole('button', { name: 'Pay', exact: true }).dblclick();
    // a first-time payee may be held for fraud review; either outcome is a clear answer
    await expectVisible(c.getByText(/Paid \$20\.00|held for review/), 'the payment confirmation');
    await shot(c, '09-payment');
    await nav(c, 'Scheduled');
    await expectVisible(c.getByRole('heading', { name: 'Scheduled transfers' }), 'the scheduled transfers page');
    await shot(c, '10-scheduled');
    await nav(c, 'Transactions');
    await expectVisible(c.getByText(/250\.00/), 'the transfer in the history');
    await shot(c, '11-transactions');
  });

  await step('admin freezes the checking account', async () => {
    const section = a.getByRole('region', { name: `Accounts of ${fullName}` });
    await section.getByRole('button', { name: /^Freeze CHECKING/ }).click();
    await expectVisible(section.getByRole('button', { name: /^Unfreeze CHECKING/ }), 'the account frozen');
    await shot(a, '12-admin-frozen');
  });

  await step('customer sees the account_frozen refusal', async () => {
    await nav(c, 'Transfers');
    await chooseOption(c, 'From account', /^Checking/);
    await chooseOption(c, 'To account', /^Savings/);
    await c.getByLabel(/^Amount/).fill('10.00');
    await c.getByRole('button', { name: 'Review transfer' }).click();
    await c.getByRole('button', { name: 'Confirm transfer' }).click();
    const alert = c.getByRole('alert').filter({ hasText: /frozen/i });
    await expectVisible(alert, 'the account_frozen refusal');
    const code = await alert.first().getAttribute('data-code');
    if (code !== 'account_frozen') throw new Error(`expected problem code account_frozen, got ${code}`);
    await shot(c, '13-frozen-refusal');
  });
} catch (e) {
  failed += 1;
  console.error(`  ✗ ${current}: ${e instanceof Error ? e.message : e}`);
  await shot(c, 'failure-customer').catch(() => {});
  await shot(a, 'failure-admin').catch(() => {});
} finally {
  await browser.close();
}

console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
