// The adapters through the Node surface, against real peers the tests start: KYC documents in
// S3 (moto, from bankflow-s3/scripts/moto-venv.sh) and the Kafka outbox relay (a tansu broker
// via scripts/kafka-broker.sh, read back by kafka-python). A peer that cannot start fails the
// test; none is skipped. BANKFLOW_ROOT names the checkout (scripts/ci.sh sets it).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, existsSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { homedir, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

import { Bank, KafkaRelay } from 'bankflow'

const ROOT = process.env.BANKFLOW_ROOT ?? resolve(fileURLToPath(import.meta.url), '../../..')
const TOOLS = process.env.BANKFLOW_TOOLS_DIR ?? join(homedir(), '.cache/bankflow-tools')
const PASSWORD = 'Correct-Horse-Battery-9'
const MARKER = 'bankflow-plaintext-marker'
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from(MARKER.repeat(8))])
// How long a peer may take to accept connections (Python imports are slow on a cold cache).
const START_TIMEOUT_MS = 60_000
const KAFKA_PYTHON_VERSION = '3.0.12' // scripts/kafka-acceptance.sh's
const key = () => `k-${randomUUID()}`
const email = () => `u-${randomUUID().slice(0, 12)}@example.com`

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => ok(port))
    })
    s.on('error', fail)
  })
}

async function waitListening(port, child) {
  const deadline = Date.now() + START_TIMEOUT_MS
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`peer exited with ${child.exitCode}`)
    const up = await new Promise((ok) => {
      const c = connect(port, '127.0.0.1', () => { c.end(); ok(true) })
      c.on('error', () => ok(false))
    })
    if (up) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`nothing listened on ${port} within ${START_TIMEOUT_MS} ms`)
}

function venvPython(script) {
  return execFileSync('bash', [join(ROOT, script)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim()
}

// kafka-python in the same cached venv scripts/kafka-acceptance.sh builds.
function kafkaPython() {
  const venv = join(TOOLS, `kafka-python-${KAFKA_PYTHON_VERSION}-venv`)
  const py = join(venv, 'bin/python')
  if (!existsSync(py)) {
    execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' })
    execFileSync(join(venv, 'bin/pip'), ['install', '-q', `kafka-python==${KAFKA_PYTHON_VERSION}`], { stdio: 'inherit' })
  }
  return py
}

async function onboard(bank) {
  const user = await bank.register(email(), PASSWORD)
  const me = await bank.asUser(user.id)
  const customer = await me.createCustomer({
    firstName: 'Ada', lastName: 'Lovelace', dateOfBirth: '1990-12-10', addressLine1: '1 Analytical Way',
    city: 'London', state: 'LDN', zipCode: '10001', country: 'us',
  })
  return { user, customer }
}

async function rejectsWith(promise, code, field) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof Error)
    assert.equal(e.code, code)
    if (field) assert.equal(e.field, field)
    return true
  })
}

