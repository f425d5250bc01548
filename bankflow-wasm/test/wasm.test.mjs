// Tests of the generated wasm package (bankflow-wasm/pkg, built by scripts/build-wasm.sh).
// Run: node --test bankflow-wasm/test/   (or scripts/build-wasm.sh --test)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const bf = require('../pkg/bankflow_wasm.js');

// Asserts that `fn` throws (or, for a promise, rejects with) a BankflowError with `code`.
function throwsCode(fn, code, field) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof Error, 'an Error');
    assert.equal(e.name, 'BankflowError');
    assert.equal(e.code, code, e.message);
    if (field !== undefined) assert.equal(e.field, field);
    return true;
  });
}
async function rejectsCode(promise, code, field) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof Error, 'an Error');
    assert.equal(e.code, code, e.message);
    if (field !== undefined) assert.equal(e.field, field);
    return true;
  });
}

// ------------------------------------------------------------------ money rules

test('money is parsed with the currency scale, exactly like the server', () => {
  assert.equal(bf.parseMoney('5', 'USD'), '5.00');
  assert.equal(bf.parseMoney('0.5', 'EUR'), '0.50');
  assert.equal(bf.parseMoney('1.5000', 'USD'), '1.50');
  assert.equal(bf.parseMoney('-3', 'KWD'), '-3.000');
  throwsCode(() => bf.parseMoney('1.001', 'USD'), 'validation_error', 'amount');
  for (const bad of ['', 'abc', '1e5', '1,000.00', '+5', '1.2.3', 'NaN', 'Infinity', '10000000000000000']) {
    throwsCode(() => bf.parseMoney(bad, 'USD'), 'validation_error', 'amount');
  }
  throwsCode(() => bf.parseMoney('1', 'usd'), 'validation_error', 'currency');
  throwsCode(() => bf.parseMoney('1', 'XYZ'), 'validation_error', 'currency');
  throwsCode(() => bf.parsePositiveMoney('0', 'USD'), 'validation_error', 'amount');
  assert.equal(bf.parsePositiveMoney('0.01', 'USD'), '0.01');
});

test('JPY has no decimals, KWD three', () => {
  assert.equal(bf.currencyMinorUnits('JPY'), 0);
  assert.equal(bf.currencyMinorUnits('USD'), 2);
  assert.equal(bf.currencyMinorUnits('KWD'), 3);
  assert.equal(bf.parseMoney('1500', 'JPY'), '1500');
  assert.equal(bf.parseMoney('7.000', 'JPY'), '7');
  throwsCode(() => bf.parseMoney('1.5', 'JPY'), 'validation_error', 'amount');
  throwsCode(() => bf.currencyMinorUnits('ABC'), 'validation_error');
  const all = bf.currencies();
  assert.deepEqual(all.find((c) => c.code === 'JPY'), { code: 'JPY', minor_units: 0 });
  assert.ok(all.length >= 20);
});

test('minor units convert both ways without floats', () => {
  assert.equal(bf.toMinorUnits('12.34', 'USD'), '1234');
  assert.equal(bf.formatMinorUnits('1234', 'USD'), '12.34');
  assert.equal(bf.formatMinorUnits('-5', 'KWD'), '-0.005');
  assert.equal(bf.formatMinorUnits('1500', 'JPY'), '1500');
  // 2^53 + 1 cents: exact as a string, lost as a JS number.
  assert.equal(bf.formatMinorUnits('9007199254740993', 'USD'), '90071992547409.93');
  throwsCode(() => bf.formatMinorUnits('12.5', 'USD'), 'validation_error', 'amount_minor');
});

// ------------------------------------------------------------------ account numbers, keys, codes

test('account numbers: check digit catches a typo and a swap', () => {
  assert.equal(bf.validateAccountNumber('100000000008'), '100000000008');
  assert.equal(bf.validateAccountNumber('1000 0000-0008'), '100000000008');
  assert.equal(bf.isValidAccountNumber('100000000008'), true);
  throwsCode(() => bf.validateAccountNumber('100000000009'), 'validation_error', 'account_number'); // mistyped last digit
  throwsCode(() => bf.validateAccountNumber('010000000008'), 'validation_error', 'account_number'); // swapped digits
  throwsCode(() => bf.validateAccountNumber('12345'), 'validation_error', 'account_number');
  assert.equal(bf.isValidAccountNumber('100000000009'), false);
});

