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
const Credentials = z.strictObject({ username: Username, password: z.string().min(8).max(200) });
const Registration = Credentials.extend({ displayName: z.string().trim().min(1).max(64).optional() });
const Login = z.strictObject({ username: z.string().trim().min(1).max(64), password: z.string().min(1).max(200) });

export function authRoutes(auth: AuthService, loginLimiter: RequestHandler, requireAuth: RequestHandler): Router {
  const r = Router();
  r.post('/auth/register', loginLimiter, async (req, res) => {
    res.status(201).json(await auth.register(parse(Registration, req.body)));
  });
  r.post('/auth/login', loginLimiter, async (req, res) => {
    res.json(await auth.login(parse(Login, req.body)));
  });
  r.get('/me', requireAuth, async (req, res) => {
    res.json({ user: await auth.me(currentUser(req)) });
  });
  return r;
}
