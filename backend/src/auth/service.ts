// Registration and login. The service owns the rules; routes only validate and translate.
import { Prisma, type PrismaClient } from '../host/generated/prisma/client.ts';
import { AppError, conflict, type PublicUser } from 'friend-chat/server';
import { publicUserSelect } from '../host/users/public.ts';
import type { AuthLimits } from './limits.ts';
import { busy, type PasswordHasher } from './passwords.ts';
import type { TokenService } from './tokens.ts';

export interface AuthResult {
  token: string;
  user: PublicUser;
}

/** Who is asking: the client address (`req.ip`), for the attempt budgets. */
export interface Client {
  address: string;
}

/**
 * The one form of a username that lookups, uniqueness and attempt budgets use: usernames are
 * unique whatever their case (a unique index on lower("username")), and shown as registered.
 */
export function normaliseUsername(name: string): string {
  return name.trim().toLowerCase();
}

export interface AuthDeps {
  prisma: PrismaClient;
  tokens: TokenService;
  passwords: PasswordHasher;
  limits: AuthLimits;
}

type UserRow = PublicUser & { passwordHash: string };

export function createAuthService({ prisma, tokens, passwords, limits }: AuthDeps) {
  // Checked against when the username is unknown, so a login takes as long either way. Made by
  // the pool, with the configured cost, on the first unknown name.
  let dummy: Promise<string> | null = null;
  const dummyHash = () =>
    (dummy ??= passwords.hash('not-a-password').catch((err: unknown) => {
      dummy = null;
      throw err;
    }));

  // lower("username") = key is what the unique index on lower("username") answers.
  const findByName = async (key: string): Promise<UserRow | null> =>
    (
      await prisma.$queryRaw<UserRow[]>(
        Prisma.sql`SELECT id::text AS id, username, "displayName", "avatarUrl", "passwordHash" FROM "User" WHERE lower(username) = ${key} LIMIT 1`,
      )
    )[0] ?? null;

  // A sign-in, and a sign-up of a free name, ends in a password job. While the pool could not
  // take one, the attempt is refused before anything else (no budget spent, no database query),
  // so a flood of them costs next to nothing beyond what the pool is already doing.
  const refuseWhenBusy = () => {
    if (passwords.full()) throw busy();
  };

  return {
    async register(input: { username: string; password: string; displayName?: string }, client: Client): Promise<AuthResult> {
      refuseWhenBusy();
      await limits.register(client.address);
      // Asked before hashing so a taken name costs no hash; the index still decides a race.
      if (await findByName(normaliseUsername(input.username))) throw conflict('Username is taken');
      const passwordHash = await passwords.hash(input.password);
      try {
        const user = await prisma.user.create({
          data: { username: input.username, passwordHash, displayName: input.displayName ?? input.username },
          select: publicUserSelect,
        });
        return { token: tokens.sign(user.id), user };
      } catch (err) {
        if ((err as { code?: string }).code === 'P2002') throw conflict('Username is taken');
        throw err;
      }
    },

    async login(input: { username: string; password: string }, client: Client): Promise<AuthResult> {
      refuseWhenBusy();
      const key = normaliseUsername(input.username);
      const attempt = await limits.login(client.address, key);
      let user: UserRow | null;
      let ok: boolean;
      try {
        user = await findByName(key);
        ok = await passwords.verify(input.password, user?.passwordHash ?? (await dummyHash()));
      } catch (err) {
        await attempt.notJudged();
        throw err;
      }
      if (!user || !ok) throw new AppError('UNAUTHORIZED', 'Wrong username or password');
      await attempt.succeeded();
      const { id, username, displayName, avatarUrl } = user;
      return { token: tokens.sign(id), user: { id, username, displayName, avatarUrl } };
    },

    async me(userId: string): Promise<PublicUser> {
      const user = await prisma.user.findUnique({ where: { id: userId }, select: publicUserSelect });
      // A valid token for a user that no longer exists is no longer a valid session.
      if (!user) throw new AppError('UNAUTHORIZED', 'User no longer exists');
      return user;
    },
  };
}
export type AuthService = ReturnType<typeof createAuthService>;