test('idempotency keys and the error-code list are the engine\'s', () => {
  assert.equal(bf.validateIdempotencyKey('order-42'), 'order-42');
  throwsCode(() => bf.validateIdempotencyKey('with space'), 'validation_error', 'idempotency_key');
  const codes = bf.errorCodes();
  for (const c of ['validation_error', 'insufficient_funds', 'idempotency_conflict', 'not_found']) {
    assert.ok(codes.includes(c), c);
  }
});

// ------------------------------------------------------------------ the sandbox bank

const START = '2026-01-15T10:00:00+00:00';

async function openPair(bank, currency = 'USD') {
  const a = await bank.openAccount({ account_type: 'CHECKING', currency });
  const b = await bank.openAccount({ account_type: 'SAVINGS', currency });
  return [a, b];
}

test('submitTransfers gives each transfer its own outcome in one commit', async () => {
  const bank = new bf.SandboxBank({ seed: 7, start_time: START });
  const [a, b] = await openPair(bank);
  await bank.deposit({ account_id: a.id, amount: '100', currency: 'USD', idempotency_key: 'fund' });
  const items = [
    { from_account_id: a.id, to_account_id: b.id, amount: '60', currency: 'USD', idempotency_key: 's-1' },
    { from_account_id: a.id, to_account_id: b.id, amount: '60', currency: 'USD', idempotency_key: 's-2' },
    { from_account_id: b.id, to_account_number: a.account_number, amount: '0.25', currency: 'USD', idempotency_key: 's-3' },
  ];
  const [first, refused, third] = await bank.submitTransfers(items);
  assert.equal(first.transaction.amount, '60.00');
  assert.equal(first.error, undefined);
  assert.equal(refused.transaction, undefined);
  assert.equal(refused.error.code, 'insufficient_funds');
  assert.equal(third.transaction.amount, '0.25');
  assert.equal((await bank.balance(a.id)).balance, '40.25');
  // Each item is its own idempotent command: a replay moves nothing.
  const again = await bank.submitTransfers(items);
  assert.equal(again[0].transaction.id, first.transaction.id);
  assert.equal((await bank.balance(a.id)).balance, '40.25');
  // A malformed item rejects the whole call, and nothing moves.
  await rejectsCode(bank.submitTransfers([
    { from_account_id: a.id, to_account_id: b.id, amount: '1', currency: 'USD', idempotency_key: 's-4' },
    { from_account_id: a.id, to_account_id: b.id, amount: '1.001', currency: 'USD', idempotency_key: 's-5' },
  ]), 'validation_error');
  await rejectsCode(bank.submitTransfers([]), 'validation_error');
  assert.equal((await bank.balance(a.id)).balance, '40.25');
  // verifyLedger rejects on any broken invariant; the customers' money is the deposit.
  const report = await bank.verifyLedger();
  assert.deepEqual(report.customer_totals, [{ currency: 'USD', total: '100.00' }]);
});

