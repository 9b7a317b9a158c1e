// The upload settings of the demo's configuration (README, .env.example) and what the signed
// urls make of ATTACHMENT_URL_TTL.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../backend/src/config.ts';
import { createUrlSigner } from '../../backend/src/uploads/signing.ts';

describe('upload settings', () => {
  it('defaults: a directory, 10 MiB, links for 24 h, no S3', () => {
    const c = loadConfig({});
    expect([c.uploadDir, c.uploadMaxBytes, c.attachmentUrlTtlSeconds, c.s3]).toEqual(['./data/uploads', 10 * 1024 * 1024, 86_400, undefined]);
  });

  it('UPLOAD_IMAGE_CONCURRENCY: images re-encoded at once, 1 by default, a whole number from 1', () => {
    expect(loadConfig({}).uploadImageConcurrency).toBe(1);
    expect(loadConfig({ UPLOAD_IMAGE_CONCURRENCY: '3' }).uploadImageConcurrency).toBe(3);
    for (const bad of ['0', '-1', '1.5', 'many', '65']) expect(() => loadConfig({ UPLOAD_IMAGE_CONCURRENCY: bad }), bad).toThrow(/UPLOAD_IMAGE_CONCURRENCY/);
  });

  it('reads ATTACHMENT_URL_TTL as seconds or with a unit, and refuses anything else', () => {
    const ttl = (v: string) => loadConfig({ ATTACHMENT_URL_TTL: v }).attachmentUrlTtlSeconds;
    expect([ttl('90'), ttl('90s'), ttl('15m'), ttl('24h'), ttl('7d')]).toEqual([90, 90, 900, 86_400, 604_800]);
    for (const bad of ['0', '-5', '1w', 'soon', '1.5h']) expect(() => loadConfig({ ATTACHMENT_URL_TTL: bad }), bad).toThrow(/ATTACHMENT_URL_TTL/);
  });

  it('S3_* select S3 storage', () => {
    const c = loadConfig({
      S3_BUCKET: 'chat-uploads',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_REGION: 'eu-west-1',
      S3_ACCESS_KEY_ID: 'id',
      S3_SECRET_ACCESS_KEY: 'secret',
      S3_FORCE_PATH_STYLE: 'true',
    });
    expect(c.s3).toEqual({ bucket: 'chat-uploads', endpoint: 'http://127.0.0.1:9000', region: 'eu-west-1', accessKeyId: 'id', secretAccessKey: 'secret', forcePathStyle: true });
    expect(() => loadConfig({ S3_BUCKET: 'ab' })).toThrow(/S3_BUCKET/);
    expect(() => loadConfig({ UPLOAD_MAX_BYTES: '0' })).toThrow(/UPLOAD_MAX_BYTES/);
  });

  it('signed urls expire after the TTL, rounded up by at most a 24th of it (an hour at most)', () => {
    const now = Date.UTC(2030, 0, 1, 12, 0, 7);
    for (const ttl of [600, 86_400, 7 * 86_400]) {
      const signer = createUrlSigner('k'.repeat(32), { ttlSeconds: ttl, publicPath: '/api' });
      const exp = Number(new URL(signer.url('00000000-0000-4000-8000-000000000001', 'file', now), 'http://x').searchParams.get('exp'));
      expect(exp, String(ttl)).toBeGreaterThanOrEqual(now / 1000 + ttl);
      expect(exp, String(ttl)).toBeLessThanOrEqual(now / 1000 + ttl + Math.min(3600, ttl / 24));
    }
  });
});
