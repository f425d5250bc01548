// Users, login with MFA, customers, KYC documents from bytes, KYC decisions.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac, randomUUID } from 'node:crypto'

import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { Bank } from 'bankflow'

const PASSWORD = 'Correct-Horse-Battery-9'
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64)])
const key = () => `k-${randomUUID()}`
const email = () => `u-${randomUUID().slice(0, 12)}@example.com`

// RFC 6238 (SHA-1, 30 s, 6 digits), as an authenticator app computes it.
function totp(secretBase32, stepOffset = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = ''
  for (const c of secretBase32.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0')
  const secret = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)))
  const step = Buffer.alloc(8)
  step.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30) + stepOffset))
  const d = createHmac('sha1', secret).update(step).digest()
  const o = d[d.length - 1] & 0x0f
  return String((d.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, '0')
}

async function rejectsWith(promise, code) {
  await assert.rejects(promise, (e) => e instanceof Error && e.code === code)
}

async function onboard(bank) {
  const user = await bank.register(email(), PASSWORD)
  const me = await bank.asUser(user.id)
  const customer = await me.createCustomer({
    firstName: 'Ada',
    lastName: 'Lovelace',
    dateOfBirth: '1990-12-10',
    addressLine1: '1 Analytical Way',
    city: 'London',
    state: 'LDN',
    zipCode: '10001',
    country: 'us',
    ssn: '123-45-6789',
  })
  // A handle snapshots roles and profile: take a fresh one now the user is a customer.
  return { me: await bank.asUser(user.id), customer }
}

test('register, login, refresh, logout', async () => {
  const bank = await Bank.open(':memory:')
  const addr = email()
  const user = await bank.register(addr, PASSWORD, { phone: '+14155550100' })
  assert.deepEqual([user.email, user.roles, user.mfaEnabled], [addr, ['customer'], false])
  const login = await bank.login(addr.toUpperCase(), PASSWORD)
  assert.deepEqual([login.userId, login.roles], [user.id, ['customer']])
  const rotated = await bank.refresh(login.refreshToken)
  assert.notEqual(rotated.refreshToken, login.refreshToken)
  await bank.logout(rotated.refreshToken)
  await rejectsWith(bank.refresh(rotated.refreshToken), 'unauthorized')
  await rejectsWith(bank.login(addr, 'Wrong-Password-123'), 'unauthorized')
  await rejectsWith(bank.register(addr, PASSWORD), 'conflict')
  await assert.rejects(bank.register(email(), 'short'), (e) => e.code === 'validation_error' && e.field === 'password')
})

test('mfa', async () => {
  const bank = await Bank.open(':memory:')
  const addr = email()
  const user = await bank.register(addr, PASSWORD)
  const me = await bank.asUser(user.id)
  await rejectsWith(me.mfaSetup('not-the-password-at-all'), 'unauthorized')
  const setup = await me.mfaSetup(PASSWORD)
  assert.ok(setup.otpauthUrl.startsWith('otpauth://'))
  await me.mfaEnable(PASSWORD, totp(setup.secret))
  assert.equal((await me.me()).mfaEnabled, true)
  await rejectsWith(bank.login(addr, PASSWORD), 'mfa_required')
  // The enabling code's time step is spent; the next step's code is valid.
  assert.equal((await bank.login(addr, PASSWORD, { mfaCode: totp(setup.secret, 1) })).userId, user.id)
})

test('customer, KYC documents from bytes, first account', async () => {
  const bank = await Bank.open(':memory:')
  const { me, customer } = await onboard(bank)
  assert.deepEqual([customer.kycStatus, customer.ssnLast4, customer.country], ['PENDING', '6789', 'US'])
  assert.ok(customer.defaultAccountId)
  await rejectsWith(me.openAccount(customer.id), 'kyc_required')
  await rejectsWith(me.uploadDocument(customer.id, 'PASSPORT', Buffer.from('plain text')), 'validation_error')
  const doc = await me.uploadDocument(customer.id, 'PASSPORT', PNG)
  assert.deepEqual([doc.contentType, doc.sizeBytes, doc.status], ['image/png', PNG.length, 'PENDING'])
  assert.deepEqual((await me.documents(customer.id)).map((d) => d.id), [doc.id])
  assert.equal((await me.submitKyc(customer.id)).kycStatus, 'SUBMITTED')
  await rejectsWith(me.approveKyc(customer.id), 'forbidden')
  assert.equal((await bank.approveKyc(customer.id)).kycStatus, 'APPROVED')
  const checking = await me.account(customer.defaultAccountId)
  assert.equal(checking.status, 'ACTIVE')
  const savings = await me.openAccount(customer.id, { accountType: 'SAVINGS' })
  await bank.deposit(checking.id, '20', { idempotencyKey: key() })
  await me.transfer(checking.id, savings.id, '5', { idempotencyKey: key() })
  assert.equal((await me.balance(savings.id)).balance, '5.00')
  const { me: other } = await onboard(bank)
  await rejectsWith(other.customer(customer.id), 'not_found')
  await rejectsWith(other.balance(savings.id), 'not_found')
})

test('KYC rejection', async () => {
  const bank = await Bank.open(':memory:')
  const { me, customer } = await onboard(bank)
  await me.uploadDocument(customer.id, 'DRIVERS_LICENSE', Buffer.from('%PDF-1.7 test'))
  await me.submitKyc(customer.id)
  const kyc = await bank.rejectKyc(customer.id, 'blurry photo')
  assert.deepEqual([kyc.kycStatus, kyc.rejectionReason], ['REJECTED', 'blurry photo'])
  await rejectsWith(bank.approveKyc(customer.id), 'invalid_state')
})

test('dataKey reads a sealed SSN back after reopening', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'bankflow-')), 'keyed.db')
  const dataKey = '11'.repeat(32)
  const bank = await Bank.open(path, { dataKey })
  const { customer } = await onboard(bank)
  assert.equal(await bank.verifyCustomerSsn(customer.id, '123-45-6789'), true)
  assert.equal(await bank.verifyCustomerSsn(customer.id, '123-45-6780'), false)
  const again = await Bank.open(path, { dataKey })
  assert.equal(await again.verifyCustomerSsn(customer.id, '123-45-6789'), true)
  await rejectsWith(Bank.open(path, { dataKey: 'not hex' }), 'validation_error')
  const stranger = again.actingAs({ userId: randomUUID(), customerId: customer.id })
  await rejectsWith(stranger.verifyCustomerSsn(customer.id, '123-45-6789'), 'forbidden')
})
