/**
 * The kit's base error. Every expected failure (bad input, a missing dataset, an impossible architecture, a
 * NaN loss, a corrupt checkpoint) is a `KitError` whose message already says what went wrong and where; the
 * command line prints such errors without a stack trace (set TCK_DEBUG=1 to see it). Anything else is a bug.
 */
export class KitError extends Error {
  constructor(message: string, name = 'KitError') {
    super(message);
    this.name = name;
  }
}

/** True for the kit's expected errors, also across module copies and threads (checked by name as well). */
export function isKitError(e: unknown): e is KitError {
  return e instanceof KitError || (e instanceof Error && (e as { expected?: boolean }).expected === true);
}

/** An error as plain data (for ledgers, worker messages and queues) and back. */
export interface ErrorRecord {
  name: string;
  message: string;
  expected: boolean;
  stack?: string;
}

export function errorRecord(e: unknown): ErrorRecord {
  if (e instanceof Error) return { name: e.name, message: e.message, expected: isKitError(e), stack: e.stack };
  return { name: 'Error', message: String(e), expected: false };
}
