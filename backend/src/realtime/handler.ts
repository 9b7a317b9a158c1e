// Wraps a socket event handler: validates the payload, turns any thrown error into an ack
// error, and never lets one bad event throw inside Socket.IO (which would hurt other users).
// The listener is one function for every socket: Socket.IO calls it with the socket as `this`
// (Node's EventEmitter does), and it hands the socket to `fn`. So a connection holds no
// closures of its own for its events (bench/README.md, memory per idle connection).
import type { Socket } from 'socket.io';
import type { z } from 'zod';
import { toAppError } from '../http/errors.ts';
import { parse } from '../http/validate.ts';
import type { ErrorBody } from './events.ts';

type AnyAck = (res: { ok: true } | { ok: false; error: ErrorBody }) => void;

export function handler<S extends z.ZodType, R extends object, T extends Socket = Socket>(
  schema: S,
  fn: (input: z.infer<S>, socket: T) => Promise<R>,
  onError: (err: unknown) => void = () => {},
) {
  return async function (this: T, ...args: unknown[]): Promise<void> {
    // `emit(event, ack)` with no payload: the callback arrives first. Answer it rather than
    // leave the client waiting for an ack that never comes.
    const [payload, ack] = typeof args[0] === 'function' ? [undefined, args[0]] : args;
    const reply: AnyAck = typeof ack === 'function' ? (ack as AnyAck) : () => {};
    try {
      // No payload (undefined, or null as JSON carries it) is an empty object.
      const result = await fn(parse(schema, payload ?? {}), this);
      reply({ ok: true, ...result });
    } catch (err) {
      const e = toAppError(err);
      if (e.code === 'INTERNAL') onError(err);
      reply({ ok: false, error: { code: e.code, message: e.message } });
    }
  };
}
