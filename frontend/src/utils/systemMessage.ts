// What a system message says, by type (DESIGN.md "System message metadata"): an i18n key, its
// plain-text parameters, and the user/work it links to. Metadata is read defensively: an
// unexpected shape falls back to the server's own text.
import type { PublicUser, SystemMetadata, WireMessage } from '@shared/events';

export interface SystemDescription {
  keypath: string;
  named: Record<string, string | number>;
  user?: PublicUser;
  work?: { id: string; title: string };
}

export function describeSystem(m: WireMessage): SystemDescription {
  const meta = m.metadata as Partial<SystemMetadata[keyof SystemMetadata]> & Record<string, unknown>;
  const fallback: SystemDescription = { keypath: 'system.fallback', named: { text: m.content } };
  switch (m.messageType) {
    case 'SYSTEM_FOLLOW': {
      const user = (meta as Partial<SystemMetadata['SYSTEM_FOLLOW']>).follower;
      return user ? { keypath: 'system.follow', named: { user: user.displayName }, user } : fallback;
    }
    case 'SYSTEM_FRIEND': {
      const user = (meta as Partial<SystemMetadata['SYSTEM_FRIEND']>).friend;
      return user ? { keypath: 'system.friend', named: { user: user.displayName }, user } : fallback;
    }
    case 'SYSTEM_PURCHASE': {
      const { buyer, work, price } = meta as Partial<SystemMetadata['SYSTEM_PURCHASE']>;
      return buyer && work
        ? { keypath: 'system.purchase', named: { user: buyer.displayName, work: work.title, price: price ?? 0 }, user: buyer, work }
        : fallback;
    }
    case 'SYSTEM_TASK': {
      const { task, reward } = meta as Partial<SystemMetadata['SYSTEM_TASK']>;
      return task ? { keypath: 'system.task', named: { task: task.title, reward: reward ?? 0 } } : fallback;
    }
    case 'SYSTEM_ACHIEVEMENT': {
      const { achievement } = meta as Partial<SystemMetadata['SYSTEM_ACHIEVEMENT']>;
      return achievement ? { keypath: 'system.achievement', named: { achievement: achievement.title } } : fallback;
    }
    default:
      return fallback;
  }
}
