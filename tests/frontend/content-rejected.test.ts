// The server's content filter refusing what was written (CONTENT_REJECTED): the window says why,
// offers no pointless retry, and gives the text back to change; a refused group name says so too.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, h } from 'vue';
import { FriendChatButton, FriendChatDock, FriendChatGroupList, useFriendChat } from 'friend-chat/vue';
import { bob, carol, endSession, flush, group, startSession } from './helpers/session';
import { HttpError } from './helpers/fakeHttp';

afterEach(() => {
  endSession();
  vi.restoreAllMocks();
});

async function chatWithBob() {
  const s = await startSession();
  s.socket.serverConnect();
  const wrapper = s.mountInApp(FriendChatDock);
  useFriendChat().open(bob);
  await flush();
  const input = () => wrapper.get<HTMLTextAreaElement>('[data-testid="chat-input"]');
  async function type(text: string) {
    await input().setValue(text);
    await input().trigger('keydown', { key: 'Enter' });
    await flush();
  }
  return { ...s, wrapper, input, type };
}

describe('a message the content filter refuses', () => {
  it('says so under the message, offers no retry, and Edit puts the text back in the input', async () => {
    const { socket, wrapper, input, type } = await chatWithBob();
    await type('you darn fool');
    socket.emitsOf('chat:send')[0]!.ack!({ ok: false, error: { code: 'CONTENT_REJECTED', message: 'not allowed' } });
    await flush();

    const bubble = wrapper.get('[data-testid="message-bubble"]');
    expect(bubble.attributes('data-status')).toBe('failed');
    expect(wrapper.text()).toContain('Not sent: it contains words that are not allowed. Edit it and send again.');
    expect(wrapper.find('[data-testid="message-retry"]').exists()).toBe(false);

    await input().setValue('and more');
    await wrapper.get('[data-testid="message-rewrite"]').trigger('click');
    await flush();
    expect(wrapper.findAll('[data-testid="message-bubble"]')).toHaveLength(0);
    expect(input().element.value).toBe('you darn fool\nand more');
    expect(socket.emitsOf('chat:send')).toHaveLength(1);
  });

  it('says it in Chinese too', async () => {
    // The demo follows the browser's language.
    vi.spyOn(navigator, 'language', 'get').mockReturnValue('zh-CN');
    const { socket, wrapper, type } = await chatWithBob();
    await type('你这个坏蛋');
    socket.emitsOf('chat:send')[0]!.ack!({ ok: false, error: { code: 'CONTENT_REJECTED', message: 'not allowed' } });
    await flush();
    expect(wrapper.text()).toContain('未发送：消息包含不允许的词语，请修改后再发送。');
    expect(wrapper.get('[data-testid="message-rewrite"]').text()).toBe('修改');
  });
});

describe('a group name the content filter refuses', () => {
  it('says why in the create dialog and keeps the name typed', async () => {
    const Page = defineComponent({ setup: () => () => h('div', [h(FriendChatGroupList), h(FriendChatButton, { groupId: group(5, 'x').id }), h(FriendChatDock)]) });
    const s = await startSession({
      'POST /api/groups': () => {
        throw new HttpError(422, 'CONTENT_REJECTED');
      },
    });
    s.socket.serverConnect();
    s.mountInApp(Page);
    await flush();
    const click = async (selector: string) => {
      document.body.querySelector<HTMLElement>(selector)!.click();
      await flush();
    };
    await click('[data-testid="group-create"]');
    await click(`[data-testid="group-member-option"][data-user-id="${carol.id}"]`);
    const name = document.body.querySelector<HTMLInputElement>('[data-testid="group-name-input"]')!;
    name.value = 'Darn club';
    name.dispatchEvent(new Event('input'));
    await flush();
    await click('[data-testid="group-create-submit"]');

    expect(document.body.querySelector('[data-testid="group-create-dialog"] [role="alert"]')?.textContent).toBe('This name contains words that are not allowed.');
    expect(name.value).toBe('Darn club');
  });
});
