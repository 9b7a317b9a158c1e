// Time-ordered message ids (UUIDv7, RFC 9562) with a per-process monotonic counter. Messages
// of one batch share the database's timestamp, and order breaks ties by id, so ids that
// sort in arrival order keep a burst in the order it was sent.
import { randomFillSync } from 'node:crypto';

let lastMs = 0;
let counter = 0;

// Random bytes drawn in blocks: one call into the system's generator per 256 ids, not per id.
const POOL = Buffer.alloc(16 * 256);
let poolAt = POOL.length;
function random16(): Buffer {
  if (poolAt === POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  const b = Buffer.from(POOL.subarray(poolAt, poolAt + 16));
  poolAt += 16;
  return b;
}

export function uuidv7(now = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    counter = random16().readUInt16BE() & 0x3ff; // start low in the 12-bit space, leave room to count up
  } else if (++counter > 0xfff) {
    lastMs += 1; // more than ~3,000 ids in one millisecond: borrow the next one
    counter = 0;
  }
  const b = random16();
  b.writeUIntBE(lastMs, 0, 6);
  b[6] = 0x70 | (counter >> 8);
  b[7] = counter & 0xff;
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
