// One Socket.IO room per group, holding every socket of its current members on every node, so a
// group message is one emit to one room (one publish with the Redis adapter), not one per member.
//
// A socket looks up its user's groups during its handshake and joins their rooms as it connects,
// before the client is told it is connected (so nothing the client syncs after `connect` can
// slip past it). A membership
// change is applied to every socket of the users concerned on every node: here directly, on the
// other nodes through the adapter (`groups:membership`, published in order with the pushes that
// follow it). A change that arrives while a handshake is still looking up its groups wins over
// that lookup, whichever committed first.
import type { Database } from '../db/database.ts';
import { createLoader } from '../db/loader.ts';
import type { ChatNamespace, ChatSocket } from '../realtime/socketServer.ts';

/** The room of a group's members. Longer than any user id (at most 64), so never a user's room. */
export const groupRoom = (groupId: string) => `friend-chat:group-room:${groupId}:all-members`;

export interface MembershipChange {
  groupId: string;
  userIds: string[];
  member: boolean;
}

/** A handshake's lookup of its user's groups, and the changes that arrived while it ran. */
interface Lookup {
  userId: string;
  overrides: Map<string, boolean>;
  /** The groups the lookup found (once it answered). */
  groups: string[] | null;
  done(): void;
}

export function createGroupRooms(db: Database, onError: (err: unknown) => void = () => {}) {
  // The handshakes of a burst look their users' groups up in one query (createLoader).
  const MY_GROUPS = `SELECT "userId", "groupId"::text AS "groupId" FROM ${db.table('GroupMember')} WHERE "userId" = ANY($1::text[]) AND "leftAt" IS NULL`;
  const groupsOf = createLoader<string, string[]>(
    async (userIds) => {
      const out = new Map<string, string[]>();
      for (const r of await db.prepared<{ userId: string; groupId: string }>(MY_GROUPS, [userIds])) {
        let list = out.get(r.userId);
        if (!list) out.set(r.userId, (list = []));
        list.push(r.groupId);
      }
      return out;
    },
    { missing: [] },
  );
  let nsp: ChatNamespace | null = null;
  let multiNode = false;
  /** Handshakes in flight, by user: until their socket is in its user's room, changes are noted here. */
  const lookups = new Map<string, Set<Lookup>>();
  const bySocket = new WeakMap<ChatSocket, Lookup>();

  function applyHere(change: MembershipChange): void {
    if (!nsp) return;
    const room = groupRoom(change.groupId);
    for (const userId of change.userIds) {
      for (const l of lookups.get(userId) ?? []) l.overrides.set(change.groupId, change.member);
      for (const socketId of nsp.adapter.rooms.get(userId) ?? []) {
        const socket = nsp.sockets.get(socketId);
        if (!socket) continue;
        if (change.member) void socket.join(room);
        else void socket.leave(room);
      }
    }
  }

  return {
    attach(namespace: ChatNamespace, opts: { multiNode: boolean }): void {
      nsp = namespace;
      multiNode = opts.multiNode;
      namespace.on('groups:membership', (change: MembershipChange) => {
        try {
          applyHere(change);
        } catch (err) {
          onError(err);
        }
      });
      // After the module's own middlewares (auth has set socket.data.userId).
      namespace.use((socket, next) => {
        const userId = socket.data.userId;
        let mine = lookups.get(userId);
        if (!mine) lookups.set(userId, (mine = new Set()));
        const set = mine;
        const lookup: Lookup = {
          userId,
          overrides: new Map(),
          groups: null,
          done() {
            set.delete(lookup);
            if (set.size === 0 && lookups.get(userId) === set) lookups.delete(userId);
            socket.conn.off('close', lookup.done);
          },
        };
        set.add(lookup);
        // A connection that closes before it is fully connected never reaches joinFound.
        socket.conn.once('close', lookup.done);
        bySocket.set(socket, lookup);
        groupsOf(userId).then(
          (groups) => {
            lookup.groups = groups;
            next();
          },
          // The database is away: the socket connects all the same (direct chat and presence do
          // not need it) and looks its groups up again once connected.
          (err: unknown) => {
            onError(err);
            next();
          },
        );
      });
    },

    /**
     * In the connection handler, right after the socket joined its user's room (from then on
     * changes reach it directly): it joins the rooms its handshake found, as changed since.
     */
    joinFound(socket: ChatSocket): void {
      const lookup = bySocket.get(socket);
      if (!lookup) return;
      bySocket.delete(socket);
      const join = (found: string[]) => {
        lookup.done();
        const groups = new Set(found);
        for (const [groupId, member] of lookup.overrides) {
          if (member) groups.add(groupId);
          else groups.delete(groupId);
        }
        if (groups.size > 0 && socket.connected) void socket.join([...groups].map(groupRoom));
      };
      if (lookup.groups) return join(lookup.groups);
      // The handshake's lookup failed: once more, now that changes reach the socket directly
      // (the lookup stays registered meanwhile, so a change during it still wins).
      groupsOf(lookup.userId).then(
        (groups) => join(groups),
        (err: unknown) => {
          lookup.done();
          onError(err);
        },
      );
    },

    /** Every socket of these users, on every node, joins (member) or leaves the group's room. */
    changed(change: MembershipChange): void {
      if (change.userIds.length === 0) return;
      applyHere(change);
      if (nsp && multiNode) {
        try {
          nsp.serverSideEmit('groups:membership', change);
        } catch (err) {
          onError(err);
        }
      }
    },
  };
}
export type GroupRooms = ReturnType<typeof createGroupRooms>;
