import { describe, expect, it } from 'vitest';
import { isoDate } from '../utils/format';
import { startInstant } from './ScheduledPage';

describe('startInstant', () => {
  it('starts today\'s schedule now (the server refuses a start in the past)', () => {
    const now = new Date();
    expect(startInstant(isoDate(now), now)).toBe(now.toISOString());
  });

  it('starts a later date at 09:00 local time', () => {
    const now = new Date(2030, 0, 1, 12, 0, 0);
    expect(startInstant('2030-01-05', now)).toBe(new Date(2030, 0, 5, 9, 0, 0).toISOString());
  });
});
