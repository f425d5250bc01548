// The cross-language parity scenario (examples/parity.rs, bankflow-py/tests/test_parity.py,
// bankflow-node/__test__/parity.test.mjs): the same script must give the same balances and
// statement lines from the wasm sandbox, because every binding only translates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const { SandboxBank } = createRequire(import.meta.url)('../pkg/bankflow_wasm.js');

test('parity scenario: identical balances and statement lines', async () => {
  const bank = new SandboxBank();
  const customer_id = '0190f0e2-a1b2-7c3d-8e5f-60718293a4b5';
  const a = await bank.openAccount({ account_type: 'CHECKING', currency: 'USD', customer_id });
  const b = await bank.openAccount({ account_type: 'CHECKING', currency: 'USD', customer_id });
  await bank.deposit({
    account_id: a.id, amount: '100.00', currency: 'USD', description: 'opening deposit', idempotency_key: 'parity-deposit',
  });
  const transfer = (amount, description, idempotency_key) => ({
    from_account_id: a.id, to_account_id: b.id, amount, currency: 'USD', description, idempotency_key,
  });
  const t1 = await bank.transfer(transfer('30.25', 'rent share', 'parity-transfer'));
  const hold = await bank.transferPending(transfer('10.00', 'card hold', 'parity-hold'));
  await bank.postPending({ transaction_id: hold.id, amount: '7.50', currency: 'USD', idempotency_key: 'parity-post' });
  await bank.reverse({ transaction_id: t1.id, reason: 'customer dispute', idempotency_key: 'parity-reversal' });

  // The day around now, so the statement cannot straddle midnight UTC.
  const day = (offsetMs) => new Date(Date.parse(bank.now()) + offsetMs).toISOString().slice(0, 10);
  const s = await bank.statement(a.id, day(-86_400_000), day(86_400_000));
  assert.deepEqual(s.entries.map((l) => [l.description ?? '', l.amount, l.balance_after]), [
    ['opening deposit', '100.00', '100.00'],
    ['rent share', '-30.25', '69.75'],
    ['card hold', '-7.50', '62.25'],
    [`Reversal of ${t1.transaction_ref}: customer dispute`, '30.25', '92.50'],
  ]);
  assert.deepEqual([s.opening_balance, s.closing_balance], ['0.00', '92.50']);
  const [ba, bb] = [await bank.balance(a.id), await bank.balance(b.id)];
  assert.deepEqual([ba.balance, ba.available_balance], ['92.50', '92.50']);
  assert.deepEqual([bb.balance, bb.available_balance], ['7.50', '7.50']);
  assert.equal((await bank.history({ account_id: a.id, status: 'REVERSED' })).items[0].id, t1.id);
  assert.deepEqual((await bank.verifyLedger()).customer_totals, [{ currency: 'USD', total: '100.00' }]);
});