test('a sandbox journey conserves money and refuses what the server refuses', async () => {
  const bank = new bf.SandboxBank({ seed: 42, start_time: START });
  const [a, b] = await openPair(bank);
  assert.equal(a.balance, '0.00');
  assert.equal(a.status, 'ACTIVE');
  assert.equal(bf.validateAccountNumber(a.account_number), a.account_number);

  const dep = await bank.deposit({ account_id: a.id, amount: '100', currency: 'USD', idempotency_key: 'dep-1' });
  assert.equal(dep.status, 'COMPLETED');
  assert.equal(dep.amount, '100.00');

  const t1 = await bank.transfer({
    from_account_id: a.id, to_account_id: b.id, amount: '30.25', currency: 'USD',
    description: 'rent', idempotency_key: 'tr-1',
  });
  assert.equal(t1.status, 'COMPLETED');
  assert.equal(t1.transaction_type, 'TRANSFER');

  // Idempotent replay returns the first result; the same key for another request is refused.
  const replay = await bank.transfer({
    from_account_id: a.id, to_account_id: b.id, amount: '30.25', currency: 'USD',
    description: 'rent', idempotency_key: 'tr-1',
  });
  assert.equal(replay.id, t1.id);
  await rejectsCode(bank.transfer({
    from_account_id: a.id, to_account_id: b.id, amount: '31', currency: 'USD', idempotency_key: 'tr-1',
  }), 'idempotency_conflict');

  // Refusals: more than available, excess precision, a float, a mistyped destination.
  await rejectsCode(bank.transfer({
    from_account_id: a.id, to_account_id: b.id, amount: '1000.00', currency: 'USD', idempotency_key: 'tr-big',
  }), 'insufficient_funds');
  await rejectsCode(bank.transfer({
    from_account_id: a.id, to_account_id: b.id, amount: '1.001', currency: 'USD', idempotency_key: 'tr-p',
  }), 'validation_error', 'amount');
  await rejectsCode(bank.transfer({
    from_account_id: a.id, to_account_id: b.id, amount: 1.5, currency: 'USD', idempotency_key: 'tr-f',
  }), 'validation_error', 'body');
  const typo = b.account_number.slice(0, 11) + String((Number(b.account_number[11]) + 1) % 10);
  await rejectsCode(bank.transfer({
    from_account_id: a.id, to_account_number: typo, amount: '1.00', currency: 'USD', idempotency_key: 'tr-n',
  }), 'validation_error', 'account_number');
  await rejectsCode(bank.balance('not-an-id'), 'validation_error', 'account_id');
  await rejectsCode(bank.balance('00000000-0000-4000-8000-000000000000'), 'not_found');

  // By account number, then a two-phase transfer posted for less than reserved.
  const t2 = await bank.transfer({
    from_account_id: b.id, to_account_number: a.account_number, amount: '0.25', currency: 'USD',
    idempotency_key: 'tr-2',
  });
  assert.equal(t2.to_account_id, a.id);
  const pending = await bank.transferPending({
    from_account_id: a.id, to_account_id: b.id, amount: '20', currency: 'USD', idempotency_key: 'p-1',
  });
  assert.equal(pending.status, 'PENDING');
  let bal = await bank.balance(a.id);
  assert.deepEqual(bal, { account_id: a.id, balance: '70.00', available_balance: '50.00', currency: 'USD' });
  const posted = await bank.postPending({
    transaction_id: pending.id, amount: '15', currency: 'USD', idempotency_key: 'p-1-post',
  });
  assert.equal(posted.status, 'COMPLETED');
  const pending2 = await bank.transferPending({
    from_account_id: a.id, to_account_id: b.id, amount: '5', currency: 'USD', idempotency_key: 'p-2',
  });
  const voided = await bank.voidPending({ transaction_id: pending2.id, idempotency_key: 'p-2-void' });
  assert.equal(voided.status, 'VOIDED');

  // Reversal of the first transfer, at most once.
  const reversed = await bank.reverse({ transaction_id: t1.id, reason: 'duplicate rent', idempotency_key: 'rev-1' });
  assert.equal(reversed.status, 'REVERSED');
  await rejectsCode(bank.reverse({ transaction_id: t1.id, reason: 'again', idempotency_key: 'rev-2' }), 'already_reversed');

  // A: 100 - 30.25 + 0.25 - 15 + 30.25 = 85.25; B: 30.25 - 0.25 + 15 - 30.25 = 14.75.
  const accA = await bank.account(a.id);
  const accB = await bank.account(b.id);
  assert.equal(accA.balance, '85.25');
  assert.equal(accA.available_balance, '85.25');
  assert.equal(accB.balance, '14.75');
  const report = await bank.verifyLedger();
  assert.equal(report.accounts_checked, 2);
  assert.deepEqual(report.customer_totals, [{ currency: 'USD', total: '100.00' }]);

  // The statement's lines add up from the opening to the closing balance.
  const st = await bank.statement(a.id, '2026-01-15', '2026-01-15');
  assert.equal(st.opening_balance, '0.00');
  assert.equal(st.closing_balance, '85.25');
  assert.equal(st.currency, 'USD');
  const cents = (s) => BigInt(bf.toMinorUnits(s, 'USD'));
  let running = cents(st.opening_balance);
  for (const line of st.entries) {
    running += cents(line.amount);
    assert.equal(cents(line.balance_after), running);
  }
  assert.equal(running, cents(st.closing_balance));
  assert.deepEqual(st.entries.map((l) => l.amount), ['100.00', '-30.25', '0.25', '-15.00', '30.25']);

  // History pages with the server's cursor.
  const all = await bank.history({ account_id: a.id, limit: 100 });
  const page1 = await bank.history({ account_id: a.id, limit: 2 });
  assert.equal(page1.items.length, 2);
  assert.ok(page1.next_cursor);
  const page2 = await bank.history({ account_id: a.id, limit: 100, cursor: page1.next_cursor });
  assert.deepEqual([...page1.items, ...page2.items].map((t) => t.id), all.items.map((t) => t.id));
  assert.equal(all.next_cursor, null);
  const failed = await bank.history({ account_id: a.id, status: 'FAILED' });
  assert.ok(failed.items.some((t) => t.failure_code === 'insufficient_funds'));
  await rejectsCode(bank.history({ account_id: a.id, limit: 1000 }), 'validation_error', 'limit');
});

