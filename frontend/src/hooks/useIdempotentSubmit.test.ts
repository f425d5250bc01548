import { act, renderHook } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { useIdempotentSubmit } from './useIdempotentSubmit';

describe('useIdempotentSubmit', () => {
  it('sends once for two synchronous submits and reuses the key for a retry', async () => {
    let resolve: (v: string) => void = () => {};
    const send = vi.fn((_key: string, _body: string) => new Promise<string>((r) => (resolve = r)));
    const { result } = renderHook(() => useIdempotentSubmit(send));
    let p1: Promise<string | undefined> = Promise.resolve(undefined);
    let p2: Promise<string | undefined> = Promise.resolve(undefined);
    act(() => {
      p1 = result.current.submit('body');
      p2 = result.current.submit('body');
    });
    expect(send).toHaveBeenCalledTimes(1);
    await act(async () => {
      resolve('ok');
      expect(await p1).toBe('ok');
      expect(await p2).toBeUndefined();
    });
    const key = send.mock.calls[0][0];
    // retry of the same submission (no reset): same key
    await act(async () => {
      const p = result.current.submit('body');
      resolve('ok2');
      await p;
    });
    expect(send.mock.calls[1][0]).toBe(key);
    // a new submission: new key
    act(() => result.current.reset());
    await act(async () => {
      const p = result.current.submit('body');
      resolve('ok3');
      await p;
    });
    expect(send.mock.calls[2][0]).not.toBe(key);
  });

  it('releases the lock after a failure so the user can retry', async () => {
    const send = vi.fn().mockRejectedValueOnce(new Error('network')).mockResolvedValueOnce('ok');
    const { result } = renderHook(() => useIdempotentSubmit(send));
    await act(async () => {
      await expect(result.current.submit()).rejects.toThrow('network');
    });
    await act(async () => {
      expect(await result.current.submit()).toBe('ok');
    });
    expect(send.mock.calls[0][0]).toBe(send.mock.calls[1][0]);
  });
});
