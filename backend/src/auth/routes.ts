import { Router } from 'express';
import { z } from 'zod';
import { parse } from 'friend-chat/server';
import type { RequestHandler } from 'express';
import type { AuthService } from './service.ts';
import { currentUser } from './middleware.ts';

const Username = z
  .string()
  .trim()
  .min(3)
  .max(32)
  .regex(/^[a-zA-Z0-9_.-]+$/, 'letters, digits, _ . - only');
// 8–200 characters (zod counts code points: an emoji is one), not only whitespace. Every
// character counts: new hashes are of a digest of the whole password (passwords.ts).
const NewPassword = z
  .string()
  .min(8)
  .max(200)
  .refine((p) => /\S/.test(p), 'must not be only whitespace');
const Registration = z.strictObject({ username: Username, password: NewPassword, displayName: z.string().trim().min(1).max(64).optional() });
// Lenient on purpose: any well-formed attempt is answered 401 alike, and passwords set under
// older rules still sign in.
const Login = z.strictObject({ username: z.string().trim().min(1).max(64), password: z.string().min(1).max(200) });

export function authRoutes(auth: AuthService, requireAuth: RequestHandler): Router {
  const r = Router();
  // Bodies are validated before any attempt is counted: malformed requests spend no budget.
  r.post('/auth/register', async (req, res) => {
    res.status(201).json(await auth.register(parse(Registration, req.body), { address: req.ip ?? '' }));
  });
  r.post('/auth/login', async (req, res) => {
    res.json(await auth.login(parse(Login, req.body), { address: req.ip ?? '' }));
  });
  r.get('/me', requireAuth, async (req, res) => {
    res.json({ user: await auth.me(currentUser(req)) });
  });
  return r;
}
