// Typed use of the bankflow package (checked by `tsc --noEmit` in bankflow-node/scripts/ci.sh):
// page through an account's history with the cursor the engine hands back.
import { Bank, type Transaction } from 'bankflow'

export async function allTransfers(bank: Bank, accountId: string): Promise<Transaction[]> {
  const out: Transaction[] = []
  let after: Transaction | undefined
  for (let pages = 0; pages < 1000; pages++) {
    const page = await bank.history({ accountId, transactionType: 'TRANSFER', limit: 100, after })
    if (page.length === 0) break
    out.push(...page)
    after = page[page.length - 1]
  }
  return out
}

export async function totalOut(bank: Bank, accountId: string): Promise<string> {
  const cents = (await allTransfers(bank, accountId))
    .filter((t) => t.fromAccountId === accountId && t.status === 'COMPLETED')
    .reduce((sum, t) => sum + BigInt(t.amount.replace('.', '')), 0n)
  return `${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`
}
