// @ts-check
// BankFlow from Node: open a bank, onboard a customer, move money, print a statement.
import { Bank } from 'bankflow'

const bank = await Bank.open(':memory:') // or a SQLite path, or a postgres:// URL
const user = await bank.register('ada@example.com', 'Correct-Horse-Battery-9')
let ada = await bank.asUser(user.id)
const customer = await ada.createCustomer({ firstName: 'Ada', lastName: 'Lovelace', dateOfBirth: '1990-12-10',
  addressLine1: '1 Analytical Way', city: 'London', state: 'LDN', zipCode: '10001', country: 'US' })
await ada.uploadDocument(customer.id, 'PASSPORT', Buffer.from('%PDF-1.7 passport scan'))
await ada.submitKyc(customer.id)
await bank.approveKyc(customer.id) // the embedding program acts as the bank's back office
ada = await bank.asUser(user.id) // a fresh handle sees the new customer profile
const [checking] = await ada.accountsOfCustomer(customer.id) // opened by onboarding, unfrozen by KYC
const savings = await ada.openAccount(customer.id, { accountType: 'SAVINGS' })
await bank.deposit(checking.id, '100.00', { idempotencyKey: 'qs-deposit', description: 'paycheck' })
await ada.transfer(checking.id, savings.id, '30.25', { idempotencyKey: 'qs-save', description: 'savings' })
await ada.transfer(checking.id, savings.id, '1000', { idempotencyKey: 'qs-too-much' })
  .catch((/** @type {Error & { code?: string }} */ e) => console.log('refused:', e.code))
const today = new Date().toISOString().slice(0, 10)
const statement = await ada.statement(checking.id, today, today)
for (const l of statement.lines) {
  console.log(l.postedAt.slice(11, 19), (l.description ?? '').padEnd(12), l.amount.padStart(9), l.balanceAfter.padStart(9))
}
console.log('closing balance', statement.closingBalance, statement.currency)
