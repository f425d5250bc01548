// Many transfers in flight at once (Promise.all): the JS thread never blocks and no money
// is created or lost.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { Bank } from 'bankflow'

const ACCOUNTS = 4
const TRANSFERS = 200

// A small deterministic PRNG (mulberry32) so a failure replays.
function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

for (const [name, target] of [
  ['memory', ':memory:'],
  ['sqlite', join(mkdtempSync(join(tmpdir(), 'bankflow-')), 'bank.db')],
]) {
  test(`${name}: concurrent transfers conserve money`, async () => {
    const bank = await Bank.open(target)
    const customer = randomUUID()
    const ids = []
    for (let i = 0; i < ACCOUNTS; i++) {
      const a = await bank.openAccount(customer)
      await bank.deposit(a.id, '50.00', { idempotencyKey: randomUUID() })
      ids.push(a.id)
    }
    const next = rng(42)
    let ticks = 0
    const timer = setInterval(() => ticks++, 1)
    const results = await Promise.all(
      Array.from({ length: TRANSFERS }, () => {
        const from = ids[Math.floor(next() * ACCOUNTS)]
        const others = ids.filter((x) => x !== from)
        const to = others[Math.floor(next() * others.length)]
        const amount = (1 + Math.floor(next() * 3000)) / 100
        return bank
          .transfer(from, to, amount.toFixed(2), { idempotencyKey: randomUUID() })
          .then(() => 'ok')
          .catch((e) => {
            if (e.code === 'insufficient_funds') return 'insufficient'
            throw e
          })
      }),
    )
    clearInterval(timer)
    // The event loop kept turning while the engine worked: calls run off the JS thread.
    // (SQLite only: the in-memory store can finish all of it within one timer tick.)
    if (name === 'sqlite') assert.ok(ticks >= 10, `the JS thread was blocked (timer ticks: ${ticks})`)
    assert.equal(results.length, TRANSFERS)
    assert.ok(results.includes('ok'))
    const balances = await Promise.all(ids.map((id) => bank.balance(id)))
    const cents = balances.map((b) => Math.round(Number(b.balance) * 100))
    assert.ok(cents.every((c) => c >= 0))
    assert.equal(cents.reduce((x, y) => x + y, 0), 20000)
    const report = await bank.verifyLedger()
    assert.deepEqual(report.customerTotals, { USD: '200.00' })
    assert.equal(report.accountsChecked, ACCOUNTS)
  })
}
