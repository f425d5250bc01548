// The browser build (bankflow-wasm/pkg-web, wasm-bindgen --target web): same module, ES-module
// glue with an explicit init. Node stands in for the browser here: init gets the wasm bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import init, { parseMoney, validateAccountNumber, SandboxBank } from '../pkg-web/bankflow_wasm.js';

await init({ module_or_path: readFileSync(new URL('../pkg-web/bankflow_wasm_bg.wasm', import.meta.url)) });

test('the web build applies the same rules', async () => {
  assert.equal(parseMoney('5', 'USD'), '5.00');
  assert.throws(() => parseMoney('1.001', 'USD'), (e) => e.code === 'validation_error');
  assert.throws(() => validateAccountNumber('100000000009'), (e) => e.code === 'validation_error');
  const bank = new SandboxBank({ seed: 1, start_time: '2026-01-15T10:00:00Z' });
  const a = await bank.openAccount({ account_type: 'CHECKING' });
  await bank.deposit({ account_id: a.id, amount: '10', currency: 'USD', idempotency_key: 'd' });
  await assert.rejects(
    bank.withdraw({ account_id: a.id, amount: '10.01', currency: 'USD', idempotency_key: 'w' }),
    (e) => e.code === 'insufficient_funds',
  );
  assert.equal((await bank.balance(a.id)).balance, '10.00');
});