test('a KYC document is ciphertext in S3 and reads back intact', async () => {
  const python = venvPython('bankflow-s3/scripts/moto-venv.sh')
  const port = await freePort()
  const moto = spawn(python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' })
  try {
    await waitListening(port, moto)
    process.env.AWS_ACCESS_KEY_ID = 'bankflow-test'
    process.env.AWS_SECRET_ACCESS_KEY = 'bankflow-test-secret'
    const endpoint = `http://127.0.0.1:${port}`
    const bucket = `kyc-${randomUUID().slice(0, 8)}`
    // An independent S3 client (boto3, from moto's venv), not the adapter under test.
    const boto3 = (code) => execFileSync(python, ['-c', `import sys, boto3
s3 = boto3.client('s3', endpoint_url='${endpoint}', region_name='us-east-1', aws_access_key_id='x', aws_secret_access_key='y')
${code}`], { encoding: 'utf8' })
    boto3(`s3.create_bucket(Bucket='${bucket}')`)
    const bank = await Bank.open(':memory:', {
      dataKey: '22'.repeat(32),
      documentsUrl: `s3://${bucket}?endpoint=${endpoint}&region=us-east-1&allow_http=true`,
    })
    const { customer } = await onboard(bank)
    const doc = await bank.uploadDocument(customer.id, 'PASSPORT', PNG)
    const objects = boto3(`for o in s3.list_objects_v2(Bucket='${bucket}').get('Contents', []):
    print(s3.get_object(Bucket='${bucket}', Key=o['Key'])['Body'].read().hex())`).trim().split('\n')
    assert.equal(objects.length, 1)
    const stored = Buffer.from(objects[0], 'hex')
    assert.ok(stored.length > PNG.length, 'an envelope, not the document')
    assert.ok(!stored.includes(Buffer.from(MARKER)), 'the document is encrypted in the bucket')
    assert.deepEqual(await bank.documentContent(customer.id, doc.id), PNG)
  } finally {
    moto.kill()
  }
})

test('bad adapter options reject with validation errors', async () => {
  await rejectsWith(Bank.open(null, { documentsUrl: 'http://bucket' }), 'validation_error', 'documents_url')
  await rejectsWith(Bank.open(null, { smtp: { host: '127.0.0.1', from: 'BankFlow <a@b.example>', tls: 'ssl3' } }),
    'validation_error', 'smtp.tls')
  await rejectsWith(Bank.open(null, { smtp: { host: '127.0.0.1', from: 'not an address' } }), 'validation_error', 'smtp')
  const bank = await Bank.open()
  assert.throws(() => new KafkaRelay(bank, { brokers: [] }), (e) => e.code === 'validation_error')
  assert.throws(() => new KafkaRelay(bank, { brokers: ['a:1'], publishTimeoutMs: 20_001 }),
    (e) => e.code === 'validation_error' && e.field === 'publishTimeoutMs')
  const relay = new KafkaRelay(bank, { brokers: ['127.0.0.1:1'] })
  await rejectsWith(relay.runOnce(0), 'limit_exceeded')
  await rejectsWith(relay.runOnce(501), 'limit_exceeded')
})

test('KafkaRelay publishes a journey as CloudEvents; a broker that is down rejects the step', async () => {
  const bank = await Bank.open(':memory:')
  const { customer } = await onboard(bank)
  await bank.uploadDocument(customer.id, 'PASSPORT', PNG)
  await bank.submitKyc(customer.id)
  await bank.approveKyc(customer.id)
  const a = await bank.openAccount(customer.id)
  const b = await bank.openAccount(customer.id, { accountType: 'SAVINGS' })
  await bank.deposit(a.id, '100.00', { idempotencyKey: key() })
  await bank.transfer(a.id, b.id, '10.00', { idempotencyKey: key() })

  const down = new KafkaRelay(bank, { brokers: [`127.0.0.1:${await freePort()}`], publishTimeoutMs: 2000 })
  await rejectsWith(down.runOnce(), 'transient')

  // A second engine with the same journey shape relays through a live broker (the failed
  // step above holds its batch under the claim lease).
  const live = await Bank.open(':memory:')
  const j = await onboard(live)
  const acct = await live.openAccount(j.customer.id)
  await live.deposit(acct.id, '5.00', { idempotencyKey: key() })
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'bankflow-node-kafka-'))
  const broker = join(ROOT, 'scripts/kafka-broker.sh')
  execFileSync('bash', [broker, 'start', dir, String(port)], { stdio: 'inherit' })
  const prefix = `node-${randomUUID().slice(0, 6)}.`
  let published = 0
  let records
  try {
    const relay = new KafkaRelay(live, { brokers: [`127.0.0.1:${port}`], topicPrefix: prefix, createTopicsPartitions: 1 })
    for (let n; (n = await relay.runOnce(5)) > 0;) {
      assert.ok(n <= 5)
      published += n
    }
    assert.equal(await relay.runOnce(), 0)
    records = JSON.parse(execFileSync(kafkaPython(), ['-c', CONSUMER, String(port), prefix], { encoding: 'utf8' }))
  } finally {
    execFileSync('bash', [broker, 'stop', dir], { stdio: 'inherit' })
  }
  assert.ok(published >= 4, `published ${published}`)
  assert.equal(records.length, published)
  assert.equal(new Set(records.map((r) => r.ce.id)).size, published)
  const keysOf = (type) => records.filter((r) => r.ce.type === `com.bankflow.${type}`).map((r) => r.key)
  for (const r of records) {
    assert.equal(r.contentType, 'application/cloudevents+json; charset=UTF-8')
    assert.equal(r.ce.specversion, '1.0')
    assert.equal(r.ce.subject, r.key)
  }
  assert.deepEqual(keysOf('user.registered'), [j.user.id])
  assert.deepEqual(keysOf('customer.created'), [j.customer.id])
  assert.ok(keysOf('account.created').includes(acct.id))
})

// Reads every record of the topics under argv[2] with kafka-python; prints them as JSON.
const CONSUMER = `
import json, sys
from kafka import KafkaConsumer, TopicPartition
c = KafkaConsumer(bootstrap_servers='127.0.0.1:' + sys.argv[1], group_id=None, enable_auto_commit=False)
parts = [TopicPartition(t, p) for t in c.topics() if t.startswith(sys.argv[2]) for p in sorted(c.partitions_for_topic(t) or [])]
c.assign(parts)
c.seek_to_beginning(*parts)
ends = c.end_offsets(parts)
out = []
while any(c.position(tp) < ends[tp] for tp in parts):
    for batch in c.poll(timeout_ms=1000).values():
        for r in batch:
            out.append({'key': r.key.decode(), 'contentType': dict(r.headers)['content-type'].decode(), 'ce': json.loads(r.value)})
print(json.dumps(out))
`
