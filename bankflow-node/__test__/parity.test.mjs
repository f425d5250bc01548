// The cross-language parity scenario. The same script and the same expected values are
// asserted in examples/parity.rs (Rust) and bankflow-py/tests/test_parity.py (Python).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'

import { Bank } from 'bankflow'

test('parity scenario', async () => {
  const bank = await Bank.open(':memory:')
  const customer = randomUUID()
  const a = await bank.openAccount(customer)
  const b = await bank.openAccount(customer)
  await bank.deposit(a.id, '100.00', { idempotencyKey: 'parity-deposit', description: 'opening deposit' })
  const t1 = await bank.transfer(a.id, b.id, '30.25', { idempotencyKey: 'parity-transfer', description: 'rent share' })
  const hold = await bank.transferPending(a.id, b.id, '10.00', { idempotencyKey: 'parity-hold', description: 'card hold' })
  await bank.postPending(hold.id, { idempotencyKey: 'parity-post', amount: '7.50' })
  await bank.reverse(t1.id, { reason: 'customer dispute', idempotencyKey: 'parity-reversal' })

  // The day around now: a statement "for the day" that cannot straddle midnight UTC.
  const day = (offset) => new Date(Date.now() + offset * 86400_000).toISOString().slice(0, 10)
  const s = await bank.statement(a.id, day(-1), day(1))

  assert.deepEqual([s.openingBalance, s.closingBalance], ['0.00', '92.50'])
  assert.deepEqual(
    s.lines.map((l) => [l.description, l.amount, l.balanceAfter]),
    [
      ['opening deposit', '100.00', '100.00'],
      ['rent share', '-30.25', '69.75'],
      ['card hold', '-7.50', '62.25'],
      [`Reversal of ${t1.reference}: customer dispute`, '30.25', '92.50'],
    ],
  )
  const [ba, bb] = [await bank.balance(a.id), await bank.balance(b.id)]
  assert.deepEqual([ba.balance, ba.availableBalance], ['92.50', '92.50'])
  assert.deepEqual([bb.balance, bb.availableBalance], ['7.50', '7.50'])
  assert.equal((await bank.transaction(t1.id)).status, 'REVERSED')
  assert.deepEqual((await bank.verifyLedger()).customerTotals, { USD: '100.00' })
})
