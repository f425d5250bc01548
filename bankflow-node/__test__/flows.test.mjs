// The core use cases through the Node surface: types in and out, errors, idempotency.
import { after, test } from 'node:test'
import { execFileSync } from 'node:child_process'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { Bank, errorCodes } from 'bankflow'

const key = () => `k-${randomUUID()}`

const backends = {
  memory: () => Bank.open(':memory:'),
  sqlite: () => Bank.open(join(mkdtempSync(join(tmpdir(), 'bankflow-')), 'bank.db')),
}
// PostgreSQL when DATABASE_URL is set (scripts/ci.sh sets it via scripts/pg-test-env.sh): one
// fresh database per test, so ledger totals are the test's own.
const created = []
const psql = (sql) => execFileSync('psql', [process.env.DATABASE_URL, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql])
if (process.env.DATABASE_URL) {
  backends.postgres = () => {
    const name = `bf_node_${randomUUID().replaceAll('-', '').slice(0, 16)}`
    psql(`CREATE DATABASE "${name}"`)
    created.push(name)
    const url = new URL(process.env.DATABASE_URL)
    url.pathname = `/${name}`
    return Bank.open(url.toString())
  }
  after(() => {
    for (const name of created) psql(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
  })
}

async function rejectsWith(promise, code, extra = {}) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof Error, 'an Error')
    assert.equal(e.code, code, e.message)
    for (const [k, v] of Object.entries(extra)) assert.equal(e[k], v)
    return true
  })
}

async function funded(bank, amount = '100.00') {
  const customer = randomUUID()
  const a = await bank.openAccount(customer)
  const b = await bank.openAccount(customer, { accountType: 'SAVINGS' })
  await bank.deposit(a.id, amount, { idempotencyKey: key(), description: 'cash in' })
  return { customer, a, b }
}

