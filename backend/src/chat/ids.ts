// Time-ordered message ids (UUIDv7, RFC 9562) with a per-process monotonic counter. Messages
// of one batch share the database's timestamp, and order breaks ties by id, so ids that
// sort in arrival order keep a burst in the order it was sent.
import { randomBytes } from 'node:crypto';

let lastMs = 0;
let counter = 0;

export function uuidv7(now = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    counter = randomBytes(2).readUInt16BE() & 0x3ff; // start low in the 12-bit space, leave room to count up
  } else if (++counter > 0xfff) {
    lastMs += 1; // more than ~3,000 ids in one millisecond: borrow the next one
    counter = 0;
  }
  const b = randomBytes(16);
  b.writeUIntBE(lastMs, 0, 6);
  b[6] = 0x70 | (counter >> 8);
  b[7] = counter & 0xff;
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
