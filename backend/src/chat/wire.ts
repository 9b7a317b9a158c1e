import type { Message } from '../generated/prisma/client.ts';
import type { MessageKind, WireLocation, WireMessage } from '../realtime/events.ts';

/**
 * A stored message as it goes on the wire (DESIGN.md): ISO times, no deletedAt. `attachment` is
 * null here: the attachment service's `present` fills it in with fresh signed urls.
 */
export function toWire(m: Message): WireMessage {
  // The row's type and metadata are not tied together in the database; the services that write
  // a row give each type its metadata shape, so the union's pairing holds by construction.
  return {
    id: m.id,
    fromUserId: m.fromUserId,
    toUserId: m.toUserId,
    groupId: m.groupId,
    messageType: m.messageType,
    content: m.content,
    metadata: (m.metadata ?? {}) as Record<string, unknown>,
    clientId: m.clientId,
    isRead: m.isRead,
    readAt: m.readAt ? m.readAt.toISOString() : null,
    createdAt: m.createdAt.toISOString(),
    kind: (m.kind ?? 'text') as MessageKind,
    attachment: null,
    location: (m.location ?? null) as WireLocation | null,
  } as WireMessage;
}
