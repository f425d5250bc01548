import { Alert, Box, Button, Dialog, DialogActions, DialogContent, DialogTitle, FormControlLabel, MenuItem, Paper, Stack, Switch, Tab, Table, TableBody, TableCell, TableContainer, TableHead, TableRow, Tabs, TextField, Typography } from '@mui/material';
import { useState } from 'react';
import { Controller, useForm } from 'react-hook-form';
import { ReasonDialog } from '../../components/admin/ReasonDialog';
import { MoneyText } from '../../components/common/MoneyText';
import { EmptyState, ErrorAlert, Loading, PageHeader } from '../../components/common/States';
import { StatusChip } from '../../components/common/StatusChip';
import { useAsync } from '../../hooks/useAsync';
import { fraudService } from '../../services/adminService';
import type { FraudCase, FraudRule, FraudRuleInput, ListKind } from '../../types';
import { errorMessage } from '../../utils/errors';
import { formatDateTime } from '../../utils/format';

function flagsText(f: FraudCase['flags']): string {
  if (!f) return '—';
  if (Array.isArray(f)) return f.join(', ');
  return Object.keys(f).join(', ');
}

function Cases() {
  const [status, setStatus] = useState('OPEN');
  const cases = useAsync(() => fraudService.cases(status), [status]);
  const [resolving, setResolving] = useState<{ c: FraudCase; decision: 'RELEASE' | 'REJECT' } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const resolve = async (note: string) => {
    if (!resolving) return;
    try {
      await fraudService.resolve(resolving.c.id, resolving.decision, note);
      setResolving(null);
      cases.reload();
    } catch (e) {
      setError(errorMessage(e));
      setResolving(null);
    }
  };
  return (
    <>
      <TextField select size="small" label="Case status" value={status} onChange={(e) => setStatus(e.target.value)} sx={{ mb: 2, minWidth: 180 }}>
        {['OPEN', 'RELEASED', 'REJECTED'].map((s) => (
          <MenuItem key={s} value={s}>
            {s}
          </MenuItem>
        ))}
      </TextField>
      {cases.loading && <Loading />}
      <ErrorAlert error={cases.error ?? error} onRetry={cases.reload} />
      {cases.data && cases.data.length === 0 && <EmptyState title="No cases." />}
      {cases.data && cases.data.length > 0 && (
        <TableContainer>
          <Table size="small" aria-label="Fraud cases">
            <TableHead>
              <TableRow>
                <TableCell>Opened</TableCell>
                <TableCell>Score</TableCell>
                <TableCell>Risk</TableCell>
                <TableCell>Flags</TableCell>
                <TableCell align="right">Amount</TableCell>
                <TableCell>Status</TableCell>
                <TableCell align="right">Decision</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {cases.data.map((c) => (
                <TableRow key={c.id}>
                  <TableCell>{formatDateTime(c.created_at)}</TableCell>
                  <TableCell>{c.fraud_score}</TableCell>
                  <TableCell>{c.risk_level}</TableCell>
                  <TableCell>{flagsText(c.flags)}</TableCell>
                  <TableCell align="right">{c.amount ? <MoneyText amount={c.amount} currency={c.currency ?? 'USD'} /> : '—'}</TableCell>
                  <TableCell>
                    <StatusChip status={c.status} />
                  </TableCell>
                  <TableCell align="right" sx={{ whiteSpace: 'nowrap' }}>
                    {c.status === 'OPEN' && (
                      <>
                        <Button size="small" color="success" onClick={() => setResolving({ c, decision: 'RELEASE' })}>
                          Release
                        </Button>
                        <Button size="small" color="error" onClick={() => setResolving({ c, decision: 'REJECT' })}>
                          Reject
                        </Button>
                      </>
                    )}
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </TableContainer>
      )}
      <ReasonDialog
        open={!!resolving}
        title={resolving?.decision === 'RELEASE' ? 'Release the held transfer' : 'Reject the held transfer'}
        label="Note"
        confirmLabel={resolving?.decision === 'RELEASE' ? 'Release' : 'Reject'}
        onCancel={() => setResolving(null)}
        onConfirm={resolve}
      />
    </>
  );
}

interface RuleForm {
  rule_name: string;
  rule_type: string;
  conditions: string;
  action: string;
  priority: string;
  is_active: boolean;
}

function RuleDialog({ rule, onClose, onSaved }: { rule: FraudRule | 'new'; onClose: () => void; onSaved: () => void }) {
  const existing = rule === 'new' ? null : rule;
  const [error, setError] = useState<string | null>(null);
  const { register, control, handleSubmit, formState } = useForm<RuleForm>({
    defaultValues: {
      rule_name: existing?.rule_name ?? '',
      rule_type: existing?.rule_type ?? 'AMOUNT',
      conditions: JSON.stringify(existing?.conditions ?? { min_amount: '10000.00' }, null, 2),
      action: existing?.action ?? 'REVIEW',
      priority: String(existing?.priority ?? 0),
      is_active: existing?.is_active ?? true,
    },
  });
  const e = formState.errors;
  const save = async (v: RuleForm) => {
    setError(null);
    const body: FraudRuleInput = {
      rule_name: v.rule_name.trim(),
      rule_type: v.rule_type,
      conditions: JSON.parse(v.conditions) as Record<string, unknown>,
      action: v.action,
      priority: Number(v.priority),
      is_active: v.is_active,
    };
    try {
      if (existing) await fraudService.updateRule(existing.id, body);
      else await fraudService.createRule(body);
      onSaved();
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  return (
    <Dialog open onClose={onClose} fullWidth maxWidth="sm" aria-labelledby="rule-title">
      <form onSubmit={handleSubmit(save)} noValidate>
        <DialogTitle id="rule-title">{existing ? 'Edit rule' : 'New rule'}</DialogTitle>
        <DialogContent>
          <Stack spacing={2} mt={1}>
            {error && <Alert severity="error">{error}</Alert>}
            <TextField label="Rule name" {...register('rule_name', { required: 'Required', maxLength: { value: 100, message: 'Too long' } })} error={!!e.rule_name} helperText={e.rule_name?.message} />
            <Controller
              name="rule_type"
              control={control}
              render={({ field }) => (
                <TextField select label="Rule type" {...field}>
                  {['AMOUNT', 'VELOCITY', 'GEO', 'NEW_PAYEE', 'BLACKLIST', 'CUSTOM'].map((t) => (
                    <MenuItem key={t} value={t}>
                      {t}
                    </MenuItem>
                  ))}
                </TextField>
              )}
            />
            <TextField
              label="Conditions (JSON)"
              multiline
              minRows={3}
              slotProps={{ htmlInput: { style: { fontFamily: 'monospace' } } }}
              {...register('conditions', {
                validate: (v) => {
                  try {
                    const o: unknown = JSON.parse(v);
                    return (typeof o === 'object' && o !== null && !Array.isArray(o)) || 'Must be a JSON object';
                  } catch {
                    return 'Invalid JSON';
                  }
                },
              })}
              error={!!e.conditions}
              helperText={e.conditions?.message}
            />
            <Controller
              name="action"
              control={control}
              render={({ field }) => (
                <TextField select label="Action" {...field}>
                  {['ALLOW', 'REVIEW', 'BLOCK'].map((t) => (
                    <MenuItem key={t} value={t}>
                      {t}
                    </MenuItem>
                  ))}
                </TextField>
              )}
            />
            <TextField label="Priority" type="number" {...register('priority', { validate: (v) => /^-?\d+$/.test(v) || 'Whole number' })} error={!!e.priority} helperText={e.priority?.message} />
            <Controller name="is_active" control={control} render={({ field }) => <FormControlLabel control={<Switch checked={field.value} onChange={(ev) => field.onChange(ev.target.checked)} />} label="Active" />} />
          </Stack>
        </DialogContent>
        <DialogActions>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="contained" disabled={formState.isSubmitting}>
            Save rule
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  );
}

function Rules() {
  const rules = useAsync(() => fraudService.rules(), []);
  const [editing, setEditing] = useState<FraudRule | 'new' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const toggle = async (r: FraudRule) => {
    setError(null);
    try {
      const { id: _id, created_at: _c, ...input } = r;
      await fraudService.updateRule(r.id, { ...input, is_active: !r.is_active });
      rules.reload();
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <>
      <Button variant="contained" onClick={() => setEditing('new')} sx={{ mb: 2 }}>
        New rule
      </Button>
      {rules.loading && <Loading />}
      <ErrorAlert error={rules.error ?? error} onRetry={rules.reload} />
      {rules.data && rules.data.length === 0 && <EmptyState title="No rules." />}
      {rules.data && rules.data.length > 0 && (
        <TableContainer>
          <Table size="small" aria-label="Fraud rules">
            <TableHead>
              <TableRow>
                <TableCell>Name</TableCell>
                <TableCell>Type</TableCell>
                <TableCell>Action</TableCell>
                <TableCell>Priority</TableCell>
                <TableCell>Active</TableCell>
                <TableCell align="right">Edit</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {rules.data.map((r) => (
                <TableRow key={r.id}>
                  <TableCell>{r.rule_name}</TableCell>
                  <TableCell>{r.rule_type}</TableCell>
                  <TableCell>{r.action}</TableCell>
                  <TableCell>{r.priority}</TableCell>
                  <TableCell>
                    <Switch checked={r.is_active} onChange={() => toggle(r)} slotProps={{ input: { 'aria-label': `Rule ${r.rule_name} active` } }} />
                  </TableCell>
                  <TableCell align="right">
                    <Button size="small" onClick={() => setEditing(r)} aria-label={`Edit rule ${r.rule_name}`}>
                      Edit
                    </Button>
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </TableContainer>
      )}
      {editing && (
        <RuleDialog
          rule={editing}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            rules.reload();
          }}
        />
      )}
    </>
  );
}

// The engine's list entry types (bankflow_core::fraud).
const LIST_TYPES = ['ACCOUNT', 'COUNTERPARTY', 'EMAIL', 'EMAIL_DOMAIN', 'IP', 'DEVICE'];

function ListPanel({ kind }: { kind: ListKind }) {
  const list = useAsync(() => fraudService.list(kind), [kind]);
  const [listType, setListType] = useState('ACCOUNT');
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const add = async () => {
    setError(null);
    try {
      await fraudService.addToList(kind, listType, value.trim());
      setValue('');
      list.reload();
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  const title = kind === 'whitelist' ? 'Allow list' : 'Block list';
  return (
    <Box>
      <Typography variant="h6" component="h3" gutterBottom>
        {title}
      </Typography>
      <Stack direction={{ xs: 'column', sm: 'row' }} spacing={1} mb={2}>
        <TextField select size="small" label="Entry type" value={listType} onChange={(e) => setListType(e.target.value)} sx={{ minWidth: 170 }}>
          {LIST_TYPES.map((t) => (
            <MenuItem key={t} value={t}>
              {t}
            </MenuItem>
          ))}
        </TextField>
        <TextField size="small" label={`Value to add to the ${title.toLowerCase()}`} value={value} onChange={(e) => setValue(e.target.value)} />
        <Button variant="outlined" onClick={add} disabled={!value.trim()}>
          Add
        </Button>
      </Stack>
      <ErrorAlert error={list.error ?? error} onRetry={list.reload} />
      {list.loading && <Loading />}
      {list.data && list.data.length === 0 && <EmptyState title="Empty." />}
      {list.data && list.data.length > 0 && (
        <Table size="small" aria-label={title}>
          <TableBody>
            {list.data.map((e) => (
              <TableRow key={e.id}>
                <TableCell>{e.list_type}</TableCell>
                <TableCell>{e.value}</TableCell>
                <TableCell>{formatDateTime(e.created_at)}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </Box>
  );
}

export default function AdminFraudPage() {
  const [tab, setTab] = useState(0);
  return (
    <>
      <PageHeader title="Fraud" />
      <Tabs value={tab} onChange={(_, v: number) => setTab(v)} aria-label="Fraud sections" sx={{ mb: 2 }} variant="scrollable">
        <Tab label="Cases" id="fraud-tab-0" aria-controls="fraud-panel-0" />
        <Tab label="Rules" id="fraud-tab-1" aria-controls="fraud-panel-1" />
        <Tab label="Lists" id="fraud-tab-2" aria-controls="fraud-panel-2" />
      </Tabs>
      <Paper variant="outlined" sx={{ p: 2 }} role="tabpanel" id={`fraud-panel-${tab}`} aria-labelledby={`fraud-tab-${tab}`}>
        {tab === 0 && <Cases />}
        {tab === 1 && <Rules />}
        {tab === 2 && (
          <Box display="grid" gridTemplateColumns={{ xs: '1fr', md: '1fr 1fr' }} gap={3}>
            <ListPanel kind="whitelist" />
            <ListPanel kind="blacklist" />
          </Box>
        )}
      </Paper>
    </>
  );
}
