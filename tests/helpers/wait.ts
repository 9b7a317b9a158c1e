// Small helpers for event-driven tests.
import type { ClientSocket } from './server.ts';

// Payloads default to `any` so a test can read fields without restating every event type.
/* eslint-disable @typescript-eslint/no-explicit-any */

/** Resolves with the next payload of `event`, or rejects after `ms`. */
export function waitFor<T = any>(socket: ClientSocket, event: string, ms = 5000, filter: (p: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve, reject) => {
    const s = socket as unknown as { on(e: string, f: (p: T) => void): void; off(e: string, f: (p: T) => void): void };
    const timer = setTimeout(() => {
      s.off(event, listener);
      reject(new Error(`timed out waiting for ${event}`));
    }, ms);
    const listener = (p: T) => {
      if (!filter(p)) return;
      clearTimeout(timer);
      s.off(event, listener);
      resolve(p);
    };
    s.on(event, listener);
  });
}

/** Collects every payload of `event` from now on. */
export function collect<T = any>(socket: ClientSocket, event: string): T[] {
  const seen: T[] = [];
  (socket as unknown as { on(e: string, f: (p: T) => void): void }).on(event, (p: T) => seen.push(p));
  return seen;
}

/** Emits with an ack and resolves with the ack's answer. */
export function emitAck<T = any>(socket: ClientSocket, event: string, payload: unknown, ms = 5000): Promise<T> {
  return (socket as unknown as { timeout(ms: number): { emitWithAck(e: string, p: unknown): Promise<T> } }).timeout(ms).emitWithAck(event, payload);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
