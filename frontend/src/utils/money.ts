import Decimal from 'decimal.js';

/** ISO 4217 minor units for currencies that are not 2. */
const MINOR_UNITS: Record<string, number> = {
  JPY: 0, KRW: 0, VND: 0, CLP: 0, ISK: 0, HUF: 2, BHD: 3, KWD: 3, OMR: 3, JOD: 3, TND: 3, LYD: 3, IQD: 3,
};

export function minorUnits(currency: string): number {
  return MINOR_UNITS[currency.toUpperCase()] ?? 2;
}

const AMOUNT_RE = /^-?\d+(\.\d+)?$/;

/** True for a plain decimal string ("12", "12.5", "-3.10"). */
export function isDecimalString(value: string): boolean {
  return AMOUNT_RE.test(value.trim());
}

export function toDecimal(value: string | number | Decimal): Decimal {
  if (value instanceof Decimal) return value;
  if (typeof value === 'number') return new Decimal(String(value));
  const v = value.trim();
  if (!isDecimalString(v)) throw new Error(`not a decimal amount: "${value}"`);
  return new Decimal(v);
}

/**
 * Validates user input for an amount in the given currency: positive, at most the currency's minor units.
 * Returns an error message, or null when valid.
 */
export function validateAmountInput(input: string, currency: string): string | null {
  const v = input.trim().replace(/,/g, '');
  if (v === '') return 'Amount is required';
  if (!/^\d+(\.\d+)?$/.test(v)) return 'Enter a number like 100.00';
  const d = new Decimal(v);
  if (d.lte(0)) return 'Amount must be greater than zero';
  if (d.decimalPlaces() > minorUnits(currency)) {
    return `At most ${minorUnits(currency)} decimal places for ${currency}`;
  }
  if (d.gt('999999999999.99')) return 'Amount is too large';
  return null;
}

/** Normalises user input to the canonical decimal string sent to the server ("1,000.5" → "1000.50"). */
export function normalizeAmount(input: string, currency: string): string {
  const v = input.trim().replace(/,/g, '');
  return toDecimal(v).toFixed(minorUnits(currency), Decimal.ROUND_HALF_EVEN);
}

export function addAmounts(...values: string[]): string {
  return values.reduce((acc, v) => acc.plus(toDecimal(v)), new Decimal(0)).toString();
}

export function subtractAmounts(a: string, b: string): string {
  return toDecimal(a).minus(toDecimal(b)).toString();
}

/** -1, 0 or 1 */
export function compareAmounts(a: string, b: string): number {
  return toDecimal(a).comparedTo(toDecimal(b));
}

export function isNegative(a: string): boolean {
  return toDecimal(a).isNegative() && !toDecimal(a).isZero();
}

/**
 * Formats an amount string for display, using the currency's minor units. Grouping and sign are built from the
 * decimal string itself, so no precision is lost for large values.
 */
export function formatMoney(amount: string, currency = 'USD', opts: { signed?: boolean } = {}): string {
  let d: Decimal;
  try {
    d = toDecimal(amount);
  } catch {
    return `${amount} ${currency}`;
  }
  const digits = minorUnits(currency);
  const fixed = d.abs().toFixed(digits, Decimal.ROUND_HALF_EVEN);
  const [intPart, frac] = fixed.split('.');
  const grouped = intPart.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const symbol = currencySymbol(currency);
  const body = `${symbol}${grouped}${frac ? `.${frac}` : ''}`;
  const neg = d.isNegative() && !new Decimal(fixed).isZero();
  if (neg) return `-${body}`;
  if (opts.signed && d.gt(0)) return `+${body}`;
  return body;
}

const SYMBOLS: Record<string, string> = { USD: '$', EUR: '€', GBP: '£', JPY: '¥', CAD: 'CA$', AUD: 'A$', CHF: 'CHF ', INR: '₹' };

export function currencySymbol(currency: string): string {
  return SYMBOLS[currency.toUpperCase()] ?? `${currency.toUpperCase()} `;
}

/** For charts only: converts to a JS number for plotting. Never use the result for arithmetic on money. */
export function toChartNumber(amount: string): number {
  return toDecimal(amount).toNumber();
}

/** Sums amounts grouped by currency. */
export function totalsByCurrency(rows: { amount: string; currency: string }[]): Record<string, string> {
  const out: Record<string, Decimal> = {};
  for (const r of rows) {
    out[r.currency] = (out[r.currency] ?? new Decimal(0)).plus(toDecimal(r.amount));
  }
  return Object.fromEntries(Object.entries(out).map(([c, d]) => [c, d.toFixed(minorUnits(c))]));
}
