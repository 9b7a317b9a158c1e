import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets } from '../helpers/db.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

describe.each(dbTargets())('auth on %s', (target) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ target });
  });
  afterAll(async () => s.close());

  it('registers, logs in and answers /api/me with public fields only', async () => {
    const reg = await s.request('POST', '/api/auth/register', { body: { username: 'mei', password: 'password123', displayName: 'Mei' } });
    expect(reg.status).toBe(201);
    expect(reg.body.user).toEqual({ id: expect.any(String), username: 'mei', displayName: 'Mei', avatarUrl: null });
    const login = await s.request('POST', '/api/auth/login', { body: { username: 'mei', password: 'password123' } });
    expect(login.status).toBe(200);
    const me = await s.request('GET', '/api/me', { token: login.body.token });
    expect(me).toEqual({ status: 200, body: { user: reg.body.user } });
    expect(JSON.stringify(me.body)).not.toContain('password');
  });

  it('rejects a duplicate username with 409 CONFLICT', async () => {
    await s.register('dup_user');
    const r = await s.request('POST', '/api/auth/register', { body: { username: 'dup_user', password: 'password123' } });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('CONFLICT');
  });

  it('rejects a wrong password and an unknown user alike', async () => {
    await s.register('pw_user');
    const wrong = await s.request('POST', '/api/auth/login', { body: { username: 'pw_user', password: 'nope-nope-nope' } });
    const unknown = await s.request('POST', '/api/auth/login', { body: { username: 'nobody_here', password: 'password123' } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.error).toEqual(unknown.body.error);
  });

  it.each([
    ['malformed JSON', { raw: '{"username": "x",' }],
    ['missing password', { body: { username: 'someone' } }],
    ['extra field', { body: { username: 'someone', password: 'password123', admin: true } }],
    ['wrong types', { body: { username: 42, password: ['x'] } }],
    ['short password', { body: { username: 'someone', password: 'short' } }],
    ['bad username characters', { body: { username: 'a b<c>', password: 'password123' } }],
  ])('answers 400 VALIDATION for %s', async (_name, opts) => {
    const r = await s.request('POST', '/api/auth/register', opts);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION');
    expect(typeof r.body.error.message).toBe('string');
  });

  it.each([
    ['no token', undefined],
    ['garbage', 'not-a-jwt'],
    ['another key', jwt.sign({}, 'some-other-secret-0123456789', { subject: '00000000-0000-0000-0000-000000000000' })],
    ['alg none', jwt.sign({ sub: '00000000-0000-0000-0000-000000000000' }, '', { algorithm: 'none' })],
    ['expired', jwt.sign({}, 'test-secret-test-secret-0123456789', { subject: 'x', expiresIn: -10 })],
  ])('answers 401 UNAUTHORIZED for %s', async (_name, token) => {
    const r = await s.request('GET', '/api/me', { token });
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('UNAUTHORIZED');
  });

  it('refuses a socket with a bad token with connect_error "unauthorized"', async () => {
    const err = await s.connect('bad-token').catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe('unauthorized');
  });

  it('limits repeated login attempts for one account', async () => {
    const limited = await startServer({ target, config: { loginRateLimit: 3 } });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) {
        codes.push((await limited.request('POST', '/api/auth/login', { body: { username: 'victim', password: 'guess-' + i } })).status);
      }
      expect(codes).toEqual([401, 401, 401, 429, 429]);
    } finally {
      await limited.close();
    }
    // It starts a second app (migrations included): slow on a loaded machine.
  }, 90_000);

  it('answers 404 NOT_FOUND in JSON for an unknown API path and keeps serving', async () => {
    const user = await s.register();
    const r = await s.request('GET', '/api/nope', { token: user.token });
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('NOT_FOUND');
    expect((await s.request('GET', '/api/health')).body).toEqual({ ok: true, db: true, redis: null });
  });
});
