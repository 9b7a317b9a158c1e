// Demo data for trying the app: users alice, bob and carol (password `password123`) plus two
// more so that four conversations can be opened, friendships, works and a few messages.
import type { FriendChat } from 'friend-chat/server';
import type { PrismaClient } from '../host/generated/prisma/client.ts';

export const DEMO_PASSWORD = 'password123';
export const DEMO_USERS = [
  { username: 'alice', displayName: 'Alice Chen' },
  { username: 'bob', displayName: 'Bob Li' },
  { username: 'carol', displayName: 'Carol Wang' },
  { username: 'dave', displayName: 'Dave Zhang' },
  { username: 'erin', displayName: 'Erin Liu' },
] as const;
const FRIENDS: [string, string][] = [
  ['alice', 'bob'],
  ['alice', 'carol'],
  ['alice', 'dave'],
  ['alice', 'erin'],
  ['bob', 'carol'],
];
const WORKS: [string, string, number][] = [
  ['bob', 'Ink landscape, no. 3', 120],
  ['carol', 'Lo-fi beat pack', 45],
  ['carol', 'Pixel cat sticker set', 8],
  ['dave', 'Street photography zine', 30],
];

/**
 * Start-up work that every node does and that must happen once per database (catalogues, demo
 * seed) runs under this session-level advisory lock (`HostDatabase.withAdvisoryLock`): nodes
 * started together on an empty database take turns, and the later ones find the work done.
 */
export const STARTUP_LOCK_KEY = 72707370;

/**
 * Returns true when it created the demo data. Idempotent: it creates nothing when alice exists
 * (or, with `onlyIfEmpty`, when anyone does), and one transaction creates the users, follows and
 * works or nothing, so a demo name taken meanwhile leaves no half-made demo behind (false, not an
 * error). The demo conversation is then written through the chat module.
 */
export async function seedDemo(
  prisma: PrismaClient,
  chat: FriendChat,
  opts: { onlyIfEmpty: boolean; hashPassword: (password: string) => Promise<string> },
): Promise<boolean> {
  if (opts.onlyIfEmpty && (await prisma.user.count()) > 0) return false;
  if (await prisma.user.findUnique({ where: { username: 'alice' } })) return false;
  const passwordHash = await opts.hashPassword(DEMO_PASSWORD);
  const ids = new Map<string, string>();
  try {
    await createDemo(prisma, passwordHash, ids);
  } catch (err) {
    if ((err as { code?: string }).code === 'P2002') return false;
    throw err;
  }
  // A conversation to open, sent through the chat module as the users would (the first two
  // messages read). Friendship is the host's: the follows are committed by now.
  const id = (name: string) => ids.get(name)!;
  const chat3: [string, string, string][] = [
    ['bob', 'alice', 'Hi Alice! Did you see my new ink painting?'],
    ['alice', 'bob', 'Not yet, sending it my way?'],
    ['bob', 'alice', 'It is on the home page, “Ink landscape, no. 3” 🙂'],
  ];
  for (const [i, [from, to, content]] of chat3.entries()) {
    await chat.send({ from: id(from), to: id(to), content, clientId: `seed-${i}` });
    if (i < 2) await chat.markRead({ by: id(to), peerId: id(from) });
  }
  return true;
}

async function createDemo(prisma: PrismaClient, passwordHash: string, ids: Map<string, string>): Promise<void> {
  await prisma.$transaction(async (tx) => {
    for (const u of DEMO_USERS) {
      const row = await tx.user.create({ data: { ...u, passwordHash } });
      ids.set(u.username, row.id);
    }
    const id = (name: string) => ids.get(name)!;
    await tx.follow.createMany({
      data: FRIENDS.flatMap(([a, b]) => [
        { followerId: id(a), followeeId: id(b) },
        { followerId: id(b), followeeId: id(a) },
      ]),
    });
    await tx.work.createMany({ data: WORKS.map(([owner, title, price]) => ({ ownerId: id(owner), title, price })) });
  });
}
