// What a system message says, by type (DESIGN.md "System message metadata"): an i18n key, its
// plain-text parameters, and the user/work it links to. Metadata is read defensively: an
// unexpected shape (or a type the host defined) falls back to the server's own text.
import type { NotificationWireMessage, PublicUser } from '../wire';
import { isBuiltInSystem } from './messageKinds';

export interface SystemDescription {
  keypath: string;
  named: Record<string, string | number>;
  user?: PublicUser;
  work?: { id: string; title: string };
}

export function describeSystem(message: NotificationWireMessage): SystemDescription {
  const fallback: SystemDescription = { keypath: 'system.fallback', named: { text: message.content } };
  if (!isBuiltInSystem(message)) return fallback;
  // Stored rows are typed by construction, but an old or foreign row may lack a field.
  const m = message;
  switch (m.messageType) {
    case 'SYSTEM_FOLLOW': {
      const user = m.metadata?.follower;
      return user ? { keypath: 'system.follow', named: { user: user.displayName }, user } : fallback;
    }
    case 'SYSTEM_FRIEND': {
      const user = m.metadata?.friend;
      return user ? { keypath: 'system.friend', named: { user: user.displayName }, user } : fallback;
    }
    case 'SYSTEM_PURCHASE': {
      const { buyer, work, price } = m.metadata ?? {};
      return buyer && work
        ? { keypath: 'system.purchase', named: { user: buyer.displayName, work: work.title, price: price ?? 0 }, user: buyer, work }
        : fallback;
    }
    case 'SYSTEM_TASK': {
      const { task, reward } = m.metadata ?? {};
      return task ? { keypath: 'system.task', named: { task: task.title, reward: reward ?? 0 } } : fallback;
    }
    case 'SYSTEM_ACHIEVEMENT': {
      const achievement = m.metadata?.achievement;
      return achievement ? { keypath: 'system.achievement', named: { achievement: achievement.title } } : fallback;
    }
  }
}
