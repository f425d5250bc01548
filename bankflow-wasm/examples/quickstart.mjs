// A sandbox bank in ten lines: node bankflow-wasm/examples/quickstart.mjs (after scripts/build-wasm.sh)
import { createRequire } from 'node:module';
const { SandboxBank, parseMoney } = createRequire(import.meta.url)('../pkg/bankflow_wasm.js');

const bank = new SandboxBank();
const alice = await bank.openAccount({ account_type: 'CHECKING', currency: 'USD' });
const bob = await bank.openAccount({ account_type: 'SAVINGS', currency: 'USD' });
await bank.deposit({ account_id: alice.id, amount: parseMoney('100', 'USD'), currency: 'USD', idempotency_key: 'dep-1' });
await bank.transfer({ from_account_id: alice.id, to_account_number: bob.account_number, amount: '25.50', currency: 'USD', idempotency_key: 'tr-1' });
const day = (msAgo) => new Date(Date.now() - msAgo).toISOString().slice(0, 10);
const st = await bank.statement(alice.id, day(86_400_000), day(0)); // yesterday..today (UTC)
for (const l of st.entries) console.log(l.posted_at, l.amount.padStart(10), l.balance_after.padStart(10));
try {
  await bank.transfer({ from_account_id: alice.id, to_account_id: bob.id, amount: '1000', currency: 'USD', idempotency_key: 'tr-2' });
} catch (e) {
  console.log(`refused: ${e.code}`); // insufficient_funds
}
console.log('closing balance', st.closing_balance, '| ledger ok:', (await bank.verifyLedger()).accounts_checked, 'accounts');
