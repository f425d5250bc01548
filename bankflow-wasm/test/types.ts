// Type-level test of the generated declarations (checked with `tsc --noEmit` by
// scripts/build-wasm.sh --test): the sandbox's bodies and results are typed, and amounts must
// be decimal strings. Each @ts-expect-error fails the check if the error it expects vanishes.
import { SandboxBank, parseMoney, currencies } from '../pkg/bankflow_wasm.js';
import type { Account, BankflowError, BankflowErrorCode, Transaction, FraudDecision } from '../pkg/bankflow_wasm.js';

export async function typed(): Promise<string> {
  const bank = new SandboxBank({ seed: 1, start_time: '2026-01-15T10:00:00Z' });
  const a: Account = await bank.openAccount({ account_type: 'CHECKING' });
  const t: Transaction = await bank.deposit({ account_id: a.id, amount: parseMoney('5', 'USD'), currency: 'USD', idempotency_key: 'k' });
  // @ts-expect-error amounts are decimal strings, never numbers
  await bank.deposit({ account_id: a.id, amount: 5, currency: 'USD', idempotency_key: 'k2' });
  // @ts-expect-error the idempotency key is required
  await bank.transfer({ from_account_id: a.id, to_account_id: a.id, amount: '1', currency: 'USD' });
  // @ts-expect-error no such account type
  await bank.openAccount({ account_type: 'GOLD' });
  const d: FraudDecision = await bank.analyzeTransaction({ from_account_id: a.id, amount: '1', currency: 'USD' });
  const page = await bank.history();
  const code: BankflowErrorCode = 'insufficient_funds';
  // @ts-expect-error not an engine error code
  const bad: BankflowErrorCode = 'no_money';
  const e = new Error('x') as BankflowError;
  return [t.status, d.action, page.next_cursor ?? '', code, bad, e.code, currencies()[0].code].join();
}
