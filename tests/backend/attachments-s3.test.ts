// The S3 driver against a real S3-compatible server (s3rver, started here; no mocked SDK): the
// driver on its own, then the app with S3_* settings: uploads, reads (ranges too), a recall and
// the deletion of unsent uploads all reach the bucket.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Store } from '../../backend/src/uploads/storage/s3.ts';
import { BlobNotFoundError, type BlobStore } from '../../backend/src/uploads/storage/index.ts';
import { friendPair } from '../helpers/chat.ts';
import { dbTargets } from '../helpers/db.ts';
import { startS3, type TestS3 } from '../helpers/s3.ts';
import { startServer, type TestServer, type TestUser } from '../helpers/server.ts';
import { getBytes, png, upload } from '../helpers/uploads.ts';

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('the S3 blob store against s3rver', () => {
  let s3: TestS3;
  let store: BlobStore;
  beforeAll(async () => {
    s3 = await startS3();
    store = createS3Store({ ...s3.options, prefix: 'chat/' });
  });
  afterAll(async () => {
    await store.close();
    await s3.close();
  });

  it('puts, reads (whole and a range), tells what exists and deletes', async () => {
    const data = Buffer.from('0123456789abcdef');
    await store.put('att/01/one', data, 'application/octet-stream');
    await store.put('att/01/two', Buffer.from('two'), 'text/plain');
    expect(await readAll(await store.get('att/01/one'))).toEqual(data);
    expect((await readAll(await store.get('att/01/one', { start: 3, end: 7 }))).toString()).toBe('34567');
    expect(await store.has('att/01/one')).toBe(true);
    expect(await store.has('att/01/none')).toBe(false);
    await store.delete(['att/01/one', 'att/01/two', 'att/01/never-was']);
    expect(await store.has('att/01/one')).toBe(false);
    expect(await store.has('att/01/two')).toBe(false);
    await expect(store.get('att/01/one')).rejects.toBeInstanceOf(BlobNotFoundError);
  });

  it('keeps the prefix apart from other keys of the bucket', async () => {
    const bare = createS3Store(s3.options);
    await store.put('att/02/k', Buffer.from('prefixed'), 'text/plain');
    expect(await bare.has('att/02/k')).toBe(false);
    expect(await bare.has('chat/att/02/k')).toBe(true);
    await bare.close();
  });

  it('refuses a key the module would never make', async () => {
    await expect(store.put('../escape', Buffer.from('x'), 'text/plain')).rejects.toThrow(/invalid storage key/);
    await expect(store.put('att/../../x', Buffer.from('x'), 'text/plain')).rejects.toThrow(/invalid storage key/);
  });
});

describe.each(dbTargets())('the app with S3 storage on %s', (target) => {
  let s3: TestS3;
  let s: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let bucket: BlobStore;
  beforeAll(async () => {
    s3 = await startS3();
    s = await startServer({ target, config: { s3: s3.options } });
    [alice, bob] = await friendPair(s);
    bucket = createS3Store(s3.options);
  });
  afterAll(async () => {
    await bucket.close();
    await s.close();
    await s3.close();
  });

  it('stores an upload in the bucket and serves it from there; a recall deletes it there', async () => {
    const up = await upload(s.url, alice.token, await png(100, 50), { name: 'cloud.png' });
    expect(up.status).toBe(201);
    const a = up.body.attachment;
    const row = await s.app.db.prisma.attachment.findUniqueOrThrow({ where: { id: a.id } });
    expect(await bucket.has(row.storageKey)).toBe(true);
    expect(await bucket.has(row.thumbKey!)).toBe(true);
    const file = await getBytes(s.url, a.url);
    expect(file.status).toBe(200);
    expect(file.bytes).toEqual(await readAll(await bucket.get(row.storageKey)));
    const part = await getBytes(s.url, a.url, { range: 'bytes=0-7' });
    expect(part.status).toBe(206);
    expect(part.bytes).toEqual(file.bytes.subarray(0, 8));

    const sent = await s.request('POST', `/api/messages/${bob.id}`, { token: alice.token, body: { attachmentId: a.id } });
    expect((await getBytes(s.url, sent.body.message.attachment.url)).status).toBe(200);
    await s.request('DELETE', `/api/messages/${sent.body.message.id}`, { token: alice.token });
    expect(await bucket.has(row.storageKey)).toBe(false);
    expect(await bucket.has(row.thumbKey!)).toBe(false);
  });

  it('deletes unsent uploads from the bucket after 24 h', async () => {
    const up = await upload(s.url, alice.token, Buffer.from('%PDF-1.4 unsent'), { name: 'unsent.pdf' });
    const row = await s.app.db.prisma.attachment.findUniqueOrThrow({ where: { id: up.body.attachment.id } });
    const attachments = s.app.chat.internals.services.attachments;
    expect(await attachments.cleanup()).toBe(0);
    expect(await attachments.cleanup({ now: new Date(Date.now() + 25 * 3600_000) })).toBe(1);
    expect(await bucket.has(row.storageKey)).toBe(false);
    expect(await s.app.db.prisma.attachment.count({ where: { id: row.id } })).toBe(0);
  });
});