for (const [name, open] of Object.entries(backends)) {
  test(`${name}: accounts and types`, async () => {
    const bank = await open()
    const customer = randomUUID()
    const a = await bank.openAccount(customer, { currency: 'EUR', dailyLimit: '500' })
    assert.equal(a.customerId, customer)
    assert.deepEqual([a.accountType, a.currency, a.status, a.balance], ['CHECKING', 'EUR', 'ACTIVE', '0.00'])
    assert.equal(a.dailyLimit, '500.00')
    assert.match(a.openedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/)
    assert.equal(a.accountNumber.length, 12)
    assert.deepEqual((await bank.accountsOfCustomer(customer)).map((x) => x.id), [a.id])
  })

  test(`${name}: deposit, withdraw, transfer`, async () => {
    const bank = await open()
    const { a, b } = await funded(bank)
    const t = await bank.transfer(a.id, b.id, '30.25', { idempotencyKey: key(), description: 'to savings' })
    assert.deepEqual([t.transactionType, t.status, t.amount, t.currency], ['TRANSFER', 'COMPLETED', '30.25', 'USD'])
    await bank.transfer(a.id, b.accountNumber, '0.75', { idempotencyKey: key() })
    const w = await bank.withdraw(b.id, '1', { idempotencyKey: key() })
    assert.equal(w.transactionType, 'WITHDRAWAL')
    assert.equal((await bank.balance(a.id)).balance, '69.00')
    assert.deepEqual(await bank.balance(b.id), { accountId: b.id, balance: '30.00', availableBalance: '30.00', currency: 'USD' })
    assert.deepEqual((await bank.verifyLedger()).customerTotals, { USD: '99.00' })
  })

  test(`${name}: errors carry the engine's code`, async () => {
    const bank = await open()
    const { a, b } = await funded(bank)
    await rejectsWith(bank.transfer(a.id, b.id, '100.01', { idempotencyKey: key() }), 'insufficient_funds')
    await rejectsWith(bank.transfer(a.id, b.id, '1.001', { idempotencyKey: key() }), 'validation_error', { field: 'amount' })
    await rejectsWith(bank.transfer(a.id, b.id, '-1', { idempotencyKey: key() }), 'validation_error', { field: 'amount' })
    await rejectsWith(bank.transfer(a.id, b.id, '1', { idempotencyKey: '' }), 'validation_error')
    await rejectsWith(bank.account('not-a-uuid'), 'validation_error', { field: 'account_id' })
    await rejectsWith(bank.account(randomUUID()), 'not_found')
    await rejectsWith(bank.history({ accountId: a.id, since: '2024-01-01T00:00:00' }), 'validation_error', { field: 'since' })
    // Amounts are strings: a JS number (a binary float) never reaches the engine.
    assert.throws(() => bank.transfer(a.id, b.id, 1.5, { idempotencyKey: key() }))
    await bank.freezeAccount(b.id)
    await rejectsWith(bank.transfer(a.id, b.id, '1', { idempotencyKey: key() }), 'account_frozen')
    await bank.unfreezeAccount(b.id)
    await rejectsWith(bank.closeAccount(a.id), 'account_not_empty')
    assert.equal((await bank.balance(a.id)).balance, '100.00')
    const failed = await bank.history({ accountId: a.id, status: 'FAILED' })
    assert.deepEqual(new Set(failed.map((t) => t.failureCode)), new Set(['insufficient_funds', 'account_frozen']))
  })

  test(`${name}: idempotency`, async () => {
    const bank = await open()
    const { a, b } = await funded(bank)
    const k = key()
    const first = await bank.transfer(a.id, b.id, '10', { idempotencyKey: k })
    const again = await bank.transfer(a.id, b.id, '10', { idempotencyKey: k })
    assert.equal(first.id, again.id)
    await rejectsWith(bank.transfer(a.id, b.id, '11', { idempotencyKey: k }), 'idempotency_conflict')
    assert.equal((await bank.balance(a.id)).balance, '90.00')
  })

  test(`${name}: pending, post, void, reversal`, async () => {
    const bank = await open()
    const { a, b } = await funded(bank)
    const expiresAt = new Date(Date.now() + 3600_000).toISOString()
    const p = await bank.transferPending(a.id, b.id, '40', { idempotencyKey: key(), expiresAt })
    assert.equal(p.status, 'PENDING')
    assert.ok(p.holdId)
    assert.deepEqual(await bank.balance(a.id), { accountId: a.id, balance: '100.00', availableBalance: '60.00', currency: 'USD' })
    const posted = await bank.postPending(p.id, { idempotencyKey: key(), amount: '25' })
    assert.deepEqual([posted.status, posted.amount], ['COMPLETED', '25.00'])
    const v = await bank.transferPending(a.id, b.id, '5', { idempotencyKey: key() })
    assert.equal((await bank.voidPending(v.id, { idempotencyKey: key() })).status, 'VOIDED')
    await rejectsWith(bank.postPending(v.id, { idempotencyKey: key() }), 'invalid_state')
    const original = await bank.reverse(posted.id, { reason: 'duplicate', idempotencyKey: key() })
    assert.equal(original.status, 'REVERSED')
    await rejectsWith(bank.reverse(posted.id, { reason: 'again', idempotencyKey: key() }), 'already_reversed')
    assert.equal((await bank.balance(a.id)).availableBalance, '100.00')
    assert.equal((await bank.balance(b.id)).balance, '0.00')
  })

  test(`${name}: batch is all or nothing`, async () => {
    const bank = await open()
    const { a, b } = await funded(bank)
    const ok = await bank.transferBatch(
      [
        { fromAccountId: a.id, to: b.id, amount: '10' },
        { fromAccountId: a.id, to: b.accountNumber, amount: '5.50', description: 'two' },
      ],
      { idempotencyKey: key() },
    )
    assert.deepEqual(ok.map((t) => t.amount), ['10.00', '5.50'])
    await rejectsWith(
      bank.transferBatch(
        [
          { fromAccountId: a.id, to: b.id, amount: '1' },
          { fromAccountId: a.id, to: b.id, amount: '1000' },
        ],
        { idempotencyKey: key() },
      ),
      'invalid_state',
    )
    assert.equal((await bank.balance(a.id)).balance, '84.50')
  })

  test(`${name}: submitTransfers gives each transfer its own outcome`, async () => {
    const bank = await open()
    const { a, b } = await funded(bank) // a holds 100.00
    const items = [
      { fromAccountId: a.id, to: b.id, amount: '60', idempotencyKey: key() },
      { fromAccountId: a.id, to: b.id, amount: '60', idempotencyKey: key() },
      { fromAccountId: b.id, to: a.accountNumber, amount: '0.25', idempotencyKey: key() },
    ]
    const [first, refused, third] = await bank.submitTransfers(items)
    assert.equal(first.transaction.amount, '60.00')
    assert.equal(first.error, undefined)
    assert.equal(refused.transaction, undefined)
    assert.equal(refused.error.code, 'insufficient_funds')
    assert.equal(third.transaction.amount, '0.25')
    assert.equal((await bank.balance(a.id)).balance, '40.25')
    // Each item is an idempotent command of its own: a replay moves nothing.
    const again = await bank.submitTransfers(items)
    assert.equal(again[0].transaction.id, first.transaction.id)
    assert.equal((await bank.balance(a.id)).balance, '40.25')
    await rejectsWith(bank.submitTransfers([]), 'validation_error')
  })

  test(`${name}: history filters and paging`, async () => {
    const bank = await open()
    const { a, b } = await funded(bank)
    for (let i = 1; i <= 5; i++) await bank.transfer(a.id, b.id, String(i), { idempotencyKey: key() })
    const all = await bank.history({ accountId: a.id, limit: 100 })
    assert.equal(all.length, 6)
    const seen = []
    let after
    for (;;) {
      const page = await bank.history({ accountId: a.id, limit: 2, after })
      if (page.length === 0) break
      seen.push(...page)
      after = page.at(-1)
    }
    assert.deepEqual(seen.map((t) => t.id), all.map((t) => t.id))
    const mid = await bank.history({ accountId: a.id, transactionType: 'TRANSFER', minAmount: '3', maxAmount: '4' })
    assert.deepEqual(mid.map((t) => t.amount).sort(), ['3.00', '4.00'])
    const tomorrow = new Date(Date.now() + 86400_000).toISOString()
    assert.deepEqual(await bank.history({ accountId: a.id, since: tomorrow }), [])
    await rejectsWith(bank.history({ accountId: a.id, limit: 1000 }), 'validation_error')
  })

  test(`${name}: statement`, async () => {
    const bank = await open()
    const { a, b } = await funded(bank)
    await bank.transfer(a.id, b.id, '0.50', { idempotencyKey: key(), description: 'coffee' })
    const day = (offset) => new Date(Date.now() + offset * 86400_000).toISOString().slice(0, 10)
    const s = await bank.statement(a.id, day(-1), day(1))
    assert.deepEqual([s.openingBalance, s.closingBalance, s.currency], ['0.00', '99.50', 'USD'])
    assert.deepEqual(
      s.lines.map((l) => [l.description, l.amount, l.balanceAfter]),
      [
        ['cash in', '100.00', '100.00'],
        ['coffee', '-0.50', '99.50'],
      ],
    )
    await rejectsWith(bank.statement(a.id, day(0), day(-1)), 'validation_error')
    await rejectsWith(bank.statement(a.id, 'yesterday', day(0)), 'validation_error', { field: 'from_date' })
  })

  test(`${name}: actingAs enforces ownership`, async () => {
    const bank = await open()
    const { customer, a, b } = await funded(bank)
    const me = bank.actingAs({ userId: randomUUID(), customerId: customer })
    assert.equal((await me.balance(a.id)).balance, '100.00')
    await me.transfer(a.id, b.id, '1', { idempotencyKey: key() })
    const stranger = bank.actingAs({ userId: randomUUID(), customerId: randomUUID() })
    await rejectsWith(stranger.balance(a.id), 'not_found')
    await rejectsWith(stranger.transfer(a.id, b.id, '1', { idempotencyKey: key() }), 'not_found')
    await rejectsWith(me.deposit(a.id, '1', { idempotencyKey: key() }), 'forbidden')
    assert.throws(() => bank.actingAs({ roles: ['superuser'] }), (e) => e.code === 'validation_error')
    assert.equal((await bank.balance(a.id)).balance, '99.00')
  })
}

test('sqlite persists across reopen', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'bankflow-')), 'persist.db')
  const first = await Bank.open(path)
  const a = await first.openAccount(randomUUID())
  await first.deposit(a.id, '12.34', { idempotencyKey: key() })
  const again = await Bank.open(path)
  assert.equal((await again.balance(a.id)).balance, '12.34')
})

test('error codes are the engine list', () => {
  const codes = errorCodes()
  assert.ok(codes.includes('insufficient_funds') && codes.includes('idempotency_conflict'))
  assert.equal(new Set(codes).size, codes.length)
})
