// Fraud rules, lists and cases; notifications; the audit log's hash chain.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'

import { Bank } from 'bankflow'

const PASSWORD = 'Correct-Horse-Battery-9'
const key = () => `k-${randomUUID()}`
const email = () => `u-${randomUUID().slice(0, 12)}@example.com`

async function rejectsWith(promise, code) {
  await assert.rejects(promise, (e) => e instanceof Error && e.code === code)
}

async function accounts(bank) {
  const customer = randomUUID()
  const a = await bank.openAccount(customer)
  const b = await bank.openAccount(customer)
  await bank.deposit(a.id, '1000.00', { idempotencyKey: key() })
  return { a, b }
}

test('rules put a transfer in review; cases release and reject it', async () => {
  const bank = await Bank.open(':memory:')
  const rule = await bank.createFraudRule({
    ruleName: 'review big ones',
    ruleType: 'AMOUNT_THRESHOLD',
    conditions: { min_amount: '500.00', score: 60 },
    action: 'REVIEW',
    priority: 10,
  })
  assert.deepEqual(rule.conditions, { min_amount: '500.00', score: 60 })
  assert.deepEqual((await bank.fraudRules(true)).map((r) => r.id), [rule.id])
  await rejectsWith(
    bank.createFraudRule({ ruleName: 'bad', ruleType: 'AMOUNT_THRESHOLD', conditions: { nope: 1 }, action: 'REVIEW' }),
    'validation_error',
  )
  const { a, b } = await accounts(bank)
  const held = await bank.transfer(a.id, b.id, '600', { idempotencyKey: key() })
  assert.equal(held.status, 'REVIEW')
  assert.equal((await bank.balance(a.id)).availableBalance, '400.00')
  const [open] = await bank.fraudCases({ filter: 'OPEN' })
  assert.equal(open.transactionId, held.id)
  const released = await bank.resolveFraudCase(open.id, 'release', 'called the customer')
  assert.deepEqual([released.case.status, released.transaction.status], ['RELEASED', 'COMPLETED'])
  assert.equal((await bank.balance(b.id)).balance, '600.00')
  await bank.updateFraudRule(rule.id, { conditions: { min_amount: '100.00', score: 60 } })
  const third = await bank.transfer(a.id, b.id, '100', { idempotencyKey: key() })
  const [again] = await bank.fraudCases({ filter: 'OPEN' })
  const rejected = await bank.resolveFraudCase(again.id, 'reject')
  assert.deepEqual([rejected.case.status, rejected.transaction.id, rejected.transaction.status], ['REJECTED', third.id, 'FAILED'])
  assert.equal((await bank.balance(a.id)).balance, '400.00')
  await rejectsWith(bank.resolveFraudCase(again.id, 'maybe'), 'validation_error')
})

test('a blacklisted account is blocked', async () => {
  const bank = await Bank.open(':memory:')
  await bank.installDefaultFraudRules()
  const { a, b } = await accounts(bank)
  const entry = await bank.addListEntry('BLACK', 'ACCOUNT', b.id, 'mule')
  assert.deepEqual((await bank.listEntries({ filter: 'BLACK' })).map((e) => e.id), [entry.id])
  await rejectsWith(bank.transfer(a.id, b.id, '1', { idempotencyKey: key() }), 'fraud_blocked')
  await bank.removeListEntry(entry.id)
  assert.equal((await bank.transfer(a.id, b.id, '1', { idempotencyKey: key() })).status, 'COMPLETED')
  const stranger = bank.actingAs({ userId: randomUUID(), customerId: randomUUID() })
  await rejectsWith(stranger.installDefaultFraudRules(), 'forbidden')
})

test('notifications and preferences', async () => {
  const bank = await Bank.open(':memory:')
  const user = await bank.register(email(), PASSWORD)
  const me = await bank.asUser(user.id)
  assert.ok((await me.notifications()).length > 0, 'registration sends a welcome message and a code')
  const pref = await me.setNotificationPreference('transaction.completed', 'sms', false)
  assert.deepEqual([pref.category, pref.channel, pref.enabled], ['transaction.completed', 'sms', false])
  assert.equal((await me.notificationPreferences()).length, 1)
  await rejectsWith(me.setNotificationPreference('transaction.completed', 'pigeon', true), 'validation_error')
  await rejectsWith(me.setNotificationPreference('security', 'email', false), 'validation_error')
})

test('audit chain verifies', async () => {
  const bank = await Bank.open(':memory:')
  await bank.register(email(), PASSWORD)
  await bank.createFraudRule({ ruleName: 'r', ruleType: 'AMOUNT_THRESHOLD', conditions: { min_amount: '1.00', score: 1 }, action: 'ALLOW' })
  const log = await bank.auditLog(null, 100)
  assert.ok(log.length > 0)
  assert.deepEqual(log.map((e) => e.seq), log.map((_, i) => i + 1))
  assert.deepEqual(await bank.verifyAudit(), { entriesChecked: log.length })
})
