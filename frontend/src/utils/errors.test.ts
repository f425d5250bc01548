import { AxiosError, AxiosHeaders, type InternalAxiosRequestConfig } from 'axios';
import { describe, expect, it } from 'vitest';
import { ApiError, errorMessage, toApiError } from './errors';

const config = { headers: new AxiosHeaders() } as InternalAxiosRequestConfig;

describe('errors', () => {
  it('turns a problem+json response into an ApiError with its stable code', () => {
    const ax = new AxiosError('x', 'ERR_BAD_REQUEST', config, null, {
      status: 422,
      statusText: '',
      headers: {},
      config,
      data: { type: 'about:blank', title: 'Insufficient funds', status: 422, detail: 'available 5.00 < 10.00', code: 'insufficient_funds' },
    });
    const e = toApiError(ax) as ApiError;
    expect(e).toBeInstanceOf(ApiError);
    expect(e.code).toBe('insufficient_funds');
    expect(e.status).toBe(422);
    expect(errorMessage(e)).toMatch(/Insufficient funds/);
  });

  it('maps account_frozen to a clear refusal', () => {
    expect(errorMessage(new ApiError({ code: 'account_frozen', detail: 'frozen' }, 409))).toMatch(/frozen/i);
  });

  it('reports network errors', () => {
    const e = toApiError(new AxiosError('Network Error', 'ERR_NETWORK', config)) as ApiError;
    expect(e.code).toBe('network_error');
    expect(errorMessage(e)).toMatch(/Cannot reach the server/);
  });

  it('falls back to the server detail for unknown codes', () => {
    expect(errorMessage(new ApiError({ code: 'weird_thing', detail: 'Server says no' }, 400))).toBe('Server says no');
  });
});
