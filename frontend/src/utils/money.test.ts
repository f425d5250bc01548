import { describe, expect, it } from 'vitest';
import { addAmounts, compareAmounts, formatMoney, isNegative, minorUnits, normalizeAmount, subtractAmounts, totalsByCurrency, validateAmountInput } from './money';

describe('money utils', () => {
  it('adds without float error', () => {
    expect(addAmounts('0.1', '0.2')).toBe('0.3');
    expect(addAmounts('10.10', '20.20', '0.01')).toBe('30.31');
    expect(subtractAmounts('100.00', '0.01')).toBe('99.99');
  });

  it('keeps precision for large values', () => {
    expect(addAmounts('9007199254740993.01', '0.01')).toBe('9007199254740993.02');
    expect(formatMoney('9007199254740993.01', 'USD')).toBe('$9,007,199,254,740,993.01');
  });

  it('compares as decimals, not strings', () => {
    expect(compareAmounts('10.00', '9.99')).toBe(1);
    expect(compareAmounts('2', '10')).toBe(-1);
    expect(compareAmounts('5.0', '5.00')).toBe(0);
  });

  it('formats per currency minor units', () => {
    expect(formatMoney('1234.5', 'USD')).toBe('$1,234.50');
    expect(formatMoney('1234', 'JPY')).toBe('¥1,234');
    expect(formatMoney('1.2345', 'KWD')).toBe('KWD 1.234');
    expect(formatMoney('-42.1', 'EUR')).toBe('-€42.10');
    expect(formatMoney('42.1', 'EUR', { signed: true })).toBe('+€42.10');
    expect(formatMoney('-0.001', 'USD')).toBe('$0.00');
    expect(minorUnits('jpy')).toBe(0);
  });

  it('validates user input', () => {
    expect(validateAmountInput('', 'USD')).toMatch(/required/);
    expect(validateAmountInput('abc', 'USD')).toMatch(/number/);
    expect(validateAmountInput('0', 'USD')).toMatch(/greater than zero/);
    expect(validateAmountInput('-5', 'USD')).not.toBeNull();
    expect(validateAmountInput('1.234', 'USD')).toMatch(/2 decimal/);
    expect(validateAmountInput('1.5', 'JPY')).toMatch(/0 decimal/);
    expect(validateAmountInput('1,000.50', 'USD')).toBeNull();
    expect(validateAmountInput('25', 'USD')).toBeNull();
  });

  it('normalizes to the canonical string sent to the server', () => {
    expect(normalizeAmount('25', 'USD')).toBe('25.00');
    expect(normalizeAmount('1,000.5', 'USD')).toBe('1000.50');
    expect(normalizeAmount('7', 'JPY')).toBe('7');
  });

  it('totals by currency and detects negatives', () => {
    expect(totalsByCurrency([
      { amount: '0.10', currency: 'USD' },
      { amount: '0.20', currency: 'USD' },
      { amount: '5', currency: 'EUR' },
    ])).toEqual({ USD: '0.30', EUR: '5.00' });
    expect(isNegative('-0.01')).toBe(true);
    expect(isNegative('0.00')).toBe(false);
  });
});
