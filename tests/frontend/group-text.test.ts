import { afterEach, describe, expect, it } from 'vitest';
import type { GroupEventMetadata } from '@shared/events';
import { setLocaleSource, t } from '@/friend-chat/i18n';
import { describeGroupEvent } from '@/friend-chat/utils/groupEvent';
import { alice, bob, carol, dave, group, groupEvent } from './helpers/session';

const team = group(1, 'Weekend hikers');
const say = (metadata: GroupEventMetadata, locale: 'en' | 'zh-CN') => {
  setLocaleSource(locale);
  return describeGroupEvent(groupEvent(team, metadata), alice.id, t, locale);
};

afterEach(() => setLocaleSource(undefined));

describe('group events as sentences', () => {
  const cases: [GroupEventMetadata, string, string][] = [
    [{ event: 'created', actor: bob, users: [alice, carol], name: 'Weekend hikers' }, 'Bob created the group “Weekend hikers”', 'Bob创建了群聊“Weekend hikers”'],
    [{ event: 'added', actor: alice, users: [carol, dave] }, 'You added Carol and Dave', '你邀请Carol和Dave加入了群聊'],
    [{ event: 'added', actor: bob, users: [alice] }, 'Bob added you', 'Bob邀请你加入了群聊'],
    [{ event: 'joined', actor: dave }, 'Dave joined the group', 'Dave加入了群聊'],
    [{ event: 'left', actor: carol }, 'Carol left the group', 'Carol退出了群聊'],
    [{ event: 'removed', actor: bob, users: [carol, dave, alice] }, 'Bob removed Carol, Dave, and you', 'Bob将Carol、Dave和你移出了群聊'],
    [{ event: 'renamed', actor: alice, name: 'Sunday hikers' }, 'You renamed the group to “Sunday hikers”', '你将群名改为“Sunday hikers”'],
  ];
  it.each(cases)('%o', (metadata, en, zh) => {
    expect(say(metadata, 'en')).toBe(en);
    expect(say(metadata, 'zh-CN')).toBe(zh);
  });
});
