import type { Message } from '../generated/prisma/client.ts';
import type { MessageKind, WireLocation, WireMessage } from '../realtime/events.ts';

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

/**
 * A stored message as it goes on the wire (DESIGN.md): ISO times. `attachment`, `replyTo` and
 * `reactions` are empty here: the attachment service's `present` fills in the attachment with
 * fresh signed urls, and lifecycle.ts's `present` the rest (and `deliveredAt`, the message's
 * "Delivery" row, when the row was read without it). A recalled message carries no content.
 */
export function toWire(m: Message & { deliveredAt?: Date | null }): WireMessage {
  // The row's type and metadata are not tied together in the database; the services that write
  // a row give each type its metadata shape, so the union's pairing holds by construction.
  return {
    id: m.id,
    fromUserId: m.fromUserId,
    toUserId: m.toUserId,
    groupId: m.groupId,
    messageType: m.messageType,
    content: m.deletedAt ? '' : m.content,
    metadata: (m.metadata ?? {}) as Record<string, unknown>,
    clientId: m.clientId,
    isRead: m.isRead,
    readAt: iso(m.readAt),
    createdAt: m.createdAt.toISOString(),
    kind: (m.kind ?? 'text') as MessageKind,
    attachment: null,
    location: m.deletedAt ? null : ((m.location ?? null) as WireLocation | null),
    deliveredAt: iso(m.deliveredAt),
    editedAt: iso(m.editedAt),
    deletedAt: iso(m.deletedAt),
    replyTo: null,
    reactions: [],
  } as WireMessage;
}