test('the frozen clock drives holds and statement days', async () => {
  const bank = new bf.SandboxBank({ seed: 7, start_time: START });
  const [a, b] = await openPair(bank);
  await bank.deposit({ account_id: a.id, amount: '10', currency: 'USD', idempotency_key: 'd' });
  await bank.transferPending({
    from_account_id: a.id, to_account_id: b.id, amount: '4', currency: 'USD', idempotency_key: 'p',
    expires_at: '2026-01-16T10:00:00Z',
  });
  assert.equal((await bank.balance(a.id)).available_balance, '6.00');
  assert.equal(await bank.expireHolds(), 0);
  bank.advanceTime(2 * 24 * 3600);
  assert.equal(bank.now(), '2026-01-17T10:00:00+00:00');
  assert.equal(await bank.expireHolds(), 1);
  assert.equal((await bank.balance(a.id)).available_balance, '10.00');
  await bank.transfer({ from_account_id: a.id, to_account_id: b.id, amount: '1', currency: 'USD', idempotency_key: 't' });
  const day2 = await bank.statement(a.id, '2026-01-17', '2026-01-17');
  assert.equal(day2.opening_balance, '10.00');
  assert.deepEqual(day2.entries.map((l) => l.amount), ['-1.00']);
  throwsCode(() => bank.advanceTime(-1), 'validation_error', 'seconds');
  throwsCode(() => new bf.SandboxBank().advanceTime(1), 'invalid_state');
});

test('same seed, same script, same ids; live clock and random seed work', async () => {
  const run = async () => {
    const bank = new bf.SandboxBank({ seed: 99, start_time: START });
    const [a] = await openPair(bank);
    return [a.id, a.account_number];
  };
  assert.deepEqual(await run(), await run());
  const live = new bf.SandboxBank();
  const acc = await live.openAccount({ account_type: 'CHECKING' });
  assert.equal(acc.currency, 'USD');
  assert.ok(Math.abs(Date.parse(acc.opened_at) - Date.now()) < 60_000, acc.opened_at);
  const other = await new bf.SandboxBank().openAccount({ account_type: 'CHECKING' });
  assert.notEqual(acc.id, other.id);
});

test('concurrent transfers: no double spend, money conserved', async () => {
  const bank = new bf.SandboxBank({ seed: 3, start_time: START });
  const [a, b] = await openPair(bank);
  await bank.deposit({ account_id: a.id, amount: '10.00', currency: 'USD', idempotency_key: 'd' });
  const results = await Promise.allSettled(Array.from({ length: 25 }, (_, i) => bank.transfer({
    from_account_id: a.id, to_account_id: b.id, amount: '1.00', currency: 'USD', idempotency_key: `c-${i}`,
  })));
  const ok = results.filter((r) => r.status === 'fulfilled');
  const refused = results.filter((r) => r.status === 'rejected');
  assert.equal(ok.length, 10);
  assert.ok(refused.every((r) => r.reason.code === 'insufficient_funds'));
  assert.equal((await bank.balance(a.id)).balance, '0.00');
  assert.equal((await bank.balance(b.id)).balance, '10.00');
  const report = await bank.verifyLedger();
  assert.deepEqual(report.customer_totals, [{ currency: 'USD', total: '10.00' }]);
});

