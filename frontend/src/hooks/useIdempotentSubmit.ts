import { useCallback, useRef, useState } from 'react';
import { newIdempotencyKey } from '../utils/idempotency';

/**
 * Guards a money-moving submission: one idempotency key per logical submission (kept across retries of the same
 * submission, renewed by `reset()`), and a synchronous in-flight lock so a double click never sends twice.
 */
export function useIdempotentSubmit<A extends unknown[], R>(send: (key: string, ...args: A) => Promise<R>) {
  const keyRef = useRef<string | null>(null);
  const inFlight = useRef(false);
  const [submitting, setSubmitting] = useState(false);

  const submit = useCallback(
    async (...args: A): Promise<R | undefined> => {
      if (inFlight.current) return undefined;
      inFlight.current = true;
      setSubmitting(true);
      if (!keyRef.current) keyRef.current = newIdempotencyKey();
      try {
        return await send(keyRef.current, ...args);
      } finally {
        inFlight.current = false;
        setSubmitting(false);
      }
    },
    [send],
  );

  /** Starts a new logical submission (new key) — call after success or when the user edits the form. */
  const reset = useCallback(() => {
    keyRef.current = null;
  }, []);

  return { submit, submitting, reset, currentKey: () => keyRef.current };
}
