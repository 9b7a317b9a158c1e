// A group's timeline event as a sentence: "Alice added Bob and Carol", "你退出了群聊".
import type { Translate } from '../i18n';
import type { GroupEventWireMessage, PublicUser } from '../wire';

const lists = new Map<string, Intl.ListFormat>();
function joinNames(names: string[], locale: string): string {
  let f = lists.get(locale);
  if (!f) lists.set(locale, (f = new Intl.ListFormat(locale, { style: 'long', type: 'conjunction' })));
  return f.format(names);
}

export function describeGroupEvent(m: GroupEventWireMessage, me: string, t: Translate, locale: string): string {
  const { event, actor, users = [], name = '' } = m.metadata ?? {};
  const nameOf = (u: PublicUser | undefined, subject: boolean) =>
    !u ? t('group.event.someone') : u.id === me ? t(subject ? 'group.event.you' : 'group.event.youObject') : u.displayName || u.username;
  const named = {
    actor: nameOf(actor, true),
    users: joinNames(users.map((u) => nameOf(u, false)), locale),
    name,
  };
  const key = `group.event.${event}`;
  // An event this client does not know yet still says something.
  return ['created', 'joined', 'added', 'left', 'removed', 'renamed'].includes(event) ? t(key, named) : m.content;
}
