// Registration and login. The service owns the rules; routes only validate and translate.
import bcrypt from 'bcryptjs';
import type { PrismaClient } from '../host/generated/prisma/client.ts';
import { AppError, conflict, type PublicUser } from 'friend-chat/server';
import { publicUserSelect } from '../host/users/public.ts';
import type { TokenService } from './tokens.ts';

export interface AuthResult {
  token: string;
  user: PublicUser;
}

// Compared against when the username is unknown, so a login takes as long either way.
const DUMMY_HASH = bcrypt.hashSync('not-a-password', 10);

export function createAuthService(prisma: PrismaClient, tokens: TokenService, bcryptRounds: number) {
  return {
    async register(input: { username: string; password: string; displayName?: string }): Promise<AuthResult> {
      const passwordHash = await bcrypt.hash(input.password, bcryptRounds);
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

    async login(input: { username: string; password: string }): Promise<AuthResult> {
      const user = await prisma.user.findUnique({ where: { username: input.username } });
      const ok = await bcrypt.compare(input.password, user?.passwordHash ?? DUMMY_HASH);
      if (!user || !ok) throw new AppError('UNAUTHORIZED', 'Wrong username or password');
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