test('JPY accounts keep whole yen; bad bodies are typed errors', async () => {
  const bank = new bf.SandboxBank({ seed: 5, start_time: START });
  const [a] = await openPair(bank, 'JPY');
  assert.equal(a.balance, '0');
  await rejectsCode(bank.deposit({ account_id: a.id, amount: '1.5', currency: 'JPY', idempotency_key: 'y' }), 'validation_error', 'amount');
  const dep = await bank.deposit({ account_id: a.id, amount: '1500', currency: 'JPY', idempotency_key: 'y' });
  assert.equal(dep.amount, '1500');
  await rejectsCode(bank.deposit({ account_id: a.id, amount: '1', currency: 'USD', idempotency_key: 'u' }), 'currency_mismatch');
  // Frozen accounts refuse movements; a non-empty account cannot close.
  assert.equal((await bank.freezeAccount(a.id)).status, 'FROZEN');
  await rejectsCode(bank.deposit({ account_id: a.id, amount: '1', currency: 'JPY', idempotency_key: 'f' }), 'account_frozen');
  assert.equal((await bank.unfreezeAccount(a.id)).status, 'ACTIVE');
  await rejectsCode(bank.closeAccount(a.id), 'account_not_empty');
  await bank.withdraw({ account_id: a.id, amount: '1500', currency: 'JPY', idempotency_key: 'w' });
  assert.equal((await bank.closeAccount(a.id)).status, 'CLOSED');
  await rejectsCode(bank.openAccount({ account_type: 'GOLD' }), 'validation_error', 'account_type');
  await rejectsCode(bank.openAccount({ account_type: 'CHECKING', colour: 'red' }), 'validation_error', 'body');
  await rejectsCode(bank.deposit({ account_id: a.id, amount: '1', currency: 'JPY', idempotency_key: 'has space' }), 'validation_error', 'idempotency_key');
  throwsCode(() => new bf.SandboxBank({ start_time: 'yesterday' }), 'validation_error', 'start_time');
});

test('fraud-rule preview scores without moving money, with the engine\'s rules', async () => {
  const bank = new bf.SandboxBank({ seed: 11, start_time: START });
  const [a, b] = await openPair(bank);
  await bank.deposit({ account_id: a.id, amount: '100000', currency: 'USD', idempotency_key: 'd' });
  const preview = (amount, extra = {}) => bank.analyzeTransaction({
    from_account_id: a.id, to_account_id: b.id, amount, currency: 'USD', ...extra,
  });
  // No rules yet: everything is allowed.
  assert.deepEqual(await preview('60000'), { score: 0, risk_level: 'LOW', action: 'ALLOW', flags: [] });

  assert.equal(await bank.installDefaultFraudRules(), 7);
  assert.equal(await bank.installDefaultFraudRules(), 0);
  assert.equal((await bank.fraudRules(true)).length, 7);
  const big = await preview('60000');
  assert.equal(big.action, 'BLOCK');
  assert.ok(big.flags.includes('very large amount'), big.flags.join());
  assert.deepEqual(await preview('10'), { score: 0, risk_level: 'LOW', action: 'ALLOW', flags: [] });

  await bank.addListEntry({ list: 'BLACK', list_type: 'COUNTERPARTY', value: 'EVIL-1', reason: 'test' });
  const listed = await bank.analyzeTransaction({ from_account_id: a.id, counterparty: 'EVIL-1', amount: '5', currency: 'USD' });
  assert.equal(listed.action, 'BLOCK');
  assert.equal(listed.score, 100);

  // The preview recorded nothing and moved nothing; the real transfer is refused the same way.
  assert.equal((await bank.balance(a.id)).available_balance, '100000.00');
  await rejectsCode(bank.transfer({
    from_account_id: a.id, to_account_id: b.id, amount: '60000', currency: 'USD', idempotency_key: 'big',
  }), 'fraud_blocked');
  assert.equal((await bank.balance(a.id)).balance, '100000.00');

  await rejectsCode(bank.createFraudRule({
    rule_name: 'bad', rule_type: 'AMOUNT_THRESHOLD', conditions: { score: 5 }, action: 'ALLOW',
  }), 'validation_error', 'conditions');
  await rejectsCode(preview('1.001'), 'validation_error', 'amount');
});
